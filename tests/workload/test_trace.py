"""Training traces: exact MACs against FlopCounterMode, frozen-layer zeros, update ops, memory."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from learning.models import BlockNet, build_model, freeze_prefix, sharing_point_for_percent
from workload import COLUMN_DOCS, COLUMNS, TraceError, save_samples, trace_training

torch.set_num_threads(1)

NETS = {  # name -> (in_channels, image_size, batch)
    "lenet": (1, 28, 2),
    "mlpconv": (3, 32, 2),
    "resnet18": (3, 32, 2),
    "resnet101": (3, 32, 2),
}


def _net(name: str, share: float, seed: int = 0) -> tuple[BlockNet, int]:
    ch, size, _ = NETS[name]
    torch.manual_seed(seed)
    net = build_model(name, 10, in_channels=ch, image_size=size)
    k, _ = sharing_point_for_percent(net, share)
    freeze_prefix(net, k)
    return net, k


class _ConvBackwardByWeight(TorchDispatchMode):
    """FlopCounterMode's own convolution_backward formula, charged to the layer whose weight
    the op reads (FlopCounterMode's module tracker cannot attribute backward ops reliably)."""

    def __init__(self, weight_owner: dict[int, str]) -> None:
        super().__init__()
        self.owner = weight_owner
        self.flops: dict[str, int] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        out = func(*args, **(kwargs or {}))
        if func.overloadpacket is torch.ops.aten.convolution_backward:
            formula = flop_registry[torch.ops.aten.convolution_backward]
            layer = self.owner[args[2].untyped_storage().data_ptr()]
            self.flops[layer] = self.flops.get(layer, 0) + formula(*args, **(kwargs or {}),
                                                                   out_val=out)
        return out


@pytest.mark.parametrize("share", [0, 50, 80])
@pytest.mark.parametrize("name", list(NETS))
def test_macs_match_flop_counter(name: str, share: float) -> None:
    ch, size, batch = NETS[name]
    net, k = _net(name, share)
    res = trace_training(net, (ch, size, size), batch, optimizer="sgd")
    df = res.df
    ref, _ = _net(name, share)
    ref.train()
    x = torch.randn(batch, ch, size, size)
    y = torch.randint(0, 10, (batch,))
    owner = {m.weight.untyped_storage().data_ptr(): n for n, m in ref.named_modules()
             if isinstance(m, nn.Conv2d)}
    with FlopCounterMode(display=False) as fwd:
        loss = nn.functional.cross_entropy(ref(x), y)
    with FlopCounterMode(display=False) as bwd, _ConvBackwardByWeight(owner) as per_conv:
        loss.backward()
    fwd_counts, bwd_counts = fwd.get_flop_counts(), bwd.get_flop_counts().get("Global", {})
    aten = torch.ops.aten
    # Totals: FLOPs = 2 x MACs, forward and backward separately.
    assert sum(fwd_counts["Global"].values()) == 2 * int(df["fwd_macs"].sum())
    bwd_rows = int(df["bwd_input_macs"].sum() + df["bwd_weight_macs"].sum())
    assert sum(bwd_counts.values()) == 2 * bwd_rows
    assert res.checks["bwd_macs_dispatched"] == bwd_rows
    # Backward by layer type: conv backward and the linear layers' backward matmuls.
    conv, lin = df[df["kind"] == "conv2d"], df[df["kind"] == "linear"]
    assert set(bwd_counts) <= {aten.convolution_backward, aten.mm}
    assert bwd_counts.get(aten.convolution_backward, 0) == 2 * int(
        conv["bwd_input_macs"].sum() + conv["bwd_weight_macs"].sum())
    assert bwd_counts.get(aten.mm, 0) == 2 * int(
        lin["bwd_input_macs"].sum() + lin["bwd_weight_macs"].sum())
    # Layer by layer: forward from FlopCounterMode's module table, conv backward per weight.
    mac_rows = df[df["fwd_macs"] > 0]
    assert len(mac_rows) == len(conv) + len(lin) > 0
    for _, r in mac_rows.iterrows():
        assert sum(fwd_counts[f"BlockNet.{r['layer']}"].values()) == 2 * r["fwd_macs"]
    for _, r in conv.iterrows():
        want = per_conv.flops.get(r["layer"], 0)
        assert want == 2 * (r["bwd_input_macs"] + r["bwd_weight_macs"]), r["layer"]
    # Sharing removes backward work: no gradient MACs, gradients or saved activations in the
    # shared trunk.
    shared = df[df["branch"] == "shared"]
    assert shared.empty == (k == 0)
    assert int(shared[["bwd_input_macs", "bwd_weight_macs"]].to_numpy().sum()) == 0
    assert int(shared["wgrad_write_elems"].sum()) == 0
    assert int(shared["act_saved_elems"].sum()) == 0


@pytest.mark.parametrize("share,no_input_grad,n_shared", [
    (0, {"blocks.0.0"}, 0),  # the first layer reads the images
    # 24.8 %: blocks 0-12 (the stem and stages 1-3) shared; both convs reading the frozen
    # trunk's output (conv1 and the projection shortcut of block 13) compute no input gradient.
    (30, {"blocks.13.conv1", "blocks.13.shortcut.0"}, 15),
    # 36.6 %: a sharing point inside a residual block (conv1 and the shortcut frozen): conv2
    # reads the frozen main path; the skip crosses as a frozen tensor into the residual add.
    (50, {"blocks.14.conv2"}, 17),
])
def test_input_gradient_only_below_trainable_layers(share: float, no_input_grad: set,
                                                    n_shared: int) -> None:
    net, k = _net("resnet18", share)
    df = trace_training(net, (3, 32, 32), 2).df
    mac = df[df["fwd_macs"] > 0].set_index("layer")
    private = mac[mac["branch"] == "private"]
    assert set(private.index[private["bwd_input_macs"] == 0]) == no_input_grad
    assert (private["bwd_weight_macs"] == private["fwd_macs"]).all()
    rest = private.drop(index=list(no_input_grad))
    assert (rest["bwd_input_macs"] == rest["fwd_macs"]).all()
    shared = mac[mac["branch"] == "shared"]
    assert len(shared) == n_shared
    assert (shared[["bwd_input_macs", "bwd_weight_macs"]] == 0).all().all()


def _small_net() -> BlockNet:
    torch.manual_seed(0)
    return BlockNet([
        nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()),
        nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.ReLU()),
        nn.Sequential(nn.Flatten(), nn.Linear(6 * 4 * 4, 5)),
    ])


