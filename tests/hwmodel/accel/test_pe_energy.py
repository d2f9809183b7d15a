"""Gate-level energy per MAC of the RTL systolic arrays in dataflow order
(:mod:`hwmodel.accel.pe_energy`), on a tiny fp16 2x2 array.

Each measurement synthesizes the array (cached), simulates the netlist on a whole GEMM and checks
every result bit for bit, so these tests also show the mapped arrays compute correctly in both
modes. The properties checked could each fail: the energy split adds up, the cycle count is the
contract's, glitches (timed) add switching, operands that never change switch less than
random ones, and a wrong reference is caught.
"""

from __future__ import annotations

import math
import shutil
from typing import NoReturn

import numpy as np
import pytest

from hwmodel.accel import pe_energy, sa_drive
from hwmodel.accel.pe_energy import ArrayEnergyError, array_energy
from hwmodel.accel.timing import gemm_cycles

pytestmark = [
    pytest.mark.sim,
    pytest.mark.skipif(shutil.which("iverilog") is None or shutil.which("yosys") is None,
                       reason="needs Icarus Verilog and Yosys; run `make setup`"),
]

FP16 = {"exp_w": 5, "man_w": 10}
_MEMO: dict[tuple, pe_energy.ArrayEnergy] = {}


def measure(dataflow: str, timed: bool, stream: str = "uniform") -> pe_energy.ArrayEnergy:
    """A fresh (not disk-cached) 2x2 fp16 measurement at 1.0 V, memoized in the session."""
    key = (dataflow, timed, stream)
    if key not in _MEMO:
        _MEMO[key] = array_energy(dataflow, 2, 2, vdd_v=1.0, timed=timed, seed=0, stream=stream,
                                  use_cache=False, **FP16)
    return _MEMO[key]


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_energy_adds_up_and_cycles_are_the_contract(dataflow: str) -> None:
    r = measure(dataflow, timed=True)
    m, n, k = r.gemm_mnk
    assert (m, n, k) == pe_energy.default_gemm(2, 2)
    assert r.macs == m * n * k
    assert r.cycles == gemm_cycles(dataflow, 2, 2, m, n, k)
    assert r.utilization == pytest.approx(r.macs / (4 * r.cycles))
    assert 0 < r.utilization < 1  # fill, drain and (ws) weight loads idle some PEs
    assert min(r.dynamic_pj, r.sequential_pj, r.leakage_pj) > 0
    assert r.total_pj == pytest.approx(r.dynamic_pj + r.sequential_pj + r.leakage_pj)
    assert r.energy_per_mac_pj == pytest.approx(r.total_pj / r.macs)
    assert r.energy_per_mac_pj > 0
    # leakage is charged over the array's own clock period, its critical path
    assert r.clock_period_ns == pytest.approx(1000.0 / r.fmax_mhz)
    assert r.sim_period_ns >= r.clock_period_ns  # timed: every net settles before the edge
    assert r.area_um2 > 0 and r.cells > 0 and math.isfinite(r.toggles_per_mac)
    assert r.mode == "timed" and "bit-exact" in r.provenance and dataflow in r.provenance


def test_glitches_add_switching() -> None:
    """The timed (glitch-aware) simulation of the same netlist and GEMM toggles more, and costs
    more dynamic energy, than the zero-delay one; leakage and clock do not depend on the mode."""
    zero, timed = measure("ws", timed=False), measure("ws", timed=True)
    assert zero.mode == "zero-delay"
    assert timed.toggles_per_mac > zero.toggles_per_mac
    assert timed.dynamic_pj > zero.dynamic_pj
    assert timed.leakage_pj == pytest.approx(zero.leakage_pj)


def test_constant_operands_switch_less() -> None:
    """A GEMM whose operands never change (every a and every w equal) costs less dynamic energy
    per MAC than one with random operands: the toggles come from the data."""
    uniform = measure("ws", timed=False)
    constant = measure("ws", timed=False, stream="constant")
    assert constant.dynamic_pj < 0.6 * uniform.dynamic_pj
    assert constant.sequential_pj < uniform.sequential_pj


def test_result_is_cached_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = measure("os", timed=True)  # measured with use_cache=False, then stored
    monkeypatch.setattr(pe_energy, "_simulate", _no_simulation)
    again = array_energy("os", 2, 2, vdd_v=1.0, timed=True, seed=0, **FP16)
    assert again == fresh


def _no_simulation(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError("a cached result was simulated again")


def test_wrong_reference_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a reference one ulp off in its final sums the gate-level results disagree: the
    netlist's outputs really are compared."""
    good = sa_drive.reference_chain

    def off_by_one_ulp(a: np.ndarray, w: np.ndarray, exp_w: int, man_w: int) -> np.ndarray:
        acc = good(a, w, exp_w, man_w)
        acc[-1] ^= np.uint64(1)
        return acc

    monkeypatch.setattr(sa_drive, "reference_chain", off_by_one_ulp)
    with pytest.raises(ArrayEnergyError, match="reference"):
        array_energy("ws", 2, 2, vdd_v=1.0, timed=False, seed=0, use_cache=False, **FP16)
