"""Gate-level energy of mapped units: correct outputs, zero for a constant stream, ordering,
determinism."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from hwmodel.cells.liberty import read_liberty
from hwmodel.ops.gatelevel import gate_level_energy
from hwmodel.ops.glsim import ns_to_ps, simulation_netlist, timed_delays_ps, timed_plan
from hwmodel.ops.sta import clock_slew_ns, static_timing
from hwmodel.ops.synth import SynthError, SynthResult, load_mapped_netlist, synthesize
from hwmodel.rtlsim import load_unit, simulate

from .test_synth import FIXTURE_LIB, project_liberty, unit

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.sim

N = 300


def uniform(width: int, n: int = N, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.integers(0, 1 << width, n, dtype=np.uint64) for k in ("a", "b")}


def sparse(width: int, n: int = N, seed: int = 0) -> dict[str, np.ndarray]:
    """Half the operands zero, the rest below 2**(width/4) (like post-ReLU activations)."""
    rng = np.random.default_rng(seed)
    out = {}
    for k in ("a", "b"):
        v = rng.integers(0, 1 << max(1, width // 4), n, dtype=np.uint64)
        v[rng.random(n) < 0.5] = 0
        out[k] = v
    return out


@pytest.fixture(scope="module")
def lib():
    return read_liberty(FIXTURE_LIB)


@pytest.fixture(scope="module")
def mul8():
    return synthesize(unit("mul_hs"), {"W": 8}, FIXTURE_LIB)


@pytest.fixture(scope="module")
def mul8_uniform(mul8, lib):
    return gate_level_energy(mul8, lib, uniform(8))


def test_gate_level_outputs_equal_rtl(mul8, mul8_uniform) -> None:
    ops = uniform(8)
    rtl = simulate(unit("mul_hs"), ops, {"W": 8})
    np.testing.assert_array_equal(mul8_uniform.y, rtl.y)
    np.testing.assert_array_equal(mul8_uniform.y, ops["a"] * ops["b"])
    assert mul8_uniform.latency_cycles == rtl.latency_cycles == 1
    assert mul8_uniform.ii_cycles == rtl.ii_cycles == 1
    assert mul8_uniform.vectors == N


def test_energy_fields_add_up(mul8, mul8_uniform, lib) -> None:
    e = mul8_uniform
    assert e.mode == "zero-delay"
    assert e.energy_pj == pytest.approx(e.energy_logic_pj + e.energy_seq_pj + e.energy_leakage_pj)
    assert 0 < e.energy_clock_pj < e.energy_seq_pj
    leak_nw = sum(lib.cells[c].leakage_nw * n for c, n in mul8.cell_counts.items())
    assert e.energy_leakage_pj == pytest.approx(leak_nw * mul8.clock_period_ns * 1e-6)
    assert e.energy_logic_pj > 0 and e.toggles_per_op > 10


def test_constant_stream_has_no_dynamic_logic_energy(mul8, mul8_uniform, lib) -> None:
    const = {k: np.full(N, 0xA5, dtype=np.uint64) for k in ("a", "b")}
    e = gate_level_energy(mul8, lib, const)
    assert e.energy_logic_pj == 0.0
    assert e.toggles_per_op == 0.0
    # only the clock remains in the sequential part; leakage does not depend on data
    assert e.energy_seq_pj == pytest.approx(e.energy_clock_pj)
    assert e.energy_clock_pj == pytest.approx(mul8_uniform.energy_clock_pj)
    assert e.energy_leakage_pj == pytest.approx(mul8_uniform.energy_leakage_pj)


def test_random_costs_more_than_sparse(mul8, mul8_uniform, lib) -> None:
    e = gate_level_energy(mul8, lib, sparse(8))
    assert 0 < e.energy_logic_pj < mul8_uniform.energy_logic_pj
    assert e.energy_pj < mul8_uniform.energy_pj


def test_two_runs_are_identical(mul8, mul8_uniform, lib) -> None:
    again = gate_level_energy(mul8, lib, uniform(8))
    skip = {"sim_wall_s", "count_wall_s", "y"}
    for f in dataclasses.fields(again):
        if f.name not in skip:
            assert getattr(again, f.name) == getattr(mul8_uniform, f.name), f.name
    np.testing.assert_array_equal(again.y, mul8_uniform.y)


def test_wider_and_multiplier_cost_more(mul8, mul8_uniform, lib) -> None:
    mul4 = gate_level_energy(synthesize(unit("mul_hs"), {"W": 4}, FIXTURE_LIB), lib,
                             uniform(4))
    mul16 = gate_level_energy(synthesize(unit("mul_hs"), {"W": 16}, FIXTURE_LIB), lib,
                              uniform(16, 200))
    add8 = gate_level_energy(synthesize(unit("add_hs"), {"W": 8}, FIXTURE_LIB), lib, uniform(8))
    assert mul4.energy_pj < mul8_uniform.energy_pj < mul16.energy_pj
    assert add8.energy_pj < mul8_uniform.energy_pj
    assert add8.energy_logic_pj < mul8_uniform.energy_logic_pj


def test_cycle_samples_equal_fst_waveform_counts(mul8, mul8_uniform, lib) -> None:
    # zero-delay: one value per net per cycle (testbench samples) sees every FST toggle
    assert mul8_uniform.toggle_source == "samples"
    fst = gate_level_energy(mul8, lib, uniform(8), toggles="fst")
    assert fst.toggle_source == "fst"
    assert fst.toggles_per_op == mul8_uniform.toggles_per_op
    assert fst.energy_logic_pj == pytest.approx(mul8_uniform.energy_logic_pj, rel=1e-12)
    assert fst.energy_seq_pj == pytest.approx(mul8_uniform.energy_seq_pj, rel=1e-12)


def test_unit_delay_counts_glitches(mul8, mul8_uniform, lib) -> None:
    e = gate_level_energy(mul8, lib, uniform(8), mode="unit-delay")
    assert e.mode == "unit-delay"
    np.testing.assert_array_equal(e.y, mul8_uniform.y)
    assert e.energy_logic_pj > mul8_uniform.energy_logic_pj  # array multipliers glitch
    assert e.energy_clock_pj == pytest.approx(mul8_uniform.energy_clock_pj)


def test_bad_inputs_are_one_line(mul8, lib) -> None:
    ops = uniform(8, 10)
    ops["a"][0] = 256
    with pytest.raises(SynthError, match="wider than its 8 bits"):
        gate_level_energy(mul8, lib, ops)
    with pytest.raises(SynthError, match="differ from the synthesized"):
        gate_level_energy(mul8, lib, uniform(8, 10), {"W": 16})
    with pytest.raises(SynthError, match="mode must be one of"):
        gate_level_energy(mul8, lib, uniform(8, 10), mode="spice")
    with pytest.raises(SynthError, match="misses glitches"):
        gate_level_energy(mul8, lib, uniform(8, 10), mode="unit-delay", toggles="samples")
    with pytest.raises(SynthError, match="at least 2 vectors"):
        gate_level_energy(mul8, lib, uniform(8, 1))


def test_project_library_gate_level() -> None:
    lib_path = project_liberty()
    lib = read_liberty(lib_path)
    res = synthesize(unit("mul_hs"), {"W": 8}, lib_path)
    ops = uniform(8, 200)
    e = gate_level_energy(res, lib, ops)
    np.testing.assert_array_equal(e.y, ops["a"] * ops["b"])
    assert e.cell_models.endswith("_cells.v")  # the library's own cell models
    const = gate_level_energy(res, lib, {k: np.full(200, 77, dtype=np.uint64) for k in "ab"})
    assert const.energy_logic_pj == 0.0
    assert const.energy_pj < e.energy_pj


# --- timed (glitch-aware, NLDM-annotated) mode --------------------------------------------------


def test_timed_mode_counts_real_glitches(mul8, mul8_uniform, lib) -> None:
    e = gate_level_energy(mul8, lib, uniform(8), mode="timed")
    assert e.mode == "timed" and e.toggle_source == "fst"
    np.testing.assert_array_equal(e.y, mul8_uniform.y)  # same function, glitches or not
    assert e.energy_logic_pj > mul8_uniform.energy_logic_pj  # array multipliers glitch
    assert e.toggles_per_op >= mul8_uniform.toggles_per_op
    unit_delay = gate_level_energy(mul8, lib, uniform(8), mode="unit-delay")
    assert e.toggles_per_op < unit_delay.toggles_per_op  # inertial delays filter short pulses
    # clock and leakage do not depend on the mode; the testbench ran at a settling period
    assert e.energy_clock_pj == pytest.approx(mul8_uniform.energy_clock_pj)
    assert e.energy_leakage_pj == pytest.approx(mul8_uniform.energy_leakage_pj)
    plan = timed_plan(mul8, lib)
    assert e.clock_period_ns == mul8.clock_period_ns == mul8_uniform.sim_period_ns
    assert e.sim_period_ns * 1000 == plan.min_period_ps > plan.settle_ps
    assert e.sim_period_ns >= static_timing(mul8, lib).critical_path_ns > mul8.clock_period_ns


def test_timed_period_shorter_than_critical_path_is_one_line(mul8, lib) -> None:
    with pytest.raises(SynthError, match=r"mul_hs.*too short.*critical path 1\.\d+ ns.*"
                                         r"pass sim_period_ns >= 1\.\d+") as err:
        gate_level_energy(mul8, lib, uniform(8, 10), mode="timed", sim_period_ns=1.0)
    assert "\n" not in str(err.value)
    with pytest.raises(SynthError, match="misses glitches"):
        gate_level_energy(mul8, lib, uniform(8, 10), mode="timed", toggles="samples")
    # a longer period is accepted and changes no toggle
    plan = timed_plan(mul8, lib)
    slow = gate_level_energy(mul8, lib, uniform(8, 50), mode="timed", sim_period_ns=3.0)
    auto = gate_level_energy(mul8, lib, uniform(8, 50), mode="timed")
    assert slow.sim_period_ns == 3.0 and auto.sim_period_ns == plan.min_period_ps / 1000
    assert slow.toggles_per_op == auto.toggles_per_op
    assert slow.energy_logic_pj == pytest.approx(auto.energy_logic_pj, rel=1e-12)


def test_timed_project_array_multiplier() -> None:
    """mul_array int16 on the project Liberty: same results, more energy and toggles."""
    lib_path = project_liberty()
    lib = read_liberty(lib_path)
    res = synthesize(load_unit(ROOT / "rtl" / "int" / "mul_array.v"),
                     {"W": 16, "SIGNED": 1, "LATENCY": 1}, lib_path)
    ops = uniform(16, 150, seed=3)
    zero = gate_level_energy(res, lib, ops)
    timed = gate_level_energy(res, lib, ops, mode="timed")
    np.testing.assert_array_equal(timed.y, zero.y)
    assert timed.energy_logic_pj > 1.5 * zero.energy_logic_pj
    assert timed.toggles_per_op >= zero.toggles_per_op
    assert timed.sim_period_ns >= static_timing(res, lib).critical_path_ns


GLITCH_TOP = "glitch_hs"


def glitch_unit(tmp_path: Path, chain: int) -> SynthResult:
    """A hand-made mapped unit: q = DFF(a); y = q XOR (q through ``chain`` buffers);
    out_valid = DFF(in_valid). y is 0 for every input, but each toggle of q sends a pulse as
    wide as the buffer chain's delay into the XOR."""
    nets = {"clk": 2, "rst": 3, "in_valid": 4, "a": 5, "b": 6, "out_valid": 7, "y": 8}
    q, chain_nets = 9, list(range(10, 10 + chain))
    ff = {"D": None, "CK": [2], "R": [3], "Q": None}
    cells = {"c0_ffv": {"type": "DFFR_X1", "connections": {**ff, "D": [4], "Q": [7]}},
             "c1_ffq": {"type": "DFFR_X1", "connections": {**ff, "D": [5], "Q": [q]}},
             "c3_xor": {"type": "XOR2_X1",
                        "connections": {"A": [q], "B": [chain_nets[-1]], "Y": [8]}}}
    for i, net in enumerate(chain_nets):
        cells[f"c2_buf{i}"] = {"type": "BUF_X1",
                               "connections": {"A": [([q] + chain_nets)[i]], "Y": [net]}}
    ports = {name: {"direction": "output" if name in ("out_valid", "y") else "input",
                    "bits": [bit]} for name, bit in nets.items()}
    folder = tmp_path / f"glitch{chain}"
    folder.mkdir()
    (folder / "netlist.json").write_text(json.dumps(
        {"modules": {GLITCH_TOP: {"ports": ports, "cells": cells}}}))
    return SynthResult(top=GLITCH_TOP, params={}, liberty_path=FIXTURE_LIB,
                       netlist_v=folder / "netlist.v", netlist_json=folder / "netlist.json",
                       log_path=folder / "yosys.log", area_um2=0.0, cells=len(cells),
                       cell_counts={}, yosys_version="hand-made", script="",
                       clock_period_ns=1.0, cache_key=f"glitch{chain}")


