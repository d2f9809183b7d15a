"""Block-structured CNNs whose block boundaries are the sharing points of partial network sharing.

Every model is a :class:`BlockNet`: an ordered ``nn.ModuleList`` of blocks, the classifier head
last. Sharing ``k`` blocks means the first ``k`` blocks are the frozen, shared trunk and the rest
is a per-task branch. A user's own network is wrapped as ``BlockNet([block0, block1, ..., head])``;
that list *is* the sharing-point interface (the head must contain an ``nn.Linear`` as its output
layer so a branch can be given new output neurons).

Models (sources in the docstrings of the builders):

- ``lenet``: the paper's ``[784 4c5 2s 4c5 2s 10o]`` LeNet-style network (Sarwar et al., IEEE
  Access 2019, TiCH experiment).
- ``mlpconv``: the paper's CIFAR-10 network (Sarwar et al. 2019, approach 2): three MlpConv
  blocks, 128/100/64, 128/128/128, 128/128 channels (BatchNorm and dropout are configurable
  deviations).
- ``nin``: the original Network-in-Network CIFAR-10 network, 192/160/96 ... channels (Lin et al.,
  "Network In Network", ICLR 2014).
- ``resnet18/34/50/101``: He et al., "Deep Residual Learning", CVPR 2016. CIFAR-style stem
  (3x3 conv, stride 1, no max-pool) for 32x32 inputs, ImageNet-style stem (7x7/2 conv + 3x3/2
  max-pool) otherwise. Every conv layer is a sharing point, inside residual blocks too
  (:class:`ResidualPart`: a block boundary passes ``(main, skip)``); ``granularity="block"``
  builds the same network with one sharing point per residual block.

They are registered in :data:`MODELS` (name -> factory). A user's model needs no registration:
a config may name its factory as ``model = "package.module:factory"``; the factory takes
``(num_classes, in_channels, image_size, width)`` and returns a :class:`BlockNet`
(:func:`check_blocknet` says in one line what is missing).
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from learning.errors import LearningError
from learning.registry import is_import_spec, lookup

# ----------------------------------------------------------------------------------------------
# Generic container
# ----------------------------------------------------------------------------------------------


class BlockNet(nn.Module):
    """An ordered list of blocks (the sharing points), the classifier head last.

    ``num_frozen`` blocks at the front are frozen: no gradients, BatchNorm/Dropout in eval mode
    even while the module is in training mode, and their forward runs under ``torch.no_grad``.
    """

    def __init__(
        self, blocks: Iterable[nn.Module], name: str = "custom",
        input_shape: tuple[int, int, int] | None = None,
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(list(blocks))
        if len(self.blocks) < 1:
            raise LearningError("BlockNet needs at least one block (the classifier head)")
        self.name = name
        self.input_shape = input_shape  # (channels, height, width) of one input image
        self.num_frozen = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.blocks):
            if i < self.num_frozen:
                with torch.no_grad():
                    x = block(x)
            else:
                x = block(x)
        return x

    def forward_from(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """Run blocks ``k..end`` on the output ``x`` of block ``k-1`` (``x`` = input when k=0)."""
        for block in self.blocks[k:]:
            x = block(x)
        return x

    def train(self, mode: bool = True) -> BlockNet:
        super().train(mode)
        for block in self.blocks[: self.num_frozen]:
            block.eval()
        return self

    @property
    def head(self) -> nn.Module:
        """The classifier head (last block)."""
        return self.blocks[-1]

    @property
    def num_classes(self) -> int:
        return output_layer(self.head).out_features


def count_params(module: nn.Module) -> int:
    """Number of parameters (elements) of ``module``, frozen or not."""
    return sum(p.numel() for p in module.parameters())


def split_counts(net: BlockNet, k: int) -> tuple[int, int, int, int]:
    """``(shared params, branch params, shared stats, branch stats)`` in elements of ``net``
    split at sharing point ``k`` (blocks ``< k`` shared). "stats": persistent BatchNorm
    running means and variances (float buffers; the int64 ``num_batches_tracked`` counters,
    one element per BatchNorm layer, are not counted)."""
    if not 0 <= k <= len(net.blocks) - 1:
        raise LearningError(f"sharing point {k} is outside 0..{len(net.blocks) - 1} blocks")

    def stats(blocks: Iterable[nn.Module]) -> int:
        return sum(b.numel() for m in blocks for n, b in m.named_buffers()
                   if n.rsplit(".", 1)[-1] in ("running_mean", "running_var"))

    shared, branch = list(net.blocks[:k]), list(net.blocks[k:])
    return (sum(count_params(b) for b in shared), sum(count_params(b) for b in branch),
            stats(shared), stats(branch))


def sharing_points(net: BlockNet) -> list[tuple[int, float]]:
    """``(k, percent)`` for every sharing point: ``percent`` is the exact share (0..100) of the
    network's parameters that lie in its first ``k`` blocks. ``k`` runs from 0 (nothing shared)
    to ``len(blocks) - 1`` (everything but the head shared); a branch always owns the head."""
    sizes = [count_params(b) for b in net.blocks]
    total = sum(sizes)
    if total == 0:
        raise LearningError("network has no parameters: nothing to share")
    out: list[tuple[int, float]] = []
    acc = 0
    for k in range(len(sizes)):
        out.append((k, 100.0 * acc / total))
        acc += sizes[k]
    return out


def _check_percent(percent: float) -> None:
    if not 0.0 <= float(percent) <= 100.0:
        raise LearningError(f"sharing {percent} % is outside 0-100 %; give a percentage in 0..100")


def nearest_sharing_point(net: BlockNet, percent: float) -> tuple[int, float]:
    """``(k, exact %)`` of the sharing point whose shared share is nearest to the target
    ``percent`` (0..100); of two equally near, the one sharing less. Sweeps and
    ``sharing_percent`` use this."""
    _check_percent(percent)
    return min(sharing_points(net), key=lambda p: (abs(p[1] - float(percent)), p[0]))


def sharing_point_for_percent(net: BlockNet, percent: float) -> tuple[int, float]:
    """The largest sharing point whose shared share does not exceed ``percent`` (0..100): an
    upper bound on sharing (the ``workload trace --share`` CLI and benchmarks use it)."""
    _check_percent(percent)
    best = (0, 0.0)
    for k, pct in sharing_points(net):
        if pct <= percent + 1e-9:
            best = (k, pct)
    return best


def freeze_prefix(net: BlockNet, k: int) -> BlockNet:
    """Freeze the first ``k`` blocks in place (``requires_grad=False``, eval-mode BatchNorm,
    no-grad forward) and unfreeze the rest. Returns ``net``."""
    if not 0 <= k <= len(net.blocks):
        raise LearningError(f"cannot freeze {k} blocks of a {len(net.blocks)}-block network")
    for i, block in enumerate(net.blocks):
        for p in block.parameters():
            p.requires_grad_(i >= k)
    net.num_frozen = k
    net.train(net.training)
    return net


def freeze(module: nn.Module) -> nn.Module:
    """Freeze a whole module in place: no gradients, eval mode. Returns ``module``."""
    for p in module.parameters():
        p.requires_grad_(False)
    module.eval()
    return module


def output_layer(head: nn.Module) -> nn.Linear:
    """The last ``nn.Linear`` inside ``head`` (its output layer)."""
    last = None
    for m in head.modules():
        if isinstance(m, nn.Linear):
            last = m
    if last is None:
        raise LearningError(
            "the last block has no nn.Linear output layer; end the block list with a "
            "classifier head"
        )
    return last


def replace_output_layer(head: nn.Module, num_classes: int, seed: int | None = None) -> nn.Module:
    """A deep copy of ``head`` whose output ``nn.Linear`` has ``num_classes`` fresh outputs."""
    new = copy.deepcopy(head)
    old = output_layer(new)
    if seed is not None:
        torch.manual_seed(seed)
    fresh = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    if new is old:
        return fresh
    for parent in new.modules():
        for name, child in parent.named_children():
            if child is old:
                setattr(parent, name, fresh)
                return new
    raise LearningError("could not replace the output layer of the head")  # pragma: no cover


# ----------------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------------


class ConvStack(nn.Module):
    """Conv layers (each conv [-> BN] -> activation) followed by optional pooling and dropout.

    ``widen(k)`` builds the approach-1 extension of this block: ``k`` new feature maps of its
    last conv layer, computed from the block's input through the block's own (frozen) earlier
    layers, then the same activation/pooling.
    """

    def __init__(
        self,
        in_channels: int,
        layers: Sequence[tuple[int, int, int, int]],
        pool: nn.Module | None = None,
        dropout: float = 0.0,
        batch_norm: bool = False,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.spec = [tuple(s) for s in layers]  # (out_channels, kernel, stride, padding)
        self.in_channels = in_channels
        self.batch_norm = batch_norm
        self.activation = activation
        units: list[nn.Module] = []
        c = in_channels
        for out_c, kernel, stride, pad in self.spec:
            units.append(self._unit(c, out_c, kernel, stride, pad))
            c = out_c
        self.units = nn.ModuleList(units)
        self.pool = pool if pool is not None else nn.Identity()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.out_channels = c

    def _unit(self, c_in: int, c_out: int, kernel: int, stride: int, pad: int) -> nn.Sequential:
        conv = nn.Conv2d(c_in, c_out, kernel, stride, pad, bias=not self.batch_norm)
        mods: list[nn.Module] = [conv]
        if self.batch_norm:
            mods.append(nn.BatchNorm2d(c_out))
        mods.append(nn.Tanh() if self.activation == "tanh" else nn.ReLU(inplace=False))
        return nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for unit in self.units:
            x = unit(x)
        return self.dropout(self.pool(x))

    def widen(self, k: int) -> WidenedMaps:
        """Approach 1: ``k`` new maps of the last conv layer (earlier layers shared, frozen)."""
        if k < 1:
            raise LearningError(f"approach 1 needs at least 1 new feature map per task, got {k}")
        out_c, kernel, stride, pad = self.spec[-1]
        c_in = self.spec[-2][0] if len(self.spec) > 1 else self.in_channels
        new_unit = self._unit(c_in, k, kernel, stride, pad)
        return WidenedMaps(self, new_unit)


class WidenedMaps(nn.Module):
    """New feature maps for approach 1: the frozen earlier conv layers of ``base`` (a shared
    reference, not a copy), then one new trainable conv unit, then ``base``'s pooling."""

    def __init__(self, base: ConvStack, new_unit: nn.Module) -> None:
        super().__init__()
        self.new_unit = new_unit
        self.dropout = copy.deepcopy(base.dropout)
        # Shared, frozen modules of the base block; stored in a plain list so they are neither
        # trained nor saved twice.
        self._base = [base]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = self._base[0]
        with torch.no_grad():
            for unit in base.units[:-1]:
                x = unit(x)
        return self.dropout(base.pool(self.new_unit(x)))


