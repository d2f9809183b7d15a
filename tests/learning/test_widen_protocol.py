"""Approach 1 as in the paper's Table 1 (``widen_cumulative``): the last conv layer grows by
``new_maps`` maps per installment (6, 8, 10 maps on LeNet's 4), only the new kernels and output
connections train, earlier installments stay bit-identical, "without sharing" fine-tunes the
previous no-sharing network widened alike, new kernels start from the learned distribution, and
digits-letters is balanced per class."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from learning import data as D
from learning.config import config_from_dict
from learning.errors import LearningError
from learning.incremental import Experiment
from learning.models import build_model, count_params
from learning.network import CloneBranch, make_widen_branch, make_widened_clone
from learning.training import module_digest, tensor_digest
from learning.widening import CLONE_NOISE

from .fmnist import needs_fmnist, tiny_fmnist

torch.set_num_threads(1)

CUMULATIVE = tiny_fmnist(splits=[4, 2, 2, 2], approach="widen", new_maps=2,
                         widen_cumulative=True, baselines=["no-sharing"], train_per_class=30,
                         test_per_class=10, epochs=2)
WIDEN_LABELS = ["widen-t1-m2", "widen-t2-m2", "widen-t3-m2"]
NOSHARE_LABELS = ["noshare-widen-t1-m2", "noshare-widen-t2-m2", "noshare-widen-t3-m2"]


def _state(m: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


@pytest.fixture(scope="module")
def run() -> tuple[Experiment, object, dict[str, dict]]:
    """The cumulative experiment, with snapshots taken right after every stage: the base's and
    every earlier stage's parameters, and the earlier widen branches' test logits."""
    if not (D.FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    snaps: dict[str, dict] = {}
    exp = Experiment(config_from_dict(CUMULATIVE), progress=False, checkpoint=False)

    def on_stage(label: str) -> None:
        assert exp.trainer.base is not None or label == "base"
        done = {k: _state(b) for k, b in exp.branches.items()}
        logits = {k: tensor_digest(exp.test_logits(b, exp.tasks[exp.branch_task[k]]))
                  for k, b in exp.branches.items() if k.startswith("widen")}
        snaps[label] = {"branches": done, "logits": logits}

    exp.on_stage = on_stage
    res = exp.run()
    return exp, res, snaps


@needs_fmnist
def test_the_last_conv_layer_grows_cumulatively(run) -> None:
    exp, res, _ = run
    for t, label in enumerate(WIDEN_LABELS, start=1):
        br = exp.branches[label]
        assert br.added_maps == 2 * t and len(br.earlier) == t - 1
        assert br.earlier == [exp.branches[x].new_maps for x in WIDEN_LABELS[: t - 1]]
        assert br.head.fc.in_features == (4 + 2 * t) * 4 * 4
    nets = [r.network for r in res.installments]
    assert nets == ["[784 4c5 2s 4c5 2s 4o]", "[784 4c5 2s 6c5 2s 2o]",
                    "[784 4c5 2s 8c5 2s 2o]", "[784 4c5 2s 10c5 2s 2o]"]
    # without sharing: the same architecture at every installment
    assert [b.network for b in res.method("no-sharing").branches] == nets
    assert res.method("sharing").old_logits_identical is True
    assert res.method("no-sharing").old_logits_identical is True


@needs_fmnist
def test_only_the_new_kernels_and_output_layer_train(run) -> None:
    exp, res, snaps = run
    for t, label in enumerate(WIDEN_LABELS, start=1):
        names = {n.split(".")[0] + "." + n.split(".")[1] for n, _ in
                 exp.branches[label].named_parameters()}
        assert names == {"new_maps.new_unit", "head.fc"}
        info = res.method("sharing").branches[t]
        # 2 new 5x5 kernels over 4 input maps (+ bias), outputs over all 4 + 2t 4x4 maps
        assert info.trained_params == (2 * 4 * 25 + 2) + ((4 + 2 * t) * 16 * 2 + 2)
        shared = count_params(exp.base) - count_params(exp.base.head) + (t - 1) * (2 * 4 * 25 + 2)
        assert info.network_params == shared + info.trained_params
    # the base and every earlier stage: bit-identical after each later stage trained
    final = {k: _state(b) for k, b in exp.branches.items()}
    for label, snap in snaps.items():
        for k, state in snap["branches"].items():
            assert all(torch.equal(v, final[k][n]) for n, v in state.items()), (label, k)
    assert module_digest(exp.base) == exp.base_digest


@needs_fmnist
def test_gradients_reach_only_the_new_kernels_and_head(run) -> None:
    exp, _, _ = run
    net = exp.training_network("widen-t3-m2")
    x, y = exp.sample_batch(3, 8, seed=1)
    nn.functional.cross_entropy(net(x), y).backward()
    got = {n for n, p in net.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert got == {"branch.new_maps.new_unit.0.weight", "branch.new_maps.new_unit.0.bias",
                   "branch.head.fc.weight", "branch.head.fc.bias"}
    for m in net.branch.earlier:  # earlier installments: frozen, no gradient
        assert all(p.grad is None and not p.requires_grad for p in m.parameters())


@needs_fmnist
def test_earlier_installments_logits_are_bit_identical_later(run) -> None:
    exp, _, snaps = run
    last = snaps[WIDEN_LABELS[-1]]["logits"]
    for label in WIDEN_LABELS:
        for k, d in snaps[label]["logits"].items():
            assert last[k] == d, (label, k)
    for k, d in last.items():
        assert d == tensor_digest(exp.test_logits(exp.branches[k], exp.tasks[exp.branch_task[k]]))


@needs_fmnist
def test_without_sharing_trains_everything_from_the_previous_model(run) -> None:
    exp, res, _ = run
    noshare = res.method("no-sharing").branches
    for t, label in enumerate(NOSHARE_LABELS, start=1):
        br = exp.branches[label]
        assert isinstance(br, CloneBranch) and br.share_k == 0
        assert noshare[t].trained_params == noshare[t].network_params == count_params(br)
        assert br.blocks[1].units[-1][0].out_channels == 4 + 2 * t
    # each starts from the previous no-sharing model: rebuilt untrained, it holds its weights
    prev = exp.branches[NOSHARE_LABELS[0]]
    fresh = exp.trainer.new_widened_clone("probe", 2, prev)
    assert torch.equal(fresh.blocks[0].units[0][0].weight, prev.blocks[0].units[0][0].weight)
    assert torch.equal(fresh.blocks[1].units[0][0].weight[:6], prev.blocks[1].units[0][0].weight)
    # ... and every parameter of the old model moved while training the next installment
    trained = exp.branches[NOSHARE_LABELS[1]]
    for (n, p), q in zip(fresh.named_parameters(), trained.parameters(), strict=True):
        if "blocks.2" in n:
            continue  # the new output layer
        if "blocks.1" in n:
            p, q = p[:6], q[:6]
        assert not torch.equal(p, q), n


@needs_fmnist
def test_per_installment_rows(run) -> None:
    _, res, _ = run
    rows = res.installments
    assert [r.task for r in rows] == [0, 1, 2, 3]
    assert rows[0].with_sharing_test_acc_pct is None
    assert rows[0].without_sharing_test_acc_pct == res.method("sharing").task_aware_acc_pct[0]
    for r in rows[1:]:
        assert r.with_sharing_test_acc_pct == res.method("sharing").task_aware_acc_pct[r.task]
        assert r.without_sharing_test_acc_pct == res.method("no-sharing").task_aware_acc_pct[
            r.task]
    assert rows[1].class_names == "Coat-Sandal"  # classes 4, 5


@needs_fmnist
def test_cumulative_branch_is_traced_as_it_trained(run) -> None:
    """The report costs the trained branch: earlier installments' maps are shared work."""
    from workload import trace_training

    exp, _, _ = run
    label = WIDEN_LABELS[2]
    x, y = exp.sample_batch(3, 8, seed=0)
    net = exp.training_network(label)
    df = trace_training(net, (1, 28, 28), 8, frozen=None, inputs=x, targets=y,
                        branch_of=net.branch_name).df
    conv = df[df["kind"] == "conv2d"]
    private = conv[conv["branch"] == "task3"]
    assert len(private) == 1 and private.iloc[0]["params"] == 2 * 4 * 25 + 2
    shared = conv[conv["branch"] == "shared"]
    assert len(shared) == 2 + 2  # base's two conv layers + two earlier installments
    assert int(df["weight_write_elems"].sum()) == exp.sharing_labels(3)[label]["trained_params"]


