"""Layer-wise training traces: MACs, element-wise work and memory accesses of one training
iteration, recorded from real PyTorch execution.

:func:`trace_training` runs real training iterations of any ``nn.Module`` (one warm-up step so
optimizer state exists, one traced step, then ``iterations`` timed steps) and returns a
:class:`TraceResult` whose ``df`` has one row per executed layer call of the traced iteration.

How it records: forward hooks on every module keep a call stack; a ``TorchDispatchMode`` sees
every ATen op that actually runs (branches, residual adds, widened layers, functional ops) and
charges it to the innermost *leaf* module call (or, for functional ops written directly in a
container's ``forward`` such as ``out + shortcut(x)``, to a row of its own named
``<container>/<op><n>``). Backward work follows autograd exactly: a gradient is computed iff
the operand requires grad at forward time (:mod:`learning.trace_ops`). Saved-tensor hooks
measure what autograd keeps for backward and reads back. A second dispatch mode during
``optimizer.step()`` counts the update arithmetic actually dispatched per parameter; the
optimizer is built by :func:`learning.training.build_optimizer`, the function training uses
(pass ``OptimizerSpec.from_config(cfg)`` to trace an experiment's momentum and weight decay). The
backward's dispatched conv/matmul MACs are counted too and cross-checked against the rows
(``TraceResult.checks``).

Columns of ``TraceResult.df`` (one row per layer call; counts are per training iteration of
batch ``B``; "elems" are tensor elements, "bytes" are bytes; MACs are multiply-accumulates;
ops are scalar arithmetic operations):

- ``order`` (int): execution order of the row in the forward pass.
- ``layer`` (str): qualified module name (``blocks.3.conv1``), ``#k`` appended for the k-th
  repeated call of the same module; functional ops: ``<module>/<op><n>``; loss: ``loss``.
- ``kind`` (str): ``conv2d``, ``linear``, ``batchnorm2d``, ``relu``, ``maxpool2d``,
  ``avgpool2d``, ``add``, ``mean``, ``crossentropyloss``, ... (module class name lower-cased,
  or the ATen op name for functional rows).
- ``branch`` (str): ``shared`` for the frozen/shared trunk (rows with no trainable parameter
  and no gradient through them), else the branch name (``private`` by default, or the string
  ``branch_of``); a callable ``branch_of(layer)`` labels every row itself.
- ``trainable`` (bool): the row has parameters and at least one receives a gradient.
- ``params`` (elems): parameters the layer call reads. ``bytes_per_elem`` (bytes): element size
  of the traced dtype.
- ``fwd_macs``, ``bwd_input_macs``, ``bwd_weight_macs`` (MACs): conv/matmul forward, input
  gradient (0 when the input needs no gradient: first layer, frozen prefix), weight gradient
  (0 for frozen layers). ``train_macs`` = their sum.
- ``update_mults``, ``update_adds``, ``update_divs``, ``update_sqrts``, ``update_other_ops``
  (ops): optimizer-step arithmetic dispatched for this layer's parameters (steady state).
- ``fwd_elementwise_ops``, ``bwd_elementwise_ops``, ``elementwise_ops`` (ops): BatchNorm, ReLU,
  pooling, residual adds, bias adds, loss (model in :mod:`learning.trace_ops`).
- Memory accesses (elems; each also as ``*_bytes``):
  ``weight_read_fwd_elems`` (parameters read by the forward), ``weight_read_bwd_elems``
  (weights read to compute the input gradient), ``weight_read_update_elems`` (weights read by
  the update), ``weight_write_elems`` (weights written by the update), ``wgrad_write_elems``
  (weight gradients written by backward), ``wgrad_read_elems`` (weight gradients read by the
  update), ``optstate_read_elems`` / ``optstate_write_elems`` (momentum / Adam moments and step
  counters read/written by the update), ``ifmap_read_elems`` (input activations read by the
  forward), ``ofmap_write_elems`` (outputs written by the forward),
  ``act_saved_write_elems`` (extra writes for backward: saved tensors whose storage is not
  that of some row's output nor held anyway (the input batch: images and labels; module
  buffers), e.g. max-pool indices, BatchNorm's saved mean/invstd, the loss's log-softmax
  output, a concatenation written in a container's forward (no row of its own); a layer's
  saved input or a ReLU's saved output adds nothing here, its write is already in
  ``ofmap_write_elems``),
  ``act_saved_read_elems`` (saved activations read back by this layer's backward, measured at
  unpack), ``actgrad_read_elems`` (output gradient dY read by backward, once),
  ``actgrad_write_elems`` (input gradient dX written by backward).
  ``act_saved_*_bytes`` use the saved tensors' real dtypes (int64 indices), the others
  ``bytes_per_elem``.
- ``act_saved_elems`` / ``act_saved_bytes`` (elems / bytes; a footprint, not an access):
  every distinct tensor autograd keeps for backward (saved-tensor hooks), counted once, at the
  first layer that saves it, whoever wrote it (a view of memory already saved, such as a
  flattened output, adds nothing); includes pooling indices. This is the storage
  held from the forward until the backward frees it. Parameters are never counted; module
  buffers (BatchNorm running statistics) count in the footprint but never as extra writes.
  Classification happens after the forward, so a tensor saved before the row that outputs it
  is recorded (a ReLU saving its own output) is still recognised as that row's output.
- ``modeled`` (bool): every op of the row has an element-wise model (``False``: generic
  1 op/element fallback was used).

``TraceResult.timing_s`` (seconds, mean over the timed iterations): ``forward`` (zero_grad,
forward and loss), ``backward``, ``step`` (optimizer step), ``iteration`` (their sum). Timed
iterations run without any hook or dispatch mode, so they measure plain PyTorch.

Limits: MACs count convolution and matrix products (FlopCounterMode's scope); attention or
other custom kernels appear as element-wise rows. Saved tensors of functional ops written
directly in a container's ``forward`` are charged by order (an op's output saved right after it
ran goes to that op, anything else to the next op); leaf-module rows are exact. Update counts
are the steady state (the warm-up step creates momentum/Adam state first).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from learning.errors import LearningError
from learning.trace_ops import conv_macs, mm_macs, op_name, op_work, update_op_counts
from learning.training import OptimizerSpec, build_optimizer

aten = torch.ops.aten

OPTIMIZERS = ("sgd", "momentum", "adam")
#: The string names :func:`trace_training` accepts besides an :class:`OptimizerSpec`.
OPTIMIZER_PRESETS: dict[str, OptimizerSpec] = {
    "sgd": OptimizerSpec("sgd", lr=0.01),
    "momentum": OptimizerSpec("sgd", lr=0.01, momentum=0.9),
    "adam": OptimizerSpec("adam", lr=0.001),
}

#: Memory columns (elements); each has a ``*_bytes`` twin. All are accesses of one iteration
#: except ``act_saved_elems``, the footprint of what autograd keeps for backward.
MEMORY_COLUMNS = (
    "weight_read_fwd_elems", "weight_read_bwd_elems", "weight_read_update_elems",
    "weight_write_elems", "wgrad_write_elems", "wgrad_read_elems", "optstate_read_elems",
    "optstate_write_elems", "ifmap_read_elems", "ofmap_write_elems", "act_saved_elems",
    "act_saved_write_elems", "act_saved_read_elems", "actgrad_read_elems",
    "actgrad_write_elems",
)
COUNT_COLUMNS = (
    "params", "fwd_macs", "bwd_input_macs", "bwd_weight_macs", "train_macs", "update_mults",
    "update_adds", "update_divs", "update_sqrts", "update_other_ops", "fwd_elementwise_ops",
    "bwd_elementwise_ops", "elementwise_ops",
)
COLUMNS = (
    ("order", "layer", "kind", "branch", "trainable", "bytes_per_elem")
    + COUNT_COLUMNS + MEMORY_COLUMNS
    + tuple(c.replace("_elems", "_bytes") for c in MEMORY_COLUMNS)
    + ("input_shape", "output_shape", "modeled")
)


#: Every column of :attr:`TraceResult.df` with its unit (see the module docstring).
COLUMN_DOCS: dict[str, str] = {
    "order": "execution order of the layer call in the forward pass (index)",
    "layer": "qualified module name; '#k' = k-th call; '<module>/<op><n>' = functional op",
    "kind": "module class (conv2d, linear, batchnorm2d, relu, ...) or ATen op name",
    "branch": "'shared' (frozen trunk) or the branch name ('private' by default)",
    "trainable": "layer has parameters that receive gradients (bool)",
    "bytes_per_elem": "element size of the traced dtype (bytes)",
    "params": "parameters read by the layer call (elements)",
    "fwd_macs": "forward conv/matmul multiply-accumulates (MACs)",
    "bwd_input_macs": "input-gradient MACs (0 when the input needs no gradient) (MACs)",
    "bwd_weight_macs": "weight-gradient MACs (0 for frozen layers) (MACs)",
    "train_macs": "fwd_macs + bwd_input_macs + bwd_weight_macs (MACs)",
    "update_mults": "optimizer-step multiplies for the layer's parameters (ops)",
    "update_adds": "optimizer-step adds/subtracts (incl. step counters) (ops)",
    "update_divs": "optimizer-step divides (ops)",
    "update_sqrts": "optimizer-step square roots (ops)",
    "update_other_ops": "optimizer-step ops outside the model, 1 per element (ops)",
    "fwd_elementwise_ops": "forward element-wise work: BN, ReLU, pooling, adds, bias (ops)",
    "bwd_elementwise_ops": "backward element-wise work (ops)",
    "elementwise_ops": "fwd_elementwise_ops + bwd_elementwise_ops (ops)",
    "weight_read_fwd_elems": "parameters read by the forward (elements)",
    "weight_read_bwd_elems": "weights read to compute the input gradient (elements)",
    "weight_read_update_elems": "weights read by the optimizer step (elements)",
    "weight_write_elems": "weights written by the optimizer step (elements)",
    "wgrad_write_elems": "weight gradients written by backward (elements)",
    "wgrad_read_elems": "weight gradients read by the optimizer step (elements)",
    "optstate_read_elems": "optimizer state read: momentum, Adam moments, step (elements)",
    "optstate_write_elems": "optimizer state written (elements)",
    "ifmap_read_elems": "input activations read by the forward (elements)",
    "ofmap_write_elems": "output activations written by the forward (elements)",
    "act_saved_elems": "footprint: tensors autograd keeps for backward, each once (elements)",
    "act_saved_write_elems": "saved tensors not already written as an ofmap or held as the "
                             "input batch: extra writes for backward (elements)",
    "act_saved_read_elems": "saved tensors read back by this layer's backward (elements)",
    "actgrad_read_elems": "output gradient dY read by backward (elements)",
    "actgrad_write_elems": "input gradient dX written by backward (elements)",
    **{
        c.replace("_elems", "_bytes"): "same as " + c + " in bytes (bytes)"
        for c in MEMORY_COLUMNS
    },
    "input_shape": "input tensor shapes, ';'-separated, 'x'-joined (elements per dim)",
    "output_shape": "output tensor shapes (elements per dim)",
    "modeled": "all element-wise ops of the row have an explicit model (bool)",
}


def columns_help() -> str:
    """Every column and its unit, one per line (for ``--help`` epilogs)."""
    return "\n".join(f"  {c:<28}{d}" for c, d in COLUMN_DOCS.items())


class TraceError(LearningError):
    """Bad input to :func:`trace_training` (unknown optimizer, bad shape, ...)."""


@dataclass
class TraceResult:
    """A training trace: ``df`` (one row per layer call, see module docstring), per-phase
    wall-clock means ``timing_s`` (seconds: ``forward``, ``backward``, ``step``,
    ``iteration``), every timed iteration in ``timing_samples`` (seconds), parameter storage
    per branch in ``storage`` (elems and bytes), dispatch cross-checks in ``checks`` (MACs),
    and operand samples (numpy arrays keyed ``<layer>|<operand>``) when requested."""

    df: pd.DataFrame
    timing_s: dict[str, float]
    timing_samples: pd.DataFrame
    storage: pd.DataFrame
    checks: dict[str, int]
    batch: int
    input_shape: tuple[int, ...]
    optimizer: str
    dtype: str
    samples: dict[str, np.ndarray] = field(default_factory=dict)
    unmodeled_ops: list[str] = field(default_factory=list)
    optimizer_spec: OptimizerSpec | None = None  # the traced optimizer exactly

    def totals(self) -> dict[str, int]:
        """Column sums of the count and memory columns for the whole iteration."""
        cols = [c for c in self.df.columns if c.endswith(("_macs", "_ops", "_elems", "_bytes"))
                or c.startswith("update_")]
        return {c: int(self.df[c].sum()) for c in cols}

    def by(self, key: str = "branch") -> pd.DataFrame:
        """Count and memory columns summed per ``key`` (``branch``, ``kind``, ``trainable``)."""
        if key not in ("branch", "kind", "trainable"):
            raise TraceError(f"cannot group a trace by {key!r}; use branch, kind or trainable")
        num = [c for c in self.df.columns
               if c not in ("order", "bytes_per_elem") and self.df[c].dtype.kind == "i"]
        return self.df.groupby(key)[num].sum()

    def phase_macs(self) -> dict[str, int]:
        """Training MACs per iteration by phase: forward, backward (input, weight), total."""
        d = self.df
        f, bi, bw = (int(d[c].sum()) for c in ("fwd_macs", "bwd_input_macs", "bwd_weight_macs"))
        return {"forward": f, "backward_input": bi, "backward_weight": bw, "total": f + bi + bw}


@dataclass
class _Row:
    order: int
    layer: str
    kind: str
    leaf: bool
    params: dict[int, tuple[str, torch.Tensor]] = field(default_factory=dict)
    fwd_macs: int = 0
    bwd_input_macs: int = 0
    bwd_weight_macs: int = 0
    fwd_ew: int = 0
    bwd_ew: int = 0
    weight_read_bwd: int = 0
    ifmap: int = 0
    ofmap: int = 0
    actgrad_read: int = 0
    actgrad_write: int = 0
    saved: int = 0
    saved_bytes: int = 0
    saved_write: int = 0
    saved_write_bytes: int = 0
    saved_read: int = 0
    saved_read_bytes: int = 0
    in_shape: str = ""
    out_shape: str = ""
    in_rg: bool = False
    out_rg: bool = False
    modeled: bool = True
    ops: int = 0


def _tensors(obj: object) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, list | tuple):
        return [t for x in obj for t in _tensors(x)]
    if isinstance(obj, dict):
        return [t for x in obj.values() for t in _tensors(x)]
    return []


def _shape_str(ts: list[torch.Tensor]) -> str:
    return ";".join("x".join(str(s) for s in t.shape) for t in ts)


def _storage_key(t: torch.Tensor) -> int:
    try:
        return t.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):  # pragma: no cover - exotic tensors
        return id(t)


class _Recorder:
    """Module hooks + dispatch mode + saved-tensor hooks for one traced forward/backward."""

    def __init__(self, model: nn.Module, loss_module: nn.Module,
                 sample_k: int, rng: np.random.Generator) -> None:
        self.model = model
        self.rows: list[_Row] = []
        self.stack: list[tuple[nn.Module, str, _Row | None, dict[str, int]]] = []
        self.calls: dict[str, int] = {}
        self.leaf = {m: len(list(m.children())) == 0 for m in model.modules()}
        self.leaf[loss_module] = True
        self.names = {m: n for n, m in model.named_modules()}
        self.names[loss_module] = "loss"
        self.param_by_storage: dict[int, tuple[str, torch.Tensor]] = {
            _storage_key(p): (n, p) for n, p in model.named_parameters() if p.numel()
        }
        self.handles: list = []
        self.saved_seen: set[tuple] = set()
        self.pending_saves: list[torch.Tensor] = []
        # Saves counted in the footprint, classified as extra writes after the forward.
        self.saves: list[tuple[_Row, torch.Tensor]] = []
        # Storages the forward already wrote (row outputs) or holds (input batch, buffers),
        # pinned until classification so no other tensor can reuse their addresses.
        self.written: dict[int, torch.UntypedStorage] = {}
        for b in model.buffers():
            self.mark_written(b)
        self.unmodeled: set[str] = set()
        self.sample_k = sample_k
        self.rng = rng
        self.samples: dict[str, np.ndarray] = {}
        self.grad_handles: list = []
        self.last_out_keys: set[int] = set()
        # Global hooks: modules reached outside the model tree (e.g. a shared block held in a
        # plain list by a widened layer) are recorded too, named under their caller.
        self.handles.append(nn.modules.module.register_module_forward_pre_hook(self._pre))
        self.handles.append(nn.modules.module.register_module_forward_hook(self._post))

    def _adopt(self, mod: nn.Module) -> None:
        """Name, classify and register the parameters of a module outside the model tree."""
        parent = self.stack[-1][1] if self.stack else "model"
        kind = type(mod).__name__.lower()
        k = self.calls.get(f"{parent}/{kind}", 0)
        self.calls[f"{parent}/{kind}"] = k + 1
        prefix = f"{parent}/{kind}{k}"
        for sub_name, sub in mod.named_modules():
            if sub in self.names:
                continue
            self.names[sub] = f"{prefix}.{sub_name}" if sub_name else prefix
            self.leaf[sub] = len(list(sub.children())) == 0
        for pn, p in mod.named_parameters():
            key = _storage_key(p)
            if p.numel() and key not in self.param_by_storage:
                self.param_by_storage[key] = (f"{prefix}.{pn}", p)
        for b in mod.buffers():
            self.mark_written(b)

    # -- module call stack ------------------------------------------------------------------
    def _pre(self, mod: nn.Module, args: tuple) -> None:
        if mod not in self.names:
            self._adopt(mod)
        name = self.names[mod]
        n = self.calls.get(name, 0)
        self.calls[name] = n + 1
        label = name if n == 0 else f"{name}#{n + 1}"
        row = None
        if self.leaf.get(mod, False):
            row = _Row(order=len(self.rows), layer=label or "model",
                       kind=type(mod).__name__.lower(), leaf=True)
            ins = [t for t in _tensors(args) if not self.is_param(t)]
            row.ifmap = sum(t.numel() for t in ins)
            row.in_shape = _shape_str(ins)
            row.actgrad_write = sum(t.numel() for t in ins if t.requires_grad)
            row.in_rg = any(t.requires_grad for t in ins)
            self.rows.append(row)
            self._sample(row.layer, "ifmap", ins[0] if ins else None)
        self.stack.append((mod, label, row, {}))

    def _post(self, mod: nn.Module, args: tuple, out: object) -> None:
        _, _, row, _ = self.stack.pop()
        if row is not None:
            outs = [t for t in _tensors(out) if t.is_floating_point()]
            row.ofmap = sum(t.numel() for t in outs)
            row.out_shape = _shape_str(outs)
            row.actgrad_read = sum(t.numel() for t in outs if t.requires_grad)
            row.out_rg = any(t.requires_grad for t in outs)
            self.mark_written(*outs)
            self._sample(row.layer, "ofmap", outs[0] if outs else None)
            self._grad_sample(row.layer, outs)

    # -- helpers -----------------------------------------------------------------------------
    def is_param(self, t: torch.Tensor) -> bool:
        return isinstance(t, torch.Tensor) and _storage_key(t) in self.param_by_storage

    def _sample(self, layer: str, what: str, t: torch.Tensor | None) -> None:
        if not self.sample_k or t is None or not t.is_floating_point():
            return
        flat = t.detach().reshape(-1).float().cpu().numpy()
        k = min(self.sample_k, flat.size)
        idx = self.rng.choice(flat.size, size=k, replace=False)
        self.samples[f"{layer}|{what}"] = flat[np.sort(idx)].copy()

    def _grad_sample(self, layer: str, outs: list[torch.Tensor]) -> None:
        if not self.sample_k or not outs or not outs[0].requires_grad:
            return

        def hook(g: torch.Tensor, layer: str = layer) -> None:
            self._sample(layer, "grad_out", g)

        self.grad_handles.append(outs[0].register_hook(hook))

    def current(self) -> tuple[str, _Row | None, dict[str, int]]:
        if not self.stack:
            return "", None, {}
        _, label, row, counters = self.stack[-1]
        return label, row, counters

    # -- per-op accounting -------------------------------------------------------------------
    def on_op(self, func: torch._ops.OpOverload, args: tuple, kwargs: dict, out: object) -> None:
        work = op_work(func, args, kwargs, out, self.is_param)
        if work is None:
            return
        label, row, counters = self.current()
        if row is None:  # functional op in a container's forward: a row of its own
            kind = op_name(func).rstrip("_").lstrip("_")
            k = counters.get(kind, 0)
            counters[kind] = k + 1
            row = _Row(order=len(self.rows), layer=f"{label or 'model'}/{kind}{k}", kind=kind,
                       leaf=False)
            ins = [a for a in args if isinstance(a, torch.Tensor) and not self.is_param(a)]
            outs = [t for t in _tensors(out) if t.is_floating_point()]
            row.ifmap = sum(t.numel() for t in ins)
            row.ofmap = sum(t.numel() for t in outs)
            row.in_shape, row.out_shape = _shape_str(ins), _shape_str(outs)
            row.actgrad_write = sum(t.numel() for t in ins if t.requires_grad)
            row.in_rg = any(t.requires_grad for t in ins)
            row.actgrad_read = (sum(t.numel() for t in outs)
                                if row.in_rg or any(_rg_any(a) for a in args) else 0)
            row.out_rg = row.actgrad_read > 0
            self.mark_written(*outs)
            self.rows.append(row)
            self._flush_saves(row)
            self._sample(row.layer, "ifmap", ins[0] if ins else None)
            self._sample(row.layer, "ofmap", outs[0] if outs else None)
        for a in _tensors(list(args)):
            key = _storage_key(a)
            if key in self.param_by_storage:
                row.params.setdefault(key, self.param_by_storage[key])
        row.ops += 1
        row.fwd_macs += work.fwd_macs
        row.bwd_input_macs += work.bwd_input_macs
        row.bwd_weight_macs += work.bwd_weight_macs
        row.fwd_ew += work.fwd_elementwise_ops
        row.bwd_ew += work.bwd_elementwise_ops
        row.weight_read_bwd += work.weight_read_bwd_elems
        if not work.modeled:
            row.modeled = False
            self.unmodeled.add(op_name(func))

    # -- saved tensors -----------------------------------------------------------------------
    def _flush_saves(self, row: _Row) -> None:
        for t in self.pending_saves:
            self._charge_save(row, t)
        self.pending_saves.clear()

    def _charge_save(self, row: _Row, t: torch.Tensor) -> None:
        """Footprint: each distinct saved tensor once, at the first row that saves it (a view
        of the same memory, e.g. a flattened saved output, is the same tensor)."""
        key = (_storage_key(t), t.storage_offset(), t.numel(), t.dtype)
        if key in self.saved_seen:
            return
        self.saved_seen.add(key)
        row.saved += t.numel()
        row.saved_bytes += t.numel() * t.element_size()
        self.saves.append((row, t))

    def mark_written(self, *ts: torch.Tensor) -> None:
        """Storages whose contents exist without any extra write for backward: row outputs
        (their write is ``ofmap_write``), the input batch, module buffers."""
        for t in ts:
            if not isinstance(t, torch.Tensor) or not t.numel():
                continue
            try:
                st = t.untyped_storage()
            except (RuntimeError, NotImplementedError):  # pragma: no cover - exotic tensors
                continue
            self.written.setdefault(st.data_ptr(), st)

    def classify_saves(self) -> None:
        """After the forward: a saved tensor is an extra write (``act_saved_write``) iff its
        storage is none of :meth:`mark_written`'s. Then unpin the storages."""
        for row, t in self.saves:
            if _storage_key(t) not in self.written:
                row.saved_write += t.numel()
                row.saved_write_bytes += t.numel() * t.element_size()
        self.saves.clear()
        self.written.clear()

    def pack(self, t: torch.Tensor) -> tuple:
        if self.is_param(t):
            return (None, t)
        _, row, _ = self.current()
        if row is None:
            # Functional op outside a leaf: inputs are saved before the op dispatches, outputs
            # after; an output of the latest row belongs to it, anything else to the next row.
            last = self.rows[-1] if self.rows and not self.rows[-1].leaf else None
            if last is not None and self._is_output_of_last(t):
                row = last
            else:
                self.pending_saves.append(t)
                return (_Deferred(self), t)
        self._charge_save(row, t)
        return (row, t)

    def _is_output_of_last(self, t: torch.Tensor) -> bool:
        return _storage_key(t) in self.last_out_keys

    def unpack(self, packed: tuple) -> torch.Tensor:
        row, t = packed
        if isinstance(row, _Deferred):
            row = row.resolve()
        if row is not None:
            row.saved_read += t.numel()
            row.saved_read_bytes += t.numel() * t.element_size()
        return t

    def close(self) -> None:
        for h in self.handles + self.grad_handles:
            h.remove()


