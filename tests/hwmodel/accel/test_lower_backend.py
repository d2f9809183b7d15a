"""Trace -> layer-phase GEMMs (frozen-aware, MACs equal to the trace) -> one iteration."""

from __future__ import annotations

from fractions import Fraction

import pandas as pd
import pytest
import torch
from torch import nn

from hwmodel.accel import arch, backend, lower
from hwmodel.accel.energy import LevelCosts, PeCost
from hwmodel.accel.errors import AccelError
from workload import trace_training


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.mid = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=2)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        x = torch.relu(self.bn(self.mid(torch.relu(self.stem(x)))))
        return self.head(x.flatten(1))


@pytest.fixture(scope="module")
def traces() -> dict[str, pd.DataFrame]:
    torch.manual_seed(0)
    full = trace_training(Net(), (3, 8, 8), batch=4).df
    frozen = trace_training(Net(), (3, 8, 8), batch=4, frozen=lambda n: n.startswith("stem")).df
    return {"full": full, "frozen": frozen}


def test_every_phase_is_a_gemm_with_the_traces_macs(traces) -> None:
    t = traces["full"]
    gemms, _ = lower.lower(t)
    by = {(g.layer, g.phase): g for g in gemms}
    mid = by[("mid", "forward")]  # 4 x 4x4 outputs, 2 groups of 4 -> 4, window 4*3*3
    assert (mid.m, mid.n, mid.k, mid.count) == (4 * 4 * 4, 4, 36, 2)
    assert by[("mid", "input_grad")].n == 36 and by[("mid", "weight_grad")].k == 64
    assert (by[("head", "forward")].m, by[("head", "forward")].k) == (4, 128)
    for col, phase in (("fwd_macs", "forward"), ("bwd_input_macs", "input_grad"),
                       ("bwd_weight_macs", "weight_grad")):
        assert sum(g.macs for g in gemms if g.phase == phase) == t[col].sum()
    # the stem's input needs no gradient: no input-gradient GEMM for it
    assert ("stem", "input_grad") not in by
    # im2col operands are raw tensors in DRAM: stride-2 3x3 conv reads 8x8 of 4x4x9 windows
    assert mid.ratios[0] == Fraction(64, 16 * 9) and by[("stem", "forward")].ratios[0] == \
        Fraction(64, 64 * 9)


def test_frozen_layers_lose_their_backward(traces) -> None:
    gemms, _ = lower.lower(traces["frozen"])
    phases = {(g.layer, g.phase) for g in gemms}
    assert ("stem", "weight_grad") not in phases and ("stem", "forward") in phases
    assert ("mid", "input_grad") not in phases  # below the first trainable layer
    assert ("mid", "weight_grad") in phases


def test_rows_that_cannot_be_lowered_are_refused(traces) -> None:
    t = traces["full"].copy()
    i = t.index[t["layer"] == "mid"][0]
    t.loc[i, "fwd_macs"] += 1
    with pytest.raises(AccelError, match="the trace counts"):
        lower.lower(t)
    t = traces["full"].drop(columns=["kernel_h"])
    with pytest.raises(AccelError, match="geometry columns"):
        lower.lower(t)
    t = traces["full"].copy()
    t.loc[t["layer"] == "bn", "fwd_macs"] = 5
    with pytest.raises(AccelError, match="no GEMM lowering"):
        lower.lower(t)


def _lc() -> LevelCosts:
    return LevelCosts(PeCost(3.0, 0.5, 100.0, 200.0, "test"),
                      {"ifmap": 1.1, "weight": 1.3, "ofmap": 1.7},
                      {"ifmap": 1.2, "weight": 1.4, "ofmap": 1.9}, 80.0, 0.9, 2.0,
                      {"pe": 1.0, "vector": 0.1, "sram": 5.0, "dram": 50.0}, 200.0, "target")


def test_one_iteration_in_both_modes(traces) -> None:
    a = arch.load("os")
    fast = backend.cost_iteration(traces["full"], a, _lc(), "edp")
    slow = backend.cost_iteration(traces["full"], a, _lc(), "edp", mode="cycle")
    cols = ["cycles", "stall_cycles", "macs", "sram_a_reads", "dram_c_writes"]
    pd.testing.assert_frame_equal(fast.gemms[cols], slow.gemms[cols])
    assert fast.cycles == slow.cycles
    b = fast.breakdown
    assert list(b.index) == list(lower.PHASES)
    assert fast.energy_pj == pytest.approx(b[["pe", "rf", "sram", "dram", "vector",
                                              "static"]].to_numpy().sum())
    assert b.loc["update", "pe"] == 0 and b.loc["update", "vector"] > 0
    assert fast.level_pj("pe") == pytest.approx(3.0 * traces["full"][
        ["fwd_macs", "bwd_input_macs", "bwd_weight_macs"]].to_numpy().sum())
    frozen = backend.cost_iteration(traces["frozen"], a, _lc(), "edp")
    assert frozen.cycles < fast.cycles and frozen.energy_pj < fast.energy_pj
    with pytest.raises(AccelError, match="mode 'rtl' is unknown"):
        backend.cost_iteration(traces["full"], a, _lc(), mode="rtl")
