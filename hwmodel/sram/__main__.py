"""CLI: ``python -m hwmodel.sram --capacity 64KiB --word-bits 64 --node 45 [--json]``.

``--cacti`` also runs CACTI 7 (built from the zigzag-dse wheel on first use) on the same
configuration and prints the ratios; ``--compare-grid`` prints the README comparison table.
"""

from __future__ import annotations

import argparse
import json
import sys

from hwmodel.errors import HwmodelError
from hwmodel.sram import tech
from hwmodel.sram.api import DEFAULT_TEMP_K, parse_size, sram
from hwmodel.sram.errors import CactiUnavailableError

PROG = "python -m hwmodel.sram"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Analytical CACTI-style SRAM model.")
    p.add_argument("--capacity", help="capacity, e.g. 65536, 64KiB, 4MiB")
    p.add_argument("--word-bits", type=int, help="bits per access (word width)")
    p.add_argument("--banks", type=int, default=1)
    p.add_argument("--node", type=int, default=45, help=f"nm, one of {sorted(tech.NODES)}")
    p.add_argument("--flavour", default="hp", choices=sorted(tech.FLAVOURS),
                   help="device flavour: hp (high performance) or lp (= lstp, low standby)")
    p.add_argument("--temp", type=float, default=DEFAULT_TEMP_K, help="temperature, K")
    p.add_argument("--rw-ports", type=int, default=1)
    p.add_argument("--read-ports", type=int, default=0)
    p.add_argument("--write-ports", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--cacti", action="store_true", help="also run CACTI 7 and print ratios")
    p.add_argument("--compare-grid", action="store_true",
                   help="model vs CACTI over 4 KiB..4 MiB x {64, 256}-bit words (45 nm)")
    return p


def main(argv: list[str] | None = None) -> int:
    p = _parser()
    a = p.parse_args(argv)
    try:
        if a.compare_grid:
            from hwmodel.sram.compare import agreement_table, compare_grid

            cmp = compare_grid(progress=True)
            tab = agreement_table(cmp)
            if a.json:
                print(json.dumps({"points": cmp.to_dict("records"),
                                  "agreement": tab.to_dict("records")}, indent=2))
            else:
                print(tab.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
            return 0
        if a.capacity is None or a.word_bits is None:
            p.error("--capacity and --word-bits are required")
        kw = dict(banks=a.banks, node=a.node, flavour=a.flavour, temp_k=a.temp,
                  rw_ports=a.rw_ports, read_ports=a.read_ports, write_ports=a.write_ports)
        r = sram(parse_size(a.capacity), a.word_bits, **kw)
        out = {"model": r.to_dict()}
        if a.cacti:
            from hwmodel.sram.cacti import run_cacti

            c = run_cacti(r.capacity_bytes, r.word_bits, **kw)
            out["cacti"] = c
            out["ratio_model_over_cacti"] = {
                k: out["model"][k] / c[k]
                for k in ("read_energy_pj", "write_energy_pj", "access_time_ns",
                          "cycle_time_ns", "leakage_mw", "area_mm2")
            }
    except CactiUnavailableError as e:  # the tool is missing, not the input wrong
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 3
    except HwmodelError as e:
        p.error(str(e))
    if a.json:
        print(json.dumps(out, indent=2))
        return 0
    m = out["model"]
    print(f"SRAM {m['capacity_bytes']} B, {m['word_bits']}-bit words, {m['banks']} bank(s), "
          f"{m['node_nm']} nm {m['flavour']}, {m['temp_k']:.0f} K")
    rows = [("read energy", "read_energy_pj", "pJ"), ("write energy", "write_energy_pj", "pJ"),
            ("access time", "access_time_ns", "ns"), ("cycle time", "cycle_time_ns", "ns"),
            ("leakage", "leakage_mw", "mW"), ("area", "area_mm2", "mm^2")]
    for label, k, unit in rows:
        line = f"  {label:<13}{m[k]:>12.4g} {unit}"
        if "cacti" in out:
            ratio = out["ratio_model_over_cacti"][k]
            line += f"   CACTI {out['cacti'][k]:>10.4g}   ratio {ratio:.3f}"
        print(line)
    print(f"  organization: {m['mats']} mat(s) ({m['mats_x']} across) of 2x2 subarrays, "
          f"{m['subarray_rows']} rows x {m['subarray_cols']} cols, column mux {m['col_mux']}:1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
