"""Default energy path on the real RTL units and the committed 45 nm library: the physics checks
of the op-cost table (issue: per-op delay and switching energy)."""

from __future__ import annotations

import numpy as np
import pytest

import rtl
from hwmodel.ops.energy import default_costs
from hwmodel.ops.oplib import format_params
from hwmodel.ops.paths.default import characterize_default
from hwmodel.ops.streams import get_format, make_stream
from hwmodel.rtlsim import load_unit

pytestmark = pytest.mark.sim
N = 150


def run(unit: str, fmt: str, stream: str = "uniform", latency: int = 1, n: int = N, seed: int = 0):
    sub = "fp" if unit.startswith("fp") else "int"
    spec = load_unit(rtl.RTL_DIR / sub / f"{unit}.v")
    params = format_params(get_format(fmt)) | {"LATENCY": latency}
    return characterize_default(spec, params, make_stream(stream, fmt, n, seed), default_costs())


@pytest.fixture(scope="module")
def rows() -> dict[str, object]:
    return {
        "rca8": run("add_rca", "int8"), "rca16": run("add_rca", "int16"),
        "rca32": run("add_rca", "int32"),
        "rca16_sparse": run("add_rca", "int16", "sparse"),
        "rca16_const": run("add_rca", "int16", "constant"),
        "booth16": run("mul_booth", "int16"),
        "fpmul16": run("fp_mul", "fp16"), "fpmul32": run("fp_mul", "fp32"),
    }


def test_constant_stream_has_no_dynamic_logic_energy(rows) -> None:
    e = rows["rca16_const"].energy
    assert e.energy_logic_pj == 0.0 and e.toggles_per_op == 0.0
    assert e.energy_seq_pj > 0 and e.energy_leakage_pj > 0  # clock and leakage remain


def test_random_costs_more_than_sparse(rows) -> None:
    assert rows["rca16"].energy.energy_logic_pj > rows["rca16_sparse"].energy.energy_logic_pj


def test_energy_and_area_grow_with_width(rows) -> None:
    e = [rows[k].energy for k in ("rca8", "rca16", "rca32")]
    assert e[0].energy_pj < e[1].energy_pj < e[2].energy_pj
    assert e[0].area_um2 < e[1].area_um2 < e[2].area_um2


def test_multiplier_costs_more_than_adder(rows) -> None:
    assert rows["booth16"].energy.energy_pj > rows["rca16"].energy.energy_pj


def test_fp32_multiply_costs_more_than_fp16(rows) -> None:
    assert rows["fpmul32"].energy.energy_pj > rows["fpmul16"].energy.energy_pj


def test_parts_add_up_and_latency_is_measured(rows) -> None:
    for r in rows.values():
        e = r.energy
        assert e.energy_pj == pytest.approx(e.energy_logic_pj + e.energy_seq_pj
                                            + e.energy_leakage_pj)
        assert r.latency_cycles == 1 and r.ii_cycles == 1 and r.vectors == N


@pytest.mark.parametrize("latency", [0, 2])
def test_latency_follows_the_parameter(latency: int) -> None:
    r = run("add_ks", "int8", latency=latency, n=40)
    assert r.latency_cycles == latency
    if latency == 0:
        assert r.energy.energy_seq_pj == 0.0 and r.energy.flops == 0


def test_two_runs_are_identical() -> None:
    a, b = run("mul_array", "int8", n=60, seed=4), run("mul_array", "int8", n=60, seed=4)
    assert a.energy == b.energy


def test_one_gate_unit_energy_is_the_library_sum_by_hand() -> None:
    """xor_hs (XOR2 + two DFFR) under a scripted stream: energy per op = (toggles x (internal
    energy + 1/2 C V^2) + two flip-flops' clock energy per cycle) / ops + leakage x period, every
    term read from the cell library, the loads from the wire model and the pin capacitances."""
    from pathlib import Path

    from hwmodel.ops.loads import (
        OUTPUT_LOAD_CELL,
        OUTPUT_LOAD_PIN,
        WIRE_CAP_FF_PER_UM,
        WIRE_UM_PER_FANOUT,
    )

    spec = load_unit(Path(__file__).parent / "data" / "xor_hs.v")
    a = np.array([0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0], dtype=np.uint64)
    b = np.array([0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0], dtype=np.uint64)
    s = a ^ b  # held equal at both ends, so every toggle falls inside the window
    toggles = int(np.count_nonzero(np.diff(s)))
    assert toggles == 8
    lib = default_costs()
    period_ns = 2.0
    res = characterize_default(spec, {"LATENCY": 1}, {"a": a, "b": b}, lib, period_ns)
    n, v2 = len(a), lib.vdd_v ** 2
    wire = WIRE_CAP_FF_PER_UM * WIRE_UM_PER_FANOUT
    load_s = lib.pin_cap_ff("DFFR_X1", "D") + wire  # XOR output -> the result flip-flop's D
    load_y = lib.pin_cap_ff(OUTPUT_LOAD_CELL, OUTPUT_LOAD_PIN) + wire  # y -> outside register
    logic = toggles * (lib.internal_energy_pj("XOR2_X1", "Y", load_s) + 0.5 * load_s * v2 * 1e-3)
    seq = (2 * lib.clock_energy_pj("DFFR_X1") * n
           + toggles * (lib.internal_energy_pj("DFFR_X1", "Q", load_y)
                        + 0.5 * load_y * v2 * 1e-3))
    leak = (lib.leakage_nw("XOR2_X1") + 2 * lib.leakage_nw("DFFR_X1")) * period_ns * 1e-6
    e = res.energy
    assert e.toggles_per_op == pytest.approx(2 * toggles / n)
    assert e.energy_logic_pj == pytest.approx(logic / n, rel=1e-12)
    assert e.energy_seq_pj == pytest.approx(seq / n, rel=1e-12)
    assert e.energy_leakage_pj == pytest.approx(leak, rel=1e-12)
    assert e.energy_pj == pytest.approx((logic + seq) / n + leak, rel=1e-12)
    assert res.y.tolist() == s.tolist()
