"""Deterministic mini-batch training and batched evaluation on uint8 image arrays.

Determinism: every training run seeds the global torch RNG (initialization, dropout) and its own
``torch.Generator`` (shuffling, augmentation) from one integer, and
``torch.use_deterministic_algorithms(True)`` is on while training, so the same seed and inputs
give bit-identical weights. This holds for every :class:`Recipe`: bf16 autocast runs are
bit-identical for a fixed thread count (and differ from fp32 runs); channels-last training
differs from contiguous training only in the last float bits, and with dropout also in the
masks, which are drawn in NHWC memory order (same distribution, different draws).

Frozen trunk: :func:`train_model` can train a branch on top of a frozen ``trunk`` (a callable
image batch -> the activation(s) the branch reads). The trunk always runs without gradients and
always on batches of exactly ``batch_size`` images (a short last batch is zero-padded and the
padding dropped), so an image's trunk output does not depend on the batch size. Without data
augmentation the trunk outputs of the whole training set are computed once
(:class:`TrunkCache`: in memory up to a byte limit, else in a numpy memmap in a temporary
folder) and every epoch trains only the branch. Cached and uncached training give bit-identical
weights when the trunk's kernels compute each image independently of the other images of a
batch of fixed size (true for the CPU oneDNN/MKL fp32 kernels tested in
``tests/learning/test_training_cache.py``); a kernel whose per-image result depends on the
batch's contents would make them differ in the last float bits, never in determinism (each mode
on its own is bit-reproducible).

Optimizer: :func:`build_optimizer` is the one place that builds the training optimizer from an
:class:`OptimizerSpec` (:meth:`OptimizerSpec.from_config` maps an experiment config to it);
:func:`train_model` and :func:`workload.trace_training` both call it.

Parallel jobs: :func:`run_parallel` runs independent training jobs (e.g. the points of a sharing
sweep) in spawned worker processes with a fixed thread count each.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import logging
import math
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from learning import distributed
from learning.errors import LearningError

if TYPE_CHECKING:
    from learning.config import ExperimentConfig

# Pixel scaling: uint8 0..255 -> [-1, 1] (fixed, so no statistic is computed from any task's
# data before it is learned).
PIXEL_SCALE = 2.0 / 255.0

#: Default bound (bytes) of the in-memory trunk cache; larger caches go to a disk memmap.
DEFAULT_CACHE_LIMIT_BYTES = 2 * 2**30

_log = logging.getLogger(__name__)

Feats = torch.Tensor | list[torch.Tensor]


OPTIMIZER_NAMES = ("sgd", "adam")


@dataclass(frozen=True)
class OptimizerSpec:
    """The training optimizer: ``name`` ``sgd`` (``torch.optim.SGD``) or ``adam``
    (``torch.optim.Adam``), learning rate ``lr`` (per step, before the cosine schedule),
    ``momentum`` (SGD only; 0 = plain SGD) and L2 ``weight_decay`` (added to the gradient as
    ``weight_decay * p``: one multiply and one add per parameter element and step)."""

    name: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False  # SGD only: Nesterov momentum (Sutskever et al., ICML 2013)

    def __post_init__(self) -> None:
        if self.name not in OPTIMIZER_NAMES:
            raise LearningError(f"unknown optimizer {self.name!r}; use sgd or adam")
        if not self.lr > 0 or self.momentum < 0 or self.weight_decay < 0:
            raise LearningError(
                f"optimizer needs lr > 0, momentum >= 0, weight_decay >= 0; got lr={self.lr}, "
                f"momentum={self.momentum}, weight_decay={self.weight_decay}")
        if self.name == "adam" and self.momentum:
            object.__setattr__(self, "momentum", 0.0)  # Adam has no momentum argument
        if self.nesterov and (self.name != "sgd" or self.momentum <= 0):
            raise LearningError("nesterov needs optimizer sgd with momentum > 0")

    @classmethod
    def from_config(cls, cfg: ExperimentConfig | dict[str, Any]) -> OptimizerSpec:
        """The optimizer an experiment trains with; ``cfg`` is an ``ExperimentConfig`` or its
        ``dataclasses.asdict`` dict (keys ``optimizer``, ``lr``, ``momentum``,
        ``weight_decay``; a key missing from a dict takes the ``ExperimentConfig`` default)."""
        from learning.config import ExperimentConfig

        d = cfg if isinstance(cfg, dict) else dataclasses.asdict(cfg)
        dflt = ExperimentConfig()
        return cls(name=str(d.get("optimizer", dflt.optimizer)), lr=float(d.get("lr", dflt.lr)),
                   momentum=float(d.get("momentum", dflt.momentum)),
                   weight_decay=float(d.get("weight_decay", dflt.weight_decay)),
                   nesterov=bool(d.get("nesterov", dflt.nesterov)))

    def label(self) -> str:
        """``sgd(lr=0.05, momentum=0.9, weight_decay=0.0005)`` (for reports)."""
        mom = f", momentum={self.momentum:g}" if self.name == "sgd" else ""
        mom += ", nesterov" if self.nesterov else ""
        return f"{self.name}(lr={self.lr:g}{mom}, weight_decay={self.weight_decay:g})"


def build_optimizer(spec: OptimizerSpec, params: Sequence[torch.Tensor], *,
                    foreach: bool | None = None) -> torch.optim.Optimizer:
    """The training optimizer for ``params`` (the one place it is built: training and the
    training trace). ``foreach``: PyTorch's multi-tensor switch (``None``: its default;
    ``False``: the single-tensor implementation, whose ops the trace counts per parameter)."""
    if spec.name == "adam":
        return torch.optim.Adam(params, lr=spec.lr, weight_decay=spec.weight_decay,
                                foreach=foreach)
    return torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum,
                           weight_decay=spec.weight_decay, nesterov=spec.nesterov,
                           foreach=foreach)


def _cosine(step: int, total: int, warmup: float) -> float:
    """Cosine decay from 1 to 0 over ``total`` steps (Loshchilov & Hutter, ICLR 2017); no
    warm-up (``warmup`` unused)."""
    return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))


def _onecycle(step: int, total: int, warmup: float) -> float:
    """One-cycle (Smith & Topin 2017): linear rise from 0.1 to 1 over the first ``warmup``
    share of the steps, then cosine decay to 0."""
    up = max(1, int(round(warmup * total)))
    if step < up:
        return 0.1 + 0.9 * step / up
    return 0.5 * (1.0 + math.cos(math.pi * min(step - up, total - up) / max(1, total - up)))


def _triangular(step: int, total: int, warmup: float) -> float:
    """Triangular (Smith, WACV 2017; the fast-CIFAR-10 recipes): linear rise from 0.2 to 1
    over the first ``warmup`` share of the steps, then linear decay to 0."""
    up = max(1, int(round(warmup * total)))
    if step < up:
        return 0.2 + 0.8 * step / up
    return max(0.0, 1.0 - (step - up) / max(1, total - up))


#: Learning-rate schedule name -> ``factor(step, total_steps, warmup_fraction)`` multiplying
#: the optimizer's ``lr``. Add one by adding an entry.
LR_SCHEDULES: dict[str, Callable[[int, int, float], float]] = {
    "cosine": _cosine, "onecycle": _onecycle, "triangular": _triangular,
}
PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class Recipe:
    """How :func:`train_model` trains, beyond the optimizer (defaults: the plain recipe).

    ``lr_schedule`` (:data:`LR_SCHEDULES`) with ``warmup_fraction``; ``label_smoothing``
    (Szegedy et al., CVPR 2016); ``translate``: augmentation shifts of up to this many pixels
    (random crop of the zero-padded image) beside the random mirror; ``precision`` ``bf16``:
    the training forward under CPU/CUDA bfloat16 autocast (weights, gradients and the
    optimizer stay fp32); ``channels_last``: NHWC weights and inputs while training;
    ``ema_decay``: weights replaced at the end by their per-step exponential moving average
    (0 = off); ``trunk_views``: with augmentation and a frozen trunk, the trunk outputs of this
    many seeded augmented views of every image are cached and each epoch picks one per image
    (0 = the trunk runs every step); ``tta``: evaluation averages the logits of each image and
    its mirror (:func:`batched`)."""

    lr_schedule: str = "cosine"
    warmup_fraction: float = 0.2
    label_smoothing: float = 0.0
    translate: int = 4
    precision: str = "fp32"
    channels_last: bool = False
    ema_decay: float = 0.0
    trunk_views: int = 0
    tta: bool = False

    def __post_init__(self) -> None:
        checks = [
            (self.lr_schedule in LR_SCHEDULES, "lr_schedule",
             f"use one of: {', '.join(LR_SCHEDULES)}"),
            (0.0 <= self.warmup_fraction < 1.0, "warmup_fraction", "use a share in [0, 1)"),
            (0.0 <= self.label_smoothing < 1.0, "label_smoothing", "use a value in [0, 1)"),
            (isinstance(self.translate, int) and 0 <= self.translate <= 16, "translate",
             "use 0..16 pixels"),
            (self.precision in PRECISIONS, "precision", f"use {' or '.join(PRECISIONS)}"),
            (0.0 <= self.ema_decay < 1.0, "ema_decay", "use a decay in [0, 1); 0 = off"),
            (isinstance(self.trunk_views, int) and 0 <= self.trunk_views <= 64, "trunk_views",
             "use 0..64 views; 0 = no cache under augmentation"),
        ]
        for ok, key, fix in checks:
            if not ok:
                raise LearningError(f"bad {key} {getattr(self, key)!r}; {fix}")

    @classmethod
    def from_config(cls, cfg: ExperimentConfig | dict[str, Any]) -> Recipe:
        """The recipe of an experiment config (or its ``dataclasses.asdict`` dict)."""
        d = cfg if isinstance(cfg, dict) else dataclasses.asdict(cfg)
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{k: d[k] for k in names if k in d})

    def autocast(self, device: torch.device | str) -> contextlib.AbstractContextManager[Any]:
        """bfloat16 autocast on ``device`` for ``precision = "bf16"``, else nothing."""
        if self.precision != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)

    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format


def stage_seed(seed: int, label: str) -> int:
    """A 31-bit seed for one training stage, derived from the experiment seed and its label."""
    h = hashlib.sha256(f"{seed}:{label}".encode()).digest()
    return int.from_bytes(h[:4], "little") & 0x7FFFFFFF


@contextlib.contextmanager
def deterministic() -> Iterator[None]:
    """Deterministic algorithms on (CUDA needs a fixed cuBLAS workspace), restored afterwards."""
    prev = torch.are_deterministic_algorithms_enabled()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev)


def to_float(x: np.ndarray | torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 images -> float32 in [-1, 1]."""
    t = torch.as_tensor(x).to(device)
    return t.float() * PIXEL_SCALE - 1.0


