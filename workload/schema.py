"""The workload contract: every column of a training trace, once, with its unit and meaning.

A trace (``TraceResult.df`` of :func:`workload.trace_training`) has one row per executed layer
call of ONE training iteration of batch ``B``; counts are per iteration. Units: "elements" are
tensor elements, "bytes" are bytes, MACs are multiply-accumulates, "ops" are scalar arithmetic
operations. :data:`SCHEMA` lists the columns in the order the trace has them; each
:class:`Column` carries its dtype, unit and meaning and, for a memory column, the data type it
moves (``weight``, ``activation``, ``gradient``, ``optstate``) and its access (``read``,
``write``, or ``footprint``: storage held, not an access). Producers and consumers take the
columns from here: :func:`workload.trace_training` builds its frame from :data:`SCHEMA`,
:mod:`hwmodel.memory` reads :data:`ACCESS_COLUMNS` and :data:`REQUIRED_COLUMNS`,
:mod:`hwmodel.cost` the arithmetic (``op``) columns; :func:`validate` checks a frame against it.

What the less obvious columns count:

- ``layer``: qualified module name (``blocks.3.conv1``), ``#k`` appended for the k-th repeated
  call of the same module; a functional op written directly in a container's ``forward``
  (``out + shortcut(x)``) is a row ``<container>/<op><n>``; the loss is ``loss``.
- ``branch``: ``shared`` for the frozen/shared trunk (rows with no trainable parameter and no
  gradient through them), else the branch name (``private`` by default, or the string
  ``branch_of`` of :func:`~workload.trace_training`); a callable ``branch_of(layer)`` labels
  every row itself.
- ``bwd_input_macs`` is 0 when the input needs no gradient (first layer, frozen prefix);
  ``bwd_weight_macs`` is 0 for frozen layers. Update counts are the steady state (the warm-up
  step creates momentum/Adam state first). Element-wise work follows the model of
  :mod:`workload.opmodels`.
- ``act_saved_write_elems``: extra writes for backward: saved tensors whose storage is not that
  of some row's output nor held anyway (the input batch: images and labels; module buffers),
  e.g. max-pool indices, BatchNorm's saved mean/invstd, the loss's log-softmax output, a
  concatenation written in a container's forward (no row of its own); a layer's saved input or
  a ReLU's saved output adds nothing here, its write is already in ``ofmap_write_elems``.
  ``act_saved_read_elems`` is measured at unpack; ``actgrad_read_elems`` counts dY once.
- ``act_saved_elems`` (a footprint, not an access): every distinct tensor autograd keeps for
  backward (saved-tensor hooks), counted once, at the first layer that saves it, whoever wrote
  it (a view of memory already saved, such as a flattened output, adds nothing); includes
  pooling indices. This is the storage held from the forward until the backward frees it.
  Parameters are never counted; module buffers (BatchNorm running statistics) count in the
  footprint but never as extra writes. Classification happens after the forward, so a tensor
  saved before the row that outputs it is recorded (a ReLU saving its own output) is still
  recognised as that row's output.
- Every memory column ``*_elems`` has a ``*_bytes`` twin: ``act_saved_*_bytes`` use the saved
  tensors' real dtypes (int64 indices), the others ``elems x bytes_per_elem``.
- Geometry (:data:`GEOMETRY_COLUMNS`: ``kernel_h`` ... ``groups``): what a back-end needs,
  with ``input_shape``/``output_shape``, to lower a row to its forward, input-gradient and
  weight-gradient loop nests (:func:`workload.geometry.geometry` parses a row). Filled from the
  module for rows of kind ``conv2d`` (``nn.Conv2d``), ``conv1d`` (``nn.Conv1d``, as a 2-D
  convolution of height 1: ``kernel_h`` 1, ``stride_h`` 1, ``pad_h`` 0, ``dilation_h`` 1) and
  ``linear`` (``nn.Linear``, a 1x1 convolution: kernel 1x1, stride 1, pad 0, dilation 1,
  groups 1); 0 in every other row, including 3-D and transposed convolutions, subclasses of
  these modules (their own class name as ``kind``: their forward may compute something else)
  and functional ops (``F.conv2d`` written in a container's forward, ``kind`` ``convolution``).
  Padding is the top (``pad_h``) and left (``pad_w``) padding in input elements; ``'valid'``
  is 0 and ``'same'`` is ``dilation x (kernel - 1) // 2`` (PyTorch puts an odd remainder at the
  bottom/right); a ``padding_mode`` other than ``'zeros'`` pads the same amount (with
  reflected, replicated or circular values), and ``input_shape`` is the unpadded input. The
  bottom/right padding the output reads follows from the shapes
  (:attr:`workload.geometry.ConvGeometry.pad_bottom`). ``fwd_macs`` of such a row is
  ``B x Ho x Wo x Cout x (Cin / groups) x kernel_h x kernel_w``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workload.errors import WorkloadError

#: Data types a memory column moves (each served by one buffer of a memory hierarchy).
DATA_TYPES = ("weight", "activation", "gradient", "optstate")
#: Accesses of a memory column: a read or write of one iteration, or a footprint (held storage).
ACCESSES = ("read", "write", "footprint")
#: Arithmetic an ``op`` column counts: multiply-accumulates, the optimizer step's multiplies,
#: adds, divides, square roots and other ops, and element-wise work (one op per element).
OPS = ("mac", "mult", "add", "div", "sqrt", "other", "elementwise")
DTYPES = ("int64", "bool", "str")
#: The one-line fix every :func:`validate` error ends with.
FIX = "make the trace with workload.trace_training or `python -m workload trace`"


@dataclass(frozen=True)
class Column:
    """One trace column: ``name``, ``dtype`` (``int64``, ``bool`` or ``str``), ``unit``
    (``elements``, ``bytes``, ``MACs``, ``ops``, ``index``, ``bool``, ``elements per dim``,
    ``count``, or ``text`` for names and labels), ``meaning``; for memory columns ``data_type``
    (:data:`DATA_TYPES`) and ``access`` (:data:`ACCESSES`); for arithmetic counts ``op``
    (:data:`OPS`); ``sum_of``: the columns it is the sum of; ``required``: a cost model relies
    on it (a hand-made trace must have it); ``positive``: values must be > 0, not just >= 0."""

    name: str
    dtype: str
    unit: str
    meaning: str
    data_type: str | None = None
    access: str | None = None
    op: str | None = None
    sum_of: tuple[str, ...] = ()
    required: bool = False
    positive: bool = False

    @property
    def doc(self) -> str:
        """Meaning and unit in one line (``parameters read by the layer call (elements)``)."""
        return self.meaning if self.unit == "text" else f"{self.meaning} ({self.unit})"

    @property
    def numeric(self) -> bool:
        """Holds counts (``int64``): checked for negative and non-finite values."""
        return self.dtype == "int64"


def _count(name: str, unit: str, meaning: str, op: str | None = None, *,
           sum_of: tuple[str, ...] = (), required: bool = True) -> Column:
    return Column(name, "int64", unit, meaning, op=op, sum_of=sum_of, required=required)


def _memory(name: str, data_type: str, access: str, meaning: str) -> Column:
    return Column(name, "int64", "elements", meaning, data_type=data_type, access=access,
                  required=True)


def bytes_column(elems_column: str) -> str:
    """The ``*_bytes`` twin of a memory column ``*_elems``."""
    return elems_column.replace("_elems", "_bytes")


_IDENTITY = (
    Column("order", "int64", "index", "execution order of the layer call in the forward pass"),
    Column("layer", "str", "text",
           "qualified module name; '#k' = k-th call; '<module>/<op><n>' = functional op",
           required=True),
    Column("kind", "str", "text",
           "module class (conv2d, linear, batchnorm2d, relu, ...) or ATen op name",
           required=True),
    Column("branch", "str", "text",
           "'shared' (frozen trunk) or the branch name ('private' by default)", required=True),
    Column("trainable", "bool", "bool", "layer has parameters that receive gradients",
           required=True),
    Column("bytes_per_elem", "int64", "bytes", "element size of the traced dtype",
           required=True, positive=True),
)
_COUNTS = (
    _count("params", "elements", "parameters read by the layer call"),
    _count("fwd_macs", "MACs", "forward conv/matmul multiply-accumulates", "mac"),
    _count("bwd_input_macs", "MACs",
           "input-gradient MACs (0 when the input needs no gradient)", "mac"),
    _count("bwd_weight_macs", "MACs", "weight-gradient MACs (0 for frozen layers)", "mac"),
    _count("train_macs", "MACs", "fwd_macs + bwd_input_macs + bwd_weight_macs", "mac",
           sum_of=("fwd_macs", "bwd_input_macs", "bwd_weight_macs"), required=False),
    _count("update_mults", "ops", "optimizer-step multiplies for the layer's parameters",
           "mult"),
    _count("update_adds", "ops", "optimizer-step adds/subtracts (incl. step counters)", "add"),
    _count("update_divs", "ops", "optimizer-step divides", "div", required=False),
    _count("update_sqrts", "ops", "optimizer-step square roots", "sqrt", required=False),
    _count("update_other_ops", "ops", "optimizer-step ops outside the model, 1 per element",
           "other", required=False),
    _count("fwd_elementwise_ops", "ops",
           "forward element-wise work: BN, ReLU, pooling, adds, bias", "elementwise",
           required=False),
    _count("bwd_elementwise_ops", "ops", "backward element-wise work", "elementwise",
           required=False),
    _count("elementwise_ops", "ops", "fwd_elementwise_ops + bwd_elementwise_ops",
           "elementwise", sum_of=("fwd_elementwise_ops", "bwd_elementwise_ops")),
)
_MEMORY = (
    _memory("weight_read_fwd_elems", "weight", "read", "parameters read by the forward"),
    _memory("weight_read_bwd_elems", "weight", "read",
            "weights read to compute the input gradient"),
    _memory("weight_read_update_elems", "weight", "read", "weights read by the optimizer step"),
    _memory("weight_write_elems", "weight", "write", "weights written by the optimizer step"),
    _memory("wgrad_write_elems", "gradient", "write", "weight gradients written by backward"),
    _memory("wgrad_read_elems", "gradient", "read",
            "weight gradients read by the optimizer step"),
    _memory("optstate_read_elems", "optstate", "read",
            "optimizer state read: momentum, Adam moments, step"),
    _memory("optstate_write_elems", "optstate", "write", "optimizer state written"),
    _memory("ifmap_read_elems", "activation", "read", "input activations read by the forward"),
    _memory("ofmap_write_elems", "activation", "write",
            "output activations written by the forward"),
    _memory("act_saved_elems", "activation", "footprint",
            "footprint: tensors autograd keeps for backward, each once"),
    _memory("act_saved_write_elems", "activation", "write",
            "saved tensors not already written as an ofmap or held as the input batch: extra "
            "writes for backward"),
    _memory("act_saved_read_elems", "activation", "read",
            "saved tensors read back by this layer's backward"),
    _memory("actgrad_read_elems", "gradient", "read", "output gradient dY read by backward"),
    _memory("actgrad_write_elems", "gradient", "write", "input gradient dX written by backward"),
)
_BYTES = tuple(
    Column(bytes_column(c.name), "int64", "bytes", f"same as {c.name} in bytes",
           data_type=c.data_type, access=c.access)
    for c in _MEMORY
)
_SHAPES = (
    Column("input_shape", "str", "elements per dim",
           "input tensor shapes, ';'-separated, 'x'-joined"),
    Column("output_shape", "str", "elements per dim", "output tensor shapes"),
    Column("modeled", "bool", "bool", "all element-wise ops of the row have an explicit model"),
)


def _geometry(name: str, unit: str, meaning: str) -> Column:
    return Column(name, "int64", unit, meaning)


_GEOMETRY = (
    _geometry("kernel_h", "elements",
              "conv kernel height; 1 for conv1d/linear; every geometry column is 0 in rows "
              "of other kinds"),
    _geometry("kernel_w", "elements", "conv kernel width; 1 for linear"),
    _geometry("stride_h", "elements", "vertical stride; 1 for conv1d/linear"),
    _geometry("stride_w", "elements", "horizontal stride; 1 for linear"),
    _geometry("pad_h", "elements",
              "top padding, 'same' resolved, any padding_mode; 0 for conv1d/linear"),
    _geometry("pad_w", "elements", "left padding, 'same' resolved; 0 for linear"),
    _geometry("dilation_h", "elements", "vertical dilation; 1 for conv1d/linear"),
    _geometry("dilation_w", "elements", "horizontal dilation; 1 for linear"),
    _geometry("groups", "count", "convolution groups; 1 for linear"),
)

#: Every column of a trace, in the trace's order.
SCHEMA: tuple[Column, ...] = _IDENTITY + _COUNTS + _MEMORY + _BYTES + _SHAPES + _GEOMETRY
BY_NAME: dict[str, Column] = {c.name: c for c in SCHEMA}
COLUMNS: tuple[str, ...] = tuple(c.name for c in SCHEMA)
#: Every column with its meaning and unit (``--help`` epilogs, docs).
COLUMN_DOCS: dict[str, str] = {c.name: c.doc for c in SCHEMA}
#: Work and size counts of a layer call: parameters, MACs, optimizer-step and element-wise ops.
COUNT_COLUMNS: tuple[str, ...] = tuple(c.name for c in _COUNTS)
#: Memory columns (elements); each has a ``*_bytes`` twin. All are accesses of one iteration
#: except ``act_saved_elems``, the footprint of what autograd keeps for backward.
MEMORY_COLUMNS: tuple[str, ...] = tuple(c.name for c in _MEMORY)
#: Memory column (elements) -> (data type, access) of every datapath read and write of one
#: iteration (footprints excluded).
ACCESS_COLUMNS: dict[str, tuple[str, str]] = {
    c.name: (c.data_type, c.access) for c in _MEMORY if c.access in ("read", "write")
}
#: Memory columns that are storage held, not accesses.
FOOTPRINT_COLUMNS: tuple[str, ...] = tuple(c.name for c in _MEMORY if c.access == "footprint")
#: Loop-nest geometry of a conv2d, conv1d or linear row (0 in every other row); not required.
GEOMETRY_COLUMNS: tuple[str, ...] = tuple(c.name for c in _GEOMETRY)
#: Kinds whose rows carry a geometry (``nn.Conv2d``, ``nn.Conv1d``, ``nn.Linear``).
GEOMETRY_KINDS: tuple[str, ...] = ("conv2d", "conv1d", "linear")
#: The columns a cost model relies on: what a hand-made trace must have.
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in SCHEMA if c.required)


def column(name: str) -> Column:
    """The :class:`Column` called ``name``; :class:`WorkloadError` for an unknown name."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise WorkloadError(f"unknown trace column {name!r}; see `python -m workload trace "
                            "--help` for the columns") from None


