"""Loop-nest geometry of a trace row: what an accelerator back-end needs to lower a conv2d,
conv1d or linear row to its forward, input-gradient and weight-gradient loop nests.

:func:`geometry` reads a row's :data:`~workload.schema.GEOMETRY_COLUMNS` and its
``input_shape``/``output_shape`` into a :class:`ConvGeometry`, every layer as one 2-D
convolution: a conv1d row has height 1, a linear row is a 1x1 convolution on a 1x1 map whose
batch is the product of the input's leading dims (tokens included). The forward is then

    Y[b, co, yo, xo] += X[b, g*Cin/G + ci, yo*sh - ph + ky*dh, xo*sw - pw + kx*dw]
                        * W[co, ci, ky, kx]    (g = co // (Cout/G), ci < Cin/G)

over ``batch x ho x wo x cout x cin/groups x kh x kw`` MACs (:attr:`ConvGeometry.macs`, equal to
the row's ``fwd_macs``, and to its ``bwd_input_macs``/``bwd_weight_macs`` when those are
computed). Reads outside the input are padding. Needs neither torch nor the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import astuple, dataclass
from math import prod

import pandas as pd

from workload.errors import WorkloadError
from workload.schema import FIX, GEOMETRY_COLUMNS, GEOMETRY_KINDS


@dataclass(frozen=True)
class ConvGeometry:
    """One conv2d/conv1d/linear row as a 2-D convolution. Sizes in elements: ``batch`` (images,
    or images x tokens for linear), input ``cin`` x ``h`` x ``w``, output ``cout`` x ``ho`` x
    ``wo``, kernel ``kh`` x ``kw``, stride ``sh``/``sw``, top/left padding ``ph``/``pw``,
    dilation ``dh``/``dw``; ``groups`` divides ``cin`` and ``cout``."""

    batch: int
    cin: int
    h: int
    w: int
    cout: int
    ho: int
    wo: int
    kh: int
    kw: int
    sh: int
    sw: int
    ph: int
    pw: int
    dh: int
    dw: int
    groups: int

    @property
    def macs(self) -> int:
        """MACs of the forward loop nest: ``batch*ho*wo*cout*(cin/groups)*kh*kw`` (MACs)."""
        return self.batch * self.ho * self.wo * self.cout * self.cin_per_group * self.kh * self.kw

    @property
    def cin_per_group(self) -> int:
        """Input channels each output channel reads (``cin / groups``)."""
        return self.cin // self.groups

    @property
    def cout_per_group(self) -> int:
        """Output channels of one group (``cout / groups``)."""
        return self.cout // self.groups

    @property
    def pad_bottom(self) -> int:
        """Rows below the input the last output row reads (elements): ``ph`` for symmetric
        padding, one more for ``'same'`` with an odd total, less (even negative: input rows
        never read) when the stride does not reach the bottom padding."""
        return (self.ho - 1) * self.sh + self.dh * (self.kh - 1) + 1 - self.h - self.ph

    @property
    def pad_right(self) -> int:
        """Columns right of the input the last output column reads (elements); see
        :attr:`pad_bottom`."""
        return (self.wo - 1) * self.sw + self.dw * (self.kw - 1) + 1 - self.w - self.pw

    def as_tuple(self) -> tuple[int, ...]:
        """``(batch, cin, h, w, cout, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, groups)``."""
        return astuple(self)


def has_geometry(df: pd.DataFrame) -> pd.Series:
    """Boolean mask of the rows of ``df`` that :func:`geometry` parses: kind conv2d, conv1d or
    linear with a recorded kernel (all False when ``df`` lacks the geometry columns)."""
    if any(c not in df.columns for c in (*GEOMETRY_COLUMNS, "kind")):
        return pd.Series(False, index=df.index)
    return df["kind"].isin(GEOMETRY_KINDS) & (pd.to_numeric(df["kernel_h"]) > 0)


def _row_name(row: Mapping[str, object] | pd.Series) -> str:
    layer = row.get("layer")
    if layer is not None:
        return str(layer)
    return str(getattr(row, "name", "?"))


def _shape(row: Mapping[str, object] | pd.Series, col: str, name: str) -> list[int]:
    """The first tensor shape of ``row[col]`` (``2x3x8x8;2x4`` -> [2, 3, 8, 8])."""
    text = str(row.get(col, "")).split(";")[0].strip()
    try:
        dims = [int(d) for d in text.split("x")] if text else []
    except ValueError:
        dims = []
    if not dims or min(dims) < 0:
        raise WorkloadError(f"trace row {name!r}: {col} {text!r} is not a shape like 2x3x8x8; "
                            f"fix: {FIX}")
    return dims


def geometry(row: Mapping[str, object] | pd.Series) -> ConvGeometry:
    """The :class:`ConvGeometry` of one trace row (a ``df.iloc[i]``, ``df.loc[...]`` or a dict
    of its columns), from its geometry columns and ``input_shape``/``output_shape``. A linear
    row's ``batch`` is the product of the input's leading dims; an unbatched conv input
    (``CxHxW``) is batch 1. Raises a one-line :class:`WorkloadError` naming the row and the fix
    when the row lacks a column, is no conv2d/conv1d/linear row, or its shapes disagree."""
    name = _row_name(row)
    missing = [c for c in (*GEOMETRY_COLUMNS, "kind", "input_shape", "output_shape")
               if c not in row]
    if missing:
        raise WorkloadError(f"trace row {name!r} has no column {missing[0]!r} (traces made "
                            f"before the geometry columns lack them); fix: {FIX}")
    kind = str(row["kind"])
    k = {c: int(row[c]) for c in GEOMETRY_COLUMNS}
    if kind not in GEOMETRY_KINDS or k["kernel_h"] <= 0:
        raise WorkloadError(f"trace row {name!r} (kind {kind}) has no loop-nest geometry: only "
                            f"{', '.join(GEOMETRY_KINDS)} rows do; fix: select the rows of "
                            "workload.geometry.has_geometry(df)")
    x, y = _shape(row, "input_shape", name), _shape(row, "output_shape", name)
    if kind == "linear":
        if len(y) != len(x) or x[:-1] != y[:-1]:
            raise WorkloadError(f"trace row {name!r}: linear input {x} and output {y} differ "
                                f"in their leading dims; fix: {FIX}")
        dims = (prod(x[:-1]), x[-1], 1, 1, y[-1], 1, 1)
    else:
        spatial = 2 if kind == "conv2d" else 1
        if len(x) not in (spatial + 1, spatial + 2) or len(y) != len(x):
            raise WorkloadError(f"trace row {name!r}: {kind} shapes {x} -> {y} are not "
                                f"[B,]C{',H' if spatial == 2 else ''},W; fix: {FIX}")
        if len(x) == spatial + 1:  # unbatched input
            x, y = [1, *x], [1, *y]
        if spatial == 1:
            x, y = [*x[:2], 1, x[2]], [*y[:2], 1, y[2]]
        dims = (x[0], x[1], x[2], x[3], y[1], y[2], y[3])
    bad = next((c for c in GEOMETRY_COLUMNS if not c.startswith("pad_") and k[c] <= 0), None)
    if bad is not None:
        raise WorkloadError(f"trace row {name!r} (kind {kind}) has {bad} {k[bad]}; kernel, "
                            f"stride, dilation and groups are >= 1; fix: {FIX}")
    g = ConvGeometry(*dims, k["kernel_h"], k["kernel_w"], k["stride_h"], k["stride_w"],
                     k["pad_h"], k["pad_w"], k["dilation_h"], k["dilation_w"], k["groups"])
    if g.cin % g.groups or g.cout % g.groups:
        raise WorkloadError(f"trace row {name!r}: groups {g.groups} does not divide input "
                            f"channels {g.cin} and output channels {g.cout}; fix: {FIX}")
    return g