def augment(xb: torch.Tensor, g: torch.Generator, translate: int = 4) -> torch.Tensor:
    """Random crop of the image zero-padded by ``translate`` pixels (a shift of up to
    ``translate`` pixels each way) and random horizontal flip, per image; draws ``dy``, ``dx``
    (skipped when ``translate`` is 0), then the flips, from ``g``."""
    n, c, h, w = xb.shape
    out = xb
    if translate > 0:
        t = translate
        padded = nn.functional.pad(xb, (t, t, t, t))
        dy = torch.randint(0, 2 * t + 1, (n,), generator=g)
        dx = torch.randint(0, 2 * t + 1, (n,), generator=g)
        rows = (dy[:, None] + torch.arange(h))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w))[:, None, None, :]
        out = padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None],
                     rows, cols]
    flip = torch.rand(n, generator=g) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


@dataclass
class TrainStats:
    """What one training run did. ``trunk_cache``: ``none`` (no trunk), ``memory`` or ``disk``
    (trunk outputs computed once and cached there), ``off`` (trunk run every step; the reason
    is in ``trunk_cache_reason``)."""

    epochs: int
    steps: int
    images: int  # images processed (epochs x training-set size)
    train_time_s: float  # includes building the trunk cache
    final_loss: float
    trunk_cache: str = "none"
    trunk_cache_reason: str = ""
    trunk_cache_bytes: int = 0  # bytes of cached trunk outputs
    trunk_cache_time_s: float = 0.0  # seconds spent building the cache (part of train_time_s)
    trunk_views: int = 0  # augmented views per image in the trunk cache (0: plain images)
    resumed_from_epoch: int = 0  # epochs restored from an epoch checkpoint


