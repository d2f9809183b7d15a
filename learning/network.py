"""The updated network: a frozen shared trunk run once per input, one branch per task, and a
pluggable rule that combines the branches' calibrated class probabilities into one prediction.

Branch kinds:

- :class:`CloneBranch` (approaches 2 and 3, and the no-sharing baseline with ``share_k = 0``):
  blocks ``share_k..end`` of the base network, cloned, with a new output layer.
- :class:`WidenBranch` (approach 1): ``k`` new maps of the last conv layer, computed from the
  trunk, concatenated with the frozen old maps, and a new output layer over both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from learning.errors import LearningError
from learning.models import BlockNet, ConvStack, Head, WidenedMaps, freeze


class CloneBranch(nn.Module):
    """Blocks applied to trunk activation ``acts[share_k]`` (output of the first ``share_k``
    base blocks; ``acts[0]`` is the input image)."""

    kind = "clone"

    def __init__(self, share_k: int, blocks: Sequence[nn.Module]) -> None:
        super().__init__()
        self.share_k = int(share_k)
        self.blocks = nn.ModuleList(list(blocks))

    def needs(self) -> int:
        """Deepest trunk activation index this branch reads."""
        return self.share_k

    def forward(self, acts: Sequence[torch.Tensor]) -> torch.Tensor:
        x = acts[self.share_k]
        for b in self.blocks:
            x = b(x)
        return x


class WidenBranch(nn.Module):
    """Approach 1: new maps ``new_maps(acts[n-2])`` next to the frozen old maps ``acts[n-1]``,
    then a new output layer over both (only ``new_maps.new_unit`` and ``head`` train)."""

    kind = "widen"

    def __init__(self, num_blocks: int, new_maps: WidenedMaps, head: nn.Module) -> None:
        super().__init__()
        self.num_blocks = int(num_blocks)
        self.share_k = self.num_blocks - 2
        self.new_maps = new_maps
        self.head = head

    def needs(self) -> int:
        return self.num_blocks - 1

    def forward(self, acts: Sequence[torch.Tensor]) -> torch.Tensor:
        new = self.new_maps(acts[self.num_blocks - 2])
        return self.head(torch.cat([acts[self.num_blocks - 1], new], dim=1))


Branch = CloneBranch | WidenBranch


def trunk_acts(base: BlockNet, x: torch.Tensor, upto: int) -> list[torch.Tensor]:
    """``[x, block0(x), block1(block0(x)), ...]`` up to index ``upto``; no gradients."""
    acts = [x]
    with torch.no_grad():
        for b in base.blocks[:upto]:
            acts.append(b(acts[-1]))
    return acts


def base_branch(base: BlockNet) -> CloneBranch:
    """The base network seen as the task-0 branch: its head on the trunk's last activation."""
    return CloneBranch(len(base.blocks) - 1, [base.blocks[-1]])


def make_clone_branch(
    source: BlockNet | CloneBranch, base: BlockNet, share_k: int, num_classes: int, seed: int
) -> CloneBranch:
    """Clone blocks ``share_k..end`` of ``source`` (a base network, or a full-depth branch for
    the no-sharing baseline) initialized from its weights, with a new output layer."""
    import copy

    from learning.models import replace_output_layer

    n = len(base.blocks)
    if not 0 <= share_k <= n - 1:
        raise LearningError(f"sharing point {share_k} is outside 0..{n - 1} blocks")
    if isinstance(source, CloneBranch):
        if source.share_k != 0:
            raise LearningError("a no-sharing clone needs a full-depth source branch")
        src_blocks = list(source.blocks)
    else:
        src_blocks = list(source.blocks)
    blocks = [copy.deepcopy(b) for b in src_blocks[share_k:-1]]
    blocks.append(replace_output_layer(src_blocks[-1], num_classes, seed=seed))
    branch = CloneBranch(share_k, blocks)
    for p in branch.parameters():
        p.requires_grad_(True)
    return branch