def _base_with_kernels(mean: float, std: float) -> nn.Module:
    torch.manual_seed(0)
    base = build_model("lenet", 3, width=4.0)  # 16 maps in the last conv layer
    conv = base.blocks[-2].units[-1][0]
    with torch.no_grad():
        conv.weight.normal_(mean, std)
        conv.bias.normal_(-mean, std / 2)
    return base


def test_new_kernels_follow_the_learned_distribution() -> None:
    base = _base_with_kernels(0.3, 0.05)
    br = make_widen_branch(base, 32, 3, seed=1, init="distribution")
    w, b = br.new_maps.new_unit[0].weight.detach(), br.new_maps.new_unit[0].bias.detach()
    assert float(w.mean()) == pytest.approx(0.3, abs=0.003)
    assert float(w.std()) == pytest.approx(0.05, rel=0.05)
    assert float(b.mean()) == pytest.approx(-0.3, abs=0.03)
    # the no-sharing network's new kernels too
    net = make_widened_clone(base, base, 32, 3, seed=1, init="distribution")
    new = net.blocks[1].units[-1][0].weight.detach()[16:]
    assert float(new.mean()) == pytest.approx(0.3, abs=0.003)
    assert float(new.std()) == pytest.approx(0.05, rel=0.05)
    default = make_widen_branch(base, 32, 3, seed=1, init="default").new_maps.new_unit[0]
    assert abs(float(default.weight.detach().mean()) - 0.3) > 0.1


