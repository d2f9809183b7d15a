"""Streaming a user's own unit through Icarus: results in order, measured latency, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hwmodel.rtlsim import UnitError, dependency_files, load_unit, simulate
from hwmodel.rtlsim.__main__ import main as cli_main

from .test_unit import GOOD, write

pytestmark = pytest.mark.sim


@pytest.mark.parametrize("latency", [0, 1, 3])
def test_user_unit_results_and_latency(tmp_path: Path, latency: int) -> None:
    spec = load_unit(write(tmp_path, GOOD))
    rng = np.random.default_rng(latency)
    a = rng.integers(0, 1 << 16, 500, dtype=np.uint64)
    b = rng.integers(0, 1 << 16, 500, dtype=np.uint64)
    res = simulate(spec, {"a": a, "b": b}, {"W": 16, "LATENCY": latency})
    assert res.vectors == 500
    assert res.latency_cycles == latency
    assert res.ii_cycles == 1
    np.testing.assert_array_equal(res.y, a ^ b)


def test_dependencies_are_only_what_is_instantiated(tmp_path: Path) -> None:
    files = sorted(p.name for p in dependency_files(write(tmp_path, GOOD)))
    assert files == ["rc_dffr.v", "rc_pipe.v", "rc_xor2.v", "unit.v"]


def test_dependencies_follow_an_edited_file(tmp_path: Path) -> None:
    """File scans are memoized for the warm op table; an edit must still be seen."""
    import os

    unit = write(tmp_path, GOOD)
    assert "rc_xor2.v" in {p.name for p in dependency_files(unit)}
    edited = GOOD.replace("rc_xor2 u", "rc_xnor2 u")
    unit.write_text(edited)
    st = unit.stat()
    os.utime(unit, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    names = {p.name for p in dependency_files(unit)}
    assert "rc_xnor2.v" in names and "rc_xor2.v" not in names


def test_operand_wider_than_port_is_rejected(tmp_path: Path) -> None:
    spec = load_unit(write(tmp_path, GOOD))
    a = np.array([256], dtype=np.uint64)
    with pytest.raises(UnitError, match="input 'a' has values wider than its 8 bits"):
        simulate(spec, {"a": a, "b": a}, {"W": 8})


def test_unknown_submodule_is_a_compile_error(tmp_path: Path) -> None:
    spec = load_unit(write(tmp_path, GOOD.replace("rc_xor2 u", "no_such_cell u")))
    with pytest.raises(UnitError, match="Icarus could not compile user_xor"):
        simulate(spec, {"a": np.zeros(2, np.uint64), "b": np.zeros(2, np.uint64)})


def test_cli_one_line_error_and_success(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = write(tmp_path, GOOD.replace("output wire [W-1:0] y", "output wire [W-1:0] z")
                .replace(".q(y)", ".q(z)"), "bad.v")
    assert cli_main([str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.v" in err and "no port 'y'" in err
    good = write(tmp_path, GOOD)
    assert cli_main([str(good), "-P", "W=12", "-P", "LATENCY=2", "--vectors", "50"]) == 0
    out = capsys.readouterr().out
    assert "latency_cycles: 2" in out
