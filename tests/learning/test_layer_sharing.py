"""Layer-granular sharing: a sharing point at every conv layer, inside residual blocks too
(``(main, skip)`` boundaries), nearest-target sweeps and the updated network per sweep point."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from learning import data as D
from learning.config import config_from_dict
from learning.errors import LearningError
from learning.incremental import Experiment, run_experiment
from learning.models import (
    BasicBlock,
    BlockNet,
    Bottleneck,
    ResidualPart,
    build_model,
    count_params,
    freeze,
    freeze_prefix,
    nearest_sharing_point,
    sharing_point_for_percent,
    sharing_points,
    split_counts,
)
from learning.network import make_clone_branch, trunk_acts
from learning.training import module_digest, train_model
from workload import trace_training

from .fmnist import needs_fmnist, tiny_fmnist

torch.set_num_threads(1)

PAPER_TARGETS = [0, 66, 80, 92, 99]  # Sarwar et al. 2019, Fig. 2b (ResNet-101, CIFAR-100)


def _pair(name: str, **kw) -> tuple[BlockNet, BlockNet]:
    """The same seed's layer- and block-granular builds of ``name``."""
    torch.manual_seed(0)
    layer = build_model(name, 5, 3, 32, **kw)
    torch.manual_seed(0)
    block = build_model(name, 5, 3, 32, granularity="block", **kw)
    return layer, block


def _inner_projection_point(net: BlockNet) -> int:
    """The sharing point right after the first conv of the first block with a projection
    shortcut (stride 2): frozen conv1 + shortcut, trainable conv2."""
    return next(i + 1 for i, b in enumerate(net.blocks) if isinstance(b, ResidualPart)
                and b.first and not isinstance(b.shortcut, nn.Identity))


@pytest.mark.parametrize(("name", "width", "blocks"),
                         [("resnet18", 0.125, 18), ("resnet50", 0.0625, 50)])
def test_points_inside_residual_blocks(name, width, blocks):
    layer, block = _pair(name, width=width)
    pts = sharing_points(layer)
    assert len(layer.blocks) == blocks and [k for k, _ in pts] == list(range(blocks))
    pct = [p for _, p in pts]
    assert all(b > a for a, b in zip(pct, pct[1:], strict=False))  # strictly increasing
    inner = [i + 1 for i, b in enumerate(layer.blocks) if getattr(b, "outputs", 1) == 2]
    per_block = 2 if name == "resnet18" else 3
    assert len(inner) == (per_block - 1) * (blocks - 2) // per_block
    # the block-granular points are a subset: the same shares at the residual-block boundaries
    assert {round(p, 9) for _, p in sharing_points(block)} <= {round(p, 9) for p in pct}
    # the same modules and parameters (same values from the same seed), more sharing points
    assert count_params(layer) == count_params(block)
    assert sorted(module_digest(m) for m in layer.modules() if not list(m.children())) == \
        sorted(module_digest(m) for m in block.modules() if not list(m.children()))
    x = torch.randn(2, 3, 32, 32)
    for mode in (True, False):
        layer.train(mode)
        block.train(mode)
        assert torch.equal(layer(x), block(x))


@pytest.mark.parametrize("cls,c_in,planes,stride", [
    (BasicBlock, 8, 8, 1), (BasicBlock, 8, 16, 2), (Bottleneck, 16, 4, 1), (Bottleneck, 8, 8, 2),
])
def test_parts_compute_the_unsplit_block_bit_for_bit(cls, c_in, planes, stride):
    torch.manual_seed(0)
    block = cls(c_in, planes, stride)
    parts = block.parts()
    assert len(parts) == (2 if cls is BasicBlock else 3)
    assert sum(count_params(p) for p in parts) == count_params(block)
    x = torch.randn(3, c_in, 10, 10)
    for mode in (True, False):
        block.train(mode)
        with torch.no_grad():
            ref = block(x)
            act = x
            for p in parts:
                act = p(act)
                # an inner boundary carries (main, skip): skip is the shortcut of the input
                if not p.last:
                    assert isinstance(act, tuple) and torch.equal(act[1], block.shortcut(x))
        assert torch.equal(act, ref)


