"""Reference numbers from SCALE-Sim v3 (PyPI scalesim==3.0.0) for a topology, one layer at a time.

Runs under the separate SCALE-Sim venv (``scripts/scalesim_env.sh``); imports only the standard
library and ``scalesim``, never this project's packages. It writes the SCALE-Sim config it uses
(next to the JSON as ``OUT.cfg``, and into the JSON), runs SCALE-Sim once per topology row in a
temporary folder without traces, parses COMPUTE_REPORT.csv, BANDWIDTH_REPORT.csv and
DETAILED_ACCESS_REPORT.csv, and writes every column per layer under SCALE-Sim's own names, plus
the layer's GEMM shape (M ofmap pixels, N filters, K window) and ``wall_s``.

    .venv-scalesim/bin/python hwmodel/accel/scalesim_ref.py --topology net.csv \\
        --rows 32 --cols 32 --dataflow ws --ifmap-kb 512 --filter-kb 512 --ofmap-kb 512 \\
        --bandwidth 10 --json out.json
    .venv-scalesim/bin/python hwmodel/accel/scalesim_ref.py --gemm --topology mnk.csv --cfg my.cfg

Topology rows (header line first; a trailing comma is added if missing, since SCALE-Sim drops the
last field of every row): conv form ``name, IFMAP H, IFMAP W, Filter H, Filter W, Channels,
Num Filter, Stride,`` (no padding field: pre-pad H and W), GEMM form (``--gemm``) ``name, M, N,
K,``. In USER bandwidth mode SCALE-Sim takes the ifmap and filter DRAM bandwidth from
[layout] IfmapSRAMBankBandwidth / FilterSRAMBankBandwidth and only the ofmap one from
[architecture_presets] Bandwidth; the config written here sets all three to --bandwidth.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import csv
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RUN_NAME = "ref"

#: Columns the brief asks for, under SCALE-Sim's own report names.
KEY_COLUMNS = (
    "Total Cycles",
    "Stall Cycles",
    "Overall Util %",
    "Mapping Efficiency %",
    "Compute Util %",
    "SRAM IFMAP Reads",
    "SRAM Filter Reads",
    "SRAM OFMAP Writes",
    "DRAM IFMAP Reads",
    "DRAM Filter Reads",
    "DRAM OFMAP Writes",
)
REPORTS = ("COMPUTE_REPORT.csv", "BANDWIDTH_REPORT.csv", "DETAILED_ACCESS_REPORT.csv")

#: Defaults for the sections scalesim 3.0.0 requires; custom layouts and sparsity off.
DEFAULT_SECTIONS: dict[str, dict[str, str]] = {
    "general": {"run_name": RUN_NAME},
    "architecture_presets": {
        "ArrayHeight": "32",
        "ArrayWidth": "32",
        "IfmapSramSzkB": "512",
        "FilterSramSzkB": "512",
        "OfmapSramSzkB": "512",
        "IfmapOffset": "0",
        "FilterOffset": "10000000",
        "OfmapOffset": "20000000",
        "Bandwidth": "10",
        "Dataflow": "ws",
        "ReadRequestBuffer": "32",
        "WriteRequestBuffer": "32",
    },
    "layout": {
        "IfmapCustomLayout": "False",
        "IfmapSRAMBankBandwidth": "10",
        "IfmapSRAMBankNum": "1",
        "IfmapSRAMBankPort": "2",
        "FilterCustomLayout": "False",
        "FilterSRAMBankBandwidth": "10",
        "FilterSRAMBankNum": "1",
        "FilterSRAMBankPort": "2",
    },
    "sparsity": {
        "SparsitySupport": "false",
        "SparseRep": "ellpack_block",
        "OptimizedMapping": "false",
        "BlockSize": "8",
        "RandomNumberGeneratorSeed": "40",
    },
    "run_presets": {"InterfaceBandwidth": "USER", "UseRamulatorTrace": "False"},
}


def build_config(args: argparse.Namespace) -> configparser.ConfigParser:
    """Config from --cfg (missing sections/keys filled with defaults) with CLI flags on top."""
    cp = configparser.ConfigParser()
    cp.optionxform = str  # keep SCALE-Sim's key spelling (it reads them case-insensitively)
    for sec, kv in DEFAULT_SECTIONS.items():
        cp[sec] = dict(kv)
    if args.cfg is not None:
        user = configparser.ConfigParser()
        user.optionxform = str
        if not user.read(args.cfg):
            raise SystemExit(f"cannot read config {args.cfg}")
        if not user.has_section("layout") and user.has_option("architecture_presets", "Bandwidth"):
            bw = user["architecture_presets"]["Bandwidth"].split(",")[0].strip()
            cp["layout"]["IfmapSRAMBankBandwidth"] = bw  # v2-style cfg: one DRAM bandwidth
            cp["layout"]["FilterSRAMBankBandwidth"] = bw
        for sec in user.sections():
            if sec == "network_presets":
                continue  # the topology comes from --topology
            if not cp.has_section(sec):
                cp.add_section(sec)
            for key, val in user[sec].items():
                for old in [k for k in cp[sec] if k.lower() == key.lower()]:
                    del cp[sec][old]
                cp[sec][key] = val
    arch, lay = cp["architecture_presets"], cp["layout"]

    def put(section: configparser.SectionProxy, key: str, value: object) -> None:
        for old in [k for k in section if k.lower() == key.lower()]:
            del section[old]
        section[key] = str(value)

    flags = {
        "ArrayHeight": args.rows,
        "ArrayWidth": args.cols,
        "Dataflow": args.dataflow,
        "IfmapSramSzkB": args.ifmap_kb,
        "FilterSramSzkB": args.filter_kb,
        "OfmapSramSzkB": args.ofmap_kb,
    }
    for key, val in flags.items():
        if val is not None:
            put(arch, key, val)
    if args.bandwidth is not None:
        put(arch, "Bandwidth", args.bandwidth)
        put(lay, "IfmapSRAMBankBandwidth", args.bandwidth)
        put(lay, "FilterSRAMBankBandwidth", args.bandwidth)
        put(lay, "IfmapSRAMBankNum", 1)  # bandwidth must be divisible by the bank count
        put(lay, "FilterSRAMBankNum", 1)
    put(cp["general"], "run_name", RUN_NAME)
    return cp


def read_topology(path: Path) -> tuple[str, list[list[str]]]:
    """Header line and the non-empty rows of a SCALE-Sim topology, fields stripped."""
    lines = path.read_text().splitlines()
    if not lines:
        raise SystemExit(f"empty topology {path}")
    rows = []
    for line in lines[1:]:
        fields = [f.strip() for f in line.strip().split(",")]
        while fields and fields[-1] == "":
            fields.pop()
        if fields:
            rows.append(fields)
    return lines[0].strip(), rows


def gemm_shape(sim: Any, layer: int) -> dict[str, int]:
    """GEMM shape SCALE-Sim uses for a layer: M ofmap pixels, N filters, K window size."""
    topo = sim.topo
    oh, ow = topo.get_layer_ofmap_dims(layer_id=layer)
    return {
        "M": int(oh) * int(ow),
        "N": int(topo.get_layer_num_filters(layer_id=layer)),
        "K": int(topo.get_layer_window_size(layer_id=layer)),
    }


def parse_reports(report_dir: Path) -> list[dict[str, float]]:
    """One dict per SCALE-Sim layer with every column of the three reports."""
    merged: dict[int, dict[str, float]] = {}
    for name in REPORTS:
        text = (report_dir / name).read_text()
        reader = csv.reader(io.StringIO(text))
        header = [h.strip() for h in next(reader)]
        for row in reader:
            vals = [v.strip() for v in row]
            if not any(vals):
                continue
            rec = {h: float(v) for h, v in zip(header, vals, strict=False) if h and v}
            lid = int(rec.pop("LayerID"))
            merged.setdefault(lid, {}).update(rec)
    return [merged[k] for k in sorted(merged)]


def run_layer(
    cfg_path: Path, header: str, row: list[str], gemm: bool, workdir: Path
) -> list[dict[str, Any]]:
    """Run SCALE-Sim on a one-row topology; one record per SCALE-Sim layer (DP rows expand)."""
    from scalesim.scale_sim import scalesim

    workdir.mkdir(parents=True, exist_ok=True)
    topo = workdir / "topology.csv"
    topo.write_text(f"{header}\n{', '.join(row)},\n")
    layout = workdir / "layout.csv"  # scalesim opens a layout file even with custom layouts off
    layout.write_text("Layer name,\n")
    out = workdir / "out"
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        sim = scalesim(
            save_disk_space=True,
            verbose=False,
            config=str(cfg_path),
            topology=str(topo),
            layout=str(layout),
            input_type_gemm=gemm,
        )
        sim.run_scale(top_path=str(out))
    wall = time.perf_counter() - t0
    recs = parse_reports(out / RUN_NAME)
    names = sim.topo.get_layer_names()
    result = []
    for i, rec in enumerate(recs):
        entry: dict[str, Any] = {"name": names[i], **gemm_shape(sim, i), **rec}
        entry["wall_s"] = wall / len(recs)
        result.append(entry)
    return result


def main() -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topology", type=Path, required=True, help="SCALE-Sim topology CSV")
    ap.add_argument("--gemm", action="store_true", help="topology rows are name,M,N,K")
    ap.add_argument("--cfg", type=Path, default=None, help="SCALE-Sim .cfg (flags override it)")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--cols", type=int, default=None)
    ap.add_argument("--dataflow", choices=("ws", "os", "is"), default=None)
    ap.add_argument("--ifmap-kb", type=int, default=None)
    ap.add_argument("--filter-kb", type=int, default=None)
    ap.add_argument("--ofmap-kb", type=int, default=None)
    ap.add_argument("--bandwidth", type=int, default=None, help="DRAM words per cycle")
    ap.add_argument("--json", type=Path, default=None, help="output JSON (default: stdout)")
    ap.add_argument("--layers", type=str, default=None, help="only these row names (comma list)")
    args = ap.parse_args()

    import numpy

    if int(numpy.__version__.split(".")[0]) >= 2:
        print("warning: scalesim 3.0.0 fails on numpy>=2; use scripts/scalesim_env.sh",
              file=sys.stderr)
    from importlib.metadata import version

    cp = build_config(args)
    header, rows = read_topology(args.topology)
    if args.layers:
        keep = set(args.layers.split(","))
        rows = [r for r in rows if r[0] in keep]
    buf = io.StringIO()
    cp.write(buf)
    cfg_text = buf.getvalue()
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.with_suffix(".cfg").write_text(cfg_text)

    layers: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="scalesim_ref_") as tmp:
        cfg_path = Path(tmp) / "scale.cfg"
        cfg_path.write_text(cfg_text)
        for i, row in enumerate(rows):
            recs = run_layer(cfg_path, header, row, args.gemm, Path(tmp) / f"l{i}")
            wall = sum(r["wall_s"] for r in recs)
            total = sum(r["Total Cycles"] for r in recs)
            stall = sum(r["Stall Cycles"] for r in recs)
            print(f"[{i + 1}/{len(rows)}] {row[0]}: M={recs[0]['M']} N={recs[0]['N']} "
                  f"K={recs[0]['K']} Total Cycles={total:.0f} Stall Cycles={stall:.0f} "
                  f"wall {wall:.2f} s", file=sys.stderr, flush=True)
            layers.extend(recs)

    arch = cp["architecture_presets"]
    doc = {
        "tool": f"scalesim {version('scalesim')} (numpy {numpy.__version__})",
        "topology": str(args.topology),
        "gemm": args.gemm,
        "dataflow": arch["Dataflow"],
        "rows": int(arch["ArrayHeight"]),
        "cols": int(arch["ArrayWidth"]),
        "cfg": cfg_text,
        "key_columns": list(KEY_COLUMNS),
        "layers": layers,
    }
    text = json.dumps(doc, indent=1)
    if args.json is None:
        print(text)
    else:
        args.json.write_text(text + "\n")
        print(f"wrote {args.json} and {args.json.with_suffix('.cfg')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