def _rg_any(a: object) -> bool:
    return isinstance(a, torch.Tensor) and a.requires_grad


class _Deferred:
    """A tensor saved before its functional op dispatched: resolved to the row created next."""

    def __init__(self, rec: _Recorder) -> None:
        self.rec = rec
        self.index = len(rec.rows)

    def resolve(self) -> _Row | None:
        return self.rec.rows[self.index] if self.index < len(self.rec.rows) else None


class _ForwardMode(TorchDispatchMode):
    def __init__(self, rec: _Recorder) -> None:
        super().__init__()
        self.rec = rec
        self.fwd_macs = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        self.rec.on_op(func, args, kwargs, out)
        self.rec.last_out_keys = {_storage_key(t) for t in _tensors(out)}
        return out


class _BackwardMacs(TorchDispatchMode):
    """Counts the conv/matmul MACs the backward pass actually dispatches."""

    def __init__(self) -> None:
        super().__init__()
        self.macs = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        base = op_name(func)
        if base == "convolution_backward":
            grad_out, x, w = args[0], args[1], args[2]
            transposed, groups, mask = bool(args[7]), int(args[9]), args[10]
            macs = conv_macs(list(x.shape), list(w.shape), list(grad_out.shape), transposed,
                             groups)
            self.macs += macs * (int(bool(mask[0])) + int(bool(mask[1])))
        elif base in ("mm", "bmm"):
            self.macs += mm_macs(list(args[0].shape), list(args[1].shape))
        elif base in ("addmm", "baddbmm"):
            self.macs += mm_macs(list(args[1].shape), list(args[2].shape))
        return out


