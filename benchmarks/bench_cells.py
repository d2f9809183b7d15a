"""Cold and warm build time of the pns45 cell library (ngspice characterization).

Cold: empty simulation cache (a fresh temp folder as PNS_CACHE_DIR); warm: the same build again
(every simulation served from the cache). Outputs go to a temp folder, so the committed library
is not touched. Prints a table; the README quotes the cold time of the full library.

    .venv/bin/python benchmarks/bench_cells.py            # all cells, 2 workers
    .venv/bin/python benchmarks/bench_cells.py --cells INV_X1 NAND2_X1 --jobs 1
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwmodel.cells import CellLibraryError, SimSettings  # noqa: E402
from hwmodel.cells.build import build_library  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", nargs="+", default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--corner", default="nom")
    ap.add_argument("--vdd", type=float, default=1.1)
    ap.add_argument("--temp", type=float, default=25.0)
    args = ap.parse_args()
    try:
        settings = SimSettings(args.corner, args.vdd, args.temp)
        with tempfile.TemporaryDirectory(prefix="pns_bench_cells_") as tmp:
            os.environ["PNS_CACHE_DIR"] = str(Path(tmp) / "cache")
            load0 = os.getloadavg()[0]
            cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            t0 = time.perf_counter()
            cold = build_library(settings, Path(tmp) / "out", args.cells, args.jobs,
                                 progress=True)
            cold_s = time.perf_counter() - t0
            cold_cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - cpu0
            t0 = time.perf_counter()
            build_library(settings, Path(tmp) / "out", args.cells, args.jobs, progress=False)
            warm_s = time.perf_counter() - t0
            load1 = os.getloadavg()[0]
    except CellLibraryError as e:
        print(f"bench_cells: error: {e}", file=sys.stderr)
        return 2
    kf = cold.summary["key_figures"]
    rows = [("library", cold.summary["library"]),
            ("cells", len(cold.summary["cells"])),
            ("simulation jobs", cold.simulations),
            ("workers (parallel ngspice)", args.jobs),
            ("cpu cores / machine",
             f"{os.cpu_count()} / {platform.processor() or platform.machine()}"),
            ("load average before / after", f"{load0:.2f} / {load1:.2f}"),
            ("cold build wall time (s)", f"{cold_s:.1f}"),
            ("cold build ngspice CPU time (s)", f"{cold_cpu:.1f}"),
            ("  = wall time on idle cores (s), ideal",
             f"{cold_cpu / max(1, args.jobs):.1f}"),
            ("warm (cached) build wall time (s)", f"{warm_s:.2f}")]
    rows += [(k, v) for k, v in kf.items()]
    w = max(len(k) for k, _ in rows)
    print(f"{'quantity':<{w}}  value")
    print(f"{'-' * w}  -----")
    for k, v in rows:
        print(f"{k:<{w}}  {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