def hand_delays_ns(lib, chain: int) -> list[tuple[float, float]]:
    """(rise, fall) delay (ns) of the flip-flop q, each buffer and the XOR of
    :func:`glitch_unit`, from the fixture's NLDM tables at each instance's load and input slew
    (propagated by hand along the chain)."""
    edges = ("rise", "fall")
    clk_slew = clock_slew_ns(lib)
    dff, buf, xor = (lib.cell(c) for c in ("DFFR_X1", "BUF_X1", "XOR2_X1"))
    c2q = next(a for a in dff.pins["Q"].timing if a.related_pin == "CK")
    load = xor.pins["A"].capacitance_ff + buf.pins["A"].capacitance_ff + lib.wire_cap_ff(2)
    out = [tuple(c2q.tables[f"cell_{e}"].lookup(clk_slew, load) for e in edges)]
    q_slew = {e: c2q.tables[f"{e}_transition"].lookup(clk_slew, load) for e in edges}
    slew = dict(q_slew)
    arc = buf.pins["Y"].timing[0]  # positive unate: a rising input gives a rising output
    for i in range(chain):
        load = (xor.pins["B"] if i == chain - 1 else buf.pins["A"]).capacitance_ff \
            + lib.wire_cap_ff(1)
        out.append(tuple(arc.tables[f"cell_{e}"].lookup(slew[e], load) for e in edges))
        slew = {e: arc.tables[f"{e}_transition"].lookup(slew[e], load) for e in edges}
    # y is an output port: its load is the boundary flip-flop's D pin + one fan-out of wire;
    # XOR arcs are non-unate: either input edge can give either output edge (worst taken)
    load = dff.pins["D"].capacitance_ff + lib.wire_cap_ff(1)
    arcs = {a.related_pin: a for a in xor.pins["Y"].timing}
    out.append(tuple(max(arcs[pin].tables[f"cell_{e}"].lookup(s, load)
                         for pin, sl in (("A", q_slew), ("B", slew)) for s in sl.values())
                     for e in edges))
    return out


