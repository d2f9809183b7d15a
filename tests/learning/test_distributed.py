"""Data-parallel training (DDP under torchrun): sharding, equivalence with one process, and a
whole run launched by torchrun on CPU (gloo)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from learning import distributed
from learning.training import train_model

from .fmnist import needs_fmnist

X = np.random.default_rng(0).integers(0, 256, (96, 1, 4, 4), dtype=np.uint8)
Y = (X.reshape(96, -1).mean(1) > 127).astype(np.int64)


def _train(seen: list[int] | None = None) -> torch.Tensor:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))

    def forward(x: torch.Tensor) -> torch.Tensor:
        if seen is not None:
            seen.append(int(x.shape[0]))
        return net(x)

    train_model(forward, net, X, Y, epochs=2, batch_size=32, lr=0.1, seed=3, progress=False)
    return torch.cat([p.detach().flatten() for p in net.parameters()])


def _worker(rank: int, world: int, init: str, out: str) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        assert distributed.active() and distributed.world_size() == world
        seen: list[int] = []
        w = _train(seen)
        assert seen == [16] * 6  # each process trains on its half of every 32-image batch
        torch.save(w, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_single_process_is_untouched():
    assert not distributed.active() and distributed.world_size() == 1 and distributed.is_main()
    idx = torch.arange(7)
    assert torch.equal(distributed.shard(idx), idx)


def test_two_processes_train_the_same_weights_as_one(tmp_path: Path):
    """Without BatchNorm, averaging the gradients of two half-batches is the full-batch
    gradient: DDP over 2 processes gives one process's weights (to float rounding), and both
    replicas are identical."""
    torch.set_num_threads(1)
    seen: list[int] = []
    ref = _train(seen)
    assert seen == [32] * 6
    init = f"file://{tmp_path / 'rdzv'}"
    out = str(tmp_path / "w")
    torch.multiprocessing.spawn(_worker, args=(2, init, out), nprocs=2, join=True)
    w0, w1 = torch.load(f"{out}.0"), torch.load(f"{out}.1")
    assert torch.equal(w0, w1)
    assert torch.allclose(w0, ref, atol=1e-5)
    assert not torch.equal(ref, torch.zeros_like(ref))


@needs_fmnist
def test_torchrun_runs_a_whole_experiment_data_parallel(tmp_path: Path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    if torchrun is None:
        pytest.skip("torchrun is not installed next to this Python")
    cfg = tmp_path / "tiny.toml"
    cfg.write_text('dataset = "fashion-mnist"\nsplits = [4, 3, 3]\nmodel = "lenet"\n'
                   "train_per_class = 40\ntest_per_class = 20\nepochs = 1\nbatch_size = 32\n"
                   'seed = 1\nthreads = 1\nbaselines = ["no-sharing"]\n')
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node=2", "-m", "learning", "run", "--config",
         str(cfg), "--output-dir", str(out), "--no-progress"],
        capture_output=True, text=True, timeout=300, env=env, check=False)
    assert p.returncode == 0, p.stderr[-2000:]
    res = json.loads((out / "results.json").read_text())
    assert res["environment"]["world_size"] == 2
    assert all(m["old_logits_identical"] for m in res["methods"])
    assert p.stdout.count("run time") == 1  # only rank 0 prints
