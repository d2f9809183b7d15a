"""``python -m hwmodel.ops [--unit NAME | --rtl FILE.v [-P W=16] [--op mac|mul|add]]
[--format fp32] [--stream uniform] [--path default] [--vdd 1.1] [--latency N] [--dot-length 64]
[--vectors N] [--json] [--out FILE.csv]``: the op-cost table.

Characterizes the op library (every RTL unit in int8/16/32 and fp16/bf16/fp32) by simulating the
real RTL on Icarus and costing the switching with the project's 45 nm cell library. Rows are cached
by a content hash of RTL, library, stream and settings: a warm run only reads the cache.

``--rtl FILE.v`` characterizes a Verilog unit of your own instead (the last module in the file,
with the standard handshake: clk, rst, in_valid, a, b, out_valid, y; ports read by pyverilog) in
one number format (``--format``, default int<width of a>) on both paths, and prints the same table.
A file with a syntax error, a missing handshake port or a wrong width is one line, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hwmodel.errors import HwmodelError
from hwmodel.ops.compute import PATHS, compute_row, library_corner, make_jobs
from hwmodel.ops.oplib import OPS, OpUnit, default_op_library, select, user_unit
from hwmodel.ops.streams import DEFAULT_DOT_LENGTH, STREAM_KINDS, load_operand_pools
from hwmodel.ops.table import build_table
from hwmodel.rtlsim import parse_param
from pnsutil import atomic_write

if TYPE_CHECKING:
    import pandas as pd

SHOWN = ["unit", "format", "stream", "path", "vdd_v", "energy_pj", "energy_logic_pj",
         "energy_seq_pj", "energy_leakage_pj", "energy_timed_pj", "latency_cycles",
         "critical_path_ns", "fmax_mhz", "area_um2", "cells", "nonfinite_pct"]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m hwmodel.ops", description=__doc__.split("\n")[4],
                                 epilog="energy paths: " + "; ".join(
                                     f"{name} (needs {', '.join(p.needs)})"
                                     for name, p in PATHS.items()))
    ap.add_argument("--unit", help="only this unit (e.g. mul_booth, fp_add)")
    ap.add_argument("--rtl", type=Path, help="a Verilog file of your own with the standard "
                    "handshake, instead of the library's units")
    ap.add_argument("-P", "--param", action="append", type=parse_param, default=[],
                    help="with --rtl: parameter override NAME=VALUE (repeatable)")
    ap.add_argument("--op", choices=OPS, help="with --rtl: the unit's operation (default: mac "
                    "if it has acc_clr, else from its module name)")
    ap.add_argument("--format", dest="fmt", help="only this number format (e.g. int16, fp32); "
                    "with --rtl the unit's format (default int<width of a>)")
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
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = _parser()
    args = ap.parse_args(argv)
    if args.vectors < 10:
        ap.error("--vectors must be at least 10")
    if args.rtl is None and (args.param or args.op):
        ap.error("-P and --op go with --rtl")
    if args.rtl is not None and args.unit:
        ap.error("--unit selects a library unit; --rtl costs your own file")
    try:
        units = _units(args)
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
    _show(df, args)
    for msg in failed:
        print(f"python -m hwmodel.ops: error: {msg}", file=sys.stderr)
    return 1 if failed else 0


def _show(df: pd.DataFrame, args: argparse.Namespace) -> None:
    """Write the table to --out, and print it (as JSON records with --json)."""
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


def _units(args: argparse.Namespace) -> list[OpUnit]:
    """The library's units (filtered by --unit/--format), or the user's --rtl unit."""
    if args.rtl is None:
        return select(default_op_library(args.latency), args.unit, args.fmt)
    params = dict(args.param)
    if args.latency is not None:
        params.setdefault("LATENCY", args.latency)
    return [user_unit(args.rtl, args.op, args.fmt, params)]


if __name__ == "__main__":
    sys.exit(main())
