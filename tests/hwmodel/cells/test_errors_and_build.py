"""Bad input gives one-line errors naming cell, arc and fix; builds never leave partial files."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from hwmodel.cells import CellLibraryError, SimSettings, characterize, spice
from hwmodel.cells import build as build_mod
from hwmodel.cells.build import build_library
from hwmodel.cells.netlists import CELLS

needs_ngspice = pytest.mark.skipif(shutil.which("ngspice") is None,
                                   reason="ngspice not installed (apt-get install ngspice)")


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PNS_CACHE_DIR", str(tmp_path / "cache"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hwmodel.cells", *args], capture_output=True,
                          text=True, timeout=120)


def test_unknown_corner():
    with pytest.raises(CellLibraryError, match="unknown corner 'tt'.*nom, ff, ss"):
        SimSettings("tt")
    p = _cli("build", "--corner", "tt")
    assert p.returncode == 2
    assert p.stderr.startswith("python -m hwmodel.cells: error: unknown corner 'tt'")


def test_unknown_cell_cli():
    p = _cli("build", "--cells", "INV_X1", "NAND4_X1")
    assert p.returncode == 2
    assert "error: unknown cell 'NAND4_X1'" in p.stderr
    assert p.stderr.count("\n") == 1


def test_missing_ngspice(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CellLibraryError, match="ngspice not found.*apt-get install ngspice"):
        build_library(cells=["INV_X1"], out_dir=tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_missing_models(monkeypatch):
    monkeypatch.setattr(spice.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(CellLibraryError,
                       match=r"pip install --no-deps c4m-pdk-freepdk45==0\.0\.1"):
        spice.model_file("nom")


def test_model_files_present():
    for c in spice.CORNERS:
        p = spice.model_file(c)
        assert "NMOS_VTG" in p.read_text()


@needs_ngspice
def test_non_converging_simulation_names_cell_and_arc(monkeypatch):
    orig = characterize.deck_header

    def broken(settings, title):  # a voltage-source loop: the matrix is singular
        return orig(settings, title) + "vloop1 nloop 0 1\nvloop2 nloop 0 0\n"

    monkeypatch.setattr(characterize, "deck_header", broken)
    cell = CELLS["NAND2_X1"]
    with pytest.raises(CellLibraryError) as e:
        characterize._comb_arc_job(cell, "A", {"B": 1}, {"Y": "fall"}, SimSettings(),
                                   (0.02, 0.05), (1.0, 4.0))
    msg = str(e.value)
    assert msg.startswith("cell NAND2_X1, arc A->Y (B=1): simulation did not converge")
    assert "\n" not in msg


@needs_ngspice
def test_failed_or_interrupted_build_writes_nothing(monkeypatch, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    old = out / "pns45_nom_1p10v_25c.lib"
    old.write_text("previous library\n")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(build_mod, "measure_fo4", boom)
    with pytest.raises(KeyboardInterrupt):
        build_library(cells=["INV_X1"], out_dir=out, progress=False,
                      slews=(0.02, 0.1), loads=(1.0, 5.0))
    assert old.read_text() == "previous library\n"
    assert sorted(p.name for p in out.iterdir()) == [old.name]

    def fail(*a, **k):
        raise CellLibraryError("simulation did not converge: test", cell="INV_X1", arc="FO4")

    monkeypatch.setattr(build_mod, "measure_fo4", fail)
    with pytest.raises(CellLibraryError, match="cell INV_X1, arc FO4"):
        build_library(cells=["INV_X1"], out_dir=out, progress=False,
                      slews=(0.02, 0.1), loads=(1.0, 5.0))
    assert sorted(p.name for p in out.iterdir()) == [old.name]


@needs_ngspice
def test_small_build_and_cache(tmp_path):
    """Two cells on a 2x2 grid: files appear, Yosys reads the Liberty, a rerun hits the cache."""
    out = tmp_path / "out"
    kw = dict(cells=["INV_X1", "NAND2_X1"], out_dir=out, progress=False,
              slews=(0.02, 0.1), loads=(1.0, 5.0))
    r1 = build_library(**kw)
    for p in r1.paths.values():
        assert p.is_file()
    assert r1.summary["key_figures"]["fo4_delay_ps"] > 0
    r2 = build_library(**kw)
    assert r2.paths["liberty"].read_text() == r1.paths["liberty"].read_text()
    assert r2.wall_s < r1.wall_s
    if shutil.which("yosys"):
        p = subprocess.run(["yosys", "-q", "-p", f"read_liberty -lib {r1.paths['liberty']}"],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