def test_frozen_first_conv_trainable_second_conv_gradients():
    torch.manual_seed(0)
    net = build_model("resnet18", 5, 3, 32, 0.125)
    k = _inner_projection_point(net)
    first, second = net.blocks[k - 1], net.blocks[k]
    assert not first.last and second.last
    freeze_prefix(net, k)
    net.train()
    x = torch.randn(4, 3, 32, 32, requires_grad=True)
    net(x).logsumexp(1).sum().backward()
    assert x.grad is None  # no gradient flows into the frozen trunk or its input
    for b in net.blocks[:k]:
        assert all(p.grad is None for p in b.parameters())
        assert all(not m.training for m in b.modules() if isinstance(m, nn.BatchNorm2d))
    assert first.shortcut[0].weight.grad is None
    for p in second.parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0
    # the same split as a clone branch on the frozen trunk: the boundary is (main, skip),
    # both without gradient, and the branch reproduces the whole network bit for bit
    net.eval()
    base = freeze(net)
    branch = make_clone_branch(base, base, k, 5, seed=0)
    branch.blocks[-1] = base.blocks[-1]
    acts = trunk_acts(base, x.detach(), k)
    main, skip = acts[k]
    assert not main.requires_grad and not skip.requires_grad
    with torch.no_grad():
        assert torch.equal(branch.eval()(acts), base(x.detach()))


def test_trace_input_gradient_boundary_inside_a_block():
    """Traced training at the inner point: the frozen conv1 and shortcut do no backward work,
    the trainable conv2 reads a frozen activation (no input gradient) and the residual add
    belongs to the branch."""
    torch.manual_seed(0)
    net = build_model("resnet18", 10, 3, 32, 0.125)
    k = _inner_projection_point(net)
    freeze_prefix(net, k)
    df = trace_training(net, (3, 32, 32), 2).df.set_index("layer")
    conv1, short, conv2 = (f"blocks.{k - 1}.conv1", f"blocks.{k - 1}.shortcut.0",
                           f"blocks.{k}.conv2")
    for name in (conv1, short):
        assert df.loc[name, "branch"] == "shared"
        assert df.loc[name, ["bwd_input_macs", "bwd_weight_macs"]].sum() == 0
    assert df.loc[conv2, "branch"] == "private"
    assert df.loc[conv2, "bwd_input_macs"] == 0
    assert df.loc[conv2, "bwd_weight_macs"] == df.loc[conv2, "fwd_macs"] > 0
    adds = df[df["kind"] == "add"]
    assert len(adds) == 8 and (adds["branch"] == "private").sum() == 8 - (k - 1) // 2
    shared, branch, _, _ = split_counts(net, k)
    assert shared == sum(count_params(b) for b in net.blocks[:k])
    assert shared + branch == count_params(net)


def _cached_vs_uncached(cache: bool) -> tuple[str, int, list[int]]:
    torch.manual_seed(0)
    base = freeze(build_model("resnet18", 4, 3, 32, 0.125))
    k = _inner_projection_point(base)
    branch = make_clone_branch(base, base, k, 3, seed=1)
    trunk, head = Experiment.branch_forward(SimpleNamespace(base=base), branch, split=True)
    g = np.random.default_rng(0)
    x = g.integers(0, 256, (65, 3, 32, 32), dtype=np.uint8)
    y = g.integers(0, 3, 65)
    shapes = [int(t[0].numel()) for t in trunk(torch.zeros(1, 3, 32, 32))]
    stats = train_model(head, branch, x, y, epochs=2, batch_size=32, lr=0.05, seed=7,
                        progress=False, trunk=trunk, cache_trunk=cache)
    return module_digest(branch), stats.trunk_cache_bytes, shapes