class Head(nn.Module):
    """Classifier head: ``flatten`` or global average pooling (``gap``), then ``nn.Linear``."""

    def __init__(self, in_features: int, num_classes: int, pool: str = "flatten") -> None:
        super().__init__()
        self.pool = pool
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool == "gap":
            x = x.mean(dim=(2, 3))
        return self.fc(torch.flatten(x, 1))


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs), He et al. 2016."""

    expansion = 1

    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))

    def parts(self) -> list[ResidualPart]:
        """This block as two sharing points: ``conv1`` (+ shortcut), ``conv2`` (+ add)."""
        return residual_parts([(self.conv1, self.bn1), (self.conv2, self.bn2)], self.shortcut)


class Bottleneck(nn.Module):
    """ResNet bottleneck block (1x1, 3x3, 1x1 convs, expansion 4), He et al. 2016."""

    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, out, 1, stride, bias=False), nn.BatchNorm2d(out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return torch.relu(y + self.shortcut(x))

    def parts(self) -> list[ResidualPart]:
        """This block as three sharing points, one per conv (the first with the shortcut)."""
        return residual_parts([(self.conv1, self.bn1), (self.conv2, self.bn2),
                               (self.conv3, self.bn3)], self.shortcut)


Act = torch.Tensor | tuple[torch.Tensor, ...]
"""What crosses a sharing point: a tensor, or inside a residual block ``(main, skip)``."""


class ResidualPart(nn.Module):
    """One conv layer of a residual block (conv -> BatchNorm -> ReLU) as a block of its own,
    so that every conv layer boundary inside a residual block is a sharing point.

    Inside a block the boundary activation is the pair ``(main, skip)``: the first part maps
    the block input ``x`` to ``(relu(bn(conv(x))), shortcut(x))`` (the shortcut, identity or
    the 1x1 projection conv that also reads ``x``, runs here), a middle part maps
    ``(main, skip)`` to ``(relu(bn(conv(main))), skip)`` and the last part to
    ``relu(bn(conv(main)) + skip)``. The skip tensor crosses an inner boundary as it is (no
    copy, no extra op); a frozen part before the boundary gives neither tensor a gradient.
    Chained, the parts compute the unsplit block's forward bit for bit (same modules, same
    ops). ``outputs``: tensors at this part's output (1 for the last part, else 2)."""

    def __init__(self, index: int, conv: nn.Module, bn: nn.Module,
                 shortcut: nn.Module | None, last: bool) -> None:
        super().__init__()
        self.conv_name, self.bn_name = f"conv{index}", f"bn{index}"
        self.add_module(self.conv_name, conv)
        self.add_module(self.bn_name, bn)
        self.first = shortcut is not None
        if shortcut is not None:
            self.shortcut = shortcut
        self.last = last
        self.outputs = 1 if last else 2

    def forward(self, x: Act) -> Act:
        main = x if self.first else x[0]
        out = getattr(self, self.bn_name)(getattr(self, self.conv_name)(main))
        skip = self.shortcut(x) if self.first else x[1]
        return torch.relu(out + skip) if self.last else (torch.relu(out), skip)


