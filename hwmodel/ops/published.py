"""Published 45 nm per-operation energies, and a check of the op-cost table against them.

Source of every figure: M. Horowitz, "1.1 Computing's energy problem (and what we can do about
it)", IEEE ISSCC 2014 Digest of Technical Papers, pp. 10-14, doi:10.1109/ISSCC.2014.6757323 --
the table of rough energy costs per operation in 45 nm at 0.9 V.  Published per-op figures are
for the arithmetic alone (no operand registers), so :func:`compare` matches them against the
table's combinational datapath energy ``energy_logic_pj``, not ``energy_pj``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hwmodel.errors import HwmodelError

HOROWITZ_2014 = ("Horowitz, 'Computing's energy problem (and what we can do about it)', "
                 "ISSCC 2014 pp. 10-14, energy table (45 nm, 0.9 V)")


@dataclass(frozen=True)
class PublishedOp:
    """One published energy figure: ``energy_pj`` (pJ) per ``op`` in ``format``."""

    op: str
    format: str
    energy_pj: float
    vdd_v: float
    node_nm: int
    source: str


def _h(op: str, fmt: str, pj: float) -> PublishedOp:
    return PublishedOp(op, fmt, pj, vdd_v=0.9, node_nm=45, source=HOROWITZ_2014)


# Horowitz ISSCC 2014, energy table, 45 nm 0.9 V: integer add 8 bit 0.03 pJ, 32 bit 0.1 pJ;
# integer mult 8 bit 0.2 pJ, 32 bit 3.1 pJ; FP add 16 bit 0.4 pJ, 32 bit 0.9 pJ; FP mult 16 bit
# 1.1 pJ, 32 bit 3.7 pJ.  (Checked against works that tabulate the same figures with this source,
# e.g. PubMed Central article PMC8934428, Table 3, for the four 32-bit ones.)
HOROWITZ_45NM: tuple[PublishedOp, ...] = (
    _h("add", "int8", 0.03),
    _h("add", "int32", 0.1),
    _h("mul", "int8", 0.2),
    _h("mul", "int32", 3.1),
    _h("add", "fp16", 0.4),
    _h("mul", "fp16", 1.1),
    _h("add", "fp32", 0.9),
    _h("mul", "fp32", 3.7),
)

NEEDED = ("unit", "op", "format", "stream", "path", "energy_logic_pj", "vdd_v")
COLUMNS = ["op", "format", "published_pj", "published_vdd_v", "unit", "stream", "path",
           "ours_logic_pj", "ratio", "within_2x", "source"]


class PublishedCompareError(HwmodelError):
    """The op-cost table cannot be compared with the published figures (one-line message)."""


class VddNotCharacterizedError(PublishedCompareError):
    """The op-cost table has no row at the requested supply voltage."""


def compare(op_table: pd.DataFrame, vdd_v: float,
            published: tuple[PublishedOp, ...] = HOROWITZ_45NM) -> pd.DataFrame:
    """One row per published figure x unit of the same op and format at ``vdd_v`` (V).

    ``op_table`` is an op-cost table (:mod:`hwmodel.ops.table`) with a ``vdd_v`` column giving
    each row's supply.  Columns returned: ``published_pj`` and ``ours_logic_pj`` (pJ per op),
    ``ratio`` = ours / published, ``within_2x`` (0.5 <= ratio <= 2), the unit, stream and path,
    and the figure's ``source``.  The figures are at 0.9 V: compare at ``vdd_v=0.9`` for like
    with like.  Raises :class:`VddNotCharacterizedError` if no row is at ``vdd_v``.
    """
    missing = [c for c in NEEDED if c not in op_table.columns]
    if missing:
        raise PublishedCompareError(f"op table: missing column(s) {missing}; need {list(NEEDED)}")
    at_v = op_table[np.isclose(op_table["vdd_v"].astype(float), float(vdd_v), rtol=0, atol=1e-6)]
    if at_v.empty:
        have = sorted({round(float(v), 6) for v in op_table["vdd_v"]})
        raise VddNotCharacterizedError(
            f"op table: no row at vdd {vdd_v:g} V (rows at {have} V); characterize a library at "
            f"that supply: `python -m hwmodel.cells build --vdd {vdd_v:g}`, then rebuild the table")
    out = []
    for fig in published:
        rows = at_v[(at_v["op"] == fig.op) & (at_v["format"] == fig.format)]
        for _, r in rows.sort_values(["unit", "stream", "path"]).iterrows():
            ours = float(r["energy_logic_pj"])
            ratio = ours / fig.energy_pj
            out.append({"op": fig.op, "format": fig.format, "published_pj": fig.energy_pj,
                        "published_vdd_v": fig.vdd_v, "unit": r["unit"], "stream": r["stream"],
                        "path": r["path"], "ours_logic_pj": ours, "ratio": ratio,
                        "within_2x": bool(0.5 <= ratio <= 2.0), "source": fig.source})
    return pd.DataFrame(out, columns=COLUMNS)