class _UpdateMode(TorchDispatchMode):
    """Counts the optimizer-step arithmetic per parameter (by storage of param/grad/state)."""

    def __init__(self, owner: dict[int, str]) -> None:
        super().__init__()
        self.owner = owner  # storages of parameters, gradients and optimizer state
        self.temp: dict[int, str] = {}  # temporaries derived from them during this step
        self.counts: dict[str, list[int]] = {}
        self.unknown: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        c = update_op_counts(func, args, kwargs, out)
        keys = [_storage_key(t) for t in _tensors(list(args)) + _tensors(kwargs)]
        pname = next((self.owner[k] for k in keys if k in self.owner), None)
        if pname is None:
            pname = next((self.temp[k] for k in keys if k in self.temp), None)
        for t in _tensors(out):  # temporaries inherit the parameter they derive from
            k = _storage_key(t)
            if k not in self.owner:
                if pname is None:
                    self.temp.pop(k, None)
                else:
                    self.temp[k] = pname
        if c is not None and pname is not None:
            acc = self.counts.setdefault(pname, [0, 0, 0, 0, 0])
            for i, v in enumerate(c):
                acc[i] += v
            if c[4]:
                self.unknown.add(op_name(func))
        return out


def optimizer_spec(optimizer: str | OptimizerSpec) -> OptimizerSpec:
    """An :class:`OptimizerSpec` as is, or a preset name: ``sgd`` (lr 0.01), ``momentum`` (SGD,
    momentum 0.9, lr 0.01), ``adam`` (lr 0.001); presets have no weight decay. To trace what an
    experiment trains, pass ``OptimizerSpec.from_config(cfg)``."""
    if isinstance(optimizer, OptimizerSpec):
        return optimizer
    if isinstance(optimizer, str) and optimizer in OPTIMIZER_PRESETS:
        return OPTIMIZER_PRESETS[optimizer]
    raise TraceError(f"unknown optimizer {optimizer!r}; use one of: {', '.join(OPTIMIZERS)} or "
                     "an OptimizerSpec")


