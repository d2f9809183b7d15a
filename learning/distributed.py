"""Data-parallel training of one run over several processes with ``torch.distributed`` (DDP),
launched by the standard ``torchrun`` launcher (which sets ``RANK``, ``LOCAL_RANK``,
``WORLD_SIZE`` and the rendezvous address).

Every process runs the whole experiment; while a stage trains, each process takes its share
(``rank::world_size``) of every mini-batch and ``DistributedDataParallel`` averages the gradients,
so all replicas stay identical. BatchNorm statistics are per process (no SyncBatchNorm). Only
rank 0 writes checkpoints and results. Backend: NCCL on CUDA, gloo on CPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn


def launched() -> bool:
    """True when started by torchrun with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_env(device: str) -> None:
    """Join the process group torchrun describes (no-op for a single process)."""
    import torch.distributed as dist

    if not launched() or dist.is_initialized():
        return
    cuda = device in ("cuda", "auto") and torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend="nccl" if cuda else "gloo")


def active() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    import torch.distributed as dist

    return dist.get_rank() if active() else 0


def world_size() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """The process that writes files (rank 0, or the only process)."""
    return rank() == 0


def local_device(device: torch.device) -> torch.device:
    """``cuda`` becomes this process's GPU (``LOCAL_RANK``) under torchrun."""
    if device.type == "cuda" and device.index is None and active():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return device


def shard(idx: torch.Tensor) -> torch.Tensor:
    """This process's share of a mini-batch's indices; a batch smaller than the world size is
    used whole by every process (identical data, so the averaged gradient is unchanged)."""
    w = world_size()
    return idx if w == 1 or idx.numel() < w else idx[rank() :: w]


class _Forward(nn.Module):
    """A module whose forward is ``fn``, holding the parameters ``fn`` trains (for DDP)."""

    def __init__(self, modules: nn.Module, fn: Callable[[Any], torch.Tensor]) -> None:
        super().__init__()
        self.inner = modules
        self._fn = fn

    def forward(self, x: Any) -> torch.Tensor:
        return self._fn(x)


def wrap(modules: nn.Module, fn: Callable[[Any], torch.Tensor], device: torch.device | str,
         ) -> Callable[[Any], torch.Tensor]:
    """``fn`` unchanged for one process; otherwise a DDP module around ``modules`` calling it."""
    if not active():
        return fn
    from torch.nn.parallel import DistributedDataParallel

    dev = torch.device(device)
    ids = [dev.index] if dev.type == "cuda" and dev.index is not None else None
    return DistributedDataParallel(_Forward(modules, fn), device_ids=ids)
