"""NLDM tables: a cell quantity tabulated over (input slew, output load), looked up bilinearly.

One implementation for every reader of the project's tables: the library's JSON summary
(:mod:`hwmodel.cells.library`) and the Liberty reader
(:mod:`hwmodel.cells.liberty`). Inside the grid the lookup is bilinear; outside it, linear
extrapolation from the edge segment (the usual rule of static-timing tools for NLDM tables). An
axis with one point is constant along that axis.

The lookup runs per net and per arc in the energy and timing passes (tens of thousands of calls for
a 32-bit unit), so it works on plain Python floats: bisection on tuples, no NumPy per call.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

import numpy as np


def _segment(axis: tuple[float, ...], x: float) -> tuple[int, int, float]:
    """Indices of the axis segment used for ``x`` and the fraction along it (may be < 0 or > 1:
    extrapolation)."""
    n = len(axis)
    if n == 1:
        return 0, 0, 0.0
    k = min(max(bisect_left(axis, x) - 1, 0), n - 2)
    x0, x1 = axis[k], axis[k + 1]
    return k, k + 1, (x - x0) / (x1 - x0)


@dataclass(frozen=True)
class NldmTable:
    """``values[i, j]`` at input slew ``slew_ns[i]`` (ns) and output load ``load_ff[j]`` (fF);
    the values' unit is the quantity's (ns for delays and transitions, pJ for energies)."""

    slew_ns: np.ndarray
    load_ff: np.ndarray
    values: np.ndarray
    _s: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _l: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _v: tuple[tuple[float, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        s = tuple(float(x) for x in np.asarray(self.slew_ns, dtype=float).ravel())
        ld = tuple(float(x) for x in np.asarray(self.load_ff, dtype=float).ravel())
        v = np.asarray(self.values, dtype=float)
        if v.shape != (len(s), len(ld)):
            raise ValueError(f"NLDM table values have shape {v.shape}; expected "
                             f"({len(s)}, {len(ld)}) for {len(s)} slews x {len(ld)} loads")
        if np.any(np.diff(s) <= 0) or np.any(np.diff(ld) <= 0):
            raise ValueError("NLDM table axes must be strictly increasing")
        object.__setattr__(self, "_s", s)
        object.__setattr__(self, "_l", ld)
        object.__setattr__(self, "_v", tuple(tuple(float(x) for x in row) for row in v))

    def lookup(self, slew_ns: float, load_ff: float) -> float:
        """The tabulated quantity at (slew ns, load fF)."""
        i0, i1, ti = _segment(self._s, slew_ns)
        j0, j1, tj = _segment(self._l, load_ff)
        r0, r1 = self._v[i0], self._v[i1]
        return ((r0[j0] * (1.0 - tj) + r0[j1] * tj) * (1.0 - ti)
                + (r1[j0] * (1.0 - tj) + r1[j1] * tj) * ti)
