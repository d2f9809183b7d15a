"""Experiment's facade for hardware costing: the trained branches stay reachable, and
``training_network(label)`` traces exactly what the stage trained (MACs, trainable parameters,
frozen trunk), on real training images normalized as in training."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from learning import data as D
from learning.config import config_from_dict
from learning.errors import LearningError
from learning.incremental import Experiment
from learning.models import build_model, count_params, sharing_points
from learning.network import own_params
from learning.training import OptimizerSpec, to_float, trunk_outputs
from workload import trace_training

from .fmnist import needs_fmnist, tiny_fmnist

torch.set_num_threads(1)

pytestmark = needs_fmnist

TINY = tiny_fmnist(train_per_class=20, test_per_class=5, baselines=["no-sharing"])


@pytest.fixture(scope="module")
def fmnist() -> D.ImageDataset:
    return D.load_dataset("fashion-mnist")


@pytest.fixture(scope="module")
def widen(fmnist) -> Experiment:
    exp = Experiment(config_from_dict({**TINY, "approach": "widen", "new_maps": 4}),
                     progress=False, checkpoint=False, dataset=fmnist)
    exp.run()
    return exp


@pytest.fixture(scope="module")
def sweep(fmnist) -> tuple[Experiment, object]:
    exp = Experiment(config_from_dict({**TINY, "approach": "partial", "sweep": True}),
                     progress=False, checkpoint=False, dataset=fmnist)
    return exp, exp.run()


def _trainable(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


def _training_step_flops(exp: Experiment, label: str, x: torch.Tensor,
                         y: torch.Tensor) -> tuple[int, int]:
    """Forward and backward FLOPs of one step of the stage's own training code path: the
    branch (trainable, as when it was made) on the frozen trunk, via ``branch_forward``."""
    br = copy.deepcopy(exp.branches[label])
    for p in br.parameters():
        p.requires_grad_(True)
    br.train()
    trunk, head = exp.branch_forward(br, split=True)
    with FlopCounterMode(display=False) as fwd:
        feats = trunk_outputs(trunk, x, x.shape[0]) if trunk is not None else x
        feats = feats[0] if isinstance(feats, list) and len(feats) == 1 else feats
        loss = nn.functional.cross_entropy(head(feats), y)
    with FlopCounterMode(display=False) as bwd:
        loss.backward()
    return fwd.get_total_flops(), bwd.get_total_flops()


def test_widen_training_network_traces_what_trained(widen) -> None:
    label = "widen-t1-m4"
    assert {"clone-t1-k0", label, "widen-t2-m4", "noshare-t2"} <= set(widen.branches)
    net = widen.training_network(label)
    # Flags exactly as in training: the new maps and the new head train, the trunk is frozen.
    assert all(p.requires_grad for p in net.branch.parameters())
    assert not any(p.requires_grad for p in net.shared.parameters())
    assert all(not m.training for m in net.shared.modules()) and net.branch.training
    trained = own_params(widen.branches[label])
    assert _trainable(net) == trained == widen.sharing_labels(1)[label]["trained_params"]
    x, y = widen.sample_batch(1, 16, seed=3)
    fwd, bwd = _training_step_flops(widen, label, x, y)
    res = trace_training(net, tuple(x.shape[1:]), 16, frozen=None, inputs=x, targets=y,
                         optimizer=OptimizerSpec.from_config(widen.cfg),
                         branch_of=net.branch_name)
    df = res.df
    assert 2 * int(df["fwd_macs"].sum()) == fwd > 0
    assert 2 * int(df["bwd_input_macs"].sum() + df["bwd_weight_macs"].sum()) == bwd > 0
    st = res.storage.set_index("branch")
    assert set(st.index) == {"shared", "task1"}
    assert int(st["trainable_params"].sum()) == st.loc["task1", "trainable_params"] == trained
    shared = df[df["branch"] == "shared"]
    assert not shared["trainable"].any() and int(shared["bwd_weight_macs"].sum()) == 0
    assert set(shared["layer"].str.split(".").str[0]) == {"shared"}
    # The kept branch is untouched (a copy was traced and trained).
    assert not any(p.requires_grad for p in widen.branches[label].parameters())


def test_sharing_labels_widen(widen) -> None:
    pts = widen.sharing_labels(1)
    assert list(pts) == ["clone-t1-k0", "widen-t1-m4"]
    assert pts["clone-t1-k0"]["method"] == "no-sharing" and not pts["clone-t1-k0"]["chosen"]
    w = pts["widen-t1-m4"]
    assert (w["method"], w["kind"], w["chosen"]) == ("sharing", "widen", True)
    assert 0 < w["shared_pct"] < 100
    assert list(widen.sharing_labels(2)) == ["noshare-t2", "widen-t2-m4"]
    with pytest.raises(LearningError, match="task 5"):
        widen.sharing_labels(5)
    with pytest.raises(LearningError, match="no trained branch"):
        widen.training_network("clone-t1-k9")


def test_clone_training_network_has_the_stage_trainable_params(sweep) -> None:
    exp, res = sweep
    ks = [p.share_k for p in res.sweep]
    pts = exp.sharing_labels(1)
    assert list(pts) == [f"clone-t1-k{k}" for k in ks] and ks == sorted(ks) and ks[0] == 0
    assert [e["method"] for e in pts.values()] == ["no-sharing"] + ["sharing"] * (len(ks) - 1)
    assert [e["chosen"] for e in pts.values()] == [p.chosen for p in res.sweep]
    n1 = len(exp.tasks[1].classes)
    x, y = exp.sample_batch(1, 8)
    for k, (label, e) in zip(ks, pts.items(), strict=True):
        assert e["share_k"] == k
        net = exp.training_network(label)
        split = exp.param_split(k, n1)
        # Every parameter of the cloned blocks trains; the trunk's are frozen.
        assert _trainable(net) == own_params(exp.branches[label]) == e["trained_params"]
        assert _trainable(net) == split.branch_params
        assert count_params(net.shared) == split.shared_params
        assert not any(p.requires_grad for p in net.shared.parameters())
        res_k = trace_training(net, tuple(x.shape[1:]), 8, inputs=x, targets=y,
                               branch_of=net.branch_name)
        df = res_k.df
        assert int(res_k.storage["trainable_params"].sum()) == split.branch_params
        assert set(df["layer"][df["branch"] == "shared"]) == set(
            df["layer"][df["layer"].str.startswith("shared.")])
        assert (df["branch"] == "shared").any() == (k > 0)
        fwd, bwd = _training_step_flops(exp, label, x, y)
        assert 2 * int(df["fwd_macs"].sum()) == fwd
        assert 2 * int(df["bwd_input_macs"].sum() + df["bwd_weight_macs"].sum()) == bwd
    base = exp.training_network("base")
    assert _trainable(base) == count_params(exp.base) and len(base.shared) == 0
    assert not any(p.requires_grad for p in exp.base.parameters())  # the kept base: frozen


def test_sample_batch_is_the_training_normalization(widen) -> None:
    task = widen.tasks[1]
    with widen.guard.learning([1]):
        xs, ys = task.train()
        xs, ys = xs.copy(), ys.copy()
    x, y = widen.sample_batch(1, len(ys), seed=0)
    assert torch.equal(x, to_float(xs)) and torch.equal(y, torch.as_tensor(task.local(ys)))
    assert x.dtype == torch.float32 and y.dtype == torch.long
    assert float(x.min()) >= -1.0 and float(x.max()) <= 1.0 and float(x.max()) > 0.9
    a, b = widen.sample_batch(1, 10, seed=7), widen.sample_batch(1, 10, seed=7)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    idx = np.sort(np.random.default_rng(7).permutation(len(ys))[:10])
    assert torch.equal(a[0], to_float(xs[idx]))
    assert widen.guard.active == frozenset()  # the guard is restored
    with pytest.raises(LearningError, match="training images"):
        widen.sample_batch(1, len(ys) + 1)


def test_param_split_with_batchnorm_statistics(fmnist) -> None:
    exp = Experiment(config_from_dict({**TINY, "model": "resnet18", "width": 0.25}),
                     progress=False, checkpoint=False, dataset=fmnist)
    net = build_model("resnet18", 3, 1, 28, 0.25)
    total = count_params(net)
    stats = sum(b.numel() for n, b in net.named_buffers() if "running_" in n)
    for k, pct in sharing_points(net):
        s = exp.param_split(k, 3)
        assert s.shared_params + s.branch_params == total
        assert s.shared_params == pytest.approx(total * pct / 100)
        assert s.shared_stats + s.branch_stats == stats > 0
        assert s.task_classes == (4, 3, 3) and s.num_classes == 3
    assert exp.param_split(0, 3).shared_stats == 0
    with pytest.raises(LearningError, match="sharing point"):
        exp.param_split(len(net.blocks), 3)
