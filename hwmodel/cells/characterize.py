"""Characterization of the pns45 cells with ngspice: NLDM timing, energy, pin caps, leakage, DFF.

Method (all in ngspice transient runs on the FreePDK45 BSIM4 models):

* Inputs are ideal linear ramps; slew is measured 10 %-90 % (ramp 0-100 % = slew / 0.8), delay
  50 %-50 %, output transition 10 %-90 %.
* One deck per (cell, switching input, side-input state): all slew x load points are independent
  copies of the cell in the same deck, each with its own supply source so its energy can be
  integrated. The input rises, the circuit settles, the input falls, it settles again.
* Internal energy of an input edge = supply energy - C_load * V^2 for every output that rises
  (the charge drawn to charge the load), minus the leakage energy over the window (leakage is
  reported separately). With this, each output toggle costs ``internal + 1/2 C_load V^2`` on
  average over a rise/fall pair. When one input edge toggles two outputs (HA, FA) the internal
  energy is split equally between them, so counting toggles per output does not double count.
* Input pin capacitance = |charge drawn from the input source over an edge| / V, averaged over
  rise/fall and side states at the middle table point (includes the Miller effect).
* Arcs with several sensitizing side states are merged into one Liberty arc: delay and
  transition take the worst case (max), energy the mean.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import CellLibraryError
from .netlists import DFF_PINS, CellNetlist
from .spice import SimSettings, deck_header, run_deck

# Default NLDM index points. Slews 10-90 % (ns) span a fast ideal edge to a heavily loaded X1
# output; loads (fF) span ~1 to ~40 INV_X1 input capacitances.
SLEWS_NS: tuple[float, ...] = (0.005, 0.02, 0.05, 0.12, 0.3)
LOADS_FF: tuple[float, ...] = (0.5, 1.5, 4.0, 10.0, 25.0)
SLEW_LO, SLEW_HI = 0.1, 0.9  # output transition thresholds (fraction of VDD)
RAMP_PER_SLEW = 1.0 / (SLEW_HI - SLEW_LO)  # 0-100 % ramp time per 10-90 % slew
LEAK_GUARD_NS = (0.25, 0.03)  # static window before an edge used for leakage subtraction


def _window_ns(slews: tuple[float, ...], loads: tuple[float, ...]) -> float:
    """Settling window per edge (ns): the slowest ramp twice over plus ~6 output time constants
    of an X1 output (~4 kOhm) at the heaviest load, plus a margin."""
    return round(0.4 + 2.0 * max(slews) * RAMP_PER_SLEW + 0.025 * max(loads), 3)


@dataclass(frozen=True)
class Job:
    """One unit of work for the pool: a label for progress/errors and a callable."""

    cell: str
    label: str
    fn: Callable[[], dict]


def _pwl(points: list[tuple[float, float]]) -> str:
    return "PWL(" + " ".join(f"{t:.6g}n {v:.6g}" for t, v in points) + ")"


def _ramp_points(v0: float, edges: list[tuple[float, float, float]]) -> list[tuple[float, float]]:
    """PWL points starting at v0; each edge (t_start_ns, ramp_ns, v_end)."""
    pts = [(0.0, v0)]
    for t, r, v in edges:
        pts.append((t, pts[-1][1]))
        pts.append((t + r, v))
    return pts


def _states(pins: tuple[str, ...]) -> list[dict[str, int]]:
    return [dict(zip(pins, bits, strict=True)) for bits in itertools.product((0, 1),
                                                                            repeat=len(pins))]


def _state_label(state: dict[str, int]) -> str:
    return ",".join(f"{k}={v}" for k, v in state.items())


def sensitizations(cell: CellNetlist) -> list[tuple[str, dict[str, int], dict[str, str]]]:
    """(input pin, side state, {output: 'rise'|'fall' on the input's rising edge}) list."""
    out = []
    for pin in cell.inputs:
        side_pins = tuple(p for p in cell.inputs if p != pin)
        for side in _states(side_pins):
            lo = cell.evaluate({**side, pin: 0})
            hi = cell.evaluate({**side, pin: 1})
            toggles = {o: ("rise" if hi[o] else "fall") for o in cell.outputs if lo[o] != hi[o]}
            if toggles:
                out.append((pin, side, toggles))
    return out


# --- combinational arcs ---------------------------------------------------------------------
def _comb_arc_deck(cell: CellNetlist, pin: str, side: dict[str, int], toggles: dict[str, str],
                   s: SimSettings, slews, loads) -> tuple[str, list[str], dict]:
    v = s.vdd_v
    w = _window_ns(slews, loads)
    t0 = 0.4
    t_r, t_f, t_end = t0, t0 + w, t0 + 2 * w
    lines = [deck_header(s, f"{cell.name} arc {pin} side {_state_label(side)}"), cell.subckt(),
             f"vhi hi 0 {v:.6g}"]
    meas: list[str] = []
    req: list[str] = []
    for k, (sl, ld) in enumerate(itertools.product(slews, loads)):
        ramp = sl * RAMP_PER_SLEW
        lines.append(f"vdd{k} vdd{k} 0 {v:.6g}")
        lines.append(f"vin{k} in{k} 0 " + _pwl(_ramp_points(0.0, [(t_r, ramp, v), (t_f, ramp, 0)])))
        conns = []
        for p in cell.inputs:
            conns.append(f"in{k}" if p == pin else ("hi" if side[p] else "0"))
        conns += [f"o{k}_{o}" for o in cell.outputs]
        lines.append(f"x{k} {' '.join(conns)} vdd{k} 0 {cell.name}")
        for o in cell.outputs:
            lines.append(f"c{k}_{o} o{k}_{o} 0 {ld:.6g}f")
        for e, te, in_dir in (("r", t_r, "rise"), ("f", t_f, "fall")):
            for o, d_on_rise in toggles.items():
                od = d_on_rise if e == "r" else ("fall" if d_on_rise == "rise" else "rise")
                lo, hi = (SLEW_LO * v, SLEW_HI * v) if od == "rise" else (SLEW_HI * v, SLEW_LO * v)
                meas.append(f".meas tran d{k}{e}_{o} trig v(in{k}) val={v / 2:.6g} td={te}n "
                            f"{in_dir}=1 targ v(o{k}_{o}) val={v / 2:.6g} td={te}n {od}=1")
                meas.append(f".meas tran t{k}{e}_{o} trig v(o{k}_{o}) val={lo:.6g} td={te}n "
                            f"{od}=1 targ v(o{k}_{o}) val={hi:.6g} td={te}n {od}=1")
                req += [f"d{k}{e}_{o}".lower(), f"t{k}{e}_{o}".lower()]
            meas.append(f".meas tran q{k}{e} integ i(vdd{k}) from={te}n to={te + w - 0.05}n")
            meas.append(f".meas tran qi{k}{e} integ i(vin{k}) from={te}n to={te + w - 0.05}n")
            req += [f"q{k}{e}", f"qi{k}{e}"]
        for i, ts in enumerate((t_r, t_f, t_end)):
            meas.append(f".meas tran l{k}_{i} avg i(vdd{k}) from={ts - LEAK_GUARD_NS[0]}n "
                        f"to={ts - LEAK_GUARD_NS[1]}n")
            req.append(f"l{k}_{i}")
    lines.append(f".tran 50p {t_end}n")
    lines += meas
    lines.append(".end\n")
    return "\n".join(lines), req, {"window_ns": w}


def _comb_arc_job(cell: CellNetlist, pin: str, side: dict[str, int], toggles: dict[str, str],
                  s: SimSettings, slews, loads) -> dict:
    deck, req, info = _comb_arc_deck(cell, pin, side, toggles, s, slews, loads)
    arc = f"{pin}->{'/'.join(toggles)} ({_state_label(side) or 'no side inputs'})"
    r = run_deck(deck, cell=cell.name, arc=arc, required=tuple(req))
    v = s.vdd_v
    w = info["window_ns"] * 1e-9
    shape = (len(slews), len(loads))
    res: dict = {"pin": pin, "side": side, "toggles": toggles, "outputs": {}}
    qin = {"r": np.zeros(shape), "f": np.zeros(shape)}
    energy = {"r": np.zeros(shape), "f": np.zeros(shape)}
    for k, (i, j) in enumerate(itertools.product(range(len(slews)), range(len(loads)))):
        c = loads[j] * 1e-15
        leak_i = [-r[f"l{k}_{n}"] for n in range(3)]  # supply current (A), positive
        for e, n in (("r", 0), ("f", 1)):
            e_sup = -v * r[f"q{k}{e}"]
            e_leak = v * 0.5 * (leak_i[n] + leak_i[n + 1]) * (w - 0.05e-9)
            n_rise = sum(1 for d in toggles.values() if (d == "rise") == (e == "r"))
            energy[e][i, j] = (e_sup - e_leak - n_rise * c * v * v) / len(toggles)
            qin[e][i, j] = abs(r[f"qi{k}{e}"])
    for o, d_on_rise in toggles.items():
        tabs = {}
        for e in ("r", "f"):
            od = d_on_rise if e == "r" else ("fall" if d_on_rise == "rise" else "rise")
            d = np.zeros(shape)
            t = np.zeros(shape)
            for k, (i, j) in enumerate(itertools.product(range(len(slews)), range(len(loads)))):
                d[i, j] = r[f"d{k}{e}_{o}".lower()] * 1e9
                t[i, j] = r[f"t{k}{e}_{o}".lower()] * 1e9
            tabs[od] = {"delay_ns": d, "transition_ns": t, "energy_pj": energy[e] * 1e12,
                        "input_edge": "rise" if e == "r" else "fall"}
        res["outputs"][o] = tabs
    mid = (len(slews) // 2, len(loads) // 2)
    res["cap_rise_ff"] = float(qin["r"][mid] / v * 1e15)
    res["cap_fall_ff"] = float(qin["f"][mid] / v * 1e15)
    return res


def merge_comb_arcs(cell: CellNetlist, results: list[dict]) -> tuple[list[dict], dict]:
    """Liberty-style arcs (one per input/output pair) and per-pin capacitances (fF)."""
    arcs = []
    for pin in cell.inputs:
        for o in cell.outputs:
            parts = [r for r in results if r["pin"] == pin and o in r["outputs"]]
            if not parts:
                continue
            dirs = {r["toggles"][o] for r in parts}
            sense = ("positive_unate" if dirs == {"rise"} else
                     "negative_unate" if dirs == {"fall"} else "non_unate")
            arc: dict = {"from": pin, "to": o, "timing_type": "combinational", "sense": sense,
                         "side_states": [_state_label(r["side"]) for r in parts]}
            for od in ("rise", "fall"):
                d = np.max([r["outputs"][o][od]["delay_ns"] for r in parts], axis=0)
                t = np.max([r["outputs"][o][od]["transition_ns"] for r in parts], axis=0)
                en = np.mean([r["outputs"][o][od]["energy_pj"] for r in parts], axis=0)
                arc[f"cell_{od}_ns"] = d.round(6).tolist()
                arc[f"{od}_transition_ns"] = t.round(6).tolist()
                arc[f"{od}_energy_pj"] = en.round(9).tolist()
            arcs.append(arc)
    caps = {}
    for pin in cell.inputs:
        parts = [r for r in results if r["pin"] == pin]
        cr = float(np.mean([r["cap_rise_ff"] for r in parts]))
        cf = float(np.mean([r["cap_fall_ff"] for r in parts]))
        caps[pin] = {"capacitance_ff": round((cr + cf) / 2, 5), "rise_capacitance_ff": round(cr, 5),
                     "fall_capacitance_ff": round(cf, 5)}
    return arcs, caps


# --- leakage ----------------------------------------------------------------------------------
def _leakage_job(cell: CellNetlist, s: SimSettings) -> dict:
    v = s.vdd_v
    lines = [deck_header(s, f"{cell.name} leakage"), cell.subckt(), f"vhi hi 0 {v:.6g}"]
    meas = []
    labels = []
    if not cell.sequential:
        states = _states(cell.inputs)
        for k, st in enumerate(states):
            lines.append(f"vdd{k} vdd{k} 0 {v:.6g}")
            conns = ["hi" if st[p] else "0" for p in cell.inputs]
            conns += [f"o{k}_{o}" for o in cell.outputs]
            lines.append(f"x{k} {' '.join(conns)} vdd{k} 0 {cell.name}")
            labels.append(_state_label(st))
        t_meas = (1.0, 1.5)
        t_end = 1.5
    else:
        # (D, CK, Q) with R=0 reached by a capture edge, plus the reset state.
        states_s = [(d, ck, q) for q in (0, 1) for ck in (0, 1) for d in (0, 1)]
        fast = 0.02
        for k, (d, ck, q) in enumerate(states_s):
            lines.append(f"vdd{k} vdd{k} 0 {v:.6g}")
            lines.append(f"vr{k} r{k} 0 " + _pwl(_ramp_points(v, [(0.2, fast, 0.0)])))
            ck_edges = [(0.6, fast, v)] + ([] if ck else [(1.0, fast, 0.0)])
            lines.append(f"vck{k} ck{k} 0 " + _pwl(_ramp_points(0.0, ck_edges)))
            d_edges = [(1.4, fast, d * v)] if d != q else []
            lines.append(f"vd{k} d{k} 0 " + _pwl(_ramp_points(q * v, d_edges)))
            lines.append(f"x{k} d{k} ck{k} r{k} q{k} vdd{k} 0 {cell.name}")
            labels.append(f"D={d},CK={ck},R=0,Q={q}")
        k = len(states_s)
        lines.append(f"vdd{k} vdd{k} 0 {v:.6g}")
        lines.append(f"x{k} 0 0 hi q{k} vdd{k} 0 {cell.name}")
        labels.append("D=0,CK=0,R=1,Q=0")
        t_meas = (2.5, 3.0)
        t_end = 3.0
    for k in range(len(labels)):
        meas.append(f".meas tran leak{k} avg i(vdd{k}) from={t_meas[0]}n to={t_meas[1]}n")
    lines.append(f".tran 100p {t_end}n")
    lines += meas
    lines.append(".end\n")
    r = run_deck("\n".join(lines), cell=cell.name, arc="leakage",
                 required=tuple(f"leak{k}" for k in range(len(labels))))
    leak = {lab: round(-r[f"leak{k}"] * v * 1e9, 6) for k, lab in enumerate(labels)}
    return {"leakage_nw": leak}


# --- DFF --------------------------------------------------------------------------------------
def _dff_inst(cell: CellNetlist, k: int, d: str, ck: str, r: str, load_ff: float) -> list[str]:
    return [f"x{k} {d} {ck} {r} q{k} vdd{k} 0 {cell.name}", f"cq{k} q{k} 0 {load_ff:.6g}f"]


def _dff_arc_job(cell: CellNetlist, s: SimSettings, slews, loads) -> dict:
    """CK->Q rise/fall and R->Q (clear) tables over slew x load."""
    v = s.vdd_v
    w = _window_ns(slews, loads)
    fast = 0.02
    a1 = 1.0
    ev = {n: a1 + i * w for i, n in enumerate(["ckr1", "ckf1", "ckr2", "ckf2", "ckr3", "ckf3",
                                                "rr", "rf", "end"])}
    lines = [deck_header(s, f"{cell.name} CK->Q and R->Q"), cell.subckt()]
    lines.append("vd d 0 " + _pwl(_ramp_points(v, [(a1 + 1.5 * w, fast, 0.0),
                                                     (a1 + 3.5 * w, fast, v)])))
    meas, req = [], []
    for k, (sl, ld) in enumerate(itertools.product(slews, loads)):
        rp = sl * RAMP_PER_SLEW
        lines.append(f"vdd{k} vdd{k} 0 {v:.6g}")
        ck_edges = [(ev[n], rp, v if n.startswith("ckr") else 0.0)
                    for n in ("ckr1", "ckf1", "ckr2", "ckf2", "ckr3", "ckf3")]
        lines.append(f"vck{k} ck{k} 0 " + _pwl(_ramp_points(0.0, ck_edges)))
        lines.append(f"vr{k} r{k} 0 " + _pwl(_ramp_points(v, [(0.2, fast, 0.0), (ev["rr"], rp, v),
                                                             (ev["rf"], rp, 0.0)])))
        lines += _dff_inst(cell, k, "d", f"ck{k}", f"r{k}", ld)
        h = f"{v / 2:.6g}"
        for name, trig, te, qd in (("cr", f"v(ck{k}) val={h} rise=1", ev["ckr1"], "rise"),
                                   ("cf", f"v(ck{k}) val={h} rise=1", ev["ckr2"], "fall"),
                                   ("rf", f"v(r{k}) val={h} rise=1", ev["rr"], "fall")):
            lo, hi = (SLEW_LO * v, SLEW_HI * v) if qd == "rise" else (SLEW_HI * v, SLEW_LO * v)
            meas.append(f".meas tran d{k}{name} trig {trig} td={te}n "
                        f"targ v(q{k}) val={h} td={te}n {qd}=1")
            meas.append(f".meas tran t{k}{name} trig v(q{k}) val={lo:.6g} td={te}n {qd}=1 "
                        f"targ v(q{k}) val={hi:.6g} td={te}n {qd}=1")
            meas.append(f".meas tran q{k}{name} integ i(vdd{k}) from={te}n to={te + w - 0.05}n")
            meas.append(f".meas tran l{k}{name} avg i(vdd{k}) from={te - LEAK_GUARD_NS[0]}n "
                        f"to={te - LEAK_GUARD_NS[1]}n")
            req += [f"d{k}{name}", f"t{k}{name}", f"q{k}{name}", f"l{k}{name}"]
    lines.append(f".tran 50p {ev['end']}n")
    lines += meas
    lines.append(".end\n")
    r = run_deck("\n".join(lines), cell=cell.name, arc="CK->Q, R->Q", required=tuple(req))
    shape = (len(slews), len(loads))
    out: dict = {}
    for name in ("cr", "cf", "rf"):
        d, t, e = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        for k, (i, j) in enumerate(itertools.product(range(len(slews)), range(len(loads)))):
            d[i, j] = r[f"d{k}{name}"] * 1e9
            t[i, j] = r[f"t{k}{name}"] * 1e9
            e_sup = -v * r[f"q{k}{name}"]
            e_leak = -v * r[f"l{k}{name}"] * (w - 0.05) * 1e-9
            c = loads[j] * 1e-15
            e[i, j] = (e_sup - e_leak - (c * v * v if name == "cr" else 0.0)) * 1e12
        out[name] = {"delay_ns": d, "transition_ns": t, "energy_pj": e}
    return out


def _dff_clock_job(cell: CellNetlist, s: SimSettings, slews, loads) -> dict:
    """Energy of CK edges with Q unchanged, and of D edges with CK low (pJ), per slew."""
    v = s.vdd_v
    w = _window_ns(slews, loads)
    fast = 0.02
    a1 = 1.0
    ld = loads[len(loads) // 2]
    lines = [deck_header(s, f"{cell.name} clock and D pin energy"), cell.subckt(),
             f"vhi hi 0 {v:.6g}"]
    lines.append("vr r 0 " + _pwl(_ramp_points(v, [(0.2, fast, 0.0)])))
    meas, req = [], []
    k = 0
    index = []
    for i, sl in enumerate(slews):
        rp = sl * RAMP_PER_SLEW
        for kind in ("d0", "d1", "dtog"):
            lines.append(f"vdd{k} vdd{k} 0 {v:.6g}")
            if kind == "dtog":
                lines.append(f"vd{k} d{k} 0 " + _pwl(_ramp_points(0.0, [(a1 + 2 * w, rp, v),
                                                                     (a1 + 3 * w, rp, 0.0)])))
                lines += _dff_inst(cell, k, f"d{k}", "0", "r", ld)
                evs = (("er", a1 + 2 * w), ("ef", a1 + 3 * w))
            else:
                ck_edges = [(a1 + n * w, rp, v if n % 2 == 0 else 0.0) for n in range(4)]
                lines.append(f"vck{k} ck{k} 0 " + _pwl(_ramp_points(0.0, ck_edges)))
                lines += _dff_inst(cell, k, "hi" if kind == "d1" else "0", f"ck{k}", "r", ld)
                evs = (("er", a1 + 2 * w), ("ef", a1 + 3 * w))
            for name, te in evs:
                meas.append(f".meas tran q{k}{name} integ i(vdd{k}) from={te}n "
                            f"to={te + w - 0.05}n")
                meas.append(f".meas tran l{k}{name} avg i(vdd{k}) from={te - LEAK_GUARD_NS[0]}n "
                            f"to={te - LEAK_GUARD_NS[1]}n")
                req += [f"q{k}{name}", f"l{k}{name}"]
            index.append((k, i, kind))
            k += 1
    lines.append(f".tran 50p {a1 + 4 * w}n")
    lines += meas
    lines.append(".end\n")
    r = run_deck("\n".join(lines), cell=cell.name, arc="CK pin / D pin energy",
                 required=tuple(req))
    n = len(slews)
    ck_r, ck_f, d_r, d_f = (np.zeros(n) for _ in range(4))
    for k, i, kind in index:
        e = {}
        for name in ("er", "ef"):
            e_leak = -v * r[f"l{k}{name}"] * (w - 0.05) * 1e-9
            e[name] = (-v * r[f"q{k}{name}"] - e_leak) * 1e12
        if kind == "dtog":
            d_r[i], d_f[i] = e["er"], e["ef"]
        else:
            ck_r[i] += e["er"] / 2
            ck_f[i] += e["ef"] / 2
    return {"clock_rise_energy_pj": ck_r, "clock_fall_energy_pj": ck_f,
            "d_rise_energy_pj": d_r, "d_fall_energy_pj": d_f, "q_load_ff": ld}


def _constraint_deck(cell: CellNetlist, s: SimSettings, kind: str, offsets: list[float],
                     slew: float, load: float) -> tuple[str, float]:
    """Deck for setup/hold search; ``kind`` in setup_rise, setup_fall, hold_rise, hold_fall.

    Setup: D changes ``offset`` ns before the CK rising edge at a1. Hold: the D value captured at
    a1 changes ``offset`` ns after it. Returns deck and the check time (ns).
    """
    v = s.vdd_v
    rp = slew * RAMP_PER_SLEW
    fast = 0.02
    a0, a1, t_end = 0.6, 2.2, 3.7
    lines = [deck_header(s, f"{cell.name} {kind}"), cell.subckt()]
    lines.append("vr r 0 " + _pwl(_ramp_points(v, [(0.2, fast, 0.0)])))
    captured = 1 if kind in ("setup_rise", "hold_fall") else 0
    need_q1_first = kind in ("setup_fall", "hold_rise")
    meas = []
    for k, off in enumerate(offsets):
        lines.append(f"vdd{k} vdd{k} 0 {v:.6g}")
        ck = [(a1, rp, v)]
        if need_q1_first:
            ck = [(a0, fast, v), (a0 + 0.5, fast, 0.0)] + ck
        lines.append(f"vck{k} ck{k} 0 " + _pwl(_ramp_points(0.0, ck)))
        if kind == "setup_rise":
            d = _ramp_points(0.0, [(a1 - off, rp, v)])
        elif kind == "setup_fall":
            d = _ramp_points(v, [(a1 - off, rp, 0.0)])
        elif kind == "hold_rise":  # Q=1 first, D=0 before a1, D rises offset after a1
            d = _ramp_points(v, [(a0 + 0.8, fast, 0.0), (a1 + off, rp, v)])
        else:  # hold_fall: Q=0 after reset, D=1 captured at a1, D falls offset after a1
            d = _ramp_points(v, [(a1 + off, rp, 0.0)])
        lines.append(f"vd{k} d{k} 0 " + _pwl(d))
        lines += _dff_inst(cell, k, f"d{k}", f"ck{k}", "r", load)
        qd = "rise" if captured else "fall"
        meas.append(f".meas tran dq{k} trig v(ck{k}) val={v / 2:.6g} td={a1 - 0.5}n rise=1 "
                    f"targ v(q{k}) val={v / 2:.6g} td={a1 - 0.5}n {qd}=1")
        meas.append(f".meas tran qe{k} find v(q{k}) at={t_end - 0.05}n")
    lines.append(f".tran 50p {t_end}n")
    lines += meas
    lines.append(".end\n")
    return "\n".join(lines), captured


def _constraint_job(cell: CellNetlist, s: SimSettings, kind: str, slew: float,
                    load: float) -> float:
    """Smallest offset (ns) such that it and every larger offset capture correctly with a
    clock-to-Q delay at most 10 % above the delay at the largest offset (two-pass grid search,
    final resolution < 1 ps)."""
    lo, hi = (-0.15, 0.35) if kind.startswith("setup") else (-0.3, 0.2)
    for _pass in range(3):
        offs = list(np.linspace(lo, hi, 25))
        deck, captured = _constraint_deck(cell, s, kind, offs, slew, load)
        r = run_deck(deck, cell=cell.name, arc=f"D {kind.replace('_', ' ')} vs CK")
        ref = r.get(f"dq{len(offs) - 1}")
        if ref is None or abs(r[f"qe{len(offs) - 1}"] - captured * s.vdd_v) > 0.1 * s.vdd_v:
            raise CellLibraryError("flip-flop failed to capture even with the largest "
                                   f"{kind} offset {hi:.3f} ns", cell=cell.name,
                                   arc=f"D {kind} vs CK")
        ok = []
        for k in range(len(offs)):
            good_val = abs(r[f"qe{k}"] - captured * s.vdd_v) < 0.1 * s.vdd_v
            dq = r.get(f"dq{k}")
            ok.append(good_val and dq is not None and dq <= 1.1 * ref)
        first = len(offs) - 1
        while first > 0 and ok[first - 1]:
            first -= 1
        if first == 0:
            if _pass == 2:
                return float(offs[0])
            lo, hi = lo - (hi - lo), lo + (hi - lo) / 24  # widen toward smaller offsets
            continue
        lo, hi = offs[first - 1], offs[first]
        if hi - lo < 0.001:
            return float(hi)
    return float(hi)


def _dff_constraints_job(cell: CellNetlist, s: SimSettings, slews, loads) -> dict:
    sl = slews[len(slews) // 2]
    ld = loads[len(loads) // 2]
    out = {"constraint_slew_ns": sl, "constraint_load_ff": ld}
    for kind in ("setup_rise", "setup_fall", "hold_rise", "hold_fall"):
        out[f"{kind}_ns"] = round(_constraint_job(cell, s, kind, sl, ld), 5)
    return out


# --- job lists --------------------------------------------------------------------------------
def cell_jobs(cell: CellNetlist, s: SimSettings, slews=SLEWS_NS, loads=LOADS_FF) -> list[Job]:
    """All simulation jobs of one cell (each is one or a few ngspice runs)."""
    jobs = [Job(cell.name, "leakage", lambda: _leakage_job(cell, s))]
    if cell.sequential:
        jobs.append(Job(cell.name, "CK->Q, R->Q", lambda: _dff_arc_job(cell, s, slews, loads)))
        jobs.append(Job(cell.name, "clock energy", lambda: _dff_clock_job(cell, s, slews, loads)))
        jobs.append(Job(cell.name, "setup/hold",
                        lambda: _dff_constraints_job(cell, s, slews, loads)))
        jobs.append(Job(cell.name, "pin capacitance",
                        lambda: dff_pin_caps_job(cell, s, slews[len(slews) // 2])))
        return jobs
    for pin, side, tog in sensitizations(cell):
        jobs.append(Job(cell.name, f"{pin} {_state_label(side)}",
                        lambda p=pin, sd=side, t=tog: _comb_arc_job(cell, p, sd, t, s, slews,
                                                                     loads)))
    return jobs


def assemble_cell(cell: CellNetlist, results: dict[str, dict], slews, loads) -> dict:
    """JSON-ready record of one cell from its job results (keyed by job label)."""
    leak = results["leakage"]["leakage_nw"]
    rec: dict = {"area_um2": round(cell.area_um2, 5), "transistors": cell.transistor_count,
                 "inputs": {}, "outputs": {o: {"function": f} for o, f in cell.functions.items()},
                 "leakage_nw": leak,
                 "leakage_avg_nw": round(float(np.mean(list(leak.values()))), 6)}
    if not cell.sequential:
        parts = [v for k, v in results.items() if k != "leakage"]
        if not parts:
            raise CellLibraryError("no switching arcs were simulated", cell=cell.name)
        arcs, caps = merge_comb_arcs(cell, parts)
        rec["inputs"] = caps
        rec["arcs"] = arcs
        return rec
    a = results["CK->Q, R->Q"]
    ck = results["clock energy"]
    cons = results["setup/hold"]
    # CK->Q arc energy excludes the clock-pin energy of a CK rise with Q unchanged (same slew),
    # so that clock energy + Q-toggle energy sums to the simulated total.
    ck_r = np.asarray(ck["clock_rise_energy_pj"])[:, None]
    arcs = [{"from": "CK", "to": "Q", "timing_type": "rising_edge", "sense": "non_unate",
             "side_states": ["D=1", "D=0"],
             "cell_rise_ns": a["cr"]["delay_ns"].round(6).tolist(),
             "rise_transition_ns": a["cr"]["transition_ns"].round(6).tolist(),
             "rise_energy_pj": (a["cr"]["energy_pj"] - ck_r).round(9).tolist(),
             "cell_fall_ns": a["cf"]["delay_ns"].round(6).tolist(),
             "fall_transition_ns": a["cf"]["transition_ns"].round(6).tolist(),
             "fall_energy_pj": (a["cf"]["energy_pj"] - ck_r).round(9).tolist()},
            {"from": "R", "to": "Q", "timing_type": "clear",
             "side_states": ["Q=1"], "sense": "negative_unate",
             "cell_fall_ns": a["rf"]["delay_ns"].round(6).tolist(),
             "fall_transition_ns": a["rf"]["transition_ns"].round(6).tolist(),
             "fall_energy_pj": a["rf"]["energy_pj"].round(9).tolist()}]
    rec["arcs"] = arcs
    rec["inputs"] = results["pin capacitance"]
    rec["sequential"] = {
        "clock": DFF_PINS["clocked_on"], "next_state": DFF_PINS["next_state"],
        "clear": DFF_PINS["clear"],
        **{k: v for k, v in cons.items()},
        "clock_rise_energy_pj": np.round(ck["clock_rise_energy_pj"], 9).tolist(),
        "clock_fall_energy_pj": np.round(ck["clock_fall_energy_pj"], 9).tolist(),
        "d_rise_energy_pj": np.round(ck["d_rise_energy_pj"], 9).tolist(),
        "d_fall_energy_pj": np.round(ck["d_fall_energy_pj"], 9).tolist(),
        "energy_q_load_ff": ck["q_load_ff"],
    }
    return rec


def dff_pin_caps_job(cell: CellNetlist, s: SimSettings, slew: float) -> dict:
    """Input capacitance (fF) of D, CK, R from the charge each source delivers over an edge."""
    v = s.vdd_v
    rp = slew * RAMP_PER_SLEW
    fast = 0.02
    lines = [deck_header(s, f"{cell.name} pin capacitance"), cell.subckt(), f"vdd vdd 0 {v:.6g}"]
    # D toggles with CK low; CK toggles with D=0 (after reset); R pulses with Q=0.
    lines.append("vd d 0 " + _pwl(_ramp_points(0.0, [(1.0, rp, v), (2.0, rp, 0.0)])))
    lines.append("vck ck 0 " + _pwl(_ramp_points(0.0, [(3.0, rp, v), (4.0, rp, 0.0)])))
    lines.append("vr r 0 " + _pwl(_ramp_points(v, [(0.2, fast, 0.0), (5.0, rp, v),
                                                   (6.0, rp, 0.0)])))
    lines.append(f"x0 d ck r q vdd 0 {cell.name}")
    lines.append("cq q 0 4f")
    meas = []
    for pin, src, t in (("D", "vd", 1.0), ("CK", "vck", 3.0), ("R", "vr", 5.0)):
        meas.append(f".meas tran c{pin}r integ i({src}) from={t}n to={t + 0.95}n")
        meas.append(f".meas tran c{pin}f integ i({src}) from={t + 1}n to={t + 1.95}n")
    lines.append(".tran 50p 7n")
    lines += meas
    lines.append(".end\n")
    names = tuple(f"c{p}{e}".lower() for p in ("D", "CK", "R") for e in "rf")
    r = run_deck("\n".join(lines), cell=cell.name, arc="pin capacitance", required=names)
    caps = {}
    for p in ("D", "CK", "R"):
        cr = abs(r[f"c{p}r".lower()]) / v * 1e15
        cf = abs(r[f"c{p}f".lower()]) / v * 1e15
        caps[p] = {"capacitance_ff": round((cr + cf) / 2, 5), "rise_capacitance_ff": round(cr, 5),
                   "fall_capacitance_ff": round(cf, 5)}
    return caps


# --- FO4 ---------------------------------------------------------------------------------------
def fo4_deck(cell: CellNetlist, s: SimSettings, stages: int = 5) -> str:
    """Chain of ``cell`` (an inverter) where every stage drives 4 copies of itself; the three
    side copies of each stage drive 4 copies of the cell (m=4) so their Miller load is real."""
    v = s.vdd_v
    lines = [deck_header(s, f"FO4 chain of {cell.name}"), cell.subckt(), f"vdd vdd 0 {v:.6g}"]
    lines.append("vin n0 0 " + _pwl(_ramp_points(0.0, [(0.2, 0.02, v), (1.2, 0.02, 0.0)])))
    for i in range(stages):
        lines.append(f"xs{i} n{i} n{i + 1} vdd 0 {cell.name}")
        for j in range(3):
            lines.append(f"xd{i}_{j} n{i + 1} z{i}_{j} vdd 0 {cell.name}")
            lines.append(f"xl{i}_{j} z{i}_{j} w{i}_{j} vdd 0 {cell.name} m=4")
    for j in range(4):
        lines.append(f"xe{j} n{stages} e{j} vdd 0 {cell.name}")
    lines.append(".tran 10p 2.2n 0 2p")
    h = f"{v / 2:.6g}"
    # stage 2 -> 3 (input n2 rises on the first input edge since stages invert twice)
    lines.append(f".meas tran tphl trig v(n2) val={h} rise=1 targ v(n3) val={h} fall=1")
    lines.append(f".meas tran tplh trig v(n2) val={h} fall=1 targ v(n3) val={h} rise=1")
    lines.append(f".meas tran tr trig v(n3) val={SLEW_LO * v:.6g} rise=1 targ v(n3) "
                 f"val={SLEW_HI * v:.6g} rise=1")
    lines.append(f".meas tran tf trig v(n3) val={SLEW_HI * v:.6g} fall=1 targ v(n3) "
                 f"val={SLEW_LO * v:.6g} fall=1")
    lines.append(".end\n")
    return "\n".join(lines)


def measure_fo4(cell: CellNetlist, s: SimSettings) -> dict:
    """FO4 delay of an inverter cell (ps): mean of tpHL and tpLH, plus 10-90 % transitions."""
    r = run_deck(fo4_deck(cell, s), cell=cell.name, arc="FO4 chain",
                 required=("tphl", "tplh", "tr", "tf"))
    return {"fo4_delay_ps": round((r["tphl"] + r["tplh"]) / 2 * 1e12, 4),
            "tphl_ps": round(r["tphl"] * 1e12, 4), "tplh_ps": round(r["tplh"] * 1e12, 4),
            "rise_transition_ps": round(r["tr"] * 1e12, 4),
            "fall_transition_ps": round(r["tf"] * 1e12, 4)}
