"""Analytical SRAM model in the style of CACTI, with an optional real-CACTI backend.

>>> from hwmodel.sram import sram
>>> r = sram("64KiB", 64)            # 45 nm, high-performance devices, 360 K
>>> r.read_energy_pj, r.access_time_ns, r.leakage_mw, r.area_mm2   # doctest: +SKIP
"""

from hwmodel.sram.api import Organization, SramResult, parse_size, sram, sweep
from hwmodel.sram.errors import CactiUnavailableError, SramInputError

__all__ = [
    "CactiUnavailableError",
    "Organization",
    "SramInputError",
    "SramResult",
    "parse_size",
    "sram",
    "sweep",
]
