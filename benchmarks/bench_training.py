"""Training speed of partial network sharing on CPU: time per iteration and per epoch at
~0/50/80/95 % sharing next to the MAC-model prediction, and the frozen-trunk cache (goals: cache
>= 4x faster per epoch at ~80 % sharing; per-iteration speedup within 10 % of the MAC prediction).

Usage: .venv/bin/python benchmarks/bench_training.py [--models resnet18,mlpconv] [--threads N]
       [--batch 64] [--epoch-images 256] [--cached-epochs 2] [--trace-batch 8] [--json]

Every time is a real ``learning.training.train_model`` run on the product's trunk/branch split
(``Experiment.branch_forward``): ``k = 0`` trains a full clone (no sharing); ``k > 0`` trains the
branch on the frozen trunk, once running the trunk every step ("uncached") and once with the
trunk outputs computed once (``TrunkCache``, "cached"). Sharing points come from
``learning.models.sharing_point_for_percent`` (the largest block boundary not above the target;
the exact share is printed). The MAC prediction is ``MACs(k=0) / MACs(k)`` with training MACs
per image (forward + input-gradient + weight-gradient conv/linear MACs) counted by
``workload.trace_training`` at ``--trace-batch`` with the first ``k`` blocks frozen; for
cached training the trunk's forward MACs are left out (rows of blocks ``< k``). Inputs are
synthetic random uint8 images (timing does not depend on pixel values).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from learning.incremental import Experiment  # noqa: E402
from learning.models import (  # noqa: E402
    build_model,
    freeze,
    freeze_prefix,
    sharing_point_for_percent,
)
from learning.network import make_clone_branch, own_params  # noqa: E402
from learning.training import train_model  # noqa: E402
from workload import trace_training  # noqa: E402

TARGETS = (0.0, 50.0, 80.0, 95.0)  # requested sharing, % of parameters
GOAL_CACHE_X = 4.0  # per-epoch speedup of the trunk cache at ~80 % sharing
GOAL_MAC_TOL = 0.10  # |measured / predicted - 1| at ~80 % sharing
NUM_CLASSES = 10
SHAPE = (3, 32, 32)


def block_of(layer: str) -> int | None:
    """Block index of a trace row name (``blocks.3.conv1``, ``blocks.3/add0``); None for the
    loss row."""
    if not layer.startswith("blocks."):
        return None
    return int(layer.split(".")[1].split("/")[0].split("#")[0])


def trace_macs(model: str, k: int, batch: int) -> tuple[float, float]:
    """Training MACs per image (all rows, and rows of blocks >= k only) with k blocks frozen."""
    torch.manual_seed(0)
    net = build_model(model, NUM_CLASSES, SHAPE[0], SHAPE[2])
    freeze_prefix(net, k)
    res = trace_training(net, SHAPE, batch, optimizer="momentum", iterations=1)
    df = res.df
    own = df[[(b is None or b >= k) for b in map(block_of, df["layer"])]]
    return float(df["train_macs"].sum()) / batch, float(own["train_macs"].sum()) / batch


def timed_train(base, k: int, x: np.ndarray, y: np.ndarray, batch: int, epochs: int,
                cache: bool):
    """``train_model`` on a fresh branch at sharing point ``k``; returns its TrainStats."""
    branch = make_clone_branch(base, base, k, NUM_CLASSES, seed=1)
    # the product's split of a branch into frozen trunk and trained head (only .base is read)
    trunk, head = Experiment.branch_forward(SimpleNamespace(base=base), branch, split=True)
    stats = train_model(head, branch, x, y, epochs=epochs, batch_size=batch, lr=0.01, seed=0,
                        progress=False, trunk=trunk, cache_trunk=cache)
    return stats, own_params(branch)  # a fresh clone branch trains all it owns


def bench_model(model: str, a: argparse.Namespace) -> list[dict]:
    torch.manual_seed(0)
    base = freeze(build_model(model, NUM_CLASSES, SHAPE[0], SHAPE[2]))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (a.epoch_images, *SHAPE), dtype=np.uint8)
    y = rng.integers(0, NUM_CLASSES, a.epoch_images)
    points: dict[int, dict] = {}
    for t in TARGETS:
        k, pct = sharing_point_for_percent(base, t)
        points.setdefault(k, {"model": model, "k": k, "shared_pct": pct, "targets": []})
        points[k]["targets"].append(t)
    # warm-up: one full-network step creates the conv primitives of every layer
    timed_train(base, 0, x[: a.batch], y[: a.batch], a.batch, 1, cache=False)
    rows = []
    for k, r in sorted(points.items()):
        r["load_avg_1min"] = os.getloadavg()[0]
        r["macs_per_image"], r["branch_macs_per_image"] = trace_macs(model, k, a.trace_batch)
        st, r["trained_params"] = timed_train(base, k, x, y, a.batch, 1, cache=False)
        r["steps_per_epoch"] = st.steps
        r["s_per_epoch_uncached"] = st.train_time_s
        r["s_per_iter"] = st.train_time_s / st.steps
        if k > 0:
            st, _ = timed_train(base, k, x, y, a.batch, a.cached_epochs, cache=True)
            assert st.trunk_cache == "memory", st.trunk_cache_reason
            r["cache_build_s"] = st.trunk_cache_time_s
            r["cache_bytes"] = st.trunk_cache_bytes
            r["s_per_epoch_cached"] = (st.train_time_s - st.trunk_cache_time_s) / st.epochs
        rows.append(r)
        print(f"  {model} k={k}: {r['s_per_iter']:.3f} s/iter", file=sys.stderr, flush=True)
    ref = rows[0]
    for r in rows:
        r["predicted_speedup"] = ref["macs_per_image"] / r["macs_per_image"]
        r["measured_speedup"] = ref["s_per_iter"] / r["s_per_iter"]
        if r["k"] > 0:
            r["predicted_speedup_cached"] = ref["macs_per_image"] / r["branch_macs_per_image"]
            r["measured_speedup_cached"] = ref["s_per_epoch_uncached"] / r["s_per_epoch_cached"]
            r["cache_speedup"] = r["s_per_epoch_uncached"] / r["s_per_epoch_cached"]
    return rows


def fmt_targets(ts: list[float]) -> str:
    return "/".join(f"{t:.0f}" for t in ts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet18,mlpconv", help="comma-separated model names")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads")
    ap.add_argument("--batch", type=int, default=64, help="training batch (images)")
    ap.add_argument("--epoch-images", type=int, default=256,
                    help="images per timed epoch (a reduced epoch: iterations = this / batch)")
    ap.add_argument("--cached-epochs", type=int, default=2,
                    help="epochs of the cached run (its per-epoch time excludes the build)")
    ap.add_argument("--trace-batch", type=int, default=8,
                    help="batch of the MAC trace (MACs per image do not depend on it)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    a = ap.parse_args()
    models = [m.strip() for m in a.models.split(",") if m.strip()]
    if a.batch < 1 or a.epoch_images < a.batch or a.cached_epochs < 1 or a.trace_batch < 1:
        print("bench_training: error: need batch >= 1, epoch-images >= batch, cached-epochs >= 1",
              file=sys.stderr)
        return 2
    torch.set_num_threads(a.threads)
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    rows = [r for m in models for r in bench_model(m, a)]
    wall = time.perf_counter() - t0
    load1 = os.getloadavg()
    if a.json:
        print(json.dumps({"threads": torch.get_num_threads(), "load_avg_start": load0,
                          "load_avg_end": load1, "wall_s": wall, "rows": rows}, indent=1))
        return 0
    cmd = " ".join(["benchmarks/bench_training.py", *sys.argv[1:]])
    print(f"Training speed, CPU, `{cmd}`: torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads on {os.cpu_count()} cores, load average "
          f"(1/5/15 min) {load0[0]:.2f}/{load0[1]:.2f}/{load0[2]:.2f} at start, "
          f"{load1[0]:.2f}/{load1[1]:.2f}/{load1[2]:.2f} at end; {wall:.0f} s. Synthetic random "
          f"uint8 images {SHAPE[0]}x{SHAPE[1]}x{SHAPE[2]} (timing does not depend on pixel "
          f"values), {NUM_CLASSES} classes, batch {a.batch}, epoch = {a.epoch_images} images, "
          "SGD momentum. MACs: training conv/linear MACs per image from workload.trace_training.\n")
    print("| model | target % | k | shared % (exact) | trained params | train MMACs/image | "
          "predicted speedup | s/iter | measured speedup | measured/predicted | "
          "s/epoch uncached |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {fmt_targets(r['targets'])} | {r['k']} | "
              f"{r['shared_pct']:.2f} | {r['trained_params']:,} | "
              f"{r['macs_per_image'] / 1e6:,.1f} | {r['predicted_speedup']:.2f} | "
              f"{r['s_per_iter']:.3f} | {r['measured_speedup']:.2f} | "
              f"{r['measured_speedup'] / r['predicted_speedup']:.2f} | "
              f"{r['s_per_epoch_uncached']:.2f} |")
    print("\nFrozen-trunk cache (trunk outputs computed once; per-epoch time excludes the "
          "build):\n")
    print("| model | target % | k | shared % | cache MiB | build s | s/epoch uncached | "
          "s/epoch cached | cache speedup | vs no sharing: measured | predicted (branch MACs) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if r["k"] == 0:
            continue
        print(f"| {r['model']} | {fmt_targets(r['targets'])} | {r['k']} | "
              f"{r['shared_pct']:.2f} | "
              f"{r['cache_bytes'] / 2**20:.1f} | "
              f"{r['cache_build_s']:.2f} | {r['s_per_epoch_uncached']:.2f} | "
              f"{r['s_per_epoch_cached']:.3f} | {r['cache_speedup']:.1f} | "
              f"{r['measured_speedup_cached']:.1f} | {r['predicted_speedup_cached']:.1f} |")
    print("\nGoals at ~80 % sharing (target 80):")
    for r in rows:
        if 80.0 not in r["targets"] or r["k"] == 0:
            continue
        ratio = r["measured_speedup"] / r["predicted_speedup"]
        mac_ok = abs(ratio - 1.0) <= GOAL_MAC_TOL
        cache_ok = r["cache_speedup"] >= GOAL_CACHE_X
        print(f"- {r['model']} (k={r['k']}, {r['shared_pct']:.2f} % shared): cache "
              f"{r['cache_speedup']:.1f}x per epoch (goal >= {GOAL_CACHE_X:.0f}x: "
              f"{'met' if cache_ok else 'not met'}); per-iteration speedup "
              f"{r['measured_speedup']:.2f}x vs MAC prediction {r['predicted_speedup']:.2f}x, "
              f"ratio {ratio:.2f} (goal within {GOAL_MAC_TOL:.0%}: "
              f"{'met' if mac_ok else 'not met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