def residual_parts(layers: Sequence[tuple[nn.Module, nn.Module]],
                   shortcut: nn.Module) -> list[ResidualPart]:
    """A residual block's ``(conv, bn)`` layers as :class:`ResidualPart` s (the modules
    themselves, not copies): the first computes ``shortcut``, the last adds it."""
    n = len(layers)
    return [ResidualPart(i + 1, conv, bn, shortcut if i == 0 else None, last=i == n - 1)
            for i, (conv, bn) in enumerate(layers)]


def boundary_arity(net: BlockNet, k: int) -> int:
    """Tensors crossing sharing point ``k`` of ``net`` (the output of block ``k - 1``): 2
    inside a residual block (``(main, skip)``), else 1 (the input image at ``k = 0``)."""
    return 1 if k == 0 else int(getattr(net.blocks[k - 1], "outputs", 1))


def act_tensors(act: Act) -> list[torch.Tensor]:
    """The tensors of one boundary activation, in order (a tensor: itself)."""
    return [act] if isinstance(act, torch.Tensor) else list(act)


# ----------------------------------------------------------------------------------------------
# Model builders
# ----------------------------------------------------------------------------------------------


def _scaled(c: int, width: float) -> int:
    return max(1, int(round(c * width)))


def lenet(
    num_classes: int, in_channels: int = 1, image_size: int = 28, width: float = 1.0,
    maps: tuple[int, int] = (4, 4), activation: str = "relu",
) -> BlockNet:
    """``[784 4c5 2s 4c5 2s 10o]``: conv 5x5 (4 maps), 2x2 subsample, conv 5x5 (4 maps), 2x2
    subsample, fully connected output layer. ``width`` scales the map counts."""
    m1, m2 = (_scaled(c, width) for c in maps)
    s = image_size
    s = (s - 4) // 2
    s = (s - 4) // 2
    if s < 1:
        raise LearningError(f"lenet needs images of at least 12x12 pixels, got {image_size}")
    b1 = ConvStack(in_channels, [(m1, 5, 1, 0)], pool=nn.AvgPool2d(2), activation=activation)
    b2 = ConvStack(m1, [(m2, 5, 1, 0)], pool=nn.AvgPool2d(2), activation=activation)
    head = Head(m2 * s * s, num_classes, pool="flatten")
    return BlockNet([b1, b2, head], name="lenet", input_shape=(in_channels, image_size, image_size))


