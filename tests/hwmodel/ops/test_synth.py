"""Yosys mapping of handshake units onto a Liberty: cells, area, cache, one-line errors."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from hwmodel.cells.liberty import read_liberty
from hwmodel.ops.synth import SynthError, load_mapped_netlist, synthesize
from hwmodel.rtlsim import UnitError, load_unit

DATA = Path(__file__).resolve().parent / "data"
FIXTURE_LIB = DATA / "pns_tiny_fixture.lib"


@functools.cache
def unit(name: str):
    """A test handshake unit from ``data/`` (``mul_hs``: a*b, ``add_hs``: a+b; LATENCY=1)."""
    return load_unit(DATA / f"{name}.v")


def project_liberty() -> Path:
    """The project's committed Liberty, or skip when the cell library is not built yet."""
    try:
        from hwmodel.cells.library import default_liberty_path
    except ImportError as exc:  # pragma: no cover - depends on the cells package state
        pytest.skip(f"hwmodel.cells has no library API yet ({exc})")
    path = default_liberty_path()
    if not path.is_file():
        pytest.skip(f"project Liberty {path} not built yet (python -m hwmodel.cells build)")
    return path


@pytest.fixture(scope="module")
def mul8():
    return synthesize(unit("mul_hs"), {"W": 8}, FIXTURE_LIB)


def test_mul8_cells_and_area_are_reported(mul8) -> None:
    lib = read_liberty(FIXTURE_LIB)
    assert mul8.cells == sum(mul8.cell_counts.values())
    assert mul8.cells > 100
    # 16 product bits + the valid bit are registered once (LATENCY=1)
    assert mul8.cell_counts["DFFR_X1"] == 17
    assert set(mul8.cell_counts) <= set(lib.cells)
    # Yosys' area must equal the Liberty areas summed over the mapped cells
    area = sum(lib.cells[c].area_um2 * n for c, n in mul8.cell_counts.items())
    assert mul8.area_um2 == pytest.approx(area, rel=1e-6)
    assert "dfflibmap" in mul8.script and "abc" in mul8.script
    assert mul8.yosys_version.startswith("Yosys")
    assert mul8.netlist_v.is_file() and mul8.netlist_json.is_file()


def test_abc_runs_our_script_without_sat_sweeping(mul8) -> None:
    """ABC must run abc_script() (delay-driven &nf at the clock period), not its default script
    with &fraig -x / scorr, which took 806 s on the 32-bit MAC."""
    log = mul8.log_path.read_text()
    ran = [ln.split("ABC: + ", 1)[1].strip() for ln in log.splitlines() if "ABC: + " in ln]
    assert "&nf -D 1000" in ran and "&dch -f" in ran
    assert not any(cmd.startswith(("&fraig", "scorr")) for cmd in ran)
    assert "synth" not in mul8.script.split()


def test_mapped_netlist_keeps_handshake_ports(mul8) -> None:
    net = load_mapped_netlist(mul8)
    assert {"clk", "rst", "in_valid", "a", "b"} <= set(net.inputs)
    assert {"out_valid", "y"} <= set(net.outputs)
    assert len(net.inputs["a"]) == 8 and len(net.outputs["y"]) == 16
    assert len(net.instances) == mul8.cells


def test_more_bits_more_cells(mul8) -> None:
    add8 = synthesize(unit("add_hs"), {"W": 8}, FIXTURE_LIB)
    mul4 = synthesize(unit("mul_hs"), {"W": 4}, FIXTURE_LIB)
    assert mul4.cells < mul8.cells
    assert add8.area_um2 < mul8.area_um2


def test_cached_by_content(mul8) -> None:
    stamp = mul8.netlist_json.stat().st_mtime_ns
    again = synthesize(unit("mul_hs"), {"W": 8}, FIXTURE_LIB)
    assert again.cache_key == mul8.cache_key
    assert again.netlist_json.stat().st_mtime_ns == stamp  # not mapped again
    assert again.area_um2 == mul8.area_um2
    mul4 = synthesize(unit("mul_hs"), {"W": 4}, FIXTURE_LIB)
    slow4 = synthesize(unit("mul_hs"), {"W": 4}, FIXTURE_LIB, clock_period_ns=2.0)
    assert slow4.cache_key != mul4.cache_key != mul8.cache_key


def test_missing_liberty_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="no such Liberty file") as err:
        synthesize(unit("mul_hs"), {"W": 8}, tmp_path / "none.lib")
    assert "\n" not in str(err.value)


def test_missing_yosys_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = unit("mul_hs")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SynthError, match="yosys not found on PATH") as err:
        synthesize(spec, {"W": 8}, FIXTURE_LIB)
    assert "\n" not in str(err.value)


def test_failed_mapping_is_one_line(tmp_path: Path) -> None:
    # a Liberty without a flip-flop cannot map the unit's registers
    text = FIXTURE_LIB.read_text()
    lib = tmp_path / "noff.lib"
    lib.write_text(text[:text.index("  cell (DFFR_X1)")] + "}\n")
    with pytest.raises(SynthError, match="mul_hs") as err:
        synthesize(unit("mul_hs"), {"W": 8}, lib)
    assert "\n" not in str(err.value)


def test_unknown_parameter_is_rejected() -> None:
    with pytest.raises(UnitError, match="no parameter 'N'"):
        synthesize(unit("mul_hs"), {"N": 8}, FIXTURE_LIB)


@pytest.mark.parametrize("width", [8])
def test_project_library_mapping(width: int) -> None:
    lib_path = project_liberty()
    res = synthesize(unit("mul_hs"), {"W": width}, lib_path)
    lib = read_liberty(lib_path)
    assert res.cells == sum(res.cell_counts.values()) > 50
    assert res.area_um2 == pytest.approx(
        sum(lib.cells[c].area_um2 * n for c, n in res.cell_counts.items()), rel=1e-6)
