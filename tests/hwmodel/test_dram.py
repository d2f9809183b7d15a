"""DRAM energy table."""

from __future__ import annotations

import pytest

from hwmodel.dram import (
    DRAM_TYPES,
    background_power,
    background_power_mw,
    dram_energy_pj,
    dram_type,
    static_energy_pj,
)
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


def test_ddr3_currents_from_the_module_table() -> None:
    # Micron MT18JDF51272AZ Table 11, DDR3-1600: 18 devices (2 ranks of 9); IDD5B has one rank
    # refreshing and the other in IDD2P0 (216 mA for 18 devices = 12 mA each)
    sb = dram_type("ddr3").standby
    assert sb is not None
    assert (sb.idd2n_ma, sb.idd3n_ma, sb.idd5b_ma) == pytest.approx((43.0, 55.0, 195.0))
    assert (sb.vdd_v, sb.trfc_ns, sb.trefi_ns) == (1.5, 160.0, 7800.0)
    # one DDR3-1600 x64 channel (12.8 GB/s) = one rank of 8 x8 devices
    assert (sb.devices_per_rank, sb.ranks, sb.devices) == (8, 1, 8)
    assert 1600e6 * sb.devices_per_rank * 8 / 8 / 1e9 == pytest.approx(12.8)


def test_ddr3_background_power_by_hand() -> None:
    bg = background_power("ddr3")
    standby = 55.0 * 1.5 * 8                            # IDD3N x VDD x devices = 660 mW
    refresh = (195.0 - 55.0) * 1.5 * 160 / 7800 * 8     # = 34.46 mW
    assert bg.standby_mw == pytest.approx(standby)
    assert bg.refresh_mw == pytest.approx(refresh)
    assert bg.total_mw == pytest.approx(660.0 + 34.4615, rel=1e-5)
    assert background_power_mw() == pytest.approx(bg.total_mw)
    assert "IDD3N" in bg.assumptions and "TN-41-01" in bg.source
    # 1 mW for 1 s = 1 mJ = 1e9 pJ
    assert static_energy_pj("ddr3", 2.0) == pytest.approx(bg.total_mw * 2.0 * 1e9)
    assert static_energy_pj("ddr3", 0.0) == 0.0


def test_hbm2_needs_an_override() -> None:
    with pytest.raises(SramInputError, match="no published background power.*background_mw"):
        background_power_mw("hbm2")
    assert background_power_mw("hbm2", background_mw=250.0) == 250.0
    assert static_energy_pj("HBM2", 1e-3, background_mw=250.0) == pytest.approx(250.0 * 1e6)


def test_background_bad_input() -> None:
    with pytest.raises(SramInputError, match="dram"):
        background_power_mw("sdram-1999")
    with pytest.raises(SramInputError, match="seconds"):
        static_energy_pj("ddr3", -1.0)
    with pytest.raises(SramInputError, match="background_mw"):
        background_power_mw("hbm2", background_mw=-1.0)
