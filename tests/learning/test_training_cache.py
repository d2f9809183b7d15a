"""Frozen-trunk output cache of ``train_model``: cached training gives the same weights as running
the trunk every step, in memory or spilled to disk; augmentation turns it off (and says why);
the trunk stays frozen; old branches stay bit-identical in a whole run."""

from __future__ import annotations

import logging
import shutil
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from learning import data as D
from learning.config import config_from_dict
from learning.incremental import Experiment
from learning.models import build_model, freeze
from learning.network import make_clone_branch, make_widen_branch
from learning.training import TrainStats, TrunkCache, module_digest, train_model

from .fmnist import needs_fmnist, tiny_fmnist

torch.set_num_threads(1)


CASES = {  # id -> (model, branch kind, share_k)
    "lenet-clone": ("lenet", "clone", 1),
    "lenet-widen": ("lenet", "widen", 1),  # reads two trunk activations
    "mlpconv-clone": ("mlpconv", "clone", 2),  # BatchNorm in the branch (the paper's net)
    "nin-clone": ("nin", "clone", 2),  # BatchNorm + dropout in the branch
    "resnet18-clone": ("resnet18", "clone", 3),  # residual blocks
}


def _run(case: str, n: int = 65, epochs: int = 2, **kw) -> tuple[str, str, TrainStats]:
    """Build a frozen base and a new branch (same seeds every call), train the branch on ``n``
    random uint8 images through the experiment's own trunk/head split; return (branch digest,
    base digest, stats). 65 = 2 x 32 + 1 images give a one-image last batch, where CPU conv
    kernels run without the trunk's zero-padding give other bits (the resnet18 case fails)."""
    model, kind, share_k = CASES[case]
    ch, size = (1, 28) if model == "lenet" else (3, 32)
    torch.manual_seed(0)
    width = {"lenet": 1.0, "mlpconv": 0.25, "nin": 0.25, "resnet18": 0.125}[model]
    base = freeze(build_model(model, 4, ch, size, width=width))
    if kind == "widen":
        branch = make_widen_branch(base, 2, 3, seed=1)
    else:
        branch = make_clone_branch(base, base, share_k, 3, seed=1)
    trunk, head = Experiment.branch_forward(SimpleNamespace(base=base), branch, split=True)
    g = np.random.default_rng(0)
    x = g.integers(0, 256, (n, ch, size, size), dtype=np.uint8)
    y = g.integers(0, 3, n)
    stats = train_model(head, branch, x, y, epochs=epochs, batch_size=32, lr=0.05, seed=7,
                        progress=False, trunk=trunk, **kw)
    return module_digest(branch), module_digest(base), stats


@pytest.mark.parametrize("case", list(CASES))
def test_cached_training_equals_uncached(case):
    cached, base_a, sa = _run(case)
    uncached, base_b, sb = _run(case, cache_trunk=False)
    assert (sa.trunk_cache, sb.trunk_cache) == ("memory", "off")
    assert sa.trunk_cache_bytes > 0 and sb.trunk_cache_reason == "trunk caching disabled"
    assert cached == uncached, f"{case}: cached and uncached training gave different weights"
    assert base_a == base_b
    again, _, _ = _run(case)
    assert again == cached  # deterministic


def test_trunk_stays_frozen_in_eval_mode():
    model, kind, share_k = CASES["mlpconv-clone"]
    torch.manual_seed(0)
    base = freeze(build_model(model, 4, 3, 32, width=0.25))
    before = module_digest(base)  # includes BatchNorm running statistics
    branch = make_clone_branch(base, base, share_k, 3, seed=1)
    trunk, head = Experiment.branch_forward(SimpleNamespace(base=base), branch, split=True)
    x = np.random.default_rng(0).integers(0, 256, (40, 3, 32, 32), dtype=np.uint8)
    y = np.arange(40) % 3
    for kw in ({}, {"cache_trunk": False}, {"use_augment": True}):
        train_model(head, branch, x, y, epochs=1, batch_size=16, lr=0.1, progress=False,
                    trunk=trunk, **kw)
        assert module_digest(base) == before
        assert not base.training and all(p.grad is None for p in base.parameters())


