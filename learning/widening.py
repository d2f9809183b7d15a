"""Approach 1's new kernels (Sarwar, Ankit, Roy, IEEE Access 2019, Sec. III-A, Table 1): how they
start (``widen_init``, registry :data:`WIDEN_INITS`) and the widened copy of a conv block that
the "without sharing" network of approach 1 fine-tunes as a whole.

The paper: "the new kernels are initialized with random values having the same distribution as
the learned weights of that layer" (cloning learned filters "gave similar results"). Initializers:

- ``distribution`` (default): normal draws with the mean and standard deviation of the learned
  kernels of the layer (weights from the learned weights, biases from the learned biases),
- ``clone``: copies of randomly chosen learned kernels (and their biases) plus normal noise of
  :data:`CLONE_NOISE` times the learned weights' (biases') standard deviation,
- ``default``: PyTorch's default initialization of a fresh conv layer (Kaiming uniform).

Add one with :func:`register_widen_init`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from learning.errors import LearningError
from learning.models import ConvStack

#: Noise of the ``clone`` initializer, as a fraction of the learned values' standard deviation.
CLONE_NOISE = 0.01

#: ``(learned, k, generator) -> k new rows`` (``learned``: the layer's learned weights
#: ``(n, c, kh, kw)`` or biases ``(n,)``); ``None``: keep the fresh layer's values.
KernelInit = Callable[[torch.Tensor, int, torch.Generator], torch.Tensor | None]


def _std(x: torch.Tensor) -> float:
    return float(x.std()) if x.numel() > 1 else 0.0


def init_distribution(learned: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """``k`` rows of normal draws with the learned values' mean and standard deviation."""
    shape = (k, *learned.shape[1:])
    z = torch.randn(shape, generator=gen, dtype=torch.float64)
    return (float(learned.mean()) + _std(learned) * z).to(learned.dtype)


def init_clone(learned: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """``k`` randomly chosen learned rows plus noise (:data:`CLONE_NOISE` x their std)."""
    idx = torch.randint(0, learned.shape[0], (k,), generator=gen)
    noise = torch.randn((k, *learned.shape[1:]), generator=gen, dtype=torch.float64)
    return (learned[idx].double() + CLONE_NOISE * _std(learned) * noise).to(learned.dtype)


def init_default(learned: torch.Tensor, k: int, gen: torch.Generator) -> None:
    """Keep PyTorch's default initialization of the new layer."""
    return None


#: ``widen_init`` name -> initializer.
WIDEN_INITS: dict[str, KernelInit] = {
    "distribution": init_distribution, "clone": init_clone, "default": init_default,
}


def register_widen_init(name: str, init: KernelInit) -> None:
    """Make ``init`` selectable as ``widen_init = name``."""
    WIDEN_INITS[name] = init


def check_widen_init(name: str) -> KernelInit:
    """The initializer called ``name``, or one :class:`LearningError` line listing the names."""
    if name not in WIDEN_INITS:
        raise LearningError(f"unknown widen_init {name!r}; use one of: {', '.join(WIDEN_INITS)}")
    return WIDEN_INITS[name]


def last_conv(unit: nn.Module) -> nn.Conv2d:
    """The conv layer of a :class:`ConvStack` unit (conv [-> BN] -> activation)."""
    conv = unit[0] if isinstance(unit, nn.Sequential) else None
    if not isinstance(conv, nn.Conv2d):
        raise LearningError("a widened unit must start with an nn.Conv2d")
    return conv


@torch.no_grad()
def init_new_kernels(new: nn.Conv2d, learned: list[nn.Conv2d], how: str, seed: int) -> None:
    """Set the kernels (and biases) of the fresh conv ``new`` by initializer ``how`` from the
    learned kernels of its layer (``learned``: the layer's conv modules, concatenated)."""
    init = check_widen_init(how)
    gen = torch.Generator().manual_seed(int(seed) % 2**63)
    w = torch.cat([c.weight.detach().cpu() for c in learned])
    k = new.out_channels
    neww = init(w, k, gen)
    if neww is not None:
        new.weight.copy_(neww)
    if new.bias is not None and all(c.bias is not None for c in learned):
        b = torch.cat([c.bias.detach().cpu() for c in learned])  # type: ignore[union-attr]
        newb = init(b, k, gen)
        if newb is not None:
            new.bias.copy_(newb)


@torch.no_grad()
def grown_stack(stack: ConvStack, new_unit: nn.Sequential) -> ConvStack:
    """A copy of ``stack`` whose last conv layer computes its own maps and then ``new_unit``'s
    (conv [-> BN] -> activation, same geometry): the widened block of approach 1's network
    without sharing, every parameter trainable."""
    out = copy.deepcopy(stack)
    old = out.units[-1]
    c_in, k = last_conv(old).in_channels, last_conv(new_unit).out_channels
    o, kernel, stride, pad = out.spec[-1]
    unit = out._unit(c_in, o + k, kernel, stride, pad)
    for dst, a, b in zip(unit, old, new_unit, strict=True):
        for name, t in [*dst.named_parameters(recurse=False), *dst.named_buffers(recurse=False)]:
            if name == "num_batches_tracked":
                t.copy_(getattr(a, name))
            else:
                t.copy_(torch.cat([getattr(a, name), getattr(b, name)]))
    out.units[-1] = unit
    out.spec[-1] = (o + k, kernel, stride, pad)
    out.out_channels = o + k
    return out
