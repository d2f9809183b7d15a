"""What the trace hears: module hooks, dispatch modes and saved-tensor hooks of one traced
training iteration (used by :func:`workload.trace_training`).

Forward hooks on every module keep a call stack (:class:`_Recorder`); a ``TorchDispatchMode``
(:class:`_ForwardMode`) sees every ATen op that actually runs (branches, residual adds, widened
layers, functional ops) and charges it to the innermost *leaf* module call (or, for functional
ops written directly in a container's ``forward`` such as ``out + shortcut(x)``, to a row of its
own named ``<container>/<op><n>``). Backward work follows autograd exactly: a gradient is
computed iff the operand requires grad at forward time (:mod:`workload.opmodels`). Saved-tensor
hooks (:meth:`_Recorder.pack` / :meth:`_Recorder.unpack`) measure what autograd keeps for
backward and reads back. :class:`_BackwardMacs` counts the conv/matmul MACs the backward
actually dispatches (a cross-check of the rows); :class:`_UpdateMode` counts the update
arithmetic dispatched per parameter during ``optimizer.step()``.

Saved tensors of functional ops written directly in a container's ``forward`` are charged by
order (an op's output saved right after it ran goes to that op, anything else to the next op);
leaf-module rows are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from workload.opmodels import conv_macs, mm_macs, op_name, op_work, update_op_counts
from workload.schema import GEOMETRY_COLUMNS

#: The geometry of a row that is no conv2d, conv1d or linear call: 0 in every column.
NO_GEOMETRY: tuple[int, ...] = (0,) * len(GEOMETRY_COLUMNS)


def _leading_padding(mod: nn.Conv1d | nn.Conv2d) -> tuple[int, ...]:
    """Top/left padding per spatial dim (input elements): ``'valid'`` is 0, ``'same'`` is
    ``dilation * (kernel - 1) // 2`` (PyTorch pads an odd remainder at the bottom/right)."""
    if mod.padding == "valid":
        return (0,) * len(mod.kernel_size)
    if mod.padding == "same":
        return tuple(d * (k - 1) // 2 for k, d in zip(mod.kernel_size, mod.dilation, strict=True))
    return tuple(int(p) for p in mod.padding)


def module_geometry(mod: nn.Module) -> tuple[int, ...]:
    """The :data:`~workload.schema.GEOMETRY_COLUMNS` of a call of ``mod`` (kernel h/w, stride
    h/w, padding h/w, dilation h/w in input elements; groups): from the module for exactly
    ``nn.Conv2d``, ``nn.Conv1d`` (height 1) and ``nn.Linear`` (a 1x1 convolution); zeros for
    any other module, subclasses included (their forward may compute something else). Padding
    is the top/left padding, whatever the ``padding_mode``."""
    cls = type(mod)
    if cls is nn.Linear:
        return (1, 1, 1, 1, 0, 0, 1, 1, 1)
    if cls is nn.Conv2d:
        (kh, kw), (sh, sw), (dh, dw) = mod.kernel_size, mod.stride, mod.dilation
        ph, pw = _leading_padding(mod)
        return (kh, kw, sh, sw, ph, pw, dh, dw, mod.groups)
    if cls is nn.Conv1d:
        (kw,), (sw,), (dw,), (pw,) = (mod.kernel_size, mod.stride, mod.dilation,
                                      _leading_padding(mod))
        return (1, kw, 1, sw, 0, pw, 1, dw, mod.groups)
    return NO_GEOMETRY


@dataclass
class _Row:
    """One row of the trace as it is recorded: a leaf module call or a functional op. Counts
    for the whole batch: MACs, element-wise ops (``fwd_ew``/``bwd_ew``), elements
    (``weight_read_bwd``, ``ifmap``, ``ofmap``, ``actgrad_*``, ``saved*``) and bytes
    (``*_bytes``); ``params`` maps parameter storages to (name, tensor); ``ops`` counts the
    dispatched ops charged to the row; ``geometry`` is :func:`module_geometry` of its module."""

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
    geometry: tuple[int, ...] = NO_GEOMETRY


def _tensors(obj: object) -> list[torch.Tensor]:
    """The tensors in ``obj`` (a tensor, or nested lists, tuples and dicts of them)."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, list | tuple):
        return [t for x in obj for t in _tensors(x)]
    if isinstance(obj, dict):
        return [t for x in obj.values() for t in _tensors(x)]
    return []


def _shape_str(ts: list[torch.Tensor]) -> str:
    """``2x3x8x8;2x4``: shapes (elements per dim), 'x'-joined, ';'-separated."""
    return ";".join("x".join(str(s) for s in t.shape) for t in ts)


def _storage_key(t: torch.Tensor) -> int:
    """Identity of the memory behind ``t`` (its storage's address; views share it)."""
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
                       kind=type(mod).__name__.lower(), leaf=True,
                       geometry=module_geometry(mod))
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

    def sample_params(self) -> None:
        """Sample every row's weights and weight gradients (after the backward, before the
        update), when operands are sampled."""
        if not self.sample_k:
            return
        for row in self.rows:
            for _, (pn, p) in row.params.items():
                self._sample(row.layer, f"weight:{pn}", p)
                if p.grad is not None:
                    self._sample(row.layer, f"wgrad:{pn}", p.grad)

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
    """Charges every ATen op the forward dispatches to the recorder's current row."""

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