@pytest.mark.parametrize("chain", [1, 3])
def test_timed_glitch_of_known_width(tmp_path: Path, lib, chain: int) -> None:
    res = glitch_unit(tmp_path, chain)
    netlist = load_mapped_netlist(res)
    hand = [(ns_to_ps(r), ns_to_ps(f)) for r, f in hand_delays_ns(lib, chain)]
    # the annotation equals the hand NLDM lookups, instance by instance, in the emitted Verilog
    by_out = {inst.pins["Q" if "Q" in inst.pins else "Y"]: (k, "Q" if "Q" in inst.pins else "Y")
              for k, inst in enumerate(netlist.instances)}
    delays = timed_delays_ps(netlist, lib)
    for net, want in zip([9, *range(10, 10 + chain), 8], hand, strict=True):
        assert delays[by_out[net]] == want, net
    verilog = simulation_netlist(netlist, lib, "timed")
    assert f"assign #({hand[-1][0]}, {hand[-1][1]}) n8 = r8;" in verilog
    # the XOR output rises dxr after q toggles; the chain's edge cancels it unless it arrives
    # later (inertial delay): a glitch (one rise, one fall on y) iff chain delay > dxr
    dxr = hand[-1][0]
    chain_ps = [sum(d[e] for d in hand[1:-1]) for e in (0, 1)]  # q rising, q falling
    assert dxr not in chain_ps  # no same-time-step tie
    glitch = [c > dxr for c in chain_ps]
    assert glitch == ([False, False] if chain == 1 else [True, True])
    n = 200
    a = np.random.default_rng(7).integers(0, 2, n, dtype=np.uint64)
    ops = {"a": a, "b": np.zeros(n, dtype=np.uint64)}
    e = gate_level_energy(res, lib, ops, mode="timed")
    zero = gate_level_energy(res, lib, ops)
    # window edges bring vectors 2..n-1 onto a, while q moves v[i-2] -> v[i-1]
    a_t = int(sum(a[i] != a[i - 1] for i in range(2, n)))
    q_up = int(sum(a[i - 2] == 0 and a[i - 1] == 1 for i in range(2, n)))
    q_dn = int(sum(a[i - 2] == 1 and a[i - 1] == 0 for i in range(2, n)))
    y_t = 2 * (q_up * glitch[0] + q_dn * glitch[1])
    assert e.window_cycles == zero.window_cycles == n - 2
    assert zero.toggles_per_op * (n - 2) == pytest.approx(a_t + (q_up + q_dn) * (1 + chain))
    assert e.toggles_per_op * (n - 2) == pytest.approx(a_t + (q_up + q_dn) * (1 + chain) + y_t)
    np.testing.assert_array_equal(e.y, np.zeros(n, dtype=np.uint64))
    np.testing.assert_array_equal(zero.y, e.y)
    assert (e.energy_logic_pj > zero.energy_logic_pj) == (chain == 3)
