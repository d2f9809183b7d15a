"""One op-cost row end to end: timing on both paths, leakage at the unit's own clock, the MAC's
accumulator cleared every dot product, non-finite streams refused."""

from __future__ import annotations

import numpy as np
import pytest

from hwmodel.ops.compute import compute_row, job_stream, library_corner, make_jobs
from hwmodel.ops.oplib import default_op_library, select
from hwmodel.rtlsim import UnitError

pytestmark = pytest.mark.sim


def _job(unit: str, fmt: str, stream: str = "uniform", path: str = "default", tensors=None,
         dot_length: int = 8, vectors: int = 60, latency: int | None = None):
    (u,) = select(default_op_library(latency), unit, fmt)
    (job,) = make_jobs([u], [stream], [path], vectors, 0, tensors, dot_length=dot_length)
    return job


def test_default_row_carries_static_timing_and_leakage_power() -> None:
    """The default path used to report no critical path (the cost model then assumed 1 GHz)."""
    row = compute_row(_job("fp_add", "fp16"))
    assert row["critical_path_ns"] > 0 and row["fmax_mhz"] == pytest.approx(
        1000 / row["critical_path_ns"])
    assert row["clock_period_ns"] == row["critical_path_ns"]
    # leakage per op is the leakage power over the unit's own clock period (nW * ns = 1e-6 pJ)
    assert row["energy_leakage_pj"] == pytest.approx(row["leakage_nw"] * row["clock_period_ns"]
                                                     * 1e-6)
    assert row["energy_pj"] == pytest.approx(row["energy_logic_pj"] + row["energy_seq_pj"]
                                             + row["energy_leakage_pj"])
    assert row["nonfinite_pct"] == 0.0 and row["vdd_v"] == 1.1


def test_mac_stream_clears_the_accumulator_every_dot_product() -> None:
    s = job_stream(_job("fp_mac", "fp16", dot_length=8))
    assert s["acc_clr"].tolist()[:17] == [1] + [0] * 7 + [1] + [0] * 7 + [1]
    assert "acc_clr" not in job_stream(_job("fp_mul", "fp16"))


def test_a_stream_that_overflows_the_accumulator_is_refused() -> None:
    """Products of 200 x 200 summed 64 at a time overflow fp16 (max 65504): the row would be
    the energy of inf/NaN, not of arithmetic."""
    big = (np.full(8, 200.0), np.full(8, 200.0))
    with pytest.raises(UnitError, match=r"fp_mac/fp16 stream tensor: \d+\.\d % of the results"):
        compute_row(_job("fp_mac", "fp16", "tensor", tensors=big, dot_length=64))
    ok = compute_row(_job("fp_mac", "fp16", "tensor", tensors=big, dot_length=1))
    assert ok["nonfinite_pct"] == 0.0 and ok["dot_length"] == 1


def test_pipelining_raises_fmax_and_costs_registers() -> None:
    one = compute_row(_job("fp_mul", "fp16", latency=1))
    two = compute_row(_job("fp_mul", "fp16", latency=2))
    assert two["fmax_mhz"] > one["fmax_mhz"] and two["latency_cycles"] == 2
    assert two["energy_seq_pj"] > one["energy_seq_pj"] and two["area_um2"] > one["area_um2"]


def test_library_corner_and_missing_library() -> None:
    assert library_corner(0.9).tag == "nom_0p90v_27c"
    assert library_corner(1.1).tag == "nom_1p10v_25c"
    (u,) = select(default_op_library(), "fp_add", "fp16")
    with pytest.raises(UnitError, match="python -m hwmodel.cells build --corner nom --vdd 0.8"):
        make_jobs([u], ["uniform"], ["default"], 50, 0, corner=library_corner(0.8))


def test_a_lower_supply_costs_less_energy_and_speed() -> None:
    """The 0.9 V library (characterized with ngspice, not V^2-scaled) gives a slower, cheaper
    unit than the 1.1 V one."""
    (u,) = select(default_op_library(), "fp_add", "fp16")
    rows = {v: compute_row(make_jobs([u], ["uniform"], ["default"], 60, 0,
                                     corner=library_corner(v))[0]) for v in (0.9, 1.1)}
    assert rows[0.9]["vdd_v"] == 0.9 and rows[0.9]["library"] != rows[1.1]["library"]
    assert rows[0.9]["energy_logic_pj"] < 0.8 * rows[1.1]["energy_logic_pj"]
    assert rows[0.9]["fmax_mhz"] < rows[1.1]["fmax_mhz"]
