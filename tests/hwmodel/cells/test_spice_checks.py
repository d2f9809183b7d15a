"""Quick single ngspice runs that check the committed library against fresh simulations."""

from __future__ import annotations

import shutil

import pytest

from hwmodel.cells import load_library
from hwmodel.cells.characterize import measure_fo4
from hwmodel.cells.netlists import CELLS
from hwmodel.cells.spice import SimSettings, deck_header, run_deck

pytestmark = pytest.mark.skipif(shutil.which("ngspice") is None,
                                reason="ngspice not installed (apt-get install ngspice)")


@pytest.fixture(autouse=True)
def _cold_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PNS_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def lib():
    return load_library()


def test_fo4_resimulated_matches_committed(lib):
    r = measure_fo4(CELLS["INV_X1"], SimSettings())
    assert 8.0 <= r["fo4_delay_ps"] <= 40.0
    assert r["fo4_delay_ps"] == pytest.approx(lib.key_figures["fo4_delay_ps"], rel=0.01)
    # balanced P/N sizing: rise and fall within 15 %
    assert abs(r["tphl_ps"] - r["tplh_ps"]) / r["fo4_delay_ps"] < 0.15


def _toggle_deck(cell: str, pins: dict[str, str], out_loads: dict[str, float], slew_ns: float,
                 n_pairs: int, period_ns: float = 1.5) -> str:
    """One cell instance; input 'in' toggles n_pairs times up and down with a 10-90 slew."""
    s = SimSettings()
    v = s.vdd_v
    ramp = slew_ns / 0.8
    pts = ["0 0"]
    t = 0.5
    for _ in range(n_pairs):
        pts += [f"{t}n 0", f"{t + ramp}n {v}", f"{t + period_ns}n {v}",
                f"{t + period_ns + ramp}n 0"]
        t += 2 * period_ns
    c = CELLS[cell]
    conns = [pins[p] for p in c.inputs] + list(c.outputs)
    lines = [deck_header(s, f"{cell} toggle energy"), c.subckt(), f"vdd vdd 0 {v}",
             f"vhi hi 0 {v}", f"vin in 0 PWL({' '.join(pts)})",
             f"x0 {' '.join(conns)} vdd 0 {cell}"]
    lines += [f"c{o} {o} 0 {ld}f" for o, ld in out_loads.items()]
    lines += [f".tran 50p {t}n",
              f".meas tran q integ i(vdd) from=0.5n to={t - 0.02}n",
              ".meas tran leak avg i(vdd) from=0.2n to=0.45n", ".end", ""]
    return "\n".join(lines), t - 0.02 - 0.5


def test_inverter_energy_is_half_cv2_plus_internal(lib):
    """Energy drawn over 10 output toggles of INV_X1 (off-grid load 7 fF, slew 30 ps) equals
    the library's 10 x (internal + 1/2 C V^2) within 5 %."""
    load, slew, pairs = 7.0, 0.03, 5
    deck, span = _toggle_deck("INV_X1", {"A": "in"}, {"Y": load}, slew, pairs)
    r = run_deck(deck, cell="INV_X1", arc="A->Y toggle check", required=("q", "leak"))
    v = lib.vdd_v
    e_sim = (-v * r["q"] - (-v * r["leak"]) * span * 1e-9) * 1e12  # pJ, leakage removed
    p = lib.cell("INV_X1").arc("A", "Y").interpolate(slew, load)
    half_cv2 = 0.5 * load * 1e-15 * v * v * 1e12
    e_lib = pairs * (p.energy_rise_pj + half_cv2) + pairs * (p.energy_fall_pj + half_cv2)
    assert e_sim == pytest.approx(e_lib, rel=0.05)
    assert 2 * pairs * half_cv2 > 0.5 * e_sim  # the load dominates at 7 fF
    assert e_sim == pytest.approx(2 * pairs * lib.toggle_energy_pj("INV_X1", "Y", load, slew),
                                  rel=0.05)


def test_full_adder_energy_from_toggle_counts(lib):
    """FA_X1 driven by 36 single-input changes (a fixed pseudo-random walk over all input
    states): the simulated supply energy equals the sum over output toggles of
    (arc internal energy + 1/2 C V^2) from the library, the way toggle-count costing uses it,
    within 10 % (the library merges side states of an arc, the walk visits them unevenly)."""
    import numpy as np

    s = SimSettings()
    v = s.vdd_v
    load, slew, step = 3.0, 0.02, 1.2
    ramp = slew / 0.8
    rng = np.random.default_rng(45)
    fa = CELLS["FA_X1"]
    state = {"A": 0, "B": 0, "CI": 0}
    pts = {p: ["0 0"] for p in fa.inputs}
    events = []
    t = 0.5
    for _ in range(36):
        pin = fa.inputs[int(rng.integers(0, 3))]
        before = fa.evaluate(state)
        old = state[pin]
        state = {**state, pin: 1 - old}
        after = fa.evaluate(state)
        pts[pin] += [f"{t}n {old * v}", f"{t + ramp}n {(1 - old) * v}"]
        for o in fa.outputs:
            if before[o] != after[o]:
                events.append((pin, o, "rise" if after[o] else "fall"))
        t += step
    lines = [deck_header(s, "FA_X1 random walk"), fa.subckt(), f"vdd vdd 0 {v}"]
    lines += [f"v{p} n{p} 0 PWL({' '.join(pts[p])})" for p in fa.inputs]
    lines += ["x0 nA nB nCI S CO vdd 0 FA_X1", f"cS S 0 {load}f", f"cCO CO 0 {load}f",
              f".tran 50p {t}n", f".meas tran q integ i(vdd) from=0.5n to={t - 0.02}n",
              ".meas tran leak avg i(vdd) from=0.2n to=0.45n", ".end", ""]
    r = run_deck("\n".join(lines), cell="FA_X1", arc="random walk", required=("q", "leak"))
    e_sim = (-v * r["q"] + v * r["leak"] * (t - 0.52) * 1e-9) * 1e12
    cell = lib.cell("FA_X1")
    half_cv2 = 0.5 * load * 1e-15 * v * v * 1e12
    e_lib = 0.0
    for pin, o, d in events:
        p = cell.arc(pin, o).interpolate(slew, load)
        e_lib += (p.energy_rise_pj if d == "rise" else p.energy_fall_pj) + half_cv2
    assert len(events) > 36
    assert e_sim == pytest.approx(e_lib, rel=0.10), (e_sim, e_lib)
