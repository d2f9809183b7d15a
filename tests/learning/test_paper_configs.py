"""The named paper configs run end to end on real data (tiny budgets here; real-size runs are
marked slow)."""

from __future__ import annotations

import pytest

from learning import data as D
from learning.config import load_config
from learning.incremental import run_experiment

from .fmnist import needs_fmnist

SHARED = D.default_data_root()
needs_shared = pytest.mark.skipif(
    SHARED is None, reason="../shared/data (optional real data) is not present"
)
TINY = {"train_per_class": 20, "test_per_class": 10, "epochs": 1, "threads": 1}


@pytest.mark.data
@needs_shared
@pytest.mark.parametrize("name", ["digits-letters-widen-13", "paper-digits-letters",
                                  "cifar10-clone"])
def test_paper_config_runs_on_shared_data(name, tmp_path):
    over = {**TINY, "data_root": str(SHARED), "output_dir": str(tmp_path)}
    if name.startswith("cifar10"):
        over.update(width=0.1, augment=False)
    cfg = load_config(name, over)
    res = run_experiment(cfg, progress=False)
    sharing = res.method("sharing")
    assert sharing.old_logits_identical is True
    assert len(sharing.final_task_acc_pct) == len(cfg.splits)
    assert res.method("joint").top5_pct is not None
    assert (tmp_path / "results.json").exists()


@pytest.mark.slow
@needs_fmnist
def test_fast_default_full_size(tmp_path):
    """The fast default as shipped: branches learn their tasks well; sharing is picked within
    tolerance of no sharing on validation data."""
    cfg = load_config("fast", {"output_dir": str(tmp_path)})
    res = run_experiment(cfg, progress=False)
    assert res.method("joint").top1_pct > 75.0
    assert min(res.method("sharing").task_aware_acc_pct) > 80.0
    chosen = next(p for p in res.sweep if p.chosen)
    ref = next(p for p in res.sweep if p.share_k == 0)
    assert chosen.val_acc_pct >= ref.val_acc_pct - cfg.tolerance
    assert res.method("sharing").old_logits_identical is True