def test_clone_init_copies_learned_kernels_with_small_noise() -> None:
    base = _base_with_kernels(0.3, 0.05)
    learned = base.blocks[-2].units[-1][0].weight.detach()
    new = make_widen_branch(base, 8, 3, seed=2, init="clone").new_maps.new_unit[0].weight.detach()
    dist = (new[:, None] - learned[None]).flatten(2).abs().amax(2).amin(1)
    assert float(dist.max()) < 6 * CLONE_NOISE * float(learned.std())
    assert float(dist.min()) > 0  # noise added


def test_unknown_widen_init_is_one_line() -> None:
    with pytest.raises(LearningError, match="unknown widen_init 'zeros'; use one of: "
                                            "distribution, clone, default"):
        config_from_dict(tiny_fmnist(approach="widen", widen_init="zeros"))


def test_balance_tasks_caps_every_class_at_the_tasks_smallest() -> None:
    y_tr = np.repeat(np.arange(4), [10, 7, 12, 30])
    y_te = np.repeat(np.arange(4), [5, 3, 6, 9])
    ds = D.ImageDataset("toy", np.zeros((y_tr.size, 1, 4, 4), np.uint8), y_tr,
                        np.zeros((y_te.size, 1, 4, 4), np.uint8), y_te, list("abcd"), "toy")
    tasks, _ = D.make_tasks(ds, [3, 1], val_fraction=0.2, balance_tasks=True)
    t0 = tasks[0]
    counts = np.bincount(np.concatenate([t0._y_train, t0._y_val]))
    assert counts.tolist() == [7, 7, 7] and np.bincount(t0.y_test).tolist() == [3, 3, 3]
    assert tasks[1]._y_train.size + tasks[1]._y_val.size == 30  # a one-class task keeps all
    unbalanced, _ = D.make_tasks(ds, [3, 1], val_fraction=0.2)
    assert np.bincount(unbalanced[0].y_test).tolist() == [5, 3, 6]


@pytest.mark.data
@pytest.mark.skipif(D.default_data_root() is None, reason="../shared/data is not present")
def test_digits_letters_counts_per_class() -> None:
    ds = D.load_digits_letters(D.default_data_root())
    tr, te = np.bincount(ds.y_train), np.bincount(ds.y_test)
    assert tr[:10].tolist() == [400] * 10 and te[:10].tolist() == [100] * 10
    assert tr[10:28].min() >= 734 and te[10:28].min() >= 184  # A-R
    assert 102 <= tr[29:].min() and tr[29:].max() <= 131  # T-Z: the file's few images
