"""Whole op library: cold (empty caches) and warm (every row cached) wall-clock time.

Runs ``python -m hwmodel.ops --path both`` exactly as a user would, first with an empty
``PNS_CACHE_DIR`` (every row characterized: Yosys elaboration, Icarus cycle-level simulation of the
RTL, Yosys mapping, static timing, gate-level simulation), then again on the filled cache. Goals
(issue: per-op costs): cold under 3 minutes on 2 cores using both, warm under 1 s. CPU seconds
include every child process (Yosys, ABC, Icarus), so CPU / wall shows how well both cores are
used.

    .venv/bin/python benchmarks/bench_oplib.py [--workers 2] [--vectors 1000] [--warm-runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(cache: Path, workers: int, vectors: int) -> tuple[float, float, int]:
    """(wall s, CPU s of the run and its children, rows) of one ``python -m hwmodel.ops``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "hwmodel.ops", "--path", "both", "--workers", str(workers),
         "--vectors", str(vectors), "--json"],
        cwd=ROOT, env={**os.environ, "PNS_CACHE_DIR": str(cache)},
        capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"bench_oplib: error: python -m hwmodel.ops failed: {tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, len(json.loads(proc.stdout))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--vectors", type=int, default=1000)
    ap.add_argument("--warm-runs", type=int, default=3, help="warm runs (best kept)")
    args = ap.parse_args(argv)
    cache = Path(tempfile.mkdtemp(prefix="pns-bench-oplib-"))
    try:
        cold = run_once(cache, args.workers, args.vectors)
        warm = min((run_once(cache, args.workers, args.vectors)
                    for _ in range(max(1, args.warm_runs))), key=lambda r: r[0])
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"op library, both paths, {args.vectors} vectors/row, {args.workers} workers, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    print(f"{'run':<6} {'rows':>5} {'wall s':>8} {'CPU s':>8} {'CPU/wall':>9} {'goal':>8}")
    for name, (wall, cpu, rows), goal in (("cold", cold, "< 180 s"), ("warm", warm, "< 1 s")):
        print(f"{name:<6} {rows:>5} {wall:>8.2f} {cpu:>8.1f} {cpu / wall:>9.2f} {goal:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
