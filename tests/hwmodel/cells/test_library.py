"""The committed library: completeness, physically sensible values, monotonic tables, API."""

from __future__ import annotations

import numpy as np
import pytest

from hwmodel.cells import (
    CELL_NAMES,
    CellLibraryError,
    default_liberty_path,
    default_verilog_models_path,
    load_library,
)


@pytest.fixture(scope="module")
def lib():
    return load_library()


def test_files_are_committed():
    assert default_liberty_path().is_file()
    assert default_verilog_models_path().is_file()
    text = default_liberty_path().read_text()
    for name in CELL_NAMES:
        assert f"cell ({name})" in text


def test_every_cell_characterized(lib):
    assert set(lib.cells) == set(CELL_NAMES)
    assert lib.corner == "nom" and lib.vdd_v == 1.1 and lib.temp_c == 25
    assert len(lib.slew_index_ns) >= 5 and len(lib.load_index_ff) >= 5
    for c in lib.cells.values():
        assert c.area_um2 > 0 and c.transistors >= 2
        assert all(v > 0 for v in c.input_cap_ff.values())
        assert c.leakage_avg_nw > 0 and len(c.leakage_nw) >= 2
        assert c.arcs


def test_fo4_and_input_cap_in_45nm_range(lib):
    """FO4 of a 45 nm inverter: 8-40 ps. Rule of thumb FO4 ~ 0.3-0.5 ps per nm of drawn gate
    length at nominal VDD (15-25 ps for 45-50 nm); we allow 8-40 ps because the PTM-based
    FreePDK45 devices are fast (L_eff 30 nm) and our X1 cells are small. Input capacitance of a
    unit inverter: gate capacitance ~1-2 fF/um of total gate width at 45 nm (oxide 1.1 nm plus
    overlap/fringe) x 0.5 um => 0.5-1 fF; range 0.3-3 fF."""
    kf = lib.key_figures
    assert 8.0 <= kf["fo4_delay_ps"] <= 40.0
    assert 0.3 <= kf["inv_x1_input_cap_ff"] <= 3.0
    c_inv = lib.cell("INV_X1").input_cap_ff["A"]
    c_nand = lib.cell("NAND2_X1").input_cap_ff["A"]
    # logical effort: NAND2 input (2 Wn + 1.5 Wn) / INV input (Wn + 1.5 Wn) = 1.4
    assert 1.2 <= c_nand / c_inv <= 1.6
    assert lib.cell("INV_X2").input_cap_ff["A"] == pytest.approx(2 * c_inv, rel=0.1)


def test_delay_monotonic_in_load_and_slew(lib):
    """Delay and transition rise strictly with load for every arc. With input slew, delay rises
    for every arc up to 0.05 ns; beyond that, at light load, the rail-side input of a series
    stack turns the stack on before its 50 % point, so the 50-50 delay can shrink (a real
    effect, measured, e.g. NAND3_X1 C->Y). The physical latency from the start of the input
    ramp to the output's 50 % point (delay + ramp/2) must still rise with slew everywhere."""
    s = lib.slew_index_ns
    ramp = s / 0.8  # 0-100 % ramp of a 10-90 % slew
    upto = int(np.searchsorted(s, 0.05, side="right"))
    for c in lib.cells.values():
        for a in c.arcs:
            for t in (a.cell_rise_ns, a.cell_fall_ns, a.rise_transition_ns, a.fall_transition_ns):
                if t is None:
                    continue
                assert np.all(np.diff(t.values, axis=1) > 0), (c.name, a.from_pin, a.to_pin)
            for t in (a.cell_rise_ns, a.cell_fall_ns):
                if t is None:
                    continue
                v = t.values
                assert np.all(np.diff(v[:upto], axis=0) > 0), (c.name, a.from_pin, a.to_pin)
                latency = v + 0.5 * ramp[:, None]
                assert np.all(np.diff(latency, axis=0) > 0), (c.name, a.from_pin, a.to_pin)


def test_x2_drives_faster_than_x1(lib):
    for base in ("INV", "BUF", "NAND2", "NOR2"):
        x1 = lib.cell(f"{base}_X1").arc("A", "Y").cell_fall_ns.values[:, -1]
        x2 = lib.cell(f"{base}_X2").arc("A", "Y").cell_fall_ns.values[:, -1]
        assert np.all(x2 < x1), base


def test_interpolation_hits_grid_and_is_bilinear(lib):
    a = lib.cell("NAND2_X1").arc("A", "Y")
    s, l_ = lib.slew_index_ns, lib.load_index_ff
    v = a.cell_rise_ns.values
    assert a.cell_rise_ns.lookup(s[1], l_[2]) == pytest.approx(v[1, 2])
    mid = a.cell_rise_ns.lookup((s[1] + s[2]) / 2, (l_[2] + l_[3]) / 2)
    assert mid == pytest.approx(v[1:3, 2:4].mean())
    p = a.interpolate(s[0], l_[0])
    assert p.delay_fall_ns == pytest.approx(a.cell_fall_ns.values[0, 0])
    assert p.energy_rise_pj is not None


def test_dff_data(lib):
    d = lib.cell("DFFR_X1")
    seq = d.sequential
    assert seq is not None
    ck_q = d.arc("CK", "Q").interpolate(0.02, 4.0)
    assert 0.02 < ck_q.delay_rise_ns < 0.3 and 0.02 < ck_q.delay_fall_ns < 0.3
    assert -0.1 < seq.setup_rise_ns < 0.2 and -0.1 < seq.hold_rise_ns < 0.2
    e_clk = seq.clock_energy_per_cycle_pj(0.02)
    assert 0.5e-3 < e_clk < 20e-3  # 0.5-20 fJ per clock cycle
    assert d.arc("R", "Q").cell_fall_ns is not None and d.arc("R", "Q").cell_rise_ns is None


def test_toggle_energy_api(lib):
    e = lib.toggle_energy_pj("INV_X1", "Y", load_ff=4.0, slew_ns=0.02)
    half_cv2 = 0.5 * 4e-15 * 1.1**2 * 1e12
    assert half_cv2 < e < 3 * half_cv2
    fa = lib.toggle_energy_pj("FA_X1", "S", load_ff=4.0)
    assert fa > e


def test_leakage_states_cover_truth_table(lib):
    assert len(lib.cell("NAND3_X1").leakage_nw) == 8
    assert len(lib.cell("DFFR_X1").leakage_nw) == 9


def test_unbuilt_library_names_the_fix(tmp_path):
    with pytest.raises(CellLibraryError, match="python -m hwmodel.cells build --corner ss"):
        load_library("ss", 1.0, 25, lib_dir=tmp_path)


def test_malformed_library_names_the_fix(tmp_path):
    import json

    from hwmodel.cells.library import LIB_DIR

    d = json.loads((LIB_DIR / "pns45_nom_1p10v_25c.json").read_text())
    key = next(k for k in d if "slew" in k and isinstance(d[k], list))
    d[key] = d[key][::-1]  # a decreasing table axis
    (tmp_path / "pns45_nom_1p10v_25c.json").write_text(json.dumps(d))
    with pytest.raises(CellLibraryError, match="is malformed.*python -m hwmodel.cells build"):
        load_library(lib_dir=tmp_path)


def test_unknown_corner_and_cell(lib):
    with pytest.raises(CellLibraryError, match="unknown corner 'tt'"):
        load_library("tt")
    with pytest.raises(CellLibraryError, match="unknown cell 'NAND4_X1'"):
        lib.cell("NAND4_X1")
