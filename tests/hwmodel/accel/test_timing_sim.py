"""The timing contract, and the two simulation modes agreeing exactly."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from hwmodel.accel import analytical, cyclesim, tiling
from hwmodel.accel.timing import fold_cycles, gemm_cycles


def test_fold_lengths_by_hand() -> None:
    # ws 4x4 streaming 10 vectors: 4 weight-load + 10 stream + skew 3 + drain 3 + 2 = 2R+C+T-2
    assert fold_cycles("ws", 4, 4, 10) == 20
    assert fold_cycles("os", 4, 4, 10) == 16
    # 10x8x12 on 4x4 ws: K=12 on rows (3 folds) x N=8 on columns (2 folds), stream M=10
    assert gemm_cycles("ws", 4, 4, 10, 8, 12) == 6 * 20
    # os: M=10 rows (3 folds) x N=8 (2 folds), stream K=12, plus the last fold's drain of R
    assert gemm_cycles("os", 4, 4, 10, 8, 12) == 6 * (12 + 4 + 4 - 2) + 4
    with pytest.raises(ValueError, match="unknown"):
        fold_cycles("rs", 4, 4, 1)


def test_one_fold_one_tile_by_hand() -> None:
    # 3x2x4 on a 4x4 ws array, all resident, bandwidth 1 element/cycle:
    # load A (12) + B (8) = 20 cycles, one fold of 2*4+4+3-2 = 13 cycles, write C (6): 6 cycles
    r = analytical.simulate(tiling.Mapping("ws", 3, 2, 4), 3, 2, 4, 4, 4, Fraction(1))
    assert (r.cycles, r.compute_cycles, r.stall_cycles) == (39, 13, 26)
    assert (r.sram_a_reads, r.sram_b_reads, r.sram_c_writes, r.sram_c_reads) == (12, 8, 6, 0)
    assert (r.dram_a_reads, r.dram_b_reads, r.dram_c_writes) == (12, 8, 6)
    assert r.macs == 24 and r.utilization_pct == pytest.approx(100 * 24 / (16 * 39))


def _random_case(rng: random.Random):
    df = rng.choice(["ws", "os", "is"])
    rows, cols = rng.choice([1, 2, 3, 4]), rng.choice([1, 2, 4, 5])
    m, n, k = (rng.randint(1, 18) for _ in range(3))
    mp = tiling.Mapping(df, rng.randint(1, m), rng.randint(1, n), rng.randint(1, k),
                        rng.choice(tiling.ORDERS))
    bw = Fraction(rng.choice([1, 2, 3, 7, 100]), rng.choice([1, 2, 3]))
    ratios = tuple(Fraction(rng.randint(1, 9), 9) for _ in range(3))
    return mp, m, n, k, rows, cols, bw, ratios


def test_cycle_stepped_and_closed_form_agree_exactly() -> None:
    rng = random.Random(7)
    for _ in range(150):
        mp, m, n, k, rows, cols, bw, ratios = _random_case(rng)
        a = analytical.simulate(mp, m, n, k, rows, cols, bw, ratios=ratios)
        c = cyclesim.simulate(mp, m, n, k, rows, cols, bw, ratios=ratios)
        assert a == c, (mp, m, n, k, rows, cols, bw, ratios)
        assert c.macs == m * n * k  # the PEs that fired, counted cycle by cycle


def test_more_bandwidth_never_slows_and_compute_is_a_floor() -> None:
    mp = tiling.Mapping("ws", 8, 4, 4, "mnk")
    times = [analytical.simulate(mp, 16, 8, 12, 4, 4, Fraction(b)).cycles
             for b in (1, 2, 4, 8, 64)]
    assert times == sorted(times, reverse=True)
    fast = analytical.simulate(mp, 16, 8, 12, 4, 4, Fraction(10**6))
    assert fast.cycles == fast.compute_cycles + 2  # 1-cycle first load and last write-back


def test_groups_scale_every_count() -> None:
    mp = tiling.Mapping("os", 4, 4, 4)
    one = analytical.simulate(mp, 6, 5, 7, 4, 4, Fraction(2))
    three = analytical.simulate(mp, 6, 5, 7, 4, 4, Fraction(2), count=3)
    assert three.cycles == 3 * one.cycles and three.sram_a_reads == 3 * one.sram_a_reads


def test_bad_mappings_are_refused() -> None:
    from hwmodel.accel.errors import AccelError

    with pytest.raises(AccelError, match="mt = 9 must be in 1..8"):
        analytical.simulate(tiling.Mapping("ws", 9, 1, 1), 8, 8, 8, 4, 4, Fraction(1))
    with pytest.raises(AccelError, match="permutation"):
        analytical.simulate(tiling.Mapping("ws", 1, 1, 1, "mmk"), 8, 8, 8, 4, 4, Fraction(1))