def test_trunk_cached_training_equals_uncached_at_an_inner_point():
    cached, nbytes, shapes = _cached_vs_uncached(True)
    uncached, _, _ = _cached_vs_uncached(False)
    assert len(shapes) == 2  # the cache holds both boundary tensors, main and skip
    assert nbytes == 65 * 4 * sum(shapes)
    assert cached == uncached


def _ladder() -> BlockNet:
    """Blocks of 16, 32, 32 and 48 parameters: sharing points at exactly 0, 12.5, 37.5, 62.5 %."""
    return BlockNet([nn.Linear(1, 16, bias=False), nn.Linear(16, 2, bias=False),
                     nn.Linear(2, 16, bias=False), nn.Linear(16, 3, bias=False)])


def test_nearest_target_selection():
    net = _ladder()
    assert [p for _, p in sharing_points(net)] == [0.0, 12.5, 37.5, 62.5]
    assert nearest_sharing_point(net, 30.0) == (2, 37.5)
    assert sharing_point_for_percent(net, 30.0) == (1, 12.5)  # the old rule: largest not above
    assert nearest_sharing_point(net, 100.0) == (3, 62.5)
    assert nearest_sharing_point(net, 25.0) == (1, 12.5)  # a tie shares less
    with pytest.raises(LearningError, match="outside 0-100"):
        nearest_sharing_point(net, -1.0)
    resnet = build_model("resnet18", 10, 3, 32)
    exact = dict(sharing_points(resnet))
    for t in PAPER_TARGETS:
        k, p = nearest_sharing_point(resnet, t)
        assert p == exact[k] and all(abs(p - t) <= abs(q - t) for q in exact.values())


@pytest.fixture(scope="module")
def fmnist():
    if not (D.FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    return D.load_dataset("fashion-mnist")


@needs_fmnist
def test_sweep_targets_and_updated_network_per_point(fmnist):
    cfg = config_from_dict(tiny_fmnist(
        model="resnet18", width=0.125, sweep=True, sweep_percents=[66, 80, 92, 99],
        sweep_updated=True, tolerance=100.0, baselines=["no-sharing"], train_per_class=20,
        test_per_class=10))
    res = run_experiment(cfg, progress=False, write=False, dataset=fmnist)
    base = build_model("resnet18", 4, 1, 28, 0.125)
    exact = dict(sharing_points(base))
    want = {0: []}
    for t in (66, 80, 92, 99):
        want.setdefault(nearest_sharing_point(base, t)[0], []).append(float(t))
    assert [(p.share_k, p.target_pcts) for p in res.sweep] == sorted(want.items())
    for p in res.sweep:
        assert p.sharing_point_pct == exact[p.share_k]
        assert p.updated_rule == cfg.combiner
        assert 0.0 <= p.updated_top1_pct <= 100.0
        assert 0.0 <= p.updated_max_softmax_top1_pct <= 100.0
    # the chosen point's updated network is the sharing method's: the same numbers
    chosen = next(p for p in res.sweep if p.chosen)
    combos = {c.rule: c.top1_pct for c in res.combinations if c.method == "sharing"}
    assert chosen.updated_top1_pct == combos[cfg.combiner] == res.method("sharing").top1_pct
    assert chosen.updated_max_softmax_top1_pct == combos["max-softmax"]


def test_sweep_updated_needs_a_sweep_and_keeps_the_fingerprint():
    on = config_from_dict(tiny_fmnist(sweep_updated=True))
    assert on.fingerprint() == config_from_dict(tiny_fmnist()).fingerprint()  # only adds stages
    with pytest.raises(LearningError, match="sweep_updated"):
        config_from_dict(tiny_fmnist(sweep=False, sharing_percent=50.0, sweep_updated=True))
    with pytest.raises(LearningError, match="granularity"):
        build_model("resnet18", 3, granularity="conv")