def test_hand_counted_conv_and_linear() -> None:
    res = trace_training(_small_net(), (3, 8, 8), 2)
    df = res.df.set_index("layer")
    # conv 3->4, 3x3, 8x8 out, batch 2: 2*8*8*4*3*9 MACs; first layer: no input gradient.
    assert df.loc["blocks.0.0", "fwd_macs"] == 2 * 8 * 8 * 4 * 3 * 9
    assert df.loc["blocks.0.0", "bwd_input_macs"] == 0
    assert df.loc["blocks.0.0", "bwd_weight_macs"] == 2 * 8 * 8 * 4 * 3 * 9
    # conv 4->6, stride 2: 4x4 out.
    assert df.loc["blocks.1.0", "fwd_macs"] == 2 * 4 * 4 * 6 * 4 * 9
    assert df.loc["blocks.1.0", "bwd_input_macs"] == 2 * 4 * 4 * 6 * 4 * 9
    assert df.loc["blocks.2.1", "fwd_macs"] == 2 * 96 * 5
    assert df.loc["blocks.2.1", "params"] == 96 * 5 + 5
    assert df.loc["blocks.2.1", "ifmap_read_elems"] == 2 * 96
    assert df.loc["blocks.2.1", "ofmap_write_elems"] == 2 * 5
    # Bias adds are element-wise work: one per output element.
    assert df.loc["blocks.0.0", "fwd_elementwise_ops"] == 2 * 4 * 8 * 8
    # ReLU: 1 op per element forward and backward; its output is saved for backward (held,
    # not written again: that write is its ofmap_write).
    assert df.loc["blocks.0.1", "fwd_elementwise_ops"] == 2 * 4 * 8 * 8
    assert df.loc["blocks.0.1", "act_saved_elems"] == 2 * 4 * 8 * 8
    assert df.loc["blocks.0.1", "act_saved_write_elems"] == 0
    assert df.loc["blocks.0.1", "act_saved_read_elems"] == 2 * 4 * 8 * 8
    assert df.loc["blocks.0.1", "actgrad_read_elems"] == 2 * 4 * 8 * 8
    assert df.loc["blocks.0.0", "actgrad_write_elems"] == 0  # input image needs no gradient
    assert list(res.df.columns) == list(COLUMNS) == list(COLUMN_DOCS)