def columns_help() -> str:
    """Every column and its unit, one per line (for ``--help`` epilogs)."""
    return "\n".join(f"  {c:<28}{d}" for c, d in COLUMN_DOCS.items())


def validate(df: pd.DataFrame, columns: Iterable[str] | None = None) -> None:
    """Check ``df`` against the contract: it has every column of ``columns`` (default: every
    column of :data:`SCHEMA`, as :func:`workload.trace_training` writes them), and their counts
    are finite and >= 0 (``bytes_per_elem`` > 0). Raises a one-line :class:`WorkloadError`
    naming the first missing, then the first negative or non-finite column, and the fix."""
    need = [column(c) for c in (COLUMNS if columns is None else columns)]
    missing = [c for c in need if c.name not in df.columns]
    if missing:
        first = missing[0]
        more = (f" and {len(missing) - 1} more ({', '.join(c.name for c in missing[1:])})"
                if len(missing) > 1 else "")
        what = first.meaning if first.unit == "text" else f"{first.meaning}, in {first.unit}"
        raise WorkloadError(f"trace: missing column {first.name!r} ({what}){more}; fix: {FIX}")
    counts = [c for c in need if c.numeric]
    for c in counts:
        try:
            vals = df[c.name].to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise WorkloadError(f"trace: column {c.name!r} ({c.unit}) holds non-numbers; "
                                f"fix: {FIX}") from None
        bad = ~np.isfinite(vals) | (vals < 0)
        if bad.any():
            i = int(np.argmax(bad))
            what = "a negative" if np.isfinite(vals[i]) else "a non-finite"
            raise WorkloadError(f"trace: column {c.name!r} ({c.unit}) has {what} count "
                                f"{vals[i]:g} in row {df.index[i]!r}; counts are finite and "
                                f">= 0; fix: {FIX}")
    for c in counts:
        vals = df[c.name].to_numpy(dtype=float)
        if c.positive and (vals <= 0).any():
            i = int(np.argmax(vals <= 0))
            raise WorkloadError(f"trace: {c.name} must be positive ({c.unit}), got "
                                f"{vals[i]:g} in row {df.index[i]!r}; fix: {FIX}")
