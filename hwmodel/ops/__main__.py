"""``python -m hwmodel.ops [--unit NAME] [--format fp32] [--stream uniform] [--path default]
[--vdd 1.1] [--latency N] [--dot-length 64] [--vectors N] [--json] [--out FILE.csv]``: the
op-cost table.

Characterizes the op library (every RTL unit in int8/16/32 and fp16/bf16/fp32) by simulating the
real RTL on Icarus and costing the switching with the project's 45 nm cell library. Rows are cached
by a content hash of RTL, library, stream and settings: a warm run only reads the cache.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hwmodel.errors import HwmodelError
from hwmodel.ops.compute import PATHS, compute_row, library_corner, make_jobs
from hwmodel.ops.oplib import default_op_library, select
from hwmodel.ops.streams import DEFAULT_DOT_LENGTH, STREAM_KINDS, load_operand_pools
from hwmodel.ops.table import build_table
from pnsutil import atomic_write

SHOWN = ["unit", "format", "stream", "path", "vdd_v", "energy_pj", "energy_logic_pj",
         "energy_seq_pj", "energy_leakage_pj", "energy_timed_pj", "latency_cycles",
         "critical_path_ns", "fmax_mhz", "area_um2", "cells", "nonfinite_pct"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hwmodel.ops", description=__doc__.split("\n")[3])
    ap.add_argument("--unit", help="only this unit (e.g. mul_booth, fp_add)")
    ap.add_argument("--format", dest="fmt", help="only this number format (e.g. int16, fp32)")
    ap.add_argument("--stream", action="append", choices=list(STREAM_KINDS),
                    help="operand stream(s) (default: uniform); tensor needs --tensors")
    ap.add_argument("--tensors", help="operand samples (.npz from `python -m learning trace "
                    "--samples N --samples-out FILE`) for the tensor stream")
    ap.add_argument("--path", choices=[*PATHS, "both"], default="both",
                    help="energy path: default (RTL cells), yosys (mapped netlist), or both")
    ap.add_argument("--vdd", type=float, default=1.1,
                    help="cell-library supply (V): 1.1 (default), 1.0 or 0.9 are committed")
    ap.add_argument("--temp", type=float, default=None,
                    help="cell-library temperature (degC; default: 25 at 1.1 V, else 27)")
    ap.add_argument("--corner", default="nom", help="process corner: nom, ff or ss")
    ap.add_argument("--latency", type=int, default=None,
                    help="register stages of every unit (default 1; >= 2 pipelines)")
    ap.add_argument("--dot-length", type=int, default=DEFAULT_DOT_LENGTH,
                    help=f"MAC terms per accumulation (default {DEFAULT_DOT_LENGTH})")
    ap.add_argument("--vectors", type=int, default=1000, help="operand pairs per row")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    ap.add_argument("--json", action="store_true", help="print the table as JSON records")
    ap.add_argument("--out", type=Path, help="also write the table to this .csv or .json file")
    args = ap.parse_args(argv)
    if args.vectors < 10:
        ap.error("--vectors must be at least 10")
    try:
        units = select(default_op_library(args.latency), args.unit, args.fmt)
        paths = list(PATHS) if args.path == "both" else [args.path]
        pools = load_operand_pools(args.tensors) if args.tensors else None
        corner = library_corner(args.vdd, args.temp, args.corner)
        jobs = make_jobs(units, args.stream or ["uniform"], paths, args.vectors, args.seed,
                         pools, corner, args.dot_length)
        failed: list[str] = []
        df = build_table(jobs, compute_row, workers=max(1, args.workers), errors=failed)
    except HwmodelError as exc:
        print(f"python -m hwmodel.ops: error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        text = df.to_json(orient="records", indent=1) if args.out.suffix == ".json" \
            else df.to_csv(index=False)
        atomic_write(args.out, text)
    if args.json:
        print(json.dumps(json.loads(df.to_json(orient="records")), indent=1))
    else:
        import pandas as pd

        with pd.option_context("display.width", 200, "display.max_columns", 30,
                               "display.float_format", "{:.4g}".format):
            print(df[[c for c in SHOWN if c in df.columns]].to_string(index=False))
    for msg in failed:
        print(f"python -m hwmodel.ops: error: {msg}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