def test_frozen_middle_layer_keeps_input_gradient() -> None:
    """Freezing a layer that has trainable layers upstream: no weight gradient, but the input
    gradient still flows through it (what autograd computes)."""
    res = trace_training(_small_net(), (3, 8, 8), 2, frozen={"blocks.1.0.weight",
                                                              "blocks.1.0.bias"})
    df = res.df.set_index("layer")
    mid = df.loc["blocks.1.0"]
    assert mid["bwd_weight_macs"] == 0 and mid["bwd_input_macs"] == mid["fwd_macs"] > 0
    assert mid["wgrad_write_elems"] == 0 and mid["weight_write_elems"] == 0
    assert mid["weight_read_bwd_elems"] == 6 * 4 * 9
    assert not mid["trainable"] and mid["branch"] == "shared"
    assert df.loc["blocks.0.0", "bwd_weight_macs"] > 0
    # The model's own flags are restored afterwards.
    net = _small_net()
    trace_training(net, (3, 8, 8), 2, frozen=lambda n: n.startswith("blocks.0"))
    assert all(p.requires_grad for p in net.parameters())


@pytest.mark.parametrize(
    "opt,mults,adds,divs,sqrts,state",
    [
        # torch SGD: p += -lr * g
        ("sgd", 1, 1, 0, 0, 0),
        # torch SGD momentum: b = m*b + g; p += -lr * b
        ("momentum", 2, 2, 0, 0, 1),
        # torch Adam: m.lerp_(g, 1-b1); v = b2*v + (1-b2)*g*g; d = sqrt(v)/c2 + eps;
        # p += -s * m / d  (+1 step-counter add per tensor)
        ("adam", 5, 5, 2, 1, 2),
    ],
)
def test_update_ops_per_optimizer(opt: str, mults: int, adds: int, divs: int, sqrts: int,
                                  state: int) -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 7), nn.ReLU(), nn.Linear(7, 3))
    res = trace_training(net, (12,), 4, optimizer=opt)
    df = res.df.set_index("layer")
    for layer, n_w in (("1", 12 * 7 + 7), ("3", 7 * 3 + 3)):
        r = df.loc[layer]
        steps = 2 if opt == "adam" else 0  # one step counter per tensor (weight, bias)
        assert r["update_mults"] == mults * n_w
        assert r["update_adds"] == adds * n_w + steps
        assert r["update_divs"] == divs * n_w
        assert r["update_sqrts"] == sqrts * n_w
        assert r["update_other_ops"] == 0
        assert r["optstate_read_elems"] == r["optstate_write_elems"] == state * n_w + steps
        assert r["weight_write_elems"] == r["wgrad_write_elems"] == n_w
    assert res.unmodeled_ops == []