def test_cache_spills_to_disk_with_identical_weights(tmp_path):
    mem, _, s_mem = _run("lenet-widen")
    disk, _, s_disk = _run("lenet-widen", cache_limit_bytes=1000, cache_dir=tmp_path)
    assert s_disk.trunk_cache == "disk" and s_disk.trunk_cache_bytes == s_mem.trunk_cache_bytes
    assert s_disk.trunk_cache_bytes > 1000
    assert disk == mem
    assert list(tmp_path.iterdir()) == []  # the memmap folder is deleted after training


def test_cache_build_bounds_and_gather_order(tmp_path):
    base = freeze(build_model("lenet", 4, 1, 28))
    branch = make_widen_branch(base, 2, 3, seed=1)
    trunk, _ = Experiment.branch_forward(SimpleNamespace(base=base), branch, split=True)
    x = np.random.default_rng(1).integers(0, 256, (50, 1, 28, 28), dtype=np.uint8)
    per_image = (4 * 12 * 12 + 4 * 4 * 4) * 4  # acts[1] and acts[2], float32
    mem = TrunkCache.build(trunk, x, 16, limit_bytes=50 * per_image)
    disk = TrunkCache.build(trunk, x, 16, limit_bytes=50 * per_image - 1, cache_dir=tmp_path)
    assert isinstance(mem, TrunkCache) and isinstance(disk, TrunkCache)
    assert (mem.mode, disk.mode, mem.nbytes, disk.nbytes) == ("memory", "disk", 50 * per_image,
                                                              50 * per_image)
    idx = torch.tensor([49, 3, 17, 3, 0])
    with torch.no_grad():
        ref = trunk(torch.as_tensor(x[idx.numpy()]).float() * (2 / 255) - 1)
    for c in (mem, disk):
        got = c.gather(idx)
        assert len(got) == 2 and all(torch.equal(a, b) for a, b in zip(got, ref, strict=True))
    disk.close()
    assert list(tmp_path.iterdir()) == []


def test_cache_off_when_it_fits_neither_memory_nor_disk(tmp_path, monkeypatch, caplog):
    ref, _, _ = _run("lenet-clone")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10, 10, 10))
    with caplog.at_level(logging.INFO, logger="learning.training"):
        got, _, st = _run("lenet-clone", cache_limit_bytes=1000, cache_dir=tmp_path)
    assert st.trunk_cache == "off" and "free in" in st.trunk_cache_reason
    assert "not cached" in caplog.text
    assert got == ref


def test_augmentation_turns_the_cache_off_and_says_why(caplog):
    with caplog.at_level(logging.INFO, logger="learning.training"):
        _, _, st = _run("lenet-clone", epochs=1, use_augment=True)
    assert st.trunk_cache == "off" and "augmentation" in st.trunk_cache_reason
    assert "augmentation" in caplog.text
    _, _, none = _run("lenet-clone", epochs=1, use_augment=True, cache_trunk=False)
    assert "augmentation" in none.trunk_cache_reason


TINY = tiny_fmnist(baselines=["no-sharing"])


@needs_fmnist
@pytest.mark.parametrize("approach_kw", [{"approach": "widen", "new_maps": 2},
                                         {"approach": "partial", "sweep": True}],
                         ids=["widen", "partial-sweep"])
def test_stage_infos_and_old_branches_bit_identical(approach_kw):
    ds = D.load_dataset("fashion-mnist")
    exp = Experiment(config_from_dict({**TINY, **approach_kw}), progress=False,
                     checkpoint=False, dataset=ds)
    res = exp.run()
    assert res.method("sharing").old_logits_identical is True
    assert res.method("no-sharing").old_logits_identical is True
    infos = exp.ckpt.infos
    assert infos["base"]["trunk_cache"] == "none"  # no trunk: nothing to cache
    assert infos["clone-t1-k0"]["trunk_cache"] == "none"
    trunk_stages = [k for k in infos if k.startswith("widen") or
                    (k.startswith("clone") and not k.endswith("k0"))]
    assert trunk_stages
    for k in trunk_stages:
        assert infos[k]["trunk_cache"] == "memory" and infos[k]["trunk_cache_bytes"] > 0


@needs_fmnist
def test_augmented_run_records_why_the_cache_is_off():
    ds = D.load_dataset("fashion-mnist")
    exp = Experiment(config_from_dict({**TINY, "approach": "clone", "augment": True}),
                     progress=False, checkpoint=False, dataset=ds)
    exp.run()
    info = exp.ckpt.infos["clone-t1-k2"]
    assert info["trunk_cache"] == "off" and "augmentation" in info["trunk_cache_reason"]
