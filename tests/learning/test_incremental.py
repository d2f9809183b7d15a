"""Incremental learning end to end on small real subsets: no forgetting by construction
(bit-identical old logits), determinism, resume, data isolation, sweep choice."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from learning import data as D
from learning.config import config_from_dict
from learning.errors import LearningError
from learning.incremental import Experiment, run_experiment
from learning.models import build_model, count_params, sharing_points
from learning.results import results_json

from .fmnist import needs_fmnist, tiny_fmnist

torch.set_num_threads(1)

pytestmark = needs_fmnist

TINY = tiny_fmnist(train_per_class=40, test_per_class=20)


@pytest.fixture(scope="module")
def fmnist() -> D.ImageDataset:
    return D.load_dataset("fashion-mnist")


def _cfg(**kw):
    return config_from_dict({**TINY, **kw})


def _strip_times(d):
    if isinstance(d, dict):
        return {k: _strip_times(v) for k, v in d.items()
                if not k.endswith("time_s") and k not in ("resumed_stages", "output_dir")}
    if isinstance(d, list):
        return [_strip_times(v) for v in d]
    return d


@pytest.mark.parametrize(
    "approach_kw",
    [{"approach": "widen", "new_maps": 2}, {"approach": "clone", "clone_blocks": 2},
     {"approach": "partial", "sweep": True}, {"approach": "partial", "sweep": False,
                                              "sharing_percent": 50.0}],
    ids=["approach1-widen", "approach2-clone", "approach3-sweep", "approach3-fixed"],
)
def test_old_task_logits_bit_identical_after_every_increment(fmnist, approach_kw):
    cfg = _cfg(**approach_kw)
    seen: dict[str, torch.Tensor] = {}
    exp: Experiment

    def on_stage(label: str) -> None:
        # Independently of the experiment's own checks: the base network's logits on task 0's
        # test images, by a plain forward pass, after every stage.
        with torch.no_grad():
            x = torch.as_tensor(exp.tasks[0].x_test).float() * (2 / 255) - 1
            seen[label] = exp.base(x) if exp.base is not None else None

    exp = Experiment(cfg, progress=False, checkpoint=False, on_stage=on_stage, dataset=fmnist)
    res = exp.run()
    after_base = [v for k, v in seen.items() if k != "base"]
    assert len(after_base) >= 3  # branches for tasks 1, 2 (+ baselines / sweep points)
    for v in after_base:
        assert torch.equal(v, after_base[0])
    sharing = res.method("sharing")
    assert sharing.old_logits_identical is True
    assert res.method("no-sharing").old_logits_identical is True
    # the updated network's task-0 branch reproduces the base network bit for bit
    from learning.network import UpdatedNetwork, base_branch

    net = UpdatedNetwork(exp.base)
    b0 = base_branch(exp.base)
    net.add_branch(b0, exp.tasks[0].classes, exp.fit_stats(b0, exp.tasks[0], 1.0))
    with torch.no_grad():
        x = torch.as_tensor(exp.tasks[0].x_test).float() * (2 / 255) - 1
        assert torch.equal(net.branch_logits(x)[0], after_base[0])
    # accuracy matrix shape and the old rows never change from an old branch's view
    assert len(sharing.accuracy_matrix_pct) == 3
    assert sharing.accuracy_matrix_pct[0][0] == pytest.approx(sharing.task_aware_acc_pct[0])


def test_tampering_with_an_old_branch_is_detected(fmnist):
    cfg = _cfg(approach="clone", clone_blocks=1, baselines=["no-sharing"])
    exp: Experiment

    def on_stage(label: str) -> None:
        if label == "clone-t1-k0":  # after the first branch exists, disturb the frozen base
            with torch.no_grad():
                next(exp.base.parameters()).add_(1e-3)

    exp = Experiment(cfg, progress=False, checkpoint=False, on_stage=on_stage, dataset=fmnist)
    with pytest.raises(RuntimeError, match="changed"):
        exp.run()


def test_widen_trains_only_new_kernels_and_new_outputs(fmnist):
    res = run_experiment(_cfg(approach="widen", new_maps=3, baselines=[]), progress=False,
                         write=False, dataset=fmnist)
    b1 = res.method("sharing").branches[1]
    # lenet [784 4c5 2s 4c5 2s]: 3 new 5x5 kernels over 4 maps, new outputs over (4+3) 4x4 maps
    assert b1.trained_params == (3 * 4 * 25 + 3) + ((4 + 3) * 16 * 3 + 3)
    base = build_model("lenet", 4)
    shared = count_params(base) - count_params(base.head)
    assert b1.shared_pct == pytest.approx(100 * shared / (shared + b1.trained_params))


def test_deterministic_and_resumable(fmnist, tmp_path):
    full = run_experiment(_cfg(output_dir=str(tmp_path / "a")), progress=False, dataset=fmnist)
    again = run_experiment(_cfg(output_dir=str(tmp_path / "b")), progress=False, dataset=fmnist)
    assert _strip_times(full.to_dict()) == _strip_times(again.to_dict())

    done = []

    def interrupt(label: str) -> None:
        done.append(label)
        if len(done) == 3:
            raise KeyboardInterrupt

    out = tmp_path / "c"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(_cfg(output_dir=str(out)), progress=False, dataset=fmnist,
                       on_stage=interrupt)
    assert (out / "checkpoint.pt").exists() and not (out / "results.json").exists()
    resumed = run_experiment(_cfg(output_dir=str(out)), progress=False, dataset=fmnist)
    assert resumed.resumed_stages == done
    assert _strip_times(resumed.to_dict()) == _strip_times(full.to_dict())
    saved = json.loads((out / "results.json").read_text())
    assert saved["methods"][0]["top1_pct"] == pytest.approx(full.methods[0].top1_pct)
    for name in ("summary.csv", "accuracy_matrix.csv", "branches.csv", "sweep.csv"):
        assert (out / name).read_text().count("\n") >= 2
    json.loads(results_json(resumed))


def test_bad_checkpoints_are_refused(fmnist, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"\x00garbage")
    with pytest.raises(LearningError, match="corrupted"):
        run_experiment(_cfg(output_dir=str(out)), progress=False, dataset=fmnist)
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt"]  # nothing else written
    ok = tmp_path / "ok"
    run_experiment(_cfg(output_dir=str(ok), baselines=["no-sharing"]), progress=False,
                   dataset=fmnist)
    with pytest.raises(LearningError, match="different config"):
        run_experiment(_cfg(output_dir=str(ok), baselines=["no-sharing"], seed=2),
                       progress=False, dataset=fmnist)


def test_learning_a_task_touches_only_that_tasks_data(fmnist, monkeypatch):
    calls: list[tuple[int, frozenset]] = []
    orig_train, orig_val = D.TaskData.train, D.TaskData.val

    def train(self):
        calls.append((self.index, self.guard.active))
        return orig_train(self)

    def val(self):
        calls.append((self.index, self.guard.active))
        return orig_val(self)

    monkeypatch.setattr(D.TaskData, "train", train)
    monkeypatch.setattr(D.TaskData, "val", val)
    run_experiment(_cfg(), progress=False, write=False, dataset=fmnist)
    single = [(i, a) for i, a in calls if len(a) == 1]
    joint = [(i, a) for i, a in calls if len(a) > 1]
    assert single and all(a == {i} for i, a in single)
    assert {i for i, _ in joint} == {0, 1, 2}  # only the joint baseline sees all tasks
    assert all(a == {0, 1, 2} for _, a in joint)


def test_sweep_reports_exact_shares_and_picks_within_tolerance(fmnist):
    res = run_experiment(_cfg(tolerance=5.0), progress=False, write=False, dataset=fmnist)
    base = build_model("lenet", 4)
    exact = dict(sharing_points(base))
    assert [p.share_k for p in res.sweep] == sorted(exact)
    for p in res.sweep:
        assert p.sharing_point_pct == pytest.approx(exact[p.share_k], abs=1e-12)
    ref = next(p for p in res.sweep if p.share_k == 0).val_acc_pct
    ok = [p.share_k for p in res.sweep if p.val_acc_pct >= ref - 5.0]
    chosen = [p for p in res.sweep if p.chosen]
    assert len(chosen) == 1 and chosen[0].share_k == max(ok) == res.chosen_share_k
    assert all(b.share_k == res.chosen_share_k for b in res.method("sharing").branches[1:])
    nt = sum(len(c) for c in res.tasks)
    assert res.method("joint").top5_pct is not None and nt == 10


def test_config_round_trip_and_fingerprint():
    a = _cfg()
    b = config_from_dict(dataclasses.asdict(a))
    assert a.fingerprint() == b.fingerprint()
    assert _cfg(seed=2).fingerprint() != a.fingerprint()
    assert _cfg(output_dir="/x", threads=2).fingerprint() == a.fingerprint()