def test_memory_bytes_follow_dtype() -> None:
    r32 = trace_training(_small_net(), (3, 8, 8), 2).df
    r64 = trace_training(_small_net().double(), (3, 8, 8), 2, dtype=torch.float64).df
    assert (r32["bytes_per_elem"] == 4).all() and (r64["bytes_per_elem"] == 8).all()
    assert (r64["ifmap_read_bytes"] == 8 * r64["ifmap_read_elems"]).all()
    assert (r32["weight_read_fwd_bytes"] == 4 * r32["weight_read_fwd_elems"]).all()
    for c in ("fwd_macs", "bwd_input_macs", "ifmap_read_elems", "act_saved_write_elems"):
        assert r32[c].tolist() == r64[c].tolist()


def test_maxpool_indices_saved_as_int64() -> None:
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2 * 9, 2))
    df = trace_training(net, (1, 8, 8), 2).df.set_index("layer")
    pool = df.loc["1"]
    assert pool["fwd_elementwise_ops"] == 2 * 2 * 3 * 3 * 3  # 3 comparisons per 2x2 window
    # Saved: the conv output (input of the pool) and the int64 argmax indices; only the
    # indices are written for backward (the conv output's write is the conv's ofmap_write).
    assert pool["act_saved_elems"] == 2 * 2 * 6 * 6 + 2 * 2 * 3 * 3
    assert pool["act_saved_bytes"] == 4 * 2 * 2 * 6 * 6 + 8 * 2 * 2 * 3 * 3
    assert pool["act_saved_write_elems"] == 2 * 2 * 3 * 3
    assert pool["act_saved_write_bytes"] == 8 * 2 * 2 * 3 * 3


def test_residual_adds_and_storage_per_branch() -> None:
    net, k = _net("resnet18", 50)
    res = trace_training(net, (3, 32, 32), 2, iterations=2)
    df = res.df
    adds = df[df["kind"] == "add"]
    assert len(adds) == 8  # one residual add per basic block
    assert (adds["fwd_elementwise_ops"] == adds["ofmap_write_elems"]).all()
    st = res.storage.set_index("branch")
    per_branch = res.by("branch")
    assert per_branch.loc["shared", "bwd_weight_macs"] == 0
    assert int(per_branch["fwd_macs"].sum()) == res.phase_macs()["forward"]
    assert res.by("kind").loc["add", "fwd_elementwise_ops"] == adds["fwd_elementwise_ops"].sum()
    total = sum(p.numel() for p in net.parameters())
    assert int(st["params"].sum()) == total
    shared = sum(p.numel() for b in net.blocks[:k] for p in b.parameters())
    assert st.loc["shared", "params"] == shared and st.loc["shared", "trainable_params"] == 0
    assert set(res.timing_s) == {"forward", "backward", "step", "iteration"}
    assert len(res.timing_samples) == 2 and (res.timing_samples > 0).all().all()
    assert res.timing_s["iteration"] == pytest.approx(
        res.timing_s["forward"] + res.timing_s["backward"] + res.timing_s["step"])


def test_operand_samples(tmp_path) -> None:
    res = trace_training(_small_net(), (3, 8, 8), 2, sample_operands=16)
    keys = set(res.samples)
    assert "blocks.0.0|weight:blocks.0.0.weight" in keys
    assert "blocks.0.0|wgrad:blocks.0.0.weight" in keys
    assert "blocks.1.0|ifmap" in keys and "blocks.1.0|grad_out" in keys
    assert all(0 < v.size <= 16 for v in res.samples.values())
    path = tmp_path / "ops.npz"
    save_samples(res, str(path))
    import numpy as np

    with np.load(path) as z:
        assert len(z.files) == len(keys)


def test_bad_input() -> None:
    with pytest.raises(TraceError, match="optimizer"):
        trace_training(_small_net(), (3, 8, 8), 2, optimizer="lbfgs")
    with pytest.raises(TraceError, match="batch"):
        trace_training(_small_net(), (3, 8, 8), 0)
    net = _small_net()
    with pytest.raises(TraceError, match="frozen"):
        trace_training(net, (3, 8, 8), 2, frozen=lambda n: True)