def make_optimizer(optimizer: str | OptimizerSpec,
                   params: list[torch.Tensor]) -> torch.optim.Optimizer:
    """The traced optimizer: :func:`learning.training.build_optimizer` (what training uses)
    with the single-tensor implementation (``foreach=False``) whose ops the trace counts."""
    return build_optimizer(optimizer_spec(optimizer), params, foreach=False)


def _state_elems(opt: torch.optim.Optimizer, p: torch.Tensor) -> int:
    return sum(v.numel() for v in opt.state.get(p, {}).values() if isinstance(v, torch.Tensor))


def _frozen_predicate(frozen: object) -> Callable[[str, torch.Tensor], bool] | None:
    if frozen is None:
        return None
    if callable(frozen):
        return lambda n, p: bool(frozen(n))
    if isinstance(frozen, Iterable) and not isinstance(frozen, str | bytes):
        names = set(frozen)
        return lambda n, p: n in names
    raise TraceError("frozen must be a set of parameter names or a predicate name -> bool")


def trace_training(
    model: nn.Module,
    input_shape: tuple[int, ...],
    batch: int,
    optimizer: str | OptimizerSpec = "sgd",
    frozen: Iterable[str] | Callable[[str], bool] | None = None,
    dtype: torch.dtype = torch.float32,
    sample_operands: int | bool = False,
    iterations: int = 1,
    branch_of: Callable[[str], str] | str | None = None,
    inputs: torch.Tensor | None = None,
    targets: torch.Tensor | None = None,
    seed: int = 0,
    progress: bool = False,
) -> TraceResult:
    """Trace one training iteration (cross-entropy loss) of ``model`` on a batch of ``batch``
    inputs of shape ``input_shape`` (without the batch dimension), then time ``iterations``
    more. ``frozen``: parameter names or a predicate on names (``None``: keep the model's
    ``requires_grad`` flags). ``optimizer``: an :class:`~learning.training.OptimizerSpec`
    (built exactly as training builds it, single-tensor path) or a preset name
    (:func:`optimizer_spec`). ``branch_of``: a row's ``branch`` label from its layer name, or a
    string naming the non-shared rows (default ``private``; shared rows are those with no
    trainable parameter and no gradient through them). ``sample_operands``: number of values
    sampled per operand tensor (``True`` = 256). ``inputs``/``targets`` override the random
    batch (e.g. real images). The model is trained in place (its weights change)."""
    spec = optimizer_spec(optimizer)
    if batch < 1:
        raise TraceError(f"batch must be >= 1, got {batch}")
    if iterations < 1:
        raise TraceError(f"iterations must be >= 1, got {iterations}")
    if not input_shape or any(int(s) < 1 for s in input_shape):
        raise TraceError(f"input shape {tuple(input_shape)} must be positive sizes, e.g. 3 32 32")
    sample_k = 256 if sample_operands is True else int(sample_operands or 0)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = model.to(dtype)
    model.train()
    pred = _frozen_predicate(frozen)
    saved_flags = {n: p.requires_grad for n, p in model.named_parameters()}
    if pred is not None:
        for n, p in model.named_parameters():
            p.requires_grad_(not pred(n, p))
    try:
        x = inputs if inputs is not None else torch.randn((batch, *input_shape), generator=gen)
        x = x.to(dtype)
        was_training = model.training
        model.eval()
        with torch.no_grad():
            num_classes = model(x[:1]).shape[-1]
        model.train(was_training)
        y = targets if targets is not None else torch.randint(0, num_classes, (x.shape[0],),
                                                               generator=gen)
        loss_fn = nn.CrossEntropyLoss()
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not trainable:
            raise TraceError("every parameter is frozen: nothing to train; share less than 100 %")
        opt = make_optimizer(spec, trainable)

        def step() -> tuple[float, float, float]:
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            opt.step()
            t3 = time.perf_counter()
            return t1 - t0, t2 - t1, t3 - t2

        step()  # warm-up: creates optimizer state so the traced step is a steady-state step
        rec = _Recorder(model, loss_fn, sample_k, rng)
        rec.mark_written(x, y)  # the input batch: images and labels
        bwd = _BackwardMacs()
        opt.zero_grad(set_to_none=True)
        try:
            with torch.autograd.graph.saved_tensors_hooks(rec.pack, rec.unpack):
                fmode = _ForwardMode(rec)
                with fmode:
                    loss = loss_fn(model(x), y)
                rec.classify_saves()
                with bwd:
                    loss.backward()
        finally:
            rec.close()
        del loss
        owner: dict[int, str] = {}
        names = {id(p): n for n, p in model.named_parameters()}
        for p in trainable:
            n = names[id(p)]
            owner[_storage_key(p)] = n
            if p.grad is not None:
                owner[_storage_key(p.grad)] = n
            for v in opt.state.get(p, {}).values():
                if isinstance(v, torch.Tensor):
                    owner[_storage_key(v)] = n
        if sample_k:
            for row in rec.rows:
                for _, (pn, p) in row.params.items():
                    rec._sample(row.layer, f"weight:{pn}", p)
                    if p.grad is not None:
                        rec._sample(row.layer, f"wgrad:{pn}", p.grad)
        umode = _UpdateMode(owner)
        with umode:
            opt.step()

        timings = []
        it = range(iterations)
        if progress:
            from tqdm import tqdm

            it = tqdm(it, desc="timing iterations", unit="it")
        for _ in it:
            timings.append(step())
        df = _rows_to_frame(rec, model, opt, umode, dtype, branch_of)
        tdf = pd.DataFrame(timings, columns=["forward_s", "backward_s", "step_s"])
        tdf["iteration_s"] = tdf.sum(axis=1)
        timing = {k.removesuffix("_s"): float(tdf[k].mean()) for k in tdf.columns}
        storage = _storage(df, model, rec, dtype, branch_of)
        rows_bwd = int(df["bwd_input_macs"].sum() + df["bwd_weight_macs"].sum())
        checks = {"bwd_macs_dispatched": int(bwd.macs), "bwd_macs_rows": rows_bwd}
        if rows_bwd != bwd.macs:
            warnings.warn(
                f"backward dispatched {bwd.macs} conv/matmul MACs but the rows hold {rows_bwd}: "
                "part of the backward is not derived from recorded forward ops (custom autograd "
                "function?); see TraceResult.checks", RuntimeWarning, stacklevel=2)
        return TraceResult(
            df=df, timing_s=timing, timing_samples=tdf, storage=storage, checks=checks,
            batch=int(x.shape[0]), input_shape=tuple(int(s) for s in x.shape[1:]),
            optimizer=optimizer if isinstance(optimizer, str) else spec.label(),
            dtype=str(dtype).removeprefix("torch."), samples=rec.samples,
            unmodeled_ops=sorted(rec.unmodeled | umode.unknown), optimizer_spec=spec,
        )
    finally:
        for n, p in model.named_parameters():
            p.requires_grad_(saved_flags[n])


