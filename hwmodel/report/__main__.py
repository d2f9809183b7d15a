"""``python -m hwmodel.report [--config default] [--out reports/<run>] [--data-root DIR]``

The main job: trains the base network and the new-task branch at every sharing point on real data
(PyTorch), traces each training iteration layer by layer, costs the work with per-op energies from
simulating the RTL units on the project's 45 nm cells and with the SRAM/DRAM model, and writes
reports/<run>/ (report.md, report.html, figures, CSVs, summary.json).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hwmodel.report import config as report_config
from pnsutil.errors import PnsError

REPO_REPORTS = Path(__file__).resolve().parents[2] / "reports"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hwmodel.report",
                                 description=__doc__.split("\n\n")[1].replace("\n", " "))
    names = ", ".join(report_config.available())
    ap.add_argument("--config", default="default",
                    help=f"report config name or .toml path ({names})")
    ap.add_argument("--out", type=Path, help="output folder (default: reports/<config name>)")
    ap.add_argument("--data-root", help="folder with optional datasets (e.g. ../shared/data)")
    ap.add_argument("--model", choices=("accel", "mac"),
                    help="cost model of the figures and savings (default: the config's, accel): "
                         "accel = the accelerator back-end (mapping + cycle simulation), mac = "
                         "the paper's MAC count x op energy; the report shows both")
    ap.add_argument("--arch", help="accelerator preset (ws, os, flex) or .toml (default: the "
                                   "config's)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    from hwmodel.report.pipeline import run

    try:
        cfg = report_config.load(args.config)
        cfg = report_config.override(cfg, model=args.model, arch=args.arch)
        out = args.out or REPO_REPORTS / cfg.name
        run(cfg, data_root=args.data_root, progress=not args.quiet, out_dir=out)
    except PnsError as exc:  # HwmodelError and LearningError alike
        print(f"python -m hwmodel.report: error: {exc}", file=sys.stderr)
        return 2
    print(f"report written to {out}/report.html ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
