"""The updated network: a frozen shared trunk run once per input, one branch per task, and a
pluggable rule (:mod:`learning.combine`) that combines the branches into one prediction.

Branch kinds:

- :class:`CloneBranch` (approaches 2 and 3, and the no-sharing baseline with ``share_k = 0``):
  blocks ``share_k..end`` of the base network, cloned, with a new output layer.
- :class:`WidenBranch` (approach 1): ``k`` new maps of the last conv layer, computed from the
  trunk, concatenated with the frozen old maps, and a new output layer over both.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from learning.combine import DEFAULT_RULE, BranchOutput, BranchStats, get_rule
from learning.errors import LearningError
from learning.models import BlockNet, ConvStack, Head, WidenedMaps, freeze, output_layer


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
    then a new output layer over both (only ``new_maps.new_unit`` and ``head`` train).

    Cumulative growth (``widen_cumulative``, the paper's Table 1): ``earlier`` holds the maps of
    every earlier installment (their branches' ``new_maps``, frozen, referenced in a plain list:
    neither owned, trained nor saved here); the head reads ``[old maps, earlier installments'
    maps in task order, own new maps]``."""

    kind = "widen"

    def __init__(self, num_blocks: int, new_maps: WidenedMaps, head: nn.Module,
                 earlier: Sequence[WidenedMaps] = ()) -> None:
        super().__init__()
        self.num_blocks = int(num_blocks)
        self.share_k = self.num_blocks - 2
        self.new_maps = new_maps
        self.head = head
        self._earlier = list(earlier)

    @property
    def earlier(self) -> list[WidenedMaps]:
        """The frozen maps of earlier installments this branch reads (task order)."""
        return list(self._earlier)

    @property
    def added_maps(self) -> int:
        """Maps this branch adds to the base's last conv layer: earlier installments' + own."""
        return sum(_new_conv(m).out_channels for m in [*self._earlier, self.new_maps])

    def reused_params(self) -> int:
        """Parameters (elements) of the earlier installments' frozen maps it reads."""
        return sum(p.numel() for m in self._earlier for p in m.parameters())

    def needs(self) -> int:
        return self.num_blocks - 1

    def forward(self, acts: Sequence[torch.Tensor]) -> torch.Tensor:
        x = acts[self.num_blocks - 2]
        maps = [acts[self.num_blocks - 1]]
        if self._earlier:
            with torch.no_grad():
                maps += [m(x) for m in self._earlier]
        maps.append(self.new_maps(x))
        return self.head(torch.cat(maps, dim=1))

    def _apply(self, fn, recurse=True):  # type: ignore[no-untyped-def]
        """``.to()`` / ``.double()`` also reach the referenced earlier maps (a copied network
        moved to another device)."""
        super()._apply(fn, recurse)
        for m in self._earlier:
            m._apply(fn, recurse)
        return self


def _new_conv(maps: WidenedMaps) -> nn.Conv2d:
    from learning.widening import last_conv

    return last_conv(maps.new_unit)


Branch = CloneBranch | WidenBranch


class TrainingNetwork(nn.Module):
    """Images -> logits of one branch exactly as it trained: ``shared`` (the first
    ``branch.needs()`` base blocks: frozen, eval mode, run without gradients) feeds ``branch``
    (its parameters train; a widen branch also re-runs frozen layers of ``shared``, without
    gradients, as in training). Build it with ``Experiment.training_network(label)``.

    Tracing (:func:`workload.trace_training`, ``frozen=None``,
    ``branch_of=net.branch_name``): a row with no trainable parameter and no gradient through
    it is labelled ``shared`` (the trunk, and the frozen layers a widen branch re-runs), every
    other row ``task<t>`` (:attr:`branch_name`); labels follow gradients, not names (a widen
    branch's pooling of its new maps is the base block's pooling module, called a second
    time: row ``shared.<n-2>.pool#2``, labelled ``task<t>``).
    """

    def __init__(self, shared: Sequence[nn.Module], branch: nn.Module, task: int,
                 label: str) -> None:
        super().__init__()
        self.shared = nn.ModuleList(list(shared))
        self.branch = branch
        self.task = int(task)
        self.label = label

    @property
    def branch_name(self) -> str:
        """``task<t>``: the trace's ``branch`` label of this branch's rows."""
        return f"task{self.task}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        acts = [x]
        with torch.no_grad():
            for b in self.shared:
                acts.append(b(acts[-1]))
        return self.branch(acts)

    def train(self, mode: bool = True) -> TrainingNetwork:
        """Train mode for the branch; the frozen trunk stays in eval mode (as in training)."""
        super().train(mode)
        self.shared.eval()
        return self