def _rows_to_frame(rec: _Recorder, model: nn.Module, opt: torch.optim.Optimizer,
                   umode: _UpdateMode, dtype: torch.dtype,
                   branch_of: Callable[[str], str] | str | None) -> pd.DataFrame:
    bpe = torch.empty((), dtype=dtype).element_size()
    claimed: set[int] = set()
    records = []
    for row in rec.rows:
        if row.leaf and not row.ops and not row.params:
            continue  # e.g. nn.Identity: executed, but no work and no storage
        params = [(n, p) for k, (n, p) in row.params.items()]
        own = [(n, p) for n, p in params if id(p) not in claimed]  # first user updates it
        claimed.update(id(p) for _, p in params)
        n_params = sum(p.numel() for _, p in params)
        train = [(n, p) for n, p in params if p.requires_grad]
        train_own = [(n, p) for n, p in own if p.requires_grad]
        n_train_own = sum(p.numel() for _, p in train_own)
        upd = [0, 0, 0, 0, 0]
        st_r = st_w = 0
        for n, p in train_own:
            for i, v in enumerate(umode.counts.get(n, [0] * 5)):
                upd[i] += v
            st = _state_elems(opt, p)
            st_r += st
            st_w += st
        name = branch_of if isinstance(branch_of, str) else "private"
        if callable(branch_of):
            branch = branch_of(row.layer)
        elif params:
            branch = name if train else "shared"
        else:
            branch = name if (row.in_rg or row.out_rg) else "shared"
        rec_d = {
            "order": row.order, "layer": row.layer, "kind": row.kind, "branch": branch,
            "trainable": bool(train), "bytes_per_elem": bpe, "params": n_params,
            "fwd_macs": row.fwd_macs, "bwd_input_macs": row.bwd_input_macs,
            "bwd_weight_macs": row.bwd_weight_macs,
            "train_macs": row.fwd_macs + row.bwd_input_macs + row.bwd_weight_macs,
            "update_mults": upd[0], "update_adds": upd[1], "update_divs": upd[2],
            "update_sqrts": upd[3], "update_other_ops": upd[4],
            "fwd_elementwise_ops": row.fwd_ew, "bwd_elementwise_ops": row.bwd_ew,
            "elementwise_ops": row.fwd_ew + row.bwd_ew,
            "weight_read_fwd_elems": n_params, "weight_read_bwd_elems": row.weight_read_bwd,
            "weight_read_update_elems": n_train_own, "weight_write_elems": n_train_own,
            "wgrad_write_elems": sum(p.numel() for _, p in train),
            "wgrad_read_elems": n_train_own,
            "optstate_read_elems": st_r, "optstate_write_elems": st_w,
            "ifmap_read_elems": row.ifmap, "ofmap_write_elems": row.ofmap,
            "act_saved_elems": row.saved, "act_saved_write_elems": row.saved_write,
            "act_saved_read_elems": row.saved_read,
            "actgrad_read_elems": row.actgrad_read if (row.in_rg or train) else 0,
            "actgrad_write_elems": row.actgrad_write,
        }
        for c in MEMORY_COLUMNS:
            rec_d[c.replace("_elems", "_bytes")] = rec_d[c] * bpe
        rec_d["act_saved_bytes"] = row.saved_bytes
        rec_d["act_saved_write_bytes"] = row.saved_write_bytes
        rec_d["act_saved_read_bytes"] = row.saved_read_bytes
        rec_d.update(input_shape=row.in_shape, output_shape=row.out_shape, modeled=row.modeled)
        records.append(rec_d)
    df = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    for c in COUNT_COLUMNS + MEMORY_COLUMNS + ("order", "bytes_per_elem"):
        df[c] = df[c].astype("int64")
    for c in MEMORY_COLUMNS:
        df[c.replace("_elems", "_bytes")] = df[c.replace("_elems", "_bytes")].astype("int64")
    df["trainable"] = df["trainable"].astype(bool)
    df["modeled"] = df["modeled"].astype(bool)
    return df


