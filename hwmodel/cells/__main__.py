"""CLI: ``python -m hwmodel.cells build|summary``.

build    characterize the cells with ngspice and write .lib, _cells.v and .json
         (default into hwmodel/cells/lib; cached in $PNS_CACHE_DIR or ~/.cache/pns-hwcost/cells)
summary  print the key figures of a built library
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hwmodel.errors import HwmodelError

from .errors import CellLibraryError


def _settings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corner", default="nom", help="process corner: nom, ff or ss (default nom)")
    p.add_argument("--vdd", type=float, default=1.1, help="supply voltage in V (default 1.1)")
    p.add_argument("--temp", type=float, default=25.0, help="temperature in degC (default 25)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hwmodel.cells",
                                     description="pns45 45 nm cell library (ngspice/FreePDK45)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    pb = sub.add_parser("build", help="characterize the library with ngspice")
    _settings_args(pb)
    pb.add_argument("--out", type=Path, default=None,
                    help="output folder (default: hwmodel/cells/lib)")
    pb.add_argument("--cells", nargs="+", default=None, metavar="CELL",
                    help="only these cells (default: all)")
    pb.add_argument("--jobs", type=int, default=2, help="parallel ngspice runs (default 2)")
    pb.add_argument("--no-progress", action="store_true", help="no progress bar")
    ps = sub.add_parser("summary", help="key figures of a built library")
    _settings_args(ps)
    ps.add_argument("--lib-dir", type=Path, default=None, help="library folder")
    args = parser.parse_args(argv)
    try:
        from .spice import SimSettings

        settings = SimSettings(args.corner, args.vdd, args.temp)
        if args.cmd == "build":
            from .build import build_library, check_cells

            if args.cells is not None:
                check_cells(args.cells)
            if args.jobs < 1:
                raise CellLibraryError(f"--jobs must be >= 1, got {args.jobs}")
            res = build_library(settings, args.out, args.cells, args.jobs,
                                progress=not args.no_progress)
            out = {"library": res.summary["library"], "wall_s": round(res.wall_s, 1),
                   "simulation_jobs": res.simulations,
                   "files": {k: str(v) for k, v in res.paths.items()},
                   "key_figures": res.summary["key_figures"]}
        else:
            from .library import load_library

            lib = load_library(settings.corner, settings.vdd_v, settings.temp_c, args.lib_dir)
            out = {"library": lib.name, "cells": len(lib.cells), "key_figures": lib.key_figures,
                   "files": {"liberty": str(lib.liberty_path),
                             "verilog": str(lib.verilog_models_path)}}
    except HwmodelError as e:
        parser.exit(2, f"{parser.prog}: error: {e}\n")
    except KeyboardInterrupt:
        parser.exit(130, f"{parser.prog}: error: interrupted; no library files were written\n")
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for k, v in out.items():
            if isinstance(v, dict):
                print(f"{k}:")
                for kk, vv in v.items():
                    print(f"  {kk}: {vv}")
            else:
                print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
