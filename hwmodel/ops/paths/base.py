"""The interface of an energy path, and the registry that selects one by name.

An :class:`EnergyPath` turns a prepared :class:`PathJob` (the unit, its operand stream, the
cell-library corner, the Liberty, the unit mapped by Yosys and its static timing, which every
row carries) into the path's columns of an op-table row: the energies, cycle timing, area, cells,
toggles, ``nonfinite_pct`` and ``mode``. :func:`register` adds a path class to :data:`PATHS`
under its ``name``; :func:`hwmodel.ops.compute.compute_row` looks the row's path up there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeVar

import numpy as np

from hwmodel.cells.liberty import Liberty
from hwmodel.cells.spice import SimSettings
from hwmodel.ops.oplib import OpUnit
from hwmodel.ops.sta import TimingResult
from hwmodel.ops.streams import nonfinite_pct
from hwmodel.ops.synth import SynthResult
from hwmodel.rtlsim import UnitError, UnitSpec


@dataclass(frozen=True)
class PathJob:
    """Everything a path characterizes a row from (prepared once per row by compute_row)."""

    op_unit: OpUnit
    spec: UnitSpec
    stream: dict[str, np.ndarray]
    corner: SimSettings
    liberty: Liberty
    synth: SynthResult
    timing: TimingResult

    @property
    def params(self) -> dict[str, int]:
        return self.op_unit.params

    @property
    def period_ns(self) -> float:
        """The unit's clock period: its own critical path (leakage per op is charged over it)."""
        return self.timing.critical_path_ns

    def nonfinite_pct(self, y: np.ndarray) -> float:
        """Share (%) of inf/NaN results in ``y`` for the unit's number format."""
        return nonfinite_pct(y, self.op_unit.number_format)


class EnergyPath:
    """One way of costing a unit's energy per operation.

    ``name``: the ``path`` column and the name :data:`PATHS` knows it by; ``needs``: what it
    runs on (tools and inputs, for ``--help`` and error messages); ``work_weight``: relative
    effort, so the table starts the longest rows first.
    """

    name: ClassVar[str]
    needs: ClassVar[tuple[str, ...]]
    work_weight: ClassVar[int] = 1

    def characterize(self, job: PathJob) -> dict:
        """The path's columns of the row (energies, timing, area, nonfinite_pct, mode)."""
        raise NotImplementedError


#: Energy paths by name ("default", "yosys"), filled by :func:`register`.
PATHS: dict[str, EnergyPath] = {}

P = TypeVar("P", bound=type[EnergyPath])


def register(cls: P) -> P:
    """Class decorator: add an instance of an :class:`EnergyPath` to :data:`PATHS`."""
    PATHS[cls.name] = cls()
    return cls


def get_path(name: str) -> EnergyPath:
    """The registered path ``name``; UnitError naming the known ones otherwise."""
    try:
        return PATHS[name]
    except KeyError:
        raise UnitError(f"no energy path {name!r}; paths: {', '.join(PATHS)}") from None
