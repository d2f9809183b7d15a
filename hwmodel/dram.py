"""Off-chip DRAM access energy per bit, by memory type, for traffic that does not fit on chip.

Each entry is a published figure (the source is in ``source``); ``low``/``high`` give the range
the source states where it gives one.  Energies cover the whole access (array, periphery and
I/O) per bit transferred.
"""

from __future__ import annotations

from dataclasses import dataclass

from hwmodel.sram.errors import SramInputError


@dataclass(frozen=True)
class DramType:
    """Energy per bit of one DRAM type (pJ/bit) and where the number comes from."""

    name: str
    energy_pj_per_bit: float
    low_pj_per_bit: float
    high_pj_per_bit: float
    source: str


DRAM_TYPES: dict[str, DramType] = {
    # Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014
    # (45 nm): a 64-bit DRAM access costs 1.3-2.6 nJ, i.e. 20.3-40.6 pJ/bit.  The nominal
    # (and low) value is the 640 pJ per 32-bit DRAM access of the same data as tabulated by
    # Han et al., "Learning both weights and connections", NeurIPS 2015, Table 1: 20 pJ/bit.
    "ddr3": DramType("ddr3", 640.0 / 32, 640.0 / 32, 2600.0 / 64,
                     "Horowitz ISSCC 2014 (45 nm); Han et al. NeurIPS 2015 Table 1"),
    # O'Connor et al., "Fine-Grained DRAM: Energy-Efficient DRAM for Extreme Bandwidth
    # Systems", MICRO 2017: HBM2 access energy 3.9 pJ/bit (their baseline).
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
