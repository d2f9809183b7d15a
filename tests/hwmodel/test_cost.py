"""The cost model combines trace counts, per-op energies and memory energy exactly."""

from __future__ import annotations

import pandas as pd
import pytest

from hwmodel.cost import (
    Accelerator,
    CostModelError,
    OpCosts,
    StaticPower,
    compute_energy,
    iteration_cost,
)


def op_table(path: str = "default") -> pd.DataFrame:
    rows = []
    for unit, e, cp in (("fp_mac", 4.0, 2.0), ("fp_mul", 3.0, 1.0), ("fp_add", 1.0, 1.0)):
        rows.append({"unit": unit, "format": "fp32", "stream": "uniform", "path": path,
                     "energy_logic_pj": e - 0.5, "energy_seq_pj": 0.5, "leakage_nw": 100.0,
                     "energy_timed_logic_pj": 2 * e - 0.5, "energy_timed_seq_pj": 0.5,
                     "critical_path_ns": cp})
    return pd.DataFrame(rows)


def trace() -> pd.DataFrame:
    return pd.DataFrame([
        {"layer": "c1", "kind": "conv2d", "branch": "shared", "fwd_macs": 100,
         "bwd_input_macs": 0, "bwd_weight_macs": 0, "update_mults": 0, "update_adds": 0,
         "elementwise_ops": 10},
        {"layer": "fc", "kind": "linear", "branch": "task1", "fwd_macs": 50,
         "bwd_input_macs": 50, "bwd_weight_macs": 50, "update_mults": 20, "update_adds": 20,
         "elementwise_ops": 5, "update_divs": 3},
    ])


def test_compute_energy_per_layer() -> None:
    costs = OpCosts.from_table(op_table(), "fp32")
    df = compute_energy(trace(), costs)
    assert df["mac_energy_pj"].tolist() == [400.0, 600.0]
    assert df["update_energy_pj"].tolist() == [0.0, 20 * 3.0 + 20 * 1.0]
    assert df["elementwise_energy_pj"].tolist() == [10.0, 5.0]
    assert df["uncosted_ops"].tolist() == [0, 3]


def test_energy_figures_pick_their_columns() -> None:
    """The glitch-aware figure costs with the timed columns of the yosys rows."""
    timed = OpCosts.from_table(op_table("yosys"), "fp32", figure="yosys-timed")
    zero = OpCosts.from_table(op_table("yosys"), "fp32", figure="yosys")
    assert timed.mac_pj == 8.0 and zero.mac_pj == 4.0
    with pytest.raises(CostModelError, match="path=default"):
        OpCosts.from_table(op_table("yosys"), "fp32", figure="default")
    with pytest.raises(CostModelError, match="unknown energy figure"):
        OpCosts.from_table(op_table(), "fp32", figure="glitchy")


def test_iteration_cost_and_time() -> None:
    costs = OpCosts.from_table(op_table(), "fp32")
    mem = pd.DataFrame([{"level": "global", "energy_pj": 7.0, "bytes": 100.0},
                        {"level": "dram", "energy_pj": 30.0, "bytes": 64.0}])
    accel = Accelerator(mac_units=2, clock_mhz_max=1000.0, dram_gb_per_s=1.0)
    c = iteration_cost(trace(), costs, mem, accel, StaticPower(0.0, 0.0, 0.0))
    assert c.macs == 250 and c.update_ops == 40 and c.elementwise_ops == 15
    assert c.compute_energy_pj == pytest.approx(400 + 600 + 80 + 15)
    assert c.total_energy_pj == pytest.approx(c.compute_energy_pj + 37.0)
    assert c.clock_mhz == pytest.approx(500.0)  # 2 ns critical path
    t_comp = (250 + 40 + 15) / 2 / 500e6
    assert c.modeled_time_s == pytest.approx(max(t_comp, 64 / 1e9))
    assert c.compute_bound  # 305 ops on 2 units at 500 MHz (305 ns) > 64 B at 1 GB/s (64 ns)
    s = iteration_cost(trace(), costs, mem, accel, StaticPower(1.0, 2.0, 3.0))
    assert s.static_energy_pj == pytest.approx(6.0 * t_comp * 1e9)  # mW * s = 1e9 pJ
    assert s.total_energy_pj == pytest.approx(c.total_energy_pj + s.static_energy_pj)


def test_missing_row_names_the_fix() -> None:
    with pytest.raises(CostModelError, match="python -m hwmodel.ops --unit fp_mac --format bf16"):
        OpCosts.from_table(op_table(), "bf16")
    with pytest.raises(CostModelError, match="mac_units"):
        Accelerator(mac_units=0)
