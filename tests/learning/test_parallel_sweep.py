"""The sharing sweep trained in parallel worker processes gives the same results as the serial
run (same per-process thread count), and ``workers`` does not change the config fingerprint."""

from __future__ import annotations

import pytest
import torch

from learning import data as D
from learning.config import config_from_dict
from learning.errors import LearningError
from learning.incremental import run_experiment

from .fmnist import needs_fmnist, tiny_fmnist

pytestmark = needs_fmnist

TINY = tiny_fmnist(
    seed=3, approach="partial", sweep=True, baselines=["no-sharing"], threads=1,
    tolerance=100.0,  # always pick the deepest point, so task 2 uses a sweep-trained branch
)


def _strip_times(d):
    if isinstance(d, dict):
        return {k: _strip_times(v) for k, v in d.items()
                if not k.endswith("time_s") and k not in ("resumed_stages", "output_dir",
                                                          "workers")}
    if isinstance(d, list):
        return [_strip_times(v) for v in d]
    return d


def test_parallel_sweep_equals_serial(tmp_path, monkeypatch):
    ds = D.load_dataset("fashion-mnist")
    threads = torch.get_num_threads()
    from learning import training

    seen: list[tuple[str, int, int, str]] = []
    real = training.run_parallel

    def spy(fn, jobs, workers, threads):
        for i, result in real(fn, jobs, workers, threads):
            seen.append((jobs[i][0], workers, threads, type(result[0]).__name__))
            yield i, result

    monkeypatch.setattr(training, "run_parallel", spy)
    try:
        serial = run_experiment(config_from_dict({**TINY, "output_dir": str(tmp_path / "s")}),
                                progress=False, dataset=ds)
        assert seen == []
        par = run_experiment(config_from_dict({**TINY, "workers": 2,
                                               "output_dir": str(tmp_path / "p")}),
                             progress=False, dataset=ds)
    finally:
        torch.set_num_threads(threads)
    # lenet's sweep points 1 and 2 came from 2 workers x 1 thread (point 0 is the no-sharing
    # baseline's first branch, trained before the sweep)
    assert sorted(seen) == [("clone-t1-k1", 2, 1, "CloneBranch"),
                            ("clone-t1-k2", 2, 1, "CloneBranch")]
    assert [p.share_k for p in par.sweep] == [0, 1, 2]
    assert par.chosen_share_k == 2
    assert _strip_times(par.to_dict()) == _strip_times(serial.to_dict())
    digests = [b.param_digest for m in par.methods for b in m.branches]
    assert digests == [b.param_digest for m in serial.methods for b in m.branches]
    # the parallel run's checkpoint resumes like a serial one: nothing is retrained
    again = run_experiment(config_from_dict({**TINY, "output_dir": str(tmp_path / "p")}),
                           progress=False, dataset=ds)
    assert "clone-t1-k2" in again.resumed_stages
    assert _strip_times(again.to_dict()) == _strip_times(serial.to_dict())


def test_workers_field():
    a = config_from_dict(TINY)
    assert config_from_dict({**TINY, "workers": 4}).fingerprint() == a.fingerprint()
    assert config_from_dict({**TINY, "trunk_cache_mb": 1}).fingerprint() == a.fingerprint()
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(LearningError, match="workers"):
            config_from_dict({**TINY, "workers": bad})
    with pytest.raises(LearningError, match="trunk_cache_mb"):
        config_from_dict({**TINY, "trunk_cache_mb": -1})
