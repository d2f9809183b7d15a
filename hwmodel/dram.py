"""Off-chip DRAM energy by memory type: access energy per bit and background (static) power.

Each entry is a published figure (the source is in ``source``); ``low``/``high`` give the range
the source states where it gives one.  Energies cover the whole access (array, periphery and
I/O) per bit transferred.

Background power (standby + refresh, paid for every second the memory is powered whether or not
it moves data) comes from a part's datasheet currents by the method of Micron TN-41-01
"Calculating Memory System Power for DDR3": :func:`background_power_mw`, :func:`static_energy_pj`.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwmodel.sram.errors import SramInputError


@dataclass(frozen=True)
class DramStandby:
    """Datasheet data for the background power of one memory channel (currents per device).

    ``idd3n_ma`` active standby (CKE high, banks open), ``idd2n_ma`` precharge standby (all banks
    closed), ``idd5b_ma`` burst refresh, all in mA at ``vdd_v``; ``trfc_ns`` refresh cycle time and
    ``trefi_ns`` average refresh interval in ns.  The channel is ``ranks`` ranks of
    ``devices_per_rank`` devices.
    """

    part: str
    vdd_v: float
    idd2n_ma: float
    idd3n_ma: float
    idd5b_ma: float
    trfc_ns: float
    trefi_ns: float
    devices_per_rank: int
    ranks: int
    source: str

    @property
    def devices(self) -> int:
        return self.devices_per_rank * self.ranks


@dataclass(frozen=True)
class DramType:
    """Energy per bit of one DRAM type (pJ/bit), its standby data (or None), and sources."""

    name: str
    energy_pj_per_bit: float
    low_pj_per_bit: float
    high_pj_per_bit: float
    source: str
    standby: DramStandby | None = None


@dataclass(frozen=True)
class DramBackground:
    """Background power of one memory channel (mW): standby + refresh, with its assumptions."""

    name: str
    standby_mw: float
    refresh_mw: float
    assumptions: str
    source: str

    @property
    def total_mw(self) -> float:
        return self.standby_mw + self.refresh_mw


# One DDR3-1600 x64 channel (1600 MT/s x 8 B = 12.8 GB/s, the default bandwidth of
# hwmodel.cost.Accelerator) built from 2Gb x8 parts: 64 / 8 = 8 devices in one rank.
# Per-device currents, DDR3-1600 column, from Micron "4GB, 8GB (x72, ECC, DR) 240-Pin DDR3 VLP
# UDIMM" data sheet MT18JDF51272AZ (jdf18c512_1gx72az.pdf, Rev. C 04/13), Table 11 "DDR3 IDD
# Specifications and Conditions - 4GB (Die Revision M)", whose values "are for the MT41J256M8 DDR3
# SDRAM only and are computed from values specified in the 2Gb (256 Meg x 8) component data
# sheet".  The module is 18 devices in 2 ranks of 9 (x72, dual rank); note 2 (all ranks in the
# condition) applies to IDD2N, IDD3N, IDD2P0; note 1 (one rank in the IDD, the other in IDD2P0)
# to IDD5B.  Module -> device:
#   IDD2N  774 mA / 18 = 43 mA;  IDD3N 990 mA / 18 = 55 mA;  IDD2P0 216 mA / 18 = 12 mA;
#   IDD5B  (1863 mA - 9 x 12 mA) / 9 = 195 mA.
# These are datasheet maximum limits, so the power is an upper bound.
# tRFC (2Gb) = 160 ns (MIN) and tREFI = 7.8 us (64 ms / 8192, TC <= 85 C): Micron 2Gb DDR3 SDRAM
# data sheet (MT41J512M4 / MT41J256M8 / MT41J128M16), Table 56 "Electrical Characteristics and AC
# Operating Conditions", Refresh Timing.  VDD = 1.5 V nominal (same data sheets, VDD = 1.5V
# +/-0.075V).
DDR3_1600_X64 = DramStandby(
    part="Micron MT41J256M8 (2Gb x8) DDR3-1600, 1 rank x 8 devices (x64 channel, 12.8 GB/s)",
    vdd_v=1.5, idd2n_ma=774.0 / 18, idd3n_ma=990.0 / 18, idd5b_ma=(1863.0 - 9 * 216.0 / 18) / 9,
    trfc_ns=160.0, trefi_ns=7800.0, devices_per_rank=8, ranks=1,
    source="Micron MT18JDF51272AZ data sheet Rev. C 04/13 Table 11 (MT41J256M8, DDR3-1600); "
           "Micron 2Gb DDR3 SDRAM data sheet Table 56 (tRFC, tREFI); method Micron TN-41-01")


DRAM_TYPES: dict[str, DramType] = {
    # Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014
    # (45 nm): a 64-bit DRAM access costs 1.3-2.6 nJ, i.e. 20.3-40.6 pJ/bit.  The nominal
    # (and low) value is the 640 pJ per 32-bit DRAM access of the same data as tabulated by
    # Han et al., "Learning both weights and connections", NeurIPS 2015, Table 1: 20 pJ/bit.
    "ddr3": DramType("ddr3", 640.0 / 32, 640.0 / 32, 2600.0 / 64,
                     "Horowitz ISSCC 2014 (45 nm); Han et al. NeurIPS 2015 Table 1",
                     standby=DDR3_1600_X64),
    # O'Connor et al., "Fine-Grained DRAM: Energy-Efficient DRAM for Extreme Bandwidth
    # Systems", MICRO 2017: HBM2 access energy 3.9 pJ/bit (their baseline).
    # No published background/standby power of an HBM2 stack was found when this was written (a
    # JEDEC or vendor IDD table, or a paper's figure with its source): standby=None, and
    # background_power_mw("hbm2") asks for a background_mw override.
    "hbm2": DramType("hbm2", 3.9, 3.9, 3.9, "O'Connor et al. MICRO 2017 (HBM2 baseline)"),
}
DEFAULT_DRAM = "ddr3"


def dram_type(name: str) -> DramType:
    """Look up a DRAM type by name (case-insensitive)."""
    key = str(name).lower()
    if key not in DRAM_TYPES:
        raise SramInputError(f"dram: unknown DRAM type {name!r}; use one of {sorted(DRAM_TYPES)}")
    return DRAM_TYPES[key]


def dram_energy_pj(n_bytes: float, name: str = DEFAULT_DRAM) -> float:
    """Energy (pJ) to move ``n_bytes`` between DRAM and the chip (read or write)."""
    if n_bytes < 0:
        raise SramInputError(f"bytes: must be non-negative (got {n_bytes})")
    return float(n_bytes) * 8.0 * dram_type(name).energy_pj_per_bit


def background_power(name: str = DEFAULT_DRAM, background_mw: float | None = None
                     ) -> DramBackground:
    """Background power (mW) of one memory channel of type ``name``: standby plus refresh.

    Method of Micron TN-41-01 "Calculating Memory System Power for DDR3", per device, times the
    devices of the channel (``DramStandby.devices``):

    * standby = IDD3N x VDD.  Active standby (IDD3N), not precharge standby (IDD2N): a training
      accelerator streams weights, activations and gradients nearly all the time, so with an
      open-page controller some bank is open between bursts, and it never has idle time to
      enter power-down (CKE low).  IDD2N would understate the power of such a channel.
    * refresh = (IDD5B - IDD3N) x VDD x tRFC / tREFI (the refresh current above the standby it
      replaces, for the fraction of time the device refreshes).

    Activate, read/write and I/O power are not here: they are in the per-bit access energy
    (:func:`dram_energy_pj`).  ``background_mw`` (mW, >= 0) overrides the built-in data, e.g.
    for a type without a published figure ("hbm2").
    """
    t = dram_type(name)
    if background_mw is not None:
        if not background_mw >= 0:
            raise SramInputError(f"background_mw: must be non-negative (got {background_mw})")
        return DramBackground(t.name, float(background_mw), 0.0,
                              "user-supplied background power (standby + refresh)",
                              "background_mw override")
    sb = t.standby
    if sb is None:
        raise SramInputError(
            f"dram: no published background power for {t.name!r} is built in; pass "
            f"background_mw=<standby + refresh power of the memory system in mW> (e.g. IDD3N x "
            f"VDD per device x devices, from the part's data sheet)")
    standby = sb.idd3n_ma * sb.vdd_v * sb.devices
    refresh = (sb.idd5b_ma - sb.idd3n_ma) * sb.vdd_v * sb.trfc_ns / sb.trefi_ns * sb.devices
    assumptions = (f"{sb.part}; active standby IDD3N (banks open while streaming); refresh "
                   f"(IDD5B - IDD3N) x VDD x tRFC/tREFI; datasheet maximum currents (upper "
                   f"bound); TC <= 85 C refresh rate")
    return DramBackground(t.name, standby, refresh, assumptions, sb.source)


def background_power_mw(name: str = DEFAULT_DRAM, background_mw: float | None = None) -> float:
    """Total background power (mW) of one channel of ``name``; see :func:`background_power`."""
    return background_power(name, background_mw).total_mw


def static_energy_pj(name: str, seconds: float, background_mw: float | None = None) -> float:
    """Background energy (pJ) of one channel of ``name`` powered for ``seconds`` (s)."""
    if not seconds >= 0:
        raise SramInputError(f"seconds: must be non-negative (got {seconds})")
    return background_power_mw(name, background_mw) * 1e-3 * float(seconds) * 1e12
