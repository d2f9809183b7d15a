"""Block-structured models: shapes, sharing points, freezing, output-layer replacement."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from learning.errors import LearningError
from learning.models import (
    MODELS,
    BlockNet,
    ConvStack,
    build_model,
    count_params,
    freeze_prefix,
    output_layer,
    replace_output_layer,
    sharing_point_for_percent,
    sharing_points,
)

torch.set_num_threads(1)


@pytest.mark.parametrize(
    ("name", "channels", "size", "width", "n_blocks"),
    [
        ("lenet", 1, 28, 1.0, 3),
        ("mlpconv", 3, 32, 0.1, 4),
        # a ResNet-N has N sharing-point blocks: the stem, every conv layer of every residual
        # block (N - 2 of them), the head; one per residual block with granularity "block"
        ("resnet18", 3, 32, 0.125, 18),
        ("resnet34", 3, 32, 0.125, 34),
        ("resnet50", 3, 32, 0.0625, 50),
        ("resnet101", 3, 32, 0.0625, 101),
        ("resnet18", 3, 64, 0.125, 18),
        ("resnet18/block", 3, 32, 0.125, 10),
        ("resnet101/block", 3, 32, 0.0625, 35),
    ],
)
def test_models_forward_and_blocks(name, channels, size, width, n_blocks):
    name, _, gran = name.partition("/")
    kwargs = {"granularity": gran} if gran else {}
    net = build_model(name, 7, channels, size, width, **kwargs)
    assert isinstance(net, BlockNet)
    assert len(net.blocks) == n_blocks
    out = net(torch.randn(2, channels, size, size))
    assert out.shape == (2, 7)
    assert net.num_classes == 7


def test_lenet_is_the_papers_network():
    net = build_model("lenet", 10)
    c1 = net.blocks[0].units[0][0]
    c2 = net.blocks[1].units[0][0]
    assert (c1.in_channels, c1.out_channels, c1.kernel_size) == (1, 4, (5, 5))
    assert (c2.in_channels, c2.out_channels, c2.kernel_size) == (4, 4, (5, 5))
    # 28 -5+1 = 24, /2 = 12, -5+1 = 8, /2 = 4: 4 maps of 4x4 feed 10 outputs
    assert output_layer(net.head).in_features == 4 * 4 * 4
    assert count_params(net) == (25 * 4 + 4) + (100 * 4 + 4) + (64 * 10 + 10)


def test_resnet_stems():
    cifar = build_model("resnet18", 10, 3, 32, 0.125)
    imnet = build_model("resnet18", 10, 3, 64, 0.125)
    assert cifar.blocks[0][0].kernel_size == (3, 3) and cifar.blocks[0][0].stride == (1, 1)
    assert imnet.blocks[0][0].kernel_size == (7, 7) and imnet.blocks[0][0].stride == (2, 2)
    assert isinstance(imnet.blocks[0][-1], nn.MaxPool2d)


def test_resnet18_full_width_parameter_count():
    # He et al. 2016 ResNet-18 with a 10-class head on CIFAR: 11,173,962 parameters (well known
    # count of the CIFAR variant with 1x1 projection shortcuts).
    assert count_params(build_model("resnet18", 10, 3, 32)) == 11_173_962


def test_sharing_points_are_exact_prefix_shares():
    net = build_model("lenet", 10, width=2.0)
    sizes = [count_params(b) for b in net.blocks]
    pts = sharing_points(net)
    assert [k for k, _ in pts] == [0, 1, 2]
    for k, pct in pts:
        assert pct == pytest.approx(100.0 * sum(sizes[:k]) / sum(sizes), abs=1e-12)
    assert sharing_point_for_percent(net, 50.0)[0] == 1 if pts[2][1] > 50 else 2
    assert sharing_point_for_percent(net, 100.0)[0] == 2
    with pytest.raises(LearningError, match="outside 0-100"):
        sharing_point_for_percent(net, 120.0)


def test_freeze_prefix_freezes_and_keeps_batchnorm_in_eval():
    net = build_model("resnet18", 4, 3, 32, 0.125)
    freeze_prefix(net, 3)
    net.train()
    for i, b in enumerate(net.blocks):
        assert all(p.requires_grad == (i >= 3) for p in b.parameters())
        bns = [m for m in b.modules() if isinstance(m, nn.BatchNorm2d)]
        assert all(m.training == (i >= 3) for m in bns)
    before = [b.state_dict() for b in net.blocks[:3]]
    before = [{k: v.clone() for k, v in sd.items()} for sd in before]
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.1)
    loss = net(torch.randn(4, 3, 32, 32)).sum()
    loss.backward()
    opt.step()
    for sd, b in zip(before, net.blocks[:3], strict=True):
        for k, v in b.state_dict().items():
            assert torch.equal(v, sd[k]), k  # weights and BatchNorm running stats unchanged


def test_user_module_wrapped_as_blocknet():
    blocks = [nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU()), nn.Sequential(nn.Flatten(),
              nn.Linear(3 * 6 * 6, 5))]
    net = BlockNet(blocks)
    assert net(torch.randn(2, 1, 8, 8)).shape == (2, 5)
    head = replace_output_layer(net.head, 3)
    assert output_layer(head).out_features == 3
    assert output_layer(net.head).out_features == 5  # original untouched


def test_widen_adds_maps_from_frozen_prefix():
    stack = ConvStack(3, [(8, 3, 1, 1), (6, 1, 1, 0)], pool=nn.AvgPool2d(2))
    new = stack.widen(2)
    assert new(torch.randn(1, 3, 8, 8)).shape == (1, 2, 4, 4)
    assert sum(p.numel() for p in new.parameters()) == 8 * 2 + 2  # new 1x1 kernels over 8 maps


def test_bad_model_inputs():
    with pytest.raises(LearningError, match="unknown model"):
        build_model("vgg", 10)
    with pytest.raises(LearningError, match="at least 12x12"):
        build_model("lenet", 10, image_size=8)
    assert set(MODELS) >= {"lenet", "mlpconv", "resnet18", "resnet101"}