def _as_list(out: object, batch: int) -> list[torch.Tensor]:
    outs = [out] if isinstance(out, torch.Tensor) else list(out)  # type: ignore[call-overload]
    if not outs or any(not isinstance(t, torch.Tensor) or t.ndim < 1 or t.shape[0] != batch
                       for t in outs):
        raise ValueError("trunk must return a tensor or a list of tensors with the batch as "
                         "first dimension")
    return outs


def trunk_outputs(
    trunk: Callable[[torch.Tensor], Feats], xb: torch.Tensor, batch_size: int
) -> list[torch.Tensor]:
    """``trunk(xb)`` without gradients on exactly ``batch_size`` rows: a shorter batch is
    zero-padded and the padding's outputs dropped (so an image's output does not depend on the
    batch size). Returns a list of contiguous tensors (one per trunk output)."""
    r = int(xb.shape[0])
    if r < batch_size:
        pad = torch.zeros((batch_size - r, *xb.shape[1:]), dtype=xb.dtype, device=xb.device)
        xb = torch.cat([xb, pad])
    with torch.no_grad():
        outs = _as_list(trunk(xb), int(xb.shape[0]))
    return [o[:r].contiguous() for o in outs]


def view_generator(seed: int, view: int) -> torch.Generator:
    """The generator of augmented view ``view`` of a training run seeded ``seed``."""
    return torch.Generator().manual_seed(stage_seed(seed, f"view{view}"))


