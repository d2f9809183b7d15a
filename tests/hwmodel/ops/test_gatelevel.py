"""Gate-level energy of mapped units: correct outputs, zero for a constant stream, ordering,
determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hwmodel.ops.gatelevel import gate_level_energy, liberty_function_to_verilog
from hwmodel.ops.sta import read_liberty
from hwmodel.ops.synth import SynthError, synthesize
from hwmodel.rtlsim import simulate

from .test_synth import FIXTURE_LIB, project_liberty, unit

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


def test_liberty_functions_become_verilog() -> None:
    assert liberty_function_to_verilog("(!(A&B))") == "( ~ ( A & B ) )"
    assert liberty_function_to_verilog("A B") == "A & B"
    assert liberty_function_to_verilog("A'+B") == "~ A | B"
    assert liberty_function_to_verilog("(A*B)'") == "~ ( A & B )"


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
