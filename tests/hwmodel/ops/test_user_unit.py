"""A user's own Verilog unit as an op unit: ``user_unit`` and ``python -m hwmodel.ops --rtl``."""

from __future__ import annotations

from pathlib import Path

import pytest

import rtl
from hwmodel.ops.__main__ import main
from hwmodel.ops.oplib import default_op_library, select, user_unit
from hwmodel.rtlsim import UnitError

DATA = Path(__file__).resolve().parent / "data"


def test_a_library_file_gives_the_library_unit() -> None:
    """The same file, format and LATENCY give the library's OpUnit, so the same row and cache."""
    (lib_unit,) = select(default_op_library(), "add_rca", "int16")
    mine = user_unit(rtl.RTL_DIR / "int" / "add_rca.v", fmt="int16", params={"LATENCY": 1})
    assert mine == lib_unit
    (mac,) = select(default_op_library(), "fp_mac", "bf16")
    assert user_unit(mac.path, fmt="bf16", params={"LATENCY": 1}) == mac  # op from acc_clr


def test_fixture_units_infer_op_and_format() -> None:
    add = user_unit(DATA / "add_hs.v")
    assert (add.unit, add.op, add.fmt, add.params) == ("add_hs", "add", "int8", {"W": 8})
    mul = user_unit(DATA / "mul_hs.v", "mul", "uint16", {"W": 16, "LATENCY": 2})
    assert (mul.op, mul.fmt, mul.params) == ("mul", "uint16", {"W": 16, "LATENCY": 2})


@pytest.mark.parametrize(("text", "args", "problem"), [
    ("module broken (input wire clk\n", [], "Verilog syntax error"),
    ((DATA / "add_hs.v").read_text().replace("output wire         out_valid,", ""), [],
     "has no port 'out_valid'"),
    (None, ["-P", "W=16", "--format", "int8"], "port 'a' of add_hs is 16 bits wide; "
                                               "expected 8 for format int8"),
    (None, ["-P", "N=3"], "no parameter 'N'"),
    (None, ["--op", "mac"], "has no input 'acc_clr'"),
    (None, ["--format", "fp16"], "port 'a' of add_hs is 8 bits wide; expected 16"),
])
def test_bad_user_unit_is_one_line_naming_the_file(tmp_path: Path, capsys, text, args,
                                                    problem) -> None:
    path = DATA / "add_hs.v"
    if text is not None:
        path = tmp_path / "mine.v"
        path.write_text(text)
    assert main(["--rtl", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path.resolve()) in err and problem in err, err


def test_unknown_op_or_format_width(tmp_path: Path) -> None:
    with pytest.raises(UnitError, match="xor_hs.v: cannot tell whether xor_hs adds"):
        user_unit(DATA / "xor_hs.v")
    with pytest.raises(UnitError, match="no integer format of 1 bits"):
        user_unit(DATA / "xor_hs.v", "add")


@pytest.mark.sim
def test_rtl_cli_costs_a_user_unit_on_both_paths(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PNS_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "mine.csv"
    rc = main(["--rtl", str(DATA / "mul_hs.v"), "-P", "W=8", "--format", "uint8",
               "--vectors", "20", "--workers", "1", "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "mul_hs" in printed and "default" in printed and "yosys" in printed
    import pandas as pd

    df = pd.read_csv(out)
    assert list(df["path"]) == ["default", "yosys"] and set(df["unit"]) == {"mul_hs"}
    assert (df["energy_pj"] > 0).all() and (df["latency_cycles"] == 1).all()
    assert df["critical_path_ns"].nunique() == 1  # static timing of the same mapped netlist