def _view_batches(
    xt: torch.Tensor, batch_size: int, views: int, seed: int, translate: int,
    device: torch.device | str,
) -> Iterator[tuple[int, torch.Tensor]]:
    """``(first row, float batch)`` over the images ``xt`` (``views`` = 0) or over ``views``
    augmented copies of them, view after view (view ``v`` drawn from
    :func:`view_generator` batch by batch)."""
    n = int(xt.shape[0])
    if views == 0:
        for s in range(0, n, batch_size):
            yield s, to_float(xt[s : s + batch_size], device)
        return
    for v in range(views):
        g = view_generator(seed, v)
        for s in range(0, n, batch_size):
            yield v * n + s, augment(to_float(xt[s : s + batch_size]), g, translate).to(device)


def augmented_views(x: np.ndarray | torch.Tensor, batch_size: int, views: int, seed: int,
                    translate: int = 4) -> torch.Tensor:
    """The ``views`` x ``len(x)`` float images a ``views``-view :class:`TrunkCache` is built
    from, stacked in its row order (for checks; the cache never materializes them)."""
    xt = torch.as_tensor(x)
    return torch.cat([b for _, b in _view_batches(xt, batch_size, views, seed, translate,
                                                   "cpu")])


class TrunkCache:
    """Trunk outputs of every training image, in memory (tensors on the training device) or
    in float memmaps in a temporary folder; :meth:`gather` returns rows in the order asked."""

    def __init__(self, store: list[torch.Tensor] | list[np.ndarray], mode: str, nbytes: int,
                 tmp: tempfile.TemporaryDirectory | None) -> None:
        self.store = store
        self.mode = mode  # "memory" or "disk"
        self.nbytes = nbytes
        self._tmp = tmp

    @classmethod
    def build(
        cls, trunk: Callable[[torch.Tensor], Feats], x: np.ndarray | torch.Tensor,
        batch_size: int, *, limit_bytes: int = DEFAULT_CACHE_LIMIT_BYTES,
        cache_dir: str | Path | None = None, device: torch.device | str = "cpu",
        progress: bool = False, desc: str = "trunk cache", views: int = 0, seed: int = 0,
        translate: int = 4,
    ) -> TrunkCache | str:
        """Run ``trunk`` once over ``x`` (uint8 images) in batches of ``batch_size``. With
        ``views`` > 0: over ``views`` augmented copies instead (:func:`augmented_views`; row
        ``v * len(x) + i`` holds view ``v`` of image ``i``). Returns the cache, or a one-line
        reason (str) when it fits neither the ``limit_bytes`` memory bound nor the free disk
        space."""
        xt = torch.as_tensor(x)
        n = int(xt.shape[0])
        rows = n * max(1, views)
        store: list[Any] = []
        cache: TrunkCache | None = None
        try:
            with tqdm(total=rows, desc=desc, disable=not progress, leave=False,
                      unit="img") as bar:
                for s, xb in _view_batches(xt, batch_size, views, seed, translate, device):
                    outs = trunk_outputs(trunk, xb, batch_size)
                    if cache is None:
                        made = cls._allocate(outs, rows, limit_bytes, cache_dir)
                        if isinstance(made, str):
                            return made
                        cache, store = made, made.store
                    for buf, o in zip(store, outs, strict=True):
                        if isinstance(buf, torch.Tensor):
                            buf[s : s + o.shape[0]].copy_(o)
                        else:
                            buf[s : s + o.shape[0]] = o.cpu().numpy()
                    bar.update(int(outs[0].shape[0]))
        except BaseException:
            if cache is not None:
                cache.close()
            raise
        if cache is None:
            return "no training images"
        if cache.mode == "disk":
            for m in store:
                m.flush()
        return cache

    @classmethod
    def _allocate(cls, outs: list[torch.Tensor], n: int, limit_bytes: int,
                  cache_dir: str | Path | None) -> TrunkCache | str:
        """Empty storage for ``n`` images shaped like the first batch's outputs ``outs``."""
        nbytes = n * sum(o[0].numel() * o.element_size() for o in outs)
        if nbytes <= limit_bytes:
            store = [torch.empty((n, *o.shape[1:]), dtype=o.dtype, device=o.device)
                     for o in outs]
            return cls(store, "memory", nbytes, None)
        need = (f"trunk outputs need {nbytes / 2**30:.2f} GiB, more than the "
                f"{limit_bytes / 2**30:.2f} GiB memory limit")
        try:
            dtypes = [torch.empty((), dtype=o.dtype).numpy().dtype for o in outs]
        except TypeError:
            return f"{need}, and their dtype has no numpy equivalent for a disk cache"
        folder = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir())
        free = shutil.disk_usage(folder).free
        if nbytes + 2**28 > free:  # keep 256 MiB of the disk free
            return f"{need} and the {free / 2**30:.2f} GiB free in {folder}"
        tmp = tempfile.TemporaryDirectory(prefix="pns-trunk-cache-", dir=folder)
        try:
            mms = [np.lib.format.open_memmap(os.path.join(tmp.name, f"act{i}.npy"), mode="w+",
                                             dtype=dt, shape=(n, *o.shape[1:]))
                   for i, (o, dt) in enumerate(zip(outs, dtypes, strict=True))]
        except BaseException:
            tmp.cleanup()
            raise
        return cls(mms, "disk", nbytes, tmp)

    def gather(self, idx: torch.Tensor, device: torch.device | str = "cpu") -> list[torch.Tensor]:
        """Cached outputs of images ``idx`` (in that order), one tensor per trunk output."""
        if self.mode == "memory":
            return [t.index_select(0, idx.to(t.device)).to(device) for t in self.store]
        ii = idx.cpu().numpy()
        return [torch.from_numpy(np.ascontiguousarray(m[ii])).to(device) for m in self.store]

    def close(self) -> None:
        """Free the memory / delete the temporary folder."""
        self.store = []
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


