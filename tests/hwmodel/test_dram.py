"""DRAM energy table."""

from __future__ import annotations

import pytest

from hwmodel.dram import DRAM_TYPES, dram_energy_pj, dram_type
from hwmodel.sram import SramInputError


def test_table_is_consistent() -> None:
    for name, t in DRAM_TYPES.items():
        assert t.name == name and t.source
        assert 0 < t.low_pj_per_bit <= t.energy_pj_per_bit <= t.high_pj_per_bit


def test_published_values() -> None:
    # Horowitz ISSCC 2014: 1.3-2.6 nJ per 64-bit access; 640 pJ per 32 bits (Han et al. 2015)
    ddr3 = dram_type("DDR3")
    assert ddr3.energy_pj_per_bit == pytest.approx(20.0)
    assert (ddr3.low_pj_per_bit, ddr3.high_pj_per_bit) == pytest.approx((20.0, 40.625))
    assert dram_type("hbm2").energy_pj_per_bit == pytest.approx(3.9)


def test_energy_of_bytes() -> None:
    assert dram_energy_pj(1024, "ddr3") == pytest.approx(1024 * 8 * 20.0)
    assert dram_energy_pj(0) == 0.0
    assert dram_energy_pj(64, "hbm2") < dram_energy_pj(64, "ddr3")


def test_bad_input() -> None:
    with pytest.raises(SramInputError, match="dram"):
        dram_type("sdram-1999")
    with pytest.raises(SramInputError, match="bytes"):
        dram_energy_pj(-1)
