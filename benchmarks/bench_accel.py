"""Time the accelerator back-end: a whole ResNet-18 training iteration (every phase, mapping
search included) on one core with the closed-form mode (goal: under 10 s), and the two
simulation modes on the same small layers (they give equal numbers).

Usage: .venv/bin/python benchmarks/bench_accel.py [--batch 64] [--arch ws]
Prints: layer-phases, distinct mapping searches and the candidates they score, wall time; then
per small layer the cycle-stepped and closed-form wall times and their ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from hwmodel.accel import analytical, arch, backend, cyclesim, mapping  # noqa: E402
from hwmodel.accel.energy import LevelCosts, level_costs, pe_from_op_table  # noqa: E402
from hwmodel.accel.units import op_costs  # noqa: E402
from hwmodel.cost import mean_dot_length  # noqa: E402


def whole_iteration(batch: int, name: str) -> dict:
    from learning.models import resnet
    from workload import trace_training

    torch.set_num_threads(1)
    torch.manual_seed(0)
    tr = trace_training(resnet("resnet18", 10), (3, 32, 32), batch, optimizer="sgd").df
    a = arch.load(name)
    table, costs = op_costs(a, dot_length=mean_dot_length(tr))
    lc: LevelCosts = level_costs(a, costs, pe_from_op_table(table, costs))
    t0 = time.perf_counter()
    c = backend.cost_iteration(tr, a, lc, "edp")
    wall = time.perf_counter() - t0
    g = c.gemms
    shapes = g.drop_duplicates(["m", "n", "k"])
    return {"network": "resnet18 (CIFAR)", "batch": batch, "arch": name, "layer-phases": len(g),
            "searches": len(shapes), "candidates": int(shapes["candidates"].sum()),
            "wall_s": round(wall, 3), "goal_s": 10.0, "met": wall < 10.0}


def modes() -> list[dict]:
    rows = []
    for m, n, k, df in ((196, 32, 72, "ws"), (64, 64, 144, "os"), (100, 48, 64, "is")):
        mp = mapping.scalesim_mapping(df, m, n, k, 8, 8)
        bw = Fraction(4)
        t0 = time.perf_counter()
        slow = cyclesim.simulate(mp, m, n, k, 8, 8, bw)
        t1 = time.perf_counter()
        reps = 200
        for _ in range(reps):
            fast = analytical.simulate(mp, m, n, k, 8, 8, bw)
        t2 = time.perf_counter()
        tf = (t2 - t1) / reps
        rows.append({"layer (M x N x K)": f"{m} x {n} x {k}", "dataflow": df,
                     "cycles": slow.cycles, "cycle-stepped_s": round(t1 - t0, 4),
                     "closed-form_s": round(tf, 6), "speed-up": round((t1 - t0) / tf),
                     "equal": slow == fast})
    return rows


def main() -> None:
    import pandas as pd

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--arch", default="ws")
    a = ap.parse_args()
    print(pd.DataFrame([whole_iteration(a.batch, a.arch)]).to_string(index=False))
    print()
    print(pd.DataFrame(modes()).to_string(index=False))


if __name__ == "__main__":
    main()