_TRUNK_LABEL = {"none": None, "off": "uncached", "memory": "cached", "disk": "cached:disk"}


def _optimizer_and_schedule(
    modules: nn.Module, spec: OptimizerSpec, recipe: Recipe, *, n: int, epochs: int,
    batch_size: int, desc: str,
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR, int, int]:
    """The optimizer ``spec`` over the ``requires_grad`` parameters of ``modules`` and the
    recipe's learning-rate schedule over all steps of ``epochs`` epochs of ``n`` images in
    batches of ``batch_size``; returns ``(optimizer, schedule, steps per epoch, total
    steps)``."""
    params = [p for p in modules.parameters() if p.requires_grad]
    if not params:
        raise RuntimeError(f"{desc}: nothing to train")
    opt = build_optimizer(spec, params)
    steps_per_epoch = math.ceil(n / batch_size)
    total = epochs * steps_per_epoch
    factor, warm = LR_SCHEDULES[recipe.lr_schedule], recipe.warmup_fraction
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: factor(s, total, warm))
    return opt, sched, steps_per_epoch, total


class _Ema:
    """Exponential moving average (decay ``d`` per step) of the trainable parameters of a
    module and of the running statistics of its trainable BatchNorm layers; frozen tensors
    are never touched."""

    def __init__(self, modules: nn.Module, decay: float) -> None:
        live: dict[int, torch.Tensor] = {}
        for p in modules.parameters():
            if p.requires_grad:
                live[id(p)] = p
        for m in modules.modules():
            if (isinstance(m, nn.modules.batchnorm._BatchNorm) and m.weight is not None
                    and m.weight.requires_grad and m.running_mean is not None):
                live[id(m.running_mean)], live[id(m.running_var)] = m.running_mean, m.running_var
        self.decay = decay
        self.live = list(live.values())
        self.avg = [t.detach().clone() for t in self.live]

    @torch.no_grad()
    def update(self) -> None:
        for a, t in zip(self.avg, self.live, strict=True):
            a.lerp_(t.detach(), 1.0 - self.decay)

    @torch.no_grad()
    def apply(self) -> None:
        """Copy the averages into the module."""
        for a, t in zip(self.avg, self.live, strict=True):
            t.copy_(a)


@dataclass
class _TrunkPlan:
    """How the frozen trunk runs while training: ``mode`` (``TrainStats.trunk_cache``),
    ``cache`` (set when ``mode`` is ``memory`` or ``disk``; ``views`` augmented views per
    image, 0 = the plain images), ``reason`` it is not cached, and ``cache_s`` seconds spent
    building the cache."""

    mode: str = "none"
    reason: str = ""
    cache_s: float = 0.0
    cache: TrunkCache | None = None
    views: int = 0


def _plan_trunk(
    trunk: Callable[[torch.Tensor], Feats] | None, xt: torch.Tensor, batch_size: int, *,
    use_augment: bool, cache_trunk: bool, cache_limit_bytes: int,
    cache_dir: str | Path | None, device: torch.device | str, progress: bool, desc: str,
    t0: float, recipe: Recipe, seed: int,
) -> _TrunkPlan:
    """Decide whether the trunk outputs are cached and, if so, build the cache (its time is
    counted from ``t0``, the start of training; under augmentation ``recipe.trunk_views``
    seeded views per image); logs why they are not cached."""
    if trunk is None:
        return _TrunkPlan()
    plan = _TrunkPlan(mode="off")
    views = recipe.trunk_views if use_augment else 0
    if use_augment and not views:
        plan.reason = ("data augmentation changes the trunk's input every epoch (set "
                       "trunk_views to cache augmented views)")
    elif not cache_trunk:
        plan.reason = "trunk caching disabled"
    else:
        with deterministic(), recipe.autocast(device):
            built = TrunkCache.build(trunk, xt, batch_size, limit_bytes=cache_limit_bytes,
                                     cache_dir=cache_dir, device=device, progress=progress,
                                     desc=f"{desc} trunk", views=views, seed=seed,
                                     translate=recipe.translate)
        plan.cache_s = time.perf_counter() - t0
        if isinstance(built, str):
            plan.reason = built
        else:
            plan.cache, plan.mode, plan.views = built, built.mode, views
    if plan.reason:
        _log.info("%s: trunk outputs not cached: %s", desc, plan.reason)
        if progress:
            tqdm.write(f"{desc}: trunk outputs not cached: {plan.reason}")
    return plan