def mlpconv(
    num_classes: int, in_channels: int = 3, image_size: int = 32, width: float = 1.0,
    batch_norm: bool = True, dropout: float = 0.0,
) -> BlockNet:
    """The paper's CIFAR-10 network (Sarwar et al., IEEE Access 2019, approach 2; MatConvNet
    NIN-style): ``[5x5 128, 1x1 100, 1x1 64] maxpool 3/2``, ``[5x5 128, 1x1 128, 1x1 128]
    maxpool 3/2``, ``[3x3 128, 1x1 128]``, then global average pooling and a linear output
    layer (the same map as a 1x1 conv to the classes + GAP). ``width`` scales channels.
    Stated deviations, both configurable: ``batch_norm`` after every conv (default on;
    433,362 parameters at width 1 with 10 outputs, 432,430 without) and ``dropout`` after
    each pooled block (default 0).
    Blocks: three MlpConv blocks and the head (approach 2 clones the last two)."""
    if image_size < 8:
        raise LearningError(f"mlpconv needs images of at least 8x8 pixels, got {image_size}")
    if not 0.0 <= float(dropout) < 1.0:
        raise LearningError(f"mlpconv dropout must be in [0, 1), got {dropout}")
    w = [_scaled(c, width) for c in (128, 100, 64, 128, 128, 128, 128, 128)]
    bn = bool(batch_norm)
    b1 = ConvStack(in_channels, [(w[0], 5, 1, 2), (w[1], 1, 1, 0), (w[2], 1, 1, 0)],
                   pool=nn.MaxPool2d(3, 2, 1), dropout=dropout, batch_norm=bn)
    b2 = ConvStack(w[2], [(w[3], 5, 1, 2), (w[4], 1, 1, 0), (w[5], 1, 1, 0)],
                   pool=nn.MaxPool2d(3, 2, 1), dropout=dropout, batch_norm=bn)
    b3 = ConvStack(w[5], [(w[6], 3, 1, 1), (w[7], 1, 1, 0)], batch_norm=bn)
    return BlockNet([b1, b2, b3, Head(w[7], num_classes, pool="gap")], name="mlpconv",
                    input_shape=(in_channels, image_size, image_size))


