"""Adapter: the characterized 45 nm cell library (hwmodel.cells) as the default path's costs.

Internal energies are read at the library's reference input slew (``key_figures['ref_slew_ns']``,
else the second slew index point). A flip-flop's clock pin draws its clock energy every cycle
(CK rise + CK fall with Q unchanged); when Q also toggles, the CK->Q arc's internal energy is
added. The library's CK->Q tables already exclude the plain clock-edge energy (see
``hwmodel.cells.library``), so the clock edge is not counted twice.
"""

from __future__ import annotations

from functools import lru_cache

from hwmodel.cells.library import CellLibrary, load_library


class LibraryCosts:
    """:class:`hwmodel.ops.energy.CellCosts` backed by a :class:`CellLibrary`."""

    def __init__(self, lib: CellLibrary, slew_ns: float | None = None) -> None:
        self.lib = lib
        self.vdd_v = float(lib.vdd_v)
        self.slew_ns = float(lib.key_figures.get("ref_slew_ns", lib.slew_index_ns[1])) \
            if slew_ns is None else float(slew_ns)
        self._energy = lru_cache(maxsize=None)(self._internal)

    def pin_cap_ff(self, cell: str, pin: str) -> float:
        return float(self.lib.cell(cell).input_cap_ff[pin])

    def _internal(self, cell: str, out_pin: str, load_ff: float) -> float:
        c = self.lib.cell(cell)
        return c.internal_energy_per_toggle_pj(out_pin, self.slew_ns, load_ff)

    def internal_energy_pj(self, cell: str, out_pin: str, load_ff: float) -> float:
        return self._energy(cell, out_pin, round(load_ff, 4))

    def clock_energy_pj(self, cell: str) -> float:
        seq = self.lib.cell(cell).sequential
        return 0.0 if seq is None else seq.clock_energy_per_cycle_pj(self.slew_ns)

    def leakage_nw(self, cell: str) -> float:
        return float(self.lib.cell(cell).leakage_avg_nw)

    def area_um2(self, cell: str) -> float:
        return float(self.lib.cell(cell).area_um2)


@lru_cache(maxsize=4)
def default_costs(corner: str = "nom", vdd_v: float = 1.1, temp_c: float = 25.0) -> LibraryCosts:
    """Costs from the committed library (or one built with ``python -m hwmodel.cells build``)."""
    return LibraryCosts(load_library(corner, vdd_v, temp_c))