@dataclass
class _Epoch:
    """What every training step reads: the (DDP-wrapped) forward, optimizer and schedule, the
    uint8 training images ``xt`` and labels ``yt`` (``n`` of them), the shuffling and
    augmentation generator ``g``, the trunk and its plan, the recipe, the weight average and
    the progress bar."""

    step_forward: Callable[[Any], torch.Tensor]
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    xt: torch.Tensor
    yt: torch.Tensor
    n: int
    g: torch.Generator
    batch_size: int
    steps_per_epoch: int
    use_augment: bool
    device: torch.device | str
    trunk: Callable[[torch.Tensor], Feats] | None
    plan: _TrunkPlan
    bar: tqdm
    recipe: Recipe = Recipe()
    ema: _Ema | None = None


def _fmt(t: torch.Tensor, recipe: Recipe) -> torch.Tensor:
    """``t`` in the recipe's memory format (4-D tensors only)."""
    return t.contiguous(memory_format=recipe.memory_format()) if t.ndim == 4 else t


def _step_inputs(ep: _Epoch, full: torch.Tensor, mine: torch.Tensor, idx: torch.Tensor,
                 rows: torch.Tensor) -> Any:
    """``forward``'s input for one step: the cached trunk outputs of rows ``rows`` (images
    ``idx``, in the epoch's chosen views), else the batch ``full`` (augmented as a whole),
    this process's share ``mine``, through the trunk."""
    cache, trunk = ep.plan.cache, ep.trunk
    if cache is not None:
        feats: Any = [_fmt(t, ep.recipe) for t in cache.gather(rows, ep.device)]
    else:
        xb = to_float(ep.xt[full])
        if ep.use_augment:
            xb = augment(xb, ep.g, ep.recipe.translate)
        feats = _fmt(xb[mine].to(ep.device), ep.recipe)
        if trunk is not None:
            feats = trunk_outputs(trunk, feats, ep.batch_size)
    if trunk is not None and len(feats) == 1:
        feats = feats[0]
    return feats


def _train_epoch(ep: _Epoch, loss_v: float) -> float:
    """One epoch: a fresh permutation drawn from ``ep.g`` (and, with cached views, one view
    per image), then one optimizer and schedule step per batch. Returns the last step's loss
    (``loss_v`` when the epoch has no step)."""
    batch_size = ep.batch_size
    perm = torch.randperm(ep.n, generator=ep.g)
    views = ep.plan.views
    offset = (torch.randint(0, views, (ep.n,), generator=ep.g) * ep.n if views
              else torch.zeros(ep.n, dtype=torch.long))
    for s in range(ep.steps_per_epoch):
        full = perm[s * batch_size : (s + 1) * batch_size]
        # under torchrun: this process's share of the batch (augmentation draws
        # for the whole batch, so every process's generator stays in step)
        mine = distributed.shard(torch.arange(full.numel()))
        idx = full[mine]
        yb = ep.yt[idx].to(ep.device)
        with ep.recipe.autocast(ep.device):
            logits = ep.step_forward(_step_inputs(ep, full, mine, idx, offset[idx] + idx))
        loss = nn.functional.cross_entropy(logits.float(), yb,
                                           label_smoothing=ep.recipe.label_smoothing)
        ep.opt.zero_grad(set_to_none=True)
        loss.backward()
        ep.opt.step()
        ep.sched.step()
        if ep.ema is not None:
            ep.ema.update()
        loss_v = float(loss.detach())
        ep.bar.update(1)
        post = {"loss": f"{loss_v:.3f}"}
        if _TRUNK_LABEL[ep.plan.mode]:
            post["trunk"] = _TRUNK_LABEL[ep.plan.mode]
        ep.bar.set_postfix(post, refresh=False)
    return loss_v


def _train_stats(epochs: int, total: int, n: int, elapsed_s: float, loss_v: float,
                 plan: _TrunkPlan, nbytes: int, resumed: int) -> TrainStats:
    """The :class:`TrainStats` of a finished run (``elapsed_s`` seconds of training)."""
    return TrainStats(epochs, total, epochs * n, elapsed_s, loss_v,
                      trunk_cache=plan.mode, trunk_cache_reason=plan.reason,
                      trunk_cache_bytes=nbytes, trunk_cache_time_s=plan.cache_s,
                      trunk_views=plan.views, resumed_from_epoch=resumed)


