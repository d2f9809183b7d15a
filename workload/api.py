"""Layer-wise training traces: MACs, element-wise work and memory accesses of one training
iteration, recorded from real PyTorch execution.

:func:`trace_training` runs real training iterations of any ``nn.Module`` (one warm-up step so
optimizer state exists, one traced step, then ``iterations`` timed steps) and returns a
:class:`TraceResult` whose ``df`` has one row per executed layer call of the traced iteration;
its columns, units and meanings are the contract of :mod:`workload.schema`. What is recorded
and how: :mod:`workload.recorder` (hooks and dispatch modes), :mod:`workload.opmodels` (the
work of each ATen op). The optimizer is built by :func:`learning.training.build_optimizer`, the
function training uses (pass ``OptimizerSpec.from_config(cfg)`` to trace an experiment's
momentum and weight decay). The backward's dispatched conv/matmul MACs are counted too and
cross-checked against the rows (``TraceResult.checks``).

``TraceResult.timing_s`` (seconds, mean over the timed iterations): ``forward`` (zero_grad,
forward and loss), ``backward``, ``step`` (optimizer step), ``iteration`` (their sum). Timed
iterations run without any hook or dispatch mode, so they measure plain PyTorch.

Limits: MACs count convolution and matrix products (FlopCounterMode's scope); attention or
other custom kernels appear as element-wise rows. Saved tensors of functional ops written
directly in a container's ``forward`` are charged by order (see :mod:`workload.recorder`);
leaf-module rows are exact. Update counts are the steady state (the warm-up step creates
momentum/Adam state first).
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from learning.training import OptimizerSpec, build_optimizer
from workload.errors import TraceError
from workload.recorder import (
    _BackwardMacs,
    _ForwardMode,
    _Recorder,
    _Row,
    _storage_key,
    _UpdateMode,
)
from workload.schema import (
    COLUMNS,
    GEOMETRY_COLUMNS,
    MEMORY_COLUMNS,
    SCHEMA,
    bytes_column,
)

OPTIMIZERS = ("sgd", "momentum", "adam")
#: The string names :func:`trace_training` accepts besides an :class:`OptimizerSpec`.
OPTIMIZER_PRESETS: dict[str, OptimizerSpec] = {
    "sgd": OptimizerSpec("sgd", lr=0.01),
    "momentum": OptimizerSpec("sgd", lr=0.01, momentum=0.9),
    "adam": OptimizerSpec("adam", lr=0.001),
}
#: Branch label of the rows that are not shared, unless ``branch_of`` names one.
PRIVATE = "private"
#: Values sampled per operand tensor for ``sample_operands=True``.
DEFAULT_SAMPLES = 256

BranchOf = Callable[[str], str] | str | None


@dataclass
class TraceResult:
    """A training trace: ``df`` (one row per layer call, columns of :mod:`workload.schema`),
    per-phase wall-clock means ``timing_s`` (seconds: ``forward``, ``backward``, ``step``,
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
        """Count and memory columns summed per ``key`` (``branch``, ``kind``, ``trainable``);
        the geometry columns are sizes, not counts, and are left out."""
        if key not in ("branch", "kind", "trainable"):
            raise TraceError(f"cannot group a trace by {key!r}; use branch, kind or trainable")
        skip = {"order", "bytes_per_elem", *GEOMETRY_COLUMNS}
        num = [c for c in self.df.columns if c not in skip and self.df[c].dtype.kind == "i"]
        return self.df.groupby(key)[num].sum()

    def phase_macs(self) -> dict[str, int]:
        """Training MACs per iteration by phase: forward, backward (input, weight), total."""
        d = self.df
        f, bi, bw = (int(d[c].sum()) for c in ("fwd_macs", "bwd_input_macs", "bwd_weight_macs"))
        return {"forward": f, "backward_input": bi, "backward_weight": bw, "total": f + bi + bw}


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


def trace_training(
    model: nn.Module,
    input_shape: tuple[int, ...],
    batch: int,
    optimizer: str | OptimizerSpec = "sgd",
    frozen: Iterable[str] | Callable[[str], bool] | None = None,
    dtype: torch.dtype = torch.float32,
    sample_operands: int | bool = False,
    iterations: int = 1,
    branch_of: BranchOf = None,
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
    _check_sizes(batch, iterations, input_shape)
    sample_k = DEFAULT_SAMPLES if sample_operands is True else int(sample_operands or 0)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = model.to(dtype)
    model.train()
    with _frozen(model, frozen):
        x, y = _batch(model, input_shape, batch, inputs, targets, dtype, gen)
        loss_fn = nn.CrossEntropyLoss()
        trainable = [p for p in model.parameters() if p.requires_grad]
        if not trainable:
            raise TraceError("every parameter is frozen: nothing to train; share less than 100 %")
        opt = make_optimizer(spec, trainable)
        step = _step_fn(model, loss_fn, opt, x, y)
        step()  # warm-up: creates optimizer state so the traced step is a steady-state step
        rec, bwd = _record_iteration(model, loss_fn, opt, x, y, sample_k, rng)
        umode = _record_update(model, opt, trainable, rec)
        tdf = _time_iterations(step, iterations, progress)
        df = _rows_to_frame(rec, opt, umode, dtype, branch_of)
        return TraceResult(
            df=df, timing_s={k.removesuffix("_s"): float(tdf[k].mean()) for k in tdf.columns},
            timing_samples=tdf, storage=_storage(df, model, rec, dtype),
            checks=_checks(df, bwd), batch=int(x.shape[0]),
            input_shape=tuple(int(s) for s in x.shape[1:]),
            optimizer=optimizer if isinstance(optimizer, str) else spec.label(),
            dtype=str(dtype).removeprefix("torch."), samples=rec.samples,
            unmodeled_ops=sorted(rec.unmodeled | umode.unknown), optimizer_spec=spec,
        )


# -- the steps of trace_training ----------------------------------------------------------------


def _check_sizes(batch: int, iterations: int, input_shape: tuple[int, ...]) -> None:
    """:class:`TraceError` for a batch or iteration count below 1 or a non-positive shape."""
    if batch < 1:
        raise TraceError(f"batch must be >= 1, got {batch}")
    if iterations < 1:
        raise TraceError(f"iterations must be >= 1, got {iterations}")
    if not input_shape or any(int(s) < 1 for s in input_shape):
        raise TraceError(f"input shape {tuple(input_shape)} must be positive sizes, e.g. 3 32 32")


def _frozen_predicate(frozen: object) -> Callable[[str, torch.Tensor], bool] | None:
    if frozen is None:
        return None
    if callable(frozen):
        return lambda n, p: bool(frozen(n))
    if isinstance(frozen, Iterable) and not isinstance(frozen, str | bytes):
        names = set(frozen)
        return lambda n, p: n in names
    raise TraceError("frozen must be a set of parameter names or a predicate name -> bool")


@contextlib.contextmanager
def _frozen(model: nn.Module, frozen: object) -> Iterator[None]:
    """Freeze the parameters ``frozen`` names (``None``: keep the model's flags); the model's
    own ``requires_grad`` flags are restored afterwards."""
    pred = _frozen_predicate(frozen)
    saved_flags = {n: p.requires_grad for n, p in model.named_parameters()}
    if pred is not None:
        for n, p in model.named_parameters():
            p.requires_grad_(not pred(n, p))
    try:
        yield
    finally:
        for n, p in model.named_parameters():
            p.requires_grad_(saved_flags[n])


def _batch(model: nn.Module, input_shape: tuple[int, ...], batch: int,
           inputs: torch.Tensor | None, targets: torch.Tensor | None, dtype: torch.dtype,
           gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """The traced batch: ``inputs`` or N(0, 1) images of ``dtype``, and ``targets`` or random
    labels below the model's number of outputs (found by one eval-mode forward of 1 image)."""
    x = inputs if inputs is not None else torch.randn((batch, *input_shape), generator=gen)
    x = x.to(dtype)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        num_classes = model(x[:1]).shape[-1]
    model.train(was_training)
    y = targets if targets is not None else torch.randint(0, num_classes, (x.shape[0],),
                                                           generator=gen)
    return x, y


def _step_fn(model: nn.Module, loss_fn: nn.Module, opt: torch.optim.Optimizer,
             x: torch.Tensor, y: torch.Tensor) -> Callable[[], tuple[float, float, float]]:
    """One plain training step, returning its (forward, backward, step) wall-clock seconds."""

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

    return step


def _record_iteration(model: nn.Module, loss_fn: nn.Module, opt: torch.optim.Optimizer,
                      x: torch.Tensor, y: torch.Tensor, sample_k: int,
                      rng: np.random.Generator) -> tuple[_Recorder, _BackwardMacs]:
    """The traced forward and backward: the recorder's rows, and the backward's dispatched
    conv/matmul MACs. Leaves the gradients in place for the traced update."""
    rec = _Recorder(model, loss_fn, sample_k, rng)
    rec.mark_written(x, y)  # the input batch: images and labels
    bwd = _BackwardMacs()
    opt.zero_grad(set_to_none=True)
    try:
        with torch.autograd.graph.saved_tensors_hooks(rec.pack, rec.unpack):
            with _ForwardMode(rec):
                loss = loss_fn(model(x), y)
            rec.classify_saves()
            with bwd:
                loss.backward()
    finally:
        rec.close()
    return rec, bwd


def _param_owners(model: nn.Module, opt: torch.optim.Optimizer,
                  trainable: list[torch.Tensor]) -> dict[int, str]:
    """Storage of every trainable parameter, its gradient and its optimizer state -> the
    parameter's name."""
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
    return owner


def _record_update(model: nn.Module, opt: torch.optim.Optimizer,
                   trainable: list[torch.Tensor], rec: _Recorder) -> _UpdateMode:
    """The traced optimizer step, its arithmetic counted per parameter; samples weights and
    weight gradients first when operands are sampled."""
    owner = _param_owners(model, opt, trainable)
    rec.sample_params()
    umode = _UpdateMode(owner)
    with umode:
        opt.step()
    return umode


def _time_iterations(step: Callable[[], tuple[float, float, float]], iterations: int,
                     progress: bool) -> pd.DataFrame:
    """``iterations`` plain steps: seconds per phase (``forward_s``, ``backward_s``,
    ``step_s``) and their sum ``iteration_s``, one row per iteration."""
    timings = []
    it: Iterable[int] = range(iterations)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="timing iterations", unit="it")
    for _ in it:
        timings.append(step())
    tdf = pd.DataFrame(timings, columns=["forward_s", "backward_s", "step_s"])
    tdf["iteration_s"] = tdf.sum(axis=1)
    return tdf


def _checks(df: pd.DataFrame, bwd: _BackwardMacs) -> dict[str, int]:
    """Backward MACs dispatched vs held by the rows (MACs); warns when they differ."""
    rows_bwd = int(df["bwd_input_macs"].sum() + df["bwd_weight_macs"].sum())
    if rows_bwd != bwd.macs:
        warnings.warn(
            f"backward dispatched {bwd.macs} conv/matmul MACs but the rows hold {rows_bwd}: "
            "part of the backward is not derived from recorded forward ops (custom autograd "
            "function?); see TraceResult.checks", RuntimeWarning, stacklevel=3)
    return {"bwd_macs_dispatched": int(bwd.macs), "bwd_macs_rows": rows_bwd}


# -- frame building -----------------------------------------------------------------------------


def _state_elems(opt: torch.optim.Optimizer, p: torch.Tensor) -> int:
    """Optimizer-state elements of parameter ``p`` (momentum, Adam moments, step)."""
    return sum(v.numel() for v in opt.state.get(p, {}).values() if isinstance(v, torch.Tensor))


def _branch(row: _Row, trainable: bool, has_params: bool, branch_of: BranchOf) -> str:
    """``branch`` of a row: ``branch_of(layer)`` when callable; else ``shared`` for a row with
    no trainable parameter (or, without parameters, no gradient through it), otherwise the
    string ``branch_of`` (default ``private``)."""
    name = branch_of if isinstance(branch_of, str) else PRIVATE
    if callable(branch_of):
        return branch_of(row.layer)
    if has_params:
        return name if trainable else "shared"
    return name if (row.in_rg or row.out_rg) else "shared"


def _record(row: _Row, claimed: set[int], opt: torch.optim.Optimizer, umode: _UpdateMode,
            bpe: int, branch_of: BranchOf) -> dict[str, object]:
    """One trace row (schema columns -> value). A parameter shared by several rows is updated
    (and its state counted) by the first row that uses it; ``claimed`` holds those seen."""
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
    rec_d: dict[str, object] = {
        "order": row.order, "layer": row.layer, "kind": row.kind,
        "branch": _branch(row, bool(train), bool(params), branch_of),
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
        rec_d[bytes_column(c)] = rec_d[c] * bpe
    # Saved tensors keep their real dtypes (int64 pooling indices).
    rec_d["act_saved_bytes"] = row.saved_bytes
    rec_d["act_saved_write_bytes"] = row.saved_write_bytes
    rec_d["act_saved_read_bytes"] = row.saved_read_bytes
    rec_d.update(input_shape=row.in_shape, output_shape=row.out_shape, modeled=row.modeled)
    rec_d.update(zip(GEOMETRY_COLUMNS, row.geometry, strict=True))
    return rec_d


def _rows_to_frame(rec: _Recorder, opt: torch.optim.Optimizer, umode: _UpdateMode,
                   dtype: torch.dtype, branch_of: BranchOf) -> pd.DataFrame:
    """The trace frame: one row per recorded row that did work or holds parameters, the
    columns and dtypes of :data:`workload.schema.SCHEMA`."""
    bpe = torch.empty((), dtype=dtype).element_size()
    claimed: set[int] = set()
    records = []
    for row in rec.rows:
        if row.leaf and not row.ops and not row.params:
            continue  # e.g. nn.Identity: executed, but no work and no storage
        records.append(_record(row, claimed, opt, umode, bpe, branch_of))
    df = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    for c in SCHEMA:
        if c.dtype in ("int64", "bool"):
            df[c.name] = df[c.name].astype(c.dtype)
    return df


def _storage(df: pd.DataFrame, model: nn.Module, rec: _Recorder,
             dtype: torch.dtype) -> pd.DataFrame:
    """Parameter storage (elems, bytes) per branch, each parameter counted once (first user);
    parameters no row used are ``unused``."""
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
    return pd.DataFrame(
        [(b, v[0], v[1], v[0] * bpe) for b, v in sorted(acc.items())],
        columns=["branch", "params", "trainable_params", "param_bytes"],
    )
