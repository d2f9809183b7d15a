"""``python -m hwmodel.rtlsim FILE.v [--top NAME] [-P W=16 ...] [--vectors N] [--json]``

Reads a unit's interface with pyverilog, streams N random operand pairs through it on Icarus and
prints its interface, measured latency and initiation interval. Works on any Verilog file with the
handshake ports (:data:`hwmodel.rtlsim.handshake.HANDSHAKE`). Bad input exits 2 with one line.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from hwmodel.errors import HwmodelError
from hwmodel.rtlsim.handshake import HANDSHAKE
from hwmodel.rtlsim.sim import simulate
from hwmodel.rtlsim.unit import load_unit, parse_param


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hwmodel.rtlsim",
                                 description=__doc__.split("\n")[2])
    ap.add_argument("file", help="Verilog-2005 file holding the unit")
    ap.add_argument("--top", help="module name (default: the last module in the file)")
    ap.add_argument("-P", "--param", action="append", type=parse_param, default=[],
                    help="parameter override NAME=VALUE (repeatable)")
    ap.add_argument("--vectors", type=int, default=1000, help="random operand pairs (default 1000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print JSON")
    args = ap.parse_args(argv)
    if args.vectors < 1:
        ap.error("--vectors must be at least 1")
    try:
        spec = load_unit(args.file, args.top)
        params = dict(args.param)
        widths = spec.widths(params)
        rng = np.random.default_rng(args.seed)
        inputs = {}
        for name in (*HANDSHAKE.operands, *spec.extra_inputs):
            w = widths[name]
            inputs[name] = rng.integers(0, 1 << min(w, 63), args.vectors, dtype=np.uint64)
            if w == 64:
                inputs[name] |= rng.integers(0, 2, args.vectors, dtype=np.uint64) << np.uint64(63)
        res = simulate(spec, inputs, params)
    except HwmodelError as exc:
        print(f"python -m hwmodel.rtlsim: error: {exc}", file=sys.stderr)
        return 2
    out = {
        "module": spec.name,
        "file": str(spec.path),
        "params": res.params,
        "port_widths_bits": widths,
        "vectors": res.vectors,
        "latency_cycles": res.latency_cycles,
        "ii_cycles": res.ii_cycles,
        "sim_wall_s": round(res.sim_wall_s, 3),
        "vectors_per_s": round(res.vectors / res.sim_wall_s, 1) if res.sim_wall_s else None,
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for key, value in out.items():
            print(f"{key:>16}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