def epoch_state(ep: _Epoch, modules: nn.Module, epoch: int, loss_v: float,
                elapsed_s: float) -> dict[str, Any]:
    """Everything needed to resume training after ``epoch`` finished epochs: the weights,
    optimizer, schedule, shuffling generator, global torch RNG (dropout) and weight average
    (copies; ``torch.load(weights_only=True)`` reads it back)."""
    return {
        "epoch": epoch, "loss": loss_v, "elapsed_s": elapsed_s,
        "modules": {k: v.detach().clone() for k, v in modules.state_dict().items()},
        "opt": copy.deepcopy(ep.opt.state_dict()), "sched": ep.sched.state_dict(),
        "g": ep.g.get_state(), "torch_rng": torch.get_rng_state(),
        "ema": [a.clone() for a in ep.ema.avg] if ep.ema is not None else [],
    }


def _restore(state: dict[str, Any], ep: _Epoch, modules: nn.Module) -> tuple[int, float, float]:
    """Load an :func:`epoch_state` into a fresh run; returns ``(epoch, loss, elapsed_s)``."""
    modules.load_state_dict(state["modules"])
    ep.opt.load_state_dict(state["opt"])
    ep.sched.load_state_dict(state["sched"])
    ep.g.set_state(state["g"])
    torch.set_rng_state(state["torch_rng"])
    if ep.ema is not None:
        if len(state["ema"]) != len(ep.ema.avg):
            raise LearningError("epoch checkpoint has no weight average; rerun with --fresh")
        for a, b in zip(ep.ema.avg, state["ema"], strict=True):
            a.copy_(b)
    return int(state["epoch"]), float(state["loss"]), float(state["elapsed_s"])