def nin(
    num_classes: int, in_channels: int = 3, image_size: int = 32, width: float = 1.0,
    dropout: float = 0.5,
) -> BlockNet:
    """Three MlpConv blocks (Network-in-Network, Lin et al. 2014, CIFAR-10 configuration):
    ``[5x5 192, 1x1 160, 1x1 96] maxpool 3/2``, ``[5x5 192, 1x1 192, 1x1 192] avgpool 3/2``,
    ``[3x3 192, 1x1 192, 1x1 192]``, global average pooling and a linear output layer (NIN's
    1x1-conv-to-classes + GAP is the same map as GAP + linear). ``width`` scales channels.
    BatchNorm after every conv keeps training stable without NIN's hand-tuned schedule."""
    if image_size < 8:
        raise LearningError(f"nin needs images of at least 8x8 pixels, got {image_size}")
    w = [_scaled(c, width) for c in (192, 160, 96, 192, 192, 192, 192, 192, 192)]
    b1 = ConvStack(
        in_channels, [(w[0], 5, 1, 2), (w[1], 1, 1, 0), (w[2], 1, 1, 0)],
        pool=nn.MaxPool2d(3, 2, 1), dropout=dropout, batch_norm=True,
    )
    b2 = ConvStack(
        w[2], [(w[3], 5, 1, 2), (w[4], 1, 1, 0), (w[5], 1, 1, 0)],
        pool=nn.AvgPool2d(3, 2, 1), dropout=dropout, batch_norm=True,
    )
    b3 = ConvStack(w[5], [(w[6], 3, 1, 1), (w[7], 1, 1, 0), (w[8], 1, 1, 0)], batch_norm=True)
    return BlockNet([b1, b2, b3, Head(w[8], num_classes, pool="gap")], name="nin",
                    input_shape=(in_channels, image_size, image_size))


_RESNETS = {
    "resnet18": (BasicBlock, (2, 2, 2, 2)),
    "resnet34": (BasicBlock, (3, 4, 6, 3)),
    "resnet50": (Bottleneck, (3, 4, 6, 3)),
    "resnet101": (Bottleneck, (3, 4, 23, 3)),
}


GRANULARITIES = ("layer", "block")


