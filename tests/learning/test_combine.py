"""Combination rules of the updated network (learning.combine): calibration, the statistics
they keep, their selection, and their data isolation."""

from __future__ import annotations

import pytest
import torch

from learning import data as D
from learning.combine import (
    RULES,
    BranchOutput,
    BranchStats,
    fit_branch_stats,
    fit_temperature,
    get_rule,
    ledoit_wolf,
)
from learning.config import config_from_dict
from learning.errors import LearningError
from learning.incremental import Experiment, run_experiment

from .fmnist import needs_fmnist, tiny_fmnist

torch.set_num_threads(1)

TINY = tiny_fmnist(train_per_class=40, test_per_class=20, baselines=["no-sharing"])


def _stats(c: int, d: int, t: float = 1.0, seed: int = 0, n: int = 200) -> BranchStats:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n + 50) % c
    f = torch.randn(n + 50, d, generator=g) + 3.0 * torch.nn.functional.one_hot(y, d).double()
    return fit_branch_stats(f[:n], y[:n], c, t, f[n:])


def test_fit_temperature_recovers_the_generating_temperature():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(20000, 5, generator=g) * 3.0
    true_t = 2.5
    y = torch.multinomial(torch.softmax(z / true_t, 1), 1, generator=g).squeeze(1)
    assert fit_temperature(z, y) == pytest.approx(true_t, rel=0.05)
    assert fit_temperature(4 * z, y) == pytest.approx(4 * true_t, rel=0.05)


def test_ledoit_wolf_shrinks_little_with_many_samples_and_much_with_few():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(5000, 8, generator=g) * torch.linspace(0.5, 3.0, 8)
    cov, s_many = ledoit_wolf(a - a.mean(0))
    assert s_many < 0.05
    assert torch.allclose(cov.diagonal(), torch.linspace(0.5, 3.0, 8).double() ** 2, rtol=0.1)
    b = torch.randn(10, 8, generator=g)
    _, s_few = ledoit_wolf(b - b.mean(0))
    assert s_few > s_many
    with pytest.raises(LearningError):
        ledoit_wolf(torch.zeros(1, 4))