def train_model(
    forward: Callable[[Any], torch.Tensor],
    modules: nn.Module,
    x: np.ndarray,
    y_local: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    optimizer: str = "sgd",
    nesterov: bool = False,
    use_augment: bool = False,
    seed: int = 0,
    device: torch.device | str = "cpu",
    desc: str = "train",
    progress: bool = True,
    trunk: Callable[[torch.Tensor], Feats] | None = None,
    cache_trunk: bool = True,
    cache_limit_bytes: int = DEFAULT_CACHE_LIMIT_BYTES,
    cache_dir: str | Path | None = None,
    recipe: Recipe | None = None,
    resume: dict[str, Any] | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> TrainStats:
    """Train the ``requires_grad`` parameters of ``modules`` by cross-entropy of
    ``forward(images)`` against ``y_local`` (labels 0..C-1) with ``recipe`` (default: cosine
    decay, fp32, no smoothing). The optimizer is ``build_optimizer(OptimizerSpec(optimizer,
    lr, momentum, weight_decay, nesterov))``.

    With a frozen ``trunk`` (image batch -> tensor or list of tensors, run without gradients),
    ``forward`` receives ``trunk(images)`` instead of the images. Without augmentation (or with
    ``recipe.trunk_views`` augmented views) and with ``cache_trunk`` the trunk outputs are
    computed once (:class:`TrunkCache`; in memory up to ``cache_limit_bytes``, else in a
    memmap under ``cache_dir``, default the system temp folder) and each epoch trains only
    the branch. ``on_epoch(state)`` gets an :func:`epoch_state` after every epoch but the
    last; ``resume`` (such a state) continues from its epoch with the same result as an
    uninterrupted run."""
    recipe = recipe if recipe is not None else Recipe()
    n = int(y_local.size)
    modules.to(memory_format=recipe.memory_format())
    opt, sched, steps_per_epoch, total = _optimizer_and_schedule(
        modules, OptimizerSpec(optimizer, lr, momentum, weight_decay, nesterov), recipe, n=n,
        epochs=epochs, batch_size=batch_size, desc=desc)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    xt = torch.as_tensor(x)
    yt = torch.as_tensor(y_local, dtype=torch.long)
    t0 = time.perf_counter()
    plan = _plan_trunk(trunk, xt, batch_size, use_augment=use_augment, cache_trunk=cache_trunk,
                       cache_limit_bytes=cache_limit_bytes, cache_dir=cache_dir, device=device,
                       progress=progress, desc=desc, t0=t0, recipe=recipe, seed=seed)
    modules.train()
    step_forward = distributed.wrap(modules, forward, device)  # DDP under torchrun
    ema = _Ema(modules, recipe.ema_decay) if recipe.ema_decay > 0 else None
    try:
        with deterministic(), tqdm(total=total, desc=desc, disable=not progress, leave=False,
                                   unit="step") as bar:
            ep = _Epoch(step_forward=step_forward, opt=opt, sched=sched, xt=xt, yt=yt, n=n, g=g,
                        batch_size=batch_size, steps_per_epoch=steps_per_epoch,
                        use_augment=use_augment, device=device, trunk=trunk, plan=plan, bar=bar,
                        recipe=recipe, ema=ema)
            start, loss_v, before_s = 0, float("nan"), 0.0
            if resume is not None:
                start, loss_v, before_s = _restore(resume, ep, modules)
                bar.update(start * steps_per_epoch)
            for e in range(start, epochs):
                loss_v = _train_epoch(ep, loss_v)
                if on_epoch is not None and e + 1 < epochs:
                    on_epoch(epoch_state(ep, modules, e + 1, loss_v,
                                         before_s + time.perf_counter() - t0))
    finally:
        nbytes = plan.cache.nbytes if plan.cache is not None else 0
        if plan.cache is not None:
            plan.cache.close()
    if ema is not None:
        ema.apply()
    modules.to(memory_format=torch.contiguous_format)
    modules.eval()
    return _train_stats(epochs, total, n, before_s + time.perf_counter() - t0, loss_v, plan,
                        nbytes, start)


@torch.no_grad()
def batched(
    fn: Callable[[torch.Tensor], torch.Tensor | list[torch.Tensor]],
    x: np.ndarray,
    batch_size: int = 500,
    device: torch.device | str = "cpu",
    tta: bool = False,
    memory_format: torch.memory_format = torch.contiguous_format,
) -> list[torch.Tensor]:
    """Apply ``fn`` (returning one tensor or a list) to ``x`` in fixed batches; concatenate on
    CPU. Always returns a list (one entry per output). ``tta``: each output is the mean of
    ``fn`` on the images and on their horizontal mirrors (test-time flip augmentation).
    ``memory_format``: the images' layout (``torch.channels_last``: NHWC, 1.4-1.8x faster
    fp32 convolutions on this CPU; same values up to float rounding)."""
    outs: list[list[torch.Tensor]] = []
    xt = torch.as_tensor(x)
    for s in range(0, xt.shape[0], batch_size):
        xb = to_float(xt[s : s + batch_size], device).contiguous(memory_format=memory_format)
        r = fn(xb)
        r = r if isinstance(r, list) else [r]
        if tta:
            m = fn(xb.flip(-1))
            m = m if isinstance(m, list) else [m]
            r = [(a + b) * 0.5 for a, b in zip(r, m, strict=True)]
        if not outs:
            outs = [[] for _ in r]
        for o, t in zip(outs, r, strict=True):
            o.append(t.detach().cpu())
    return [torch.cat(o) for o in outs]


def tensor_digest(t: torch.Tensor) -> str:
    """sha256 of a tensor's bytes (bit-identity checks)."""
    return hashlib.sha256(t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


def module_digest(m: nn.Module) -> str:
    """sha256 over a module's state dict (parameters and buffers, in order)."""
    h = hashlib.sha256()
    for k, v in m.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def accuracy_pct(pred: torch.Tensor, y: np.ndarray | torch.Tensor) -> float:
    yt = torch.as_tensor(y)
    return 100.0 * float((pred.cpu() == yt).double().mean()) if yt.numel() else float("nan")


def topk_pct(scores: torch.Tensor, y: np.ndarray | torch.Tensor, k: int) -> float:
    yt = torch.as_tensor(y).view(-1, 1)
    top = scores.topk(k, dim=1).indices.cpu()
    return 100.0 * float((top == yt).any(dim=1).double().mean())


# ----------------------------------------------------------------------------------------------
# Independent training jobs in parallel processes
# ----------------------------------------------------------------------------------------------


def _run_job(threads: int, payload: bytes) -> bytes:
    """Worker side of :func:`run_parallel`: set the thread count, unpickle ``(fn, args)``, run,
    pickle the result."""
    torch.set_num_threads(threads)
    fn, args = pickle.loads(payload)
    return pickle.dumps(fn(*args), protocol=pickle.HIGHEST_PROTOCOL)


def run_parallel(
    fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]], workers: int, threads: int,
) -> Iterator[tuple[int, Any]]:
    """Run ``fn(*job)`` for every job in ``workers`` spawned processes with ``threads`` torch
    threads each; yield ``(job index, result)`` as jobs finish. ``fn`` and the jobs are pickled
    together (objects shared between them stay shared in the worker) with plain pickle, not
    through shared memory; an exception in a job is raised here."""
    if not jobs:
        return
    ctx = torch.multiprocessing.get_context("spawn")
    ex = ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs))), mp_context=ctx)
    try:
        futs = {
            ex.submit(_run_job, threads,
                      pickle.dumps((fn, tuple(job)), protocol=pickle.HIGHEST_PROTOCOL)): i
            for i, job in enumerate(jobs)
        }
        for f in as_completed(futs):
            yield futs[f], pickle.loads(f.result())
    finally:
        ex.shutdown(wait=True, cancel_futures=True)