def resnet(
    depth_name: str, num_classes: int, in_channels: int = 3, image_size: int = 32,
    width: float = 1.0, granularity: str = "layer",
) -> BlockNet:
    """ResNet-18/34/50/101 (He et al. 2016). Blocks: the stem, then with ``granularity =
    "layer"`` every conv layer of every residual block (:class:`ResidualPart`: the paper's
    sharing points are conv layers with their BatchNorm and ReLU), with ``"block"`` every
    residual block, then the head. Both build the same modules with the same parameters (in
    the same construction order, so the same seed gives the same weights)."""
    if granularity not in GRANULARITIES:
        raise LearningError(f"resnet granularity {granularity!r} is unknown; use "
                            f"{' or '.join(GRANULARITIES)}")
    block_cls, counts = _RESNETS[depth_name]
    c = _scaled(64, width)
    if image_size <= 32:  # CIFAR-style stem (He et al. 2016, Sec. 4.2)
        stem = nn.Sequential(
            nn.Conv2d(in_channels, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU()
        )
    else:  # ImageNet-style stem
        stem = nn.Sequential(
            nn.Conv2d(in_channels, c, 7, 2, 3, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
        )
    blocks: list[nn.Module] = [stem]
    c_in = c
    for stage, n in enumerate(counts):
        planes = _scaled(64 * 2**stage, width)
        for i in range(n):
            stride = 2 if (i == 0 and stage > 0) else 1
            block = block_cls(c_in, planes, stride)
            blocks.extend(block.parts() if granularity == "layer" else [block])
            c_in = planes * block_cls.expansion
    blocks.append(Head(c_in, num_classes, pool="gap"))
    return BlockNet(blocks, name=depth_name, input_shape=(in_channels, image_size, image_size))


# ----------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------

ModelFactory = Callable[..., BlockNet]
"""``factory(num_classes, in_channels, image_size, width, **kwargs) -> BlockNet``."""

#: Model name -> factory. Add a model with :func:`register_model`, or name a factory of your
#: own as ``"package.module:factory"`` in a config (``model = "mymodels:tiny_cnn"``).
MODELS: dict[str, ModelFactory] = {
    "lenet": lenet,
    "mlpconv": mlpconv,
    "nin": nin,
    **{name: functools.partial(resnet, name) for name in _RESNETS},
}


def register_model(name: str, factory: ModelFactory) -> None:
    """Make ``factory`` buildable as ``name`` (lower case) by :func:`build_model` and configs."""
    MODELS[model_key(name)] = factory


def model_key(name: str) -> str:
    """A registered model name in lower case; a ``package.module:factory`` name unchanged."""
    return name if is_import_spec(name) else name.lower()


def model_factory(name: str) -> ModelFactory:
    """The factory of a registered model or of a ``"package.module:factory"`` name."""
    return lookup(MODELS, model_key(name), "model", function="factory function "
                  "(num_classes, in_channels, image_size, width) -> BlockNet")


def check_blocknet(net: object, name: str, num_classes: int,
                   input_shape: tuple[int, int, int]) -> BlockNet:
    """``net`` as built by model ``name``: a :class:`BlockNet` of at least two blocks (a
    sharing point) ending in a head with an ``nn.Linear`` of ``num_classes`` outputs; a
    missing ``input_shape`` is set. Else one :class:`LearningError` line naming ``name``."""
    fix = "return BlockNet([block0, ..., head]) (its block boundaries are the sharing points)"
    if not isinstance(net, BlockNet):
        raise LearningError(f"model {name!r} returned a {type(net).__name__}, not a BlockNet; "
                            f"{fix}")
    if len(net.blocks) < 2:
        raise LearningError(f"model {name!r} has one block, so no sharing point; split it into "
                            "at least a trunk block and a head")
    try:
        outputs = output_layer(net.head).out_features
    except LearningError:
        raise LearningError(f"model {name!r}: its last block has no nn.Linear output layer; end "
                            "the blocks with a classifier head") from None
    if outputs != num_classes:
        raise LearningError(f"model {name!r} has {outputs} outputs, but {num_classes} were asked "
                            "for; size the head's nn.Linear by num_classes")
    if net.input_shape is None:
        net.input_shape = input_shape
    return net


def build_model(
    name: str, num_classes: int, in_channels: int = 1, image_size: int = 28, width: float = 1.0,
    **kwargs: object,
) -> BlockNet:
    """Build a model of :data:`MODELS` (or a ``"package.module:factory"``) as a
    :class:`BlockNet`, checked by :func:`check_blocknet`.

    ``width`` multiplies every layer's channel count (1.0 = the published sizes). Extra keyword
    arguments go to the factory (``maps``/``activation`` for lenet, ``batch_norm``/``dropout``
    for mlpconv, ``dropout`` for nin).
    """
    if num_classes < 1:
        raise LearningError(f"num_classes must be >= 1, got {num_classes}")
    if width <= 0:
        raise LearningError(f"model width must be > 0, got {width}")
    factory = model_factory(name)
    try:
        inspect.signature(factory).bind(num_classes, in_channels, image_size, width, **kwargs)
    except TypeError as e:
        raise LearningError(f"model {name!r} does not take (num_classes, in_channels, "
                            f"image_size, width): {e}") from None
    except ValueError:  # no inspectable signature: just call it
        pass
    net = factory(num_classes, in_channels, image_size, width, **kwargs)
    return check_blocknet(net, name, num_classes, (in_channels, image_size, image_size))