def test_widened_layer_records_shared_modules_outside_the_tree() -> None:
    """Approach 1 (new maps of a frozen block): the base block's frozen layers run from a plain
    list outside the model tree; they are still traced, as shared work."""
    from learning.models import ConvStack, Head, freeze

    torch.manual_seed(0)
    base = freeze(ConvStack(1, [(4, 3, 1, 1), (6, 3, 1, 1)], pool=nn.MaxPool2d(2)))
    net = BlockNet([base.widen(2), Head(2 * 4 * 4, 3)])
    res = trace_training(net, (1, 8, 8), 2)
    df = res.df.set_index("layer")
    shared_conv = df[(df["kind"] == "conv2d") & (df["branch"] == "shared")]
    assert len(shared_conv) == 1
    r = shared_conv.iloc[0]
    assert r["params"] == 4 * 9 + 4 and r["fwd_macs"] == 2 * 8 * 8 * 4 * 9
    assert r["bwd_input_macs"] == r["bwd_weight_macs"] == 0
    new = df.loc["blocks.0.new_unit.0"]
    assert new["fwd_macs"] == 2 * 8 * 8 * 2 * 4 * 9 and new["bwd_input_macs"] == 0
    st = res.storage.set_index("branch")
    assert st.loc["shared", "params"] == 40 and st.loc["private", "trainable_params"] == 173


