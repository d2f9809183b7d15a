"""Deterministic mini-batch training and batched evaluation on uint8 image arrays.

Determinism: every training run seeds the global torch RNG (initialization, dropout) and its own
``torch.Generator`` (shuffling, augmentation) from one integer, and
``torch.use_deterministic_algorithms(True)`` is on while training, so the same seed and inputs
give bit-identical weights.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

# Pixel scaling: uint8 0..255 -> [-1, 1] (fixed, so no statistic is computed from any task's
# data before it is learned).
PIXEL_SCALE = 2.0 / 255.0


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


def augment(xb: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random crop with 4-pixel zero padding and random horizontal flip (per image)."""
    n, _, h, w = xb.shape
    padded = nn.functional.pad(xb, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=g)
    dx = torch.randint(0, 9, (n,), generator=g)
    flip = torch.rand(n, generator=g) < 0.5
    out = torch.empty_like(xb)
    for i in range(n):
        img = padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w]
        out[i] = img.flip(-1) if flip[i] else img
    return out


@dataclass
class TrainStats:
    """What one training run did."""

    epochs: int
    steps: int
    images: int  # images processed (epochs x training-set size)
    train_time_s: float
    final_loss: float


def train_model(
    forward: Callable[[torch.Tensor], torch.Tensor],
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
    use_augment: bool = False,
    seed: int = 0,
    device: torch.device | str = "cpu",
    desc: str = "train",
    progress: bool = True,
) -> TrainStats:
    """Train the ``requires_grad`` parameters of ``modules`` by cross-entropy of
    ``forward(images)`` against ``y_local`` (labels 0..C-1), cosine learning-rate decay."""
    params = [p for p in modules.parameters() if p.requires_grad]
    if not params:
        raise RuntimeError(f"{desc}: nothing to train")
    if optimizer == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    n = int(y_local.size)
    steps_per_epoch = math.ceil(n / batch_size)
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, total) / total))
    )
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    xt = torch.as_tensor(x)
    yt = torch.as_tensor(y_local, dtype=torch.long)
    t0 = time.perf_counter()
    loss_v = float("nan")
    modules.train()
    with deterministic(), tqdm(total=total, desc=desc, disable=not progress, leave=False,
                               unit="step") as bar:
        for _ in range(epochs):
            perm = torch.randperm(n, generator=g)
            for s in range(steps_per_epoch):
                idx = perm[s * batch_size : (s + 1) * batch_size]
                xb = to_float(xt[idx])
                if use_augment:
                    xb = augment(xb, g)
                xb = xb.to(device)
                yb = yt[idx].to(device)
                loss = nn.functional.cross_entropy(forward(xb), yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                loss_v = float(loss.detach())
                bar.update(1)
                bar.set_postfix(loss=f"{loss_v:.3f}", refresh=False)
    modules.eval()
    return TrainStats(epochs, total, epochs * n, time.perf_counter() - t0, loss_v)


@torch.no_grad()
def batched(
    fn: Callable[[torch.Tensor], torch.Tensor | list[torch.Tensor]],
    x: np.ndarray,
    batch_size: int = 500,
    device: torch.device | str = "cpu",
) -> list[torch.Tensor]:
    """Apply ``fn`` (returning one tensor or a list) to ``x`` in fixed batches; concatenate on
    CPU. Always returns a list (one entry per output)."""
    outs: list[list[torch.Tensor]] = []
    xt = torch.as_tensor(x)
    for s in range(0, xt.shape[0], batch_size):
        r = fn(to_float(xt[s : s + batch_size], device))
        r = r if isinstance(r, list) else [r]
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
