"""``python -m hwmodel.accel``: the accelerator back-end from the command line.

- ``topology FILE.csv [--gemm] (--cfg FILE.cfg | --arch NAME)``: every layer of a SCALE-Sim
  topology on the array, printed under SCALE-Sim's names (``--json`` for machines);
  ``--mapping scalesim`` uses SCALE-Sim's own schedule, ``search`` (default) our mapping search
  for the least delay.
- ``trace FILE [--arch ws] [--objective edp]``: one training iteration of a trace
  (``python -m workload trace``) costed per layer-phase and per level (energy needs the op
  costs, characterized on first use).
- ``archs``: the presets.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from hwmodel.accel import analytical, arch, cyclesim, mapping, topology
from hwmodel.accel.result import SCALESIM_NAMES
from pnsutil.errors import PnsError


def _topology_rows(args) -> list[dict]:
    a = topology.read_cfg(args.cfg) if args.cfg else arch.load(args.arch)
    rows, cols = a.array.rows, a.array.cols
    bw = analytical.as_bandwidth(a.dram_words_per_cycle(a.clock_mhz_max))
    sim = cyclesim.simulate if args.mode == "cycle" else analytical.simulate
    out = []
    for layer in topology.read_topology(args.topology, args.gemm):
        if args.mapping == "scalesim":
            mp = mapping.scalesim_mapping(a.array.dataflows[0], layer.m, layer.n, layer.k,
                                          rows, cols)
        else:
            mp = mapping.search(layer.m, layer.n, layer.k, a, None, "delay").mapping
        r = sim(mp, layer.m, layer.n, layer.k, rows, cols, bw)
        out.append({"Layer": layer.name, "M": layer.m, "N": layer.n, "K": layer.k,
                    **r.scalesim(), "Compute Cycles": r.compute_cycles,
                    "Compute Util %": round(r.utilization_pct, 3), "Mapping": str(mp)})
    return out


def _trace(args) -> dict:
    from hwmodel.accel import backend, energy, units
    from hwmodel.cost import mean_dot_length
    from workload.io import read_table

    trace = read_table(args.trace)  # bad input fails before anything is characterized
    a = arch.load(args.arch)
    table, costs = units.op_costs(a, vdd_v=args.vdd, vectors=args.vectors,
                                  dot_length=mean_dot_length(trace), progress=not args.quiet)
    pe = (energy.pe_from_arrays(a, args.vdd, size=args.pe_array) if args.pe_energy == "array"
          else energy.pe_from_op_table(table, costs))
    lc = energy.level_costs(a, costs, pe)
    c = backend.cost_iteration(trace, a, lc, args.objective, args.mode,
                               progress=not args.quiet)
    return {"arch": a.name, "clock_mhz": c.clock_mhz, "clock_limit": c.clock_limit,
            "cycles": c.cycles, "time_s": c.time_s, "energy_pj": c.energy_pj,
            "utilization_pct": c.utilization_pct, "pe_energy": c.pe_provenance,
            "breakdown_pj": c.breakdown.reset_index().to_dict("records"),
            "gemms": c.gemms.to_dict("records")}


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m hwmodel.accel",
                                 description=__doc__.split("\n\n")[0].split(": ", 1)[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("topology", help="SCALE-Sim topology on the array, SCALE-Sim's names")
    t.add_argument("topology", type=Path, help="SCALE-Sim topology CSV")
    t.add_argument("--gemm", action="store_true", help="the CSV is in GEMM form (M, N, K)")
    g = t.add_mutually_exclusive_group()
    g.add_argument("--cfg", type=Path, help="SCALE-Sim .cfg (array, SRAM kB, dataflow, "
                                            "bandwidth)")
    g.add_argument("--arch", default="ws", help="preset or .toml (default ws)")
    t.add_argument("--mapping", choices=("search", "scalesim"), default="search",
                   help="our least-delay mapping search, or SCALE-Sim's own schedule")
    t.add_argument("--mode", choices=("analytical", "cycle"), default="analytical",
                   help="closed form (fast) or cycle-stepped (slow, equal)")
    t.add_argument("--json", action="store_true", help="JSON instead of a table")
    r = sub.add_parser("trace", help="cost one training iteration of a trace")
    r.add_argument("trace", type=Path, help="trace file (CSV/Parquet/JSON of workload trace)")
    r.add_argument("--arch", default="ws", help="preset or .toml (default ws)")
    r.add_argument("--objective", choices=mapping.OBJECTIVES, default="edp")
    r.add_argument("--mode", choices=("analytical", "cycle"), default="analytical")
    r.add_argument("--vdd", type=float, default=1.0, help="logic supply (V) of the units")
    r.add_argument("--pe-energy", choices=("array", "op-table"), default="array",
                   help="PE energy: an RTL array in dataflow order at gate level (minutes "
                        "cold, cached) or the MAC unit alone on a random stream")
    r.add_argument("--pe-array", type=int, default=4, choices=range(1, 9), metavar="N",
                   help="PEs per side of the measured array (1..8, default 4)")
    r.add_argument("--vectors", type=int, default=1000,
                   help="operand pairs per op-cost row of the vector unit's ops (default 1000)")
    r.add_argument("--json", action="store_true")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    sub.add_parser("archs", help="list the architecture presets")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.cmd == "archs":
            for name, p in arch.presets().items():
                a = arch.load(p)
                print(f"{name:8s} {a.array.rows}x{a.array.cols} {'/'.join(a.array.dataflows)}"
                      f"  {a.source}")
            return 0
        if args.cmd == "topology":
            rows = _topology_rows(args)
            if args.json:
                print(json.dumps(rows, indent=1))
            else:
                cols = ["Layer", "M", "N", "K", *SCALESIM_NAMES.values(), "Compute Util %",
                        "Mapping"]
                print(pd.DataFrame(rows)[cols].to_string(index=False))
            return 0
        out = _trace(args)
        if args.json:
            print(json.dumps(out, indent=1, default=str))
        else:
            print(pd.DataFrame(out["gemms"])[["layer", "phase", "m", "n", "k", "mapping",
                                              "cycles", "stall_cycles", "utilization_pct"]]
                  .to_string(index=False))
            print(f"\n{out['arch']}: {out['cycles']:,} cycles at {out['clock_mhz']:.1f} MHz "
                  f"({out['clock_limit']}) = {out['time_s'] * 1e3:.3f} ms, "
                  f"{out['energy_pj'] / 1e6:.2f} uJ, PE utilization "
                  f"{out['utilization_pct']:.1f} %")
            print(pd.DataFrame(out["breakdown_pj"]).set_index("phase").to_string())
        return 0
    except PnsError as exc:
        print(f"python -m hwmodel.accel: error: {exc}", file=sys.stderr)
        return 2