class _TwoBranch(nn.Module):
    """Any nn.Module: two parallel branches joined by concatenation, a grouped conv, a
    bias-free linear layer (plain ``mm``)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(4, 8, 3, padding=1)
        self.b = nn.Conv2d(4, 8, 1)
        self.g = nn.Conv2d(16, 8, 3, padding=1, groups=4)
        self.fc = nn.Linear(8 * 6 * 6, 3, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([torch.relu(self.a(x)), self.b(x)], dim=1)
        return self.fc(torch.flatten(self.g(y), 1))


def test_any_module_with_branches_and_grouped_conv() -> None:
    torch.manual_seed(0)
    res = trace_training(_TwoBranch(), (4, 6, 6), 2)
    df = res.df.set_index("layer")
    assert df.loc["a", "fwd_macs"] == 2 * 36 * 8 * 4 * 9
    assert df.loc["b", "fwd_macs"] == 2 * 36 * 8 * 4
    g = 2 * 36 * 8 * (16 // 4) * 9  # groups divide the input channels per output
    assert df.loc["g", "fwd_macs"] == df.loc["g", "bwd_weight_macs"] == g
    assert df.loc["g", "bwd_input_macs"] == g
    assert df.loc["fc", "fwd_macs"] == df.loc["fc", "bwd_input_macs"] == 2 * 288 * 3
    assert "model/relu0" in df.index  # functional op in the root forward gets its own row
    torch.manual_seed(0)
    ref = _TwoBranch()
    x = torch.randn(2, 4, 6, 6)
    with FlopCounterMode(display=False) as fwd:
        loss = ref(x).sum()
    with FlopCounterMode(display=False) as bwd:
        loss.backward()
    assert fwd.get_total_flops() == 2 * int(df["fwd_macs"].sum())
    # FlopCounterMode counts a grouped conv's weight gradient as if ungrouped (x groups); the
    # true count is the forward's, as above. Everything else agrees exactly.
    ours = int(df["bwd_input_macs"].sum() + df["bwd_weight_macs"].sum())
    assert bwd.get_total_flops() == 2 * (ours + (4 - 1) * g)
    assert res.checks["bwd_macs_dispatched"] == ours


# -- saved tensors: footprint (act_saved) vs extra writes (act_saved_write) ---------------------


def _saved(df, layer: str) -> tuple[int, int, int, int]:
    r = df.loc[layer]
    return (int(r["act_saved_elems"]), int(r["act_saved_bytes"]),
            int(r["act_saved_write_elems"]), int(r["act_saved_write_bytes"]))


def test_saved_tensors_footprint_vs_extra_writes() -> None:
    """Conv-ReLU-MaxPool-Flatten-Linear + loss, batch 2, 1x8x8 input, by hand. A saved tensor
    the forward already wrote (a row's output) or holds (the batch) is no extra write."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(2 * 3 * 3, 4))
    df = trace_training(net, (1, 8, 8), 2).df.set_index("layer")
    assert list(df.index) == ["0", "1", "2", "4", "loss"]  # Flatten: a view, no row
    # conv: saves its input, the image batch (2*1*8*8): held, not written for backward.
    assert _saved(df, "0") == (128, 4 * 128, 0, 0)
    # ReLU saves its own output (2*2*6*6), saved before the row's output is recorded: its
    # write is the ReLU's ofmap_write.
    assert _saved(df, "1") == (144, 4 * 144, 0, 0)
    assert df.loc["1", "ofmap_write_elems"] == 144
    # max-pool: its input is ReLU's output (already counted once); the int64 argmax indices
    # (2*2*3*3) are written only for backward.
    assert _saved(df, "2") == (36, 8 * 36, 36, 8 * 36)
    # linear: saves its input, the flattened max-pool output (a view of that row's output).
    assert _saved(df, "4") == (36, 4 * 36, 0, 0)
    # loss: log-softmax output (2x4) and nll's total weight (1) are written for backward; the
    # int64 targets (2) are the batch's labels, held.
    assert _saved(df, "loss") == (8 + 1 + 2, 4 * 9 + 8 * 2, 9, 4 * 9)


def test_batchnorm_saved_statistics_are_extra_writes() -> None:
    """BN saves its input (the conv's output: no extra write), its batch mean and inverse std
    (2 x C: extra writes) and its running statistics (module state: footprint only); an
    in-place ReLU's saved output is BN's output storage; a flattened view of it adds nothing."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, bias=False), nn.BatchNorm2d(3), nn.ReLU(inplace=True),
                        nn.Flatten(), nn.Linear(3 * 6 * 6, 4))
    df = trace_training(net, (1, 8, 8), 2).df.set_index("layer")
    out = 2 * 3 * 6 * 6
    assert _saved(df, "1") == (out + 2 * 3 + 2 * 3, 4 * (out + 12), 2 * 3, 4 * 2 * 3)
    assert _saved(df, "2") == (out, 4 * out, 0, 0)
    assert _saved(df, "4") == (0, 0, 0, 0)
    assert int(df["act_saved_write_elems"].sum()) == 6 + 9


# -- the traced optimizer is the trained one ----------------------------------------------------


class _UpdateOps(TorchDispatchMode):
    """(op, elements, scalar args) of every ATen op an optimizer step dispatches."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[tuple[str, int, tuple]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        out = func(*args, **(kwargs or {}))
        scalars = tuple(a for a in args if isinstance(a, int | float)) + tuple(
            sorted((kwargs or {}).items()))
        if isinstance(out, torch.Tensor):
            self.ops.append((func.overloadpacket.__name__, out.numel(), scalars))
        return out


def _sgd_step_ops(weight_decay: float) -> list[tuple[str, int, tuple]]:
    from learning.training import OptimizerSpec, build_optimizer

    p = nn.Parameter(torch.ones(5))
    opt = build_optimizer(OptimizerSpec("sgd", 0.05, 0.9, weight_decay), [p], foreach=False)
    for _ in range(2):  # the first step creates the momentum buffer; count the second
        p.grad = torch.full((5,), 0.5)
        mode = _UpdateOps()
        with mode:
            opt.step()
    return mode.ops


def test_weight_decay_is_one_multiply_and_one_add_per_parameter() -> None:
    """PyTorch's single-tensor SGD with weight decay dispatches exactly one more op per
    parameter, grad + wd * p (1 multiply, 1 add per element), and the trace counts just that,
    for SGD with momentum and for Adam."""
    from collections import Counter

    from learning.training import OptimizerSpec

    extra = Counter(_sgd_step_ops(5e-4)) - Counter(_sgd_step_ops(0.0))
    assert extra == Counter({("add", 5, (("alpha", 5e-4),)): 1})
    assert Counter(_sgd_step_ops(0.0)) - Counter(_sgd_step_ops(5e-4)) == Counter()
    for name in ("sgd", "adam"):
        base, wd = ({"name": name, "lr": 0.05, "momentum": 0.9, "weight_decay": w}
                    for w in (0.0, 5e-4))
        torch.manual_seed(0)
        r0 = trace_training(_small_net(), (3, 8, 8), 2, optimizer=OptimizerSpec(**base)).df
        torch.manual_seed(0)
        r1 = trace_training(_small_net(), (3, 8, 8), 2, optimizer=OptimizerSpec(**wd)).df
        trained = r0["weight_write_elems"]  # trainable parameter elements updated by the row
        assert int(trained.sum()) == sum(p.numel() for p in _small_net().parameters())
        assert (r1["update_mults"] - r0["update_mults"] == trained).all(), name
        assert (r1["update_adds"] - r0["update_adds"] == trained).all(), name
        for c in ("update_divs", "update_sqrts", "update_other_ops", "optstate_read_elems"):
            assert (r1[c] == r0[c]).all(), (name, c)


def test_optimizer_spec_from_config_and_presets() -> None:
    import dataclasses

    from learning.config import load_config
    from learning.training import OptimizerSpec
    from workload.api import optimizer_spec

    cfg = load_config("fast")
    spec = OptimizerSpec.from_config(cfg)
    assert spec == OptimizerSpec("sgd", lr=0.05, momentum=0.9, weight_decay=5e-4)
    assert OptimizerSpec.from_config(dataclasses.asdict(cfg)) == spec
    adam = OptimizerSpec.from_config({**dataclasses.asdict(cfg), "optimizer": "adam"})
    assert (adam.name, adam.momentum, adam.weight_decay) == ("adam", 0.0, 5e-4)
    assert optimizer_spec("momentum") == OptimizerSpec("sgd", 0.01, 0.9, 0.0)
    assert optimizer_spec("sgd").weight_decay == 0.0 and optimizer_spec("adam").name == "adam"
    with pytest.raises(TraceError, match="optimizer"):
        optimizer_spec("lbfgs")
    res = trace_training(_small_net(), (3, 8, 8), 2, optimizer=spec)
    assert res.optimizer_spec == spec and "weight_decay=0.0005" in res.optimizer


def test_training_and_trace_build_the_optimizer_in_one_place(monkeypatch) -> None:
    """train_model (what an experiment runs) and trace_training both build their optimizer
    with learning.training.build_optimizer from the same spec; the trace forces the
    single-tensor path."""
    import numpy as np

    from learning import training
    from learning.training import OptimizerSpec
    from workload import api as T

    built: list[tuple[str, OptimizerSpec, bool | None, dict]] = []
    real = training.build_optimizer

    def spy(who: str):  # noqa: ANN202
        def f(spec, params, *, foreach=None):  # noqa: ANN001, ANN202
            opt = real(spec, params, foreach=foreach)
            built.append((who, spec, foreach, {k: opt.defaults[k] for k in
                                               ("lr", "momentum", "weight_decay")}))
            return opt
        return f

    monkeypatch.setattr(training, "build_optimizer", spy("train"))
    monkeypatch.setattr(T, "build_optimizer", spy("trace"))
    spec = OptimizerSpec("sgd", lr=0.05, momentum=0.9, weight_decay=5e-4)
    net = _small_net()
    x = np.zeros((4, 3, 8, 8), dtype=np.uint8)
    training.train_model(net, net, x, np.array([0, 1, 2, 3]), epochs=1, batch_size=4,
                         lr=spec.lr, momentum=spec.momentum, weight_decay=spec.weight_decay,
                         progress=False)
    trace_training(_small_net(), (3, 8, 8), 2, optimizer=spec)
    (w1, s1, f1, d1), (w2, s2, f2, d2) = built
    assert (w1, w2) == ("train", "trace") and s1 == s2 == spec and d1 == d2
    assert (f1, f2) == (None, False)
