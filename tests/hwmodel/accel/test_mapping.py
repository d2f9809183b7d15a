"""The mapping search: exhaustive over its stated space, its closed-form energy exact."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest

from hwmodel.accel import analytical, arch, mapping, tiling
from hwmodel.accel.energy import LevelCosts, PeCost, gemm_energy
from hwmodel.accel.errors import AccelError


def _lc(clock: float = 100.0) -> LevelCosts:
    """Per-access energies as inputs (pJ): distinct values so every count matters."""
    return LevelCosts(PeCost(3.0, 0.5, 100.0, clock, "test"),
                      {"ifmap": 1.1, "weight": 1.3, "ofmap": 1.7},
                      {"ifmap": 1.2, "weight": 1.4, "ofmap": 1.9}, 80.0, 0.9, 2.0,
                      {"pe": 1.0, "vector": 0.1, "sram": 5.0, "dram": 50.0}, clock, "target")


def _small_arch() -> arch.Architecture:
    return arch.from_dict({
        "name": "t", "format": "fp32",
        "array": {"rows": 4, "cols": 4, "dataflow": "any"},
        "buffer": [{"name": n, "operands": [n], "capacity": "1KiB", "word_bits": 128,
                    "banks": 1} for n in ("ifmap", "weight", "ofmap")],
        "vector": {"lanes": 4}, "dram": {"type": "ddr3", "bandwidth_gb_s": 0.8}}, "t.toml")


def test_tile_sizes_are_the_stated_space() -> None:
    assert mapping.tile_sizes(100, 32) == [32, 64, 100]
    assert mapping.tile_sizes(7, 1) == [1, 2, 4, 7]
    assert mapping.tile_sizes(3, 32) == [3]


def test_closed_form_energy_equals_the_simulation_per_candidate() -> None:
    rng = random.Random(3)
    lc = _lc()
    for _ in range(60):
        df = rng.choice(["ws", "os", "is"])
        m, n, k = (rng.randint(1, 40) for _ in range(3))
        mt, nt, kt = rng.randint(1, m), rng.randint(1, n), rng.randint(1, k)
        order = rng.choice(tiling.ORDERS)
        ratios = tuple(Fraction(rng.randint(1, 9), 9) for _ in range(3))
        e, _ = mapping._score(df, order, m, n, k, np.array([mt]), np.array([nt]),
                              np.array([kt]), 4, 4, Fraction(3), lc, ratios)
        r = analytical.simulate(tiling.Mapping(df, mt, nt, kt, order), m, n, k, 4, 4,
                                Fraction(3), ratios=ratios)
        assert e[0] == pytest.approx(sum(gemm_energy(r, lc).values()), rel=1e-12)


@pytest.mark.parametrize("objective", mapping.OBJECTIVES)
def test_search_with_every_candidate_exact_finds_the_brute_force_optimum(objective) -> None:
    a, lc = _small_arch(), _lc()
    m, n, k = 24, 10, 18
    bw = analytical.as_bandwidth(a.dram_words_per_cycle(lc.clock_mhz))
    got = mapping.search(m, n, k, a, lc, objective, exact_top=10**9)
    best = None
    cap = a.capacity_elems("ifmap")
    for df in a.array.dataflows:
        base = mapping._bases(df, 4, 4)
        for mt in mapping.tile_sizes(m, base["m"]):
            for nt in mapping.tile_sizes(n, base["n"]):
                for kt in mapping.tile_sizes(k, base["k"]):
                    if max(mt * kt, kt * nt, mt * nt) > cap:
                        continue
                    for order in tiling.ORDERS:
                        r = analytical.simulate(tiling.Mapping(df, mt, nt, kt, order), m, n, k,
                                                4, 4, bw)
                        o = mapping._objective(objective, sum(gemm_energy(r, lc).values()),
                                               r.cycles, lc)
                        best = o if best is None else min(best, o)
    r = got.result
    assert mapping._objective(objective, sum(gemm_energy(r, lc).values()), r.cycles,
                              lc) == pytest.approx(best)
    pruned = mapping.search(m, n, k, a, lc, objective)  # the default: 8 simulated exactly
    assert pruned.candidates == got.candidates
    r = pruned.result
    assert mapping._objective(objective, sum(gemm_energy(r, lc).values()), r.cycles,
                              lc) >= best * (1 - 1e-12)


def test_tiles_fit_half_their_buffers() -> None:
    a, lc = _small_arch(), _lc()
    ch = mapping.search(200, 50, 90, a, lc, "edp")
    mp, cap = ch.mapping, a.capacity_elems("ifmap")
    assert mp.mt * mp.kt <= cap and mp.kt * mp.nt <= cap and mp.mt * mp.nt <= cap


def test_delay_without_energies_and_bad_objectives() -> None:
    a = _small_arch()
    assert mapping.search(20, 20, 20, a, None, "delay").result.cycles > 0
    with pytest.raises(AccelError, match="needs the level energies"):
        mapping.search(20, 20, 20, a, None, "edp")
    with pytest.raises(AccelError, match="objective 'speed' is unknown"):
        mapping.search(20, 20, 20, a, _lc(), "speed")


def test_scalesim_schedule_has_scalesims_compute_cycles() -> None:
    from hwmodel.accel.timing import gemm_cycles

    for df in ("ws", "os", "is"):
        mp = mapping.scalesim_mapping(df, 50, 37, 70, 8, 8)
        r = analytical.simulate(mp, 50, 37, 70, 8, 8, Fraction(10**6))
        assert r.compute_cycles == gemm_cycles(df, 8, 8, 50, 37, 70)