def make_widen_branch(base: BlockNet, new_maps: int, num_classes: int, seed: int) -> WidenBranch:
    """Approach 1 branch: ``new_maps`` new kernels in the last conv layer + new output neurons."""
    n = len(base.blocks)
    last = base.blocks[-2] if n >= 2 else None
    if not isinstance(last, ConvStack) or not isinstance(base.blocks[-1], Head):
        raise LearningError(
            "approach 1 (widen) needs a model whose last feature block is a ConvStack and whose "
            "head is a Head (lenet, mlpconv); use approach clone or partial for this model"
        )
    torch.manual_seed(seed)
    maps = last.widen(new_maps)
    with torch.no_grad():
        probe = torch.zeros(1, *base.input_shape) if hasattr(base, "input_shape") else None
    if probe is None:
        raise LearningError("base network lacks input_shape; build it with build_model")
    acts = trunk_acts(base, probe, n - 1)
    was = maps.training
    maps.eval()
    with torch.no_grad():
        feat = torch.cat([acts[n - 1], maps(acts[n - 2])], dim=1)
    maps.train(was)
    head_pool = base.blocks[-1].pool
    in_features = feat.shape[1] if head_pool == "gap" else int(np.prod(feat.shape[1:]))
    head = Head(in_features, num_classes, pool=head_pool)
    return WidenBranch(n, maps, head)


def trainable_params(branch: nn.Module) -> int:
    """Parameters (elements) the branch trains (``requires_grad``)."""
    return sum(p.numel() for p in branch.parameters() if p.requires_grad)


def own_params(branch: nn.Module) -> int:
    """Parameters (elements) owned by the branch (excludes shared, referenced modules)."""
    return sum(p.numel() for p in branch.parameters())


# ----------------------------------------------------------------------------------------------
# Calibration and combination
# ----------------------------------------------------------------------------------------------


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Temperature ``T`` minimizing the NLL of ``softmax(logits / T)`` on a validation split
    (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017). Deterministic
    coarse-to-fine search over ``log T`` in [-3, 3]."""
    logits = logits.double()
    labels = labels.long()

    def nll(log_t: float) -> float:
        return float(nn.functional.cross_entropy(logits / math.exp(log_t), labels))

    grid = np.linspace(-3.0, 3.0, 61)
    best = min(grid, key=nll)
    step = grid[1] - grid[0]
    for _ in range(3):
        fine = np.linspace(best - step, best + step, 21)
        best = min(fine, key=nll)
        step = fine[1] - fine[0]
    return float(math.exp(best))


class MaxCalibratedProbability:
    """Combination rule: each branch's ``softmax(logits / T_branch)`` is placed in its classes'
    columns; the prediction is the column with the highest calibrated probability."""

    name = "max-prob"

    def __call__(
        self, logits: Sequence[torch.Tensor], temperatures: Sequence[float],
        classes: Sequence[Sequence[int]], num_classes: int,
    ) -> torch.Tensor:
        n = logits[0].shape[0]
        scores = torch.full((n, num_classes), -1.0, dtype=torch.float64)
        for lg, t, cls in zip(logits, temperatures, classes, strict=True):
            scores[:, list(cls)] = torch.softmax(lg.double() / t, dim=1)
        return scores


COMBINERS: dict[str, Callable[[], MaxCalibratedProbability]] = {
    "max-prob": MaxCalibratedProbability,
}


class UpdatedNetwork(nn.Module):
    """Frozen base network (the trunk) + one branch per task; the trunk runs once per input."""

    def __init__(self, base: BlockNet, combiner: str = "max-prob") -> None:
        super().__init__()
        self.base = freeze(base)
        self.branches = nn.ModuleList()
        self.classes: list[list[int]] = []
        self.temperatures: list[float] = []
        self.combiner = COMBINERS[combiner]()

    def add_branch(self, branch: nn.Module, classes: Sequence[int], temperature: float) -> None:
        freeze(branch)
        self.branches.append(branch)
        self.classes.append([int(c) for c in classes])
        self.temperatures.append(float(temperature))

    def train(self, mode: bool = True) -> UpdatedNetwork:
        """Always eval: an updated network is never trained as a whole."""
        return super().train(False)

    @torch.no_grad()
    def branch_logits(self, x: torch.Tensor, upto: int | None = None) -> list[torch.Tensor]:
        """Logits of branches ``0..upto-1`` (all by default)."""
        branches = list(self.branches)[: upto if upto is not None else len(self.branches)]
        deepest = max(b.needs() for b in branches)
        acts = trunk_acts(self.base, x, deepest)
        return [b(acts) for b in branches]

    @torch.no_grad()
    def scores(self, x: torch.Tensor, upto: int | None = None) -> torch.Tensor:
        """Combined class scores ``(N, num_classes)`` over the classes of branches ``<upto``."""
        logits = self.branch_logits(x, upto)
        k = len(logits)
        num = max(max(c) for c in self.classes[:k]) + 1
        return self.combiner(logits, self.temperatures[:k], self.classes[:k], num)