def build_training_network(base: BlockNet, branch: nn.Module, task: int,
                           label: str) -> TrainingNetwork:
    """A deep copy (trunk and branch copied together, so a widen branch's reference to the
    base block points into the copy) with the stage's ``requires_grad`` flags: trunk frozen,
    every branch parameter trainable; in train mode."""
    import copy

    net = copy.deepcopy(TrainingNetwork(base.blocks[: branch.needs()], branch, task, label))
    for p in net.shared.parameters():
        p.requires_grad_(False)
    for p in net.branch.parameters():
        p.requires_grad_(True)
    return net.train()


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


def _widenable(base: BlockNet) -> ConvStack:
    """The base's last feature block (a ConvStack before a Head), or a LearningError."""
    n = len(base.blocks)
    last = base.blocks[-2] if n >= 2 else None
    if not isinstance(last, ConvStack) or not isinstance(base.blocks[-1], Head):
        raise LearningError(
            "approach 1 (widen) needs a model whose last feature block is a ConvStack and whose "
            "head is a Head (lenet, mlpconv); use approach clone or partial for this model"
        )
    if getattr(base, "input_shape", None) is None:
        raise LearningError("base network lacks input_shape; build it with build_model")
    return last


def _head_for(base: BlockNet, feat: torch.Tensor, num_classes: int) -> Head:
    """A fresh output layer over features ``feat`` (one probe image) for ``num_classes``."""
    pool = base.blocks[-1].pool
    in_features = feat.shape[1] if pool == "gap" else int(np.prod(feat.shape[1:]))
    return Head(in_features, num_classes, pool=pool)


def make_widen_branch(base: BlockNet, new_maps: int, num_classes: int, seed: int,
                      earlier: Sequence[WidenedMaps] = (),
                      init: str = "distribution") -> WidenBranch:
    """Approach 1 branch: ``new_maps`` new kernels in the last conv layer (started by ``init``,
    :data:`learning.widening.WIDEN_INITS`, from the layer's learned kernels: the base's and
    ``earlier`` installments') + new output neurons over the old, ``earlier`` and new maps."""
    from learning.widening import init_new_kernels, last_conv

    last = _widenable(base)
    n = len(base.blocks)
    torch.manual_seed(seed)
    maps = last.widen(new_maps)
    learned = [last_conv(last.units[-1]), *(_new_conv(m) for m in earlier)]
    init_new_kernels(_new_conv(maps), learned, init, seed)
    branch = WidenBranch(n, maps, nn.Identity(), earlier)
    probe = torch.zeros(1, *base.input_shape)
    was = maps.training
    maps.eval()
    with torch.no_grad():
        feat = branch(trunk_acts(base, probe, n - 1))
    maps.train(was)
    branch.head = _head_for(base, feat, num_classes)
    return branch


def make_widened_clone(source: BlockNet | CloneBranch, base: BlockNet, new_maps: int,
                       num_classes: int, seed: int, init: str = "distribution") -> CloneBranch:
    """Approach 1 without sharing (the paper's Table 1): the whole ``source`` network (the
    base, or the previous installment's full-depth no-sharing branch) copied with ``new_maps``
    more maps in its last conv layer (started by ``init`` from that layer's kernels) and a new
    output layer; every parameter trainable, read from the input image (``share_k = 0``)."""
    from learning.widening import grown_stack, init_new_kernels, last_conv

    _widenable(base)
    if isinstance(source, CloneBranch) and source.share_k != 0:
        raise LearningError("a no-sharing widened network needs a full-depth source branch")
    src = list(source.blocks)
    torch.manual_seed(seed)
    new_unit = src[-2].widen(new_maps).new_unit
    init_new_kernels(last_conv(new_unit), [last_conv(src[-2].units[-1])], init, seed)
    blocks = [copy.deepcopy(b) for b in src[:-2]] + [grown_stack(src[-2], new_unit)]
    with torch.no_grad():
        feat = torch.zeros(1, *base.input_shape)
        for b in blocks:
            feat = b.eval()(feat)
    head = _head_for(base, feat, num_classes)
    branch = CloneBranch(0, [*blocks, head]).train()
    for p in branch.parameters():
        p.requires_grad_(True)
    return branch