def _storage(df: pd.DataFrame, model: nn.Module, rec: _Recorder, dtype: torch.dtype,
             branch_of: Callable[[str], str] | str | None) -> pd.DataFrame:
    """Parameter storage (elems, bytes) per branch, each parameter counted once (first user)."""
    bpe = torch.empty((), dtype=dtype).element_size()
    seen: set[int] = set()
    acc: dict[str, list[int]] = {}
    branch_by_layer = dict(zip(df["layer"], df["branch"], strict=True))
    for row in rec.rows:
        for _, (_, p) in row.params.items():
            if id(p) in seen:
                continue
            seen.add(id(p))
            b = branch_by_layer[row.layer]
            a = acc.setdefault(b, [0, 0])
            a[0] += p.numel()
            a[1] += p.numel() if p.requires_grad else 0
    unused = sum(p.numel() for p in model.parameters() if id(p) not in seen)
    if unused:
        acc.setdefault("unused", [0, 0])[0] += unused
    out = pd.DataFrame(
        [(b, v[0], v[1], v[0] * bpe) for b, v in sorted(acc.items())],
        columns=["branch", "params", "trainable_params", "param_bytes"],
    )
    return out


def sharing_frozen(model: nn.Module, percent: float) -> tuple[int, float]:
    """Freeze the first blocks of a ``BlockNet`` for ``percent`` % sharing (``learning.models``
    sharing points); returns ``(k blocks frozen, exact shared %)``."""
    from learning.models import freeze_prefix, sharing_point_for_percent

    k, pct = sharing_point_for_percent(model, percent)
    freeze_prefix(model, k)
    return k, pct


def save_samples(result: TraceResult, path: str) -> None:
    """Write the operand samples to an ``.npz`` (atomically, :func:`pnsutil.atomic_path`)."""
    from pnsutil import atomic_path

    with atomic_path(path, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **{k.replace("/", "__"): v for k, v in result.samples.items()})

