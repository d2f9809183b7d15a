"""Time the vectorised SRAM sweep: 1,000 design points (goal: under 1 s).

Usage: .venv/bin/python benchmarks/bench_sram.py [--points N] [--repeats R]
Prints a table: points, organizations searched per point, best/median wall time, us/point.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwmodel.sram import model, sweep  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    caps = 2 ** rng.integers(12, 23, a.points)  # 4 KiB .. 4 MiB
    words = rng.choice([32, 64, 128, 256], a.points)
    sweep(caps[:10], words[:10])  # warm caches (device/wire tables, repeater design)
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        df = sweep(caps, words)
        times.append(time.perf_counter() - t0)
    assert len(df) == a.points and df["read_energy_pj"].notna().all()
    orgs = len(model.ROWS) * len(model.MUX) * len(model.MATS_X)
    best, med = min(times), statistics.median(times)
    print(f"{'points':>8} {'orgs/point':>11} {'best_s':>8} {'median_s':>9} {'us/point':>9} "
          f"{'goal_s':>7} {'met':>4}")
    print(f"{a.points:>8} {orgs:>11} {best:>8.3f} {med:>9.3f} {1e6 * med / a.points:>9.1f} "
          f"{1.0:>7.1f} {'yes' if med < 1.0 else 'no':>4}")


if __name__ == "__main__":
    main()