def network_notation(base: BlockNet, branch: nn.Module | None = None) -> str:
    """The paper's network notation (Sarwar et al., Table 1) of the network a task uses:
    ``[784 4c5 2s 6c5 2s 5o]`` = input pixels, ``<maps>c<kernel>`` per conv layer, ``<k>s`` per
    k x k subsampling, ``<outputs>o``. ``branch``: ``None`` (the base), a widen branch (the
    base's last conv layer + its added maps) or a clone branch (trunk + its blocks). ``""``
    when a block is not a ConvStack or Head (e.g. a ResNet)."""
    blocks, extra = list(base.blocks), 0
    if isinstance(branch, WidenBranch):
        blocks, extra = [*blocks[:-1], branch.head], branch.added_maps
    elif isinstance(branch, CloneBranch):
        blocks = [*blocks[: branch.share_k], *branch.blocks]
    parts = [str(int(np.prod(base.input_shape or (0,))))]
    for i, b in enumerate(blocks):
        if isinstance(b, Head):
            parts.append(f"{b.fc.out_features}o")
            continue
        if not isinstance(b, ConvStack):
            return ""
        for j, unit in enumerate(b.units):
            conv = unit[0]
            more = extra if (i == len(blocks) - 2 and j == len(b.units) - 1) else 0
            parts.append(f"{conv.out_channels + more}c{conv.kernel_size[0]}")
        if isinstance(b.pool, nn.AvgPool2d | nn.MaxPool2d):
            k = b.pool.kernel_size
            parts.append(f"{k if isinstance(k, int) else k[0]}s")
    return "[" + " ".join(parts) + "]"


def own_params(branch: nn.Module) -> int:
    """Parameters (elements) owned by the branch (excludes shared, referenced modules)."""
    return sum(p.numel() for p in branch.parameters())


# ----------------------------------------------------------------------------------------------
# Branch outputs and the updated network
# ----------------------------------------------------------------------------------------------


def output_linear(branch: nn.Module) -> nn.Linear:
    """The branch's output ``nn.Linear`` (its input is the branch's feature vector)."""
    head = branch.head if isinstance(branch, WidenBranch) else branch.blocks[-1]
    return output_layer(head)


def branch_output(branch: nn.Module, acts: Sequence[torch.Tensor]) -> BranchOutput:
    """Logits of ``branch`` on trunk activations ``acts`` and the features its output layer
    reads (captured by a forward pre-hook, so the branch runs once)."""
    seen: list[torch.Tensor] = []
    hook = output_linear(branch).register_forward_pre_hook(lambda m, inp: seen.append(inp[0]))
    try:
        logits = branch(acts)
    finally:
        hook.remove()
    return BranchOutput(torch.flatten(seen[-1], 1), logits)


class UpdatedNetwork(nn.Module):
    """Frozen base network (the trunk) + one branch per task; the trunk runs once per input."""

    def __init__(self, base: BlockNet, combiner: str = DEFAULT_RULE) -> None:
        super().__init__()
        self.base = freeze(base)
        self.branches = nn.ModuleList()
        self.classes: list[list[int]] = []
        self.stats: list[BranchStats] = []
        self.combiner = get_rule(combiner)

    def add_branch(self, branch: nn.Module, classes: Sequence[int], stats: BranchStats) -> None:
        """Append a trained branch with its summary statistics (fitted on its own task)."""
        freeze(branch)
        self.branches.append(branch)
        self.classes.append([int(c) for c in classes])
        self.stats.append(stats)

    @property
    def temperatures(self) -> list[float]:
        return [s.temperature for s in self.stats]

    def train(self, mode: bool = True) -> UpdatedNetwork:
        """Always eval: an updated network is never trained as a whole."""
        return super().train(False)

    @torch.no_grad()
    def branch_outputs(self, x: torch.Tensor, upto: int | None = None) -> list[BranchOutput]:
        """Features and logits of branches ``0..upto-1`` (all by default); the trunk runs once."""
        branches = list(self.branches)[: upto if upto is not None else len(self.branches)]
        deepest = max(b.needs() for b in branches)
        acts = trunk_acts(self.base, x, deepest)
        return [branch_output(b, acts) for b in branches]

    @torch.no_grad()
    def branch_logits(self, x: torch.Tensor, upto: int | None = None) -> list[torch.Tensor]:
        """Logits of branches ``0..upto-1`` (all by default)."""
        return [o.logits for o in self.branch_outputs(x, upto)]

    @torch.no_grad()
    def scores(self, x: torch.Tensor, upto: int | None = None) -> torch.Tensor:
        """Combined class scores ``(N, num_classes)`` over the classes of branches ``<upto``."""
        outs = self.branch_outputs(x, upto)
        k = len(outs)
        num = max(max(c) for c in self.classes[:k]) + 1
        return self.combiner(outs, self.stats[:k], self.classes[:k], num)