def test_statistics_hold_no_samples_their_size_is_independent_of_the_image_count():
    small, big = _stats(3, 16, n=60), _stats(3, 16, n=6000)
    for st in (small, big):
        assert st.whitener.shape == (16, 16) and st.means_white.shape == (3, 16)
        assert torch.equal(st.whitener, torch.tril(st.whitener))  # triangular W = L^-1
    assert (small.fit_images, big.fit_images) == (60, 6000)
    for name in RULES:
        rule = get_rule(name)
        assert rule.storage_bytes(small) == rule.storage_bytes(big)
        assert rule.macs_per_inference(small) == rule.macs_per_inference(big)
    m = get_rule("mahalanobis")
    assert m.storage_bytes(small) == 4 * (1 + 16 * 17 // 2 + 3 * 16 + 2)
    assert m.macs_per_inference(small) == 3 + 16 * 17 // 2 + 3 * 16 + 1
    assert get_rule("max-softmax").storage_bytes(small) == 0


def test_whitening_gives_the_mahalanobis_distance():
    st = _stats(2, 5, seed=3)
    cov = torch.linalg.inv(st.whitener.T @ st.whitener)
    mean0 = torch.linalg.solve(st.whitener, st.means_white[0])
    x = torch.randn(4, 5, dtype=torch.float64)
    d = x - mean0
    ref = torch.einsum("nd,de,ne->n", d, torch.linalg.inv(cov), d)
    z = x @ st.whitener.T
    assert torch.allclose(((z - st.means_white[0]) ** 2).sum(1), ref)


def _two_branches():
    # branch 0 (classes 0, 1) and branch 1 (classes 4, 2, 3) with features near their means
    s0, s1 = _stats(2, 4, seed=1), _stats(3, 4, seed=2)
    mean = lambda st, c: torch.linalg.solve(st.whitener, st.means_white[c])  # noqa: E731
    # sample 0 sits on branch 0's class-1 mean, sample 1 on branch 1's class-0 mean
    f0 = torch.stack([mean(s0, 1), mean(s0, 1) + 50.0])
    f1 = torch.stack([mean(s1, 0) + 50.0, mean(s1, 0)])
    # logits: branch 1 is (over)confident on sample 0, branch 0 on sample 1
    o0 = BranchOutput(f0, torch.tensor([[0.0, 1.0], [9.0, 0.0]], dtype=torch.float64))
    o1 = BranchOutput(f1, torch.tensor([[12.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64))
    return [o0, o1], [s0, s1], [[0, 1], [4, 2, 3]]


def test_each_rule_gives_a_distribution_over_the_learned_classes():
    outs, stats, classes = _two_branches()
    for name in RULES:
        s = get_rule(name)(outs, stats, classes, 5)
        assert s.shape == (2, 5)
        assert torch.allclose(s.sum(1), torch.ones(2, dtype=torch.float64))
    with pytest.raises(LearningError):
        get_rule("max-softmax")(outs[:1], stats, classes, 5)


def test_max_softmax_trusts_the_overconfident_branch_mahalanobis_the_matching_one():
    outs, stats, classes = _two_branches()
    assert get_rule("max-softmax")(outs, stats, classes, 5).argmax(1).tolist() == [4, 0]
    assert get_rule("mahalanobis")(outs, stats, classes, 5).argmax(1).tolist() == [1, 4]


def test_unknown_rule_is_a_one_line_error():
    with pytest.raises(LearningError, match="unknown combiner 'best'.*mahalanobis"):
        get_rule("best")
    with pytest.raises(LearningError, match="unknown combiner"):
        config_from_dict({**TINY, "combiner": "best"})


def test_the_rule_does_not_change_the_training_fingerprint():
    a = config_from_dict({**TINY, "combiner": "max-softmax"})
    b = config_from_dict({**TINY, "combiner": "mahalanobis"})
    assert a.fingerprint() == b.fingerprint()


@needs_fmnist
@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_is_selectable_and_evaluated_beside_the_others(rule):
    res = run_experiment(config_from_dict({**TINY, "combiner": rule}), progress=False,
                         write=False)
    sharing = res.method("sharing")
    assert sharing.combiner == rule
    combos = {(c.method, c.rule): c for c in res.combinations}
    assert set(combos) == {(m, r) for m in ("sharing", "no-sharing") for r in RULES}
    mine = combos[("sharing", rule)]
    assert mine.top1_pct == pytest.approx(sharing.top1_pct)
    assert mine.accuracy_matrix_pct == sharing.accuracy_matrix_pct
    assert len(mine.all_class_pct) == len(mine.task_id_pct) == 3
    # after task 0 there is one branch: every rule equals the base network's own accuracy
    assert mine.all_class_pct[0] == pytest.approx(sharing.task_aware_acc_pct[0])
    assert mine.task_id_pct[0] == 100.0


@needs_fmnist
def test_statistics_are_fitted_when_a_task_is_learned_from_that_task_alone(monkeypatch):
    events: list[tuple[str, int]] = []
    orig_train = D.TaskData.train
    orig_fit = Experiment.fit_stats
    orig_clone = Experiment.train_clone

    def train(self):
        events.append(("read", self.index))
        return orig_train(self)

    def fit_stats(self, branch, task, temperature):
        events.append(("fit", task.index))
        st = orig_fit(self, branch, task, temperature)
        events.append(("fitted", task.index))
        return st

    def train_clone(self, label, task, *a, **kw):
        events.append(("learn", task.index))
        return orig_clone(self, label, task, *a, **kw)

    monkeypatch.setattr(D.TaskData, "train", train)
    monkeypatch.setattr(Experiment, "fit_stats", fit_stats)
    monkeypatch.setattr(Experiment, "train_clone", train_clone)
    cfg = config_from_dict({**TINY, "approach": "clone", "baselines": []})
    run_experiment(cfg, progress=False, write=False)
    fits = [i for i, e in enumerate(events) if e[0] == "fit"]
    assert [events[i][1] for i in fits] == [0, 1, 2]
    for i in fits:
        task = events[i][1]
        j = events.index(("fitted", task), i)
        assert all(e == ("read", task) for e in events[i + 1 : j])  # only its own data
        # fitted before the next task is learned, never afterwards from stored data
        later = [e for e in events[j:] if e[0] == "learn"]
        assert all(e[1] > task for e in later)
