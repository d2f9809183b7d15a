"""Project exception for the 45 nm cell library (characterization, loading, CLI)."""

from __future__ import annotations

from hwmodel.errors import HwmodelError


class CellLibraryError(HwmodelError):
    """A one-line error naming the cell, arc (if any), cause and fix.

    The CLI (``python -m hwmodel.cells``) turns it into ``prog: error: <message>`` and exit 2.
    """

    def __init__(self, message: str, *, cell: str | None = None, arc: str | None = None) -> None:
        where = ""
        if cell:
            where = f"cell {cell}"
            if arc:
                where += f", arc {arc}"
            where += ": "
        super().__init__(where + message)
        self.cell = cell
        self.arc = arc
