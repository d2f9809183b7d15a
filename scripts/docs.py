"""``make docs``: regenerate every measured table and figure of docs/ and README.md.

Each block is a function that runs the real tools (through their cached APIs) and returns
markdown; README.md or one page of docs/ holds each block between ``<!-- BEGIN docs:NAME -->``
and ``<!-- END docs:NAME -->`` and this script replaces what is between the markers, never
anything else. Files under docs/ (CSVs, figures) are written by the same functions.

    .venv/bin/python scripts/docs.py [--only NAME ...] [--check]

``--check`` only verifies that the pages hold exactly the blocks this script knows, each once.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from pnsutil import atomic_write

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
MARK = re.compile(r"<!-- BEGIN docs:([a-z0-9-]+) -->\n(.*?)<!-- END docs:\1 -->", re.S)
VDDS = (1.1, 1.0, 0.9)

BLOCKS: dict[str, Callable[[], str]] = {}


def block(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    def register(fn: Callable[[], str]) -> Callable[[], str]:
        BLOCKS[name] = fn
        return fn
    return register


def md(df: pd.DataFrame) -> str:
    from hwmodel.report.render import md_table

    return md_table(df)


def op_table(vdd_v: float, latency: int | None = None, units: set[str] | None = None,
             fmt: str | None = None, paths: tuple[str, ...] = ("default", "yosys"),
             ) -> pd.DataFrame:
    """The op-cost table (uniform stream, 1,000 vectors) at one library supply (cached rows)."""
    from hwmodel.ops.compute import compute_row, library_corner, make_jobs
    from hwmodel.ops.oplib import default_op_library
    from hwmodel.ops.table import build_table

    lib = [u for u in default_op_library(latency) if (units is None or u.unit in units)
           and (fmt is None or u.fmt == fmt)]
    jobs = make_jobs(lib, ["uniform"], list(paths), 1000, 0, corner=library_corner(vdd_v))
    return build_table(jobs, compute_row, workers=2, progress=True)


# -- blocks --------------------------------------------------------------------------------------


@block("op-costs")
def op_costs_block() -> str:
    """Every unit at 1.0 V (the report's default corner), both paths; docs/op_costs.csv holds
    every corner."""
    tables = [op_table(v) for v in VDDS]
    full = pd.concat(tables, ignore_index=True)
    full.to_csv(DOCS / "op_costs.csv", index=False)
    t = tables[VDDS.index(1.0)]
    d = t[t["path"] == "default"].set_index(["unit", "format"])
    y = t[t["path"] == "yosys"].set_index(["unit", "format"])
    rows = []
    for key in d.index:
        r, g = d.loc[key], y.loc[key]
        rows.append({
            "unit": key[0], "format": key[1],
            "default pJ/op (logic / seq / leak)":
                f"{r.energy_pj:.3g} ({r.energy_logic_pj:.3g} / {r.energy_seq_pj:.3g} / "
                f"{r.energy_leakage_pj:.2g})",
            "yosys zero-delay pJ/op": f"{g.energy_pj:.3g}",
            "yosys glitch-aware pJ/op": f"{g.energy_timed_pj:.3g}",
            "glitch factor (logic)": f"{g.energy_timed_logic_pj / g.energy_logic_pj:.2f}",
            "critical path ns": f"{r.critical_path_ns:.3f}", "fmax MHz": f"{r.fmax_mhz:.0f}",
            "leakage µW": f"{r.leakage_nw / 1e3:.3g}", "area µm² (RTL / yosys)":
                f"{r.area_um2:.0f} / {g.area_um2:.0f}"})
    return md(pd.DataFrame(rows)) + "\n"


@block("horowitz")
def horowitz_block() -> str:
    """Our datapath energy at 0.9 V beside Horowitz's 45 nm, 0.9 V figures."""
    from hwmodel.ops.published import compare

    t = op_table(0.9, paths=("default",))
    cmp = compare(t, 0.9)
    cmp.to_csv(DOCS / "published_comparison.csv", index=False)
    view = cmp.assign(
        published=cmp["published_pj"].map(lambda v: f"{v:g}"),
        ours=cmp["ours_logic_pj"].map(lambda v: f"{v:.3g}"),
        ratio=cmp["ratio"].map(lambda v: f"{v:.2f}"),
        within=cmp["within_2x"].map(lambda v: "✓" if v else "✗"))
    view = view[["op", "format", "unit", "published", "ours", "ratio", "within"]]
    view.columns = ["op", "format", "our unit", "Horowitz pJ (0.9 V)",
                    "ours: datapath pJ (0.9 V)", "ours / published", "within 2×"]
    best = cmp.loc[cmp.groupby(["op", "format"])["ratio"].idxmin()]
    n_ok = int(best["within_2x"].sum())
    return (md(view) + f"\n\nWith our lowest-energy unit for each published figure, {n_ok} of "
            f"{len(best)} are within 2× (ratios {best['ratio'].min():.2f}-"
            f"{best['ratio'].max():.2f}); over every unit, ratios "
            f"{cmp['ratio'].min():.2f}-{cmp['ratio'].max():.2f}.\n")


@block("pipelining")
def pipelining_block() -> str:
    """fp32 MAC, multiplier and adder at LATENCY 1, 2, 3 (1.0 V): fmax vs register cost."""
    rows = []
    for lat in (1, 2, 3):
        t = op_table(1.0, lat, {"fp_mac", "fp_mul", "fp_add"}, "fp32", ("default",))
        for r in t.itertuples():
            rows.append({"unit": r.unit, "LATENCY": lat, "critical path ns":
                         f"{r.critical_path_ns:.3f}", "fmax MHz": f"{r.fmax_mhz:.0f}",
                         "logic pJ/op": f"{r.energy_logic_pj:.3g}",
                         "registers + clock pJ/op": f"{r.energy_seq_pj:.3g}",
                         "area µm²": f"{r.area_um2:.0f}"})
    return md(pd.DataFrame(rows).sort_values(["unit", "LATENCY"])) + "\n"


@block("cell-corners")
def cell_corners_block() -> str:
    """Key figures of the committed cell libraries (every one built with ngspice)."""
    from hwmodel.cells.library import load_library
    from hwmodel.ops.compute import library_corner

    rows = []
    for v in VDDS:
        c = library_corner(v)
        kf = load_library(c.corner, c.vdd_v, c.temp_c).key_figures
        rows.append({"library": f"nom, {v:.1f} V, {c.temp_c:g} °C",
                     "FO4 delay ps": f"{kf['fo4_delay_ps']:.2f}",
                     "FA_X1 fJ/toggle": f"{kf['fa_x1_energy_per_toggle_fj']:.2f}",
                     "DFFR_X1 clock fJ/cycle": f"{kf['dffr_x1_clock_energy_per_cycle_fj']:.2f}",
                     "DFFR_X1 clk-to-q ps": f"{kf['dffr_x1_clk_to_q_ps']:.1f}"})
    return md(pd.DataFrame(rows)) + "\n"


@block("report-default")
def report_default_block() -> str:
    """The default report: savings table, per-iteration figures, and its figures."""
    from hwmodel.report.config import load
    from hwmodel.report.pipeline import run
    from hwmodel.report.render import write_report

    with tempfile.TemporaryDirectory() as tmp:
        data = run(load("default"))
        out = write_report(data, Path(tmp) / "default")
        (DOCS / "figures").mkdir(parents=True, exist_ok=True)
        for png in out.glob("*.png"):
            shutil.copy(png, DOCS / "figures" / png.name)
        shutil.copy(out / "savings.csv", DOCS / "default_savings.csv")
        shutil.copy(out / "sweep.csv", DOCS / "default_sweep.csv")
    from hwmodel.report.costing import models_table, savings_table
    from hwmodel.report.display import readable

    c = data.costing
    s = data.sweep.iloc[0]
    sp = c["static_power_mw"]
    a = data.accel["summary"]
    text = (f"\n\nPer iteration without sharing (batch {data.learning.config['batch_size']}, "
            f"{s['macs']:,} MACs). **Accelerator back-end** (`{a['arch']}`: {a['array']} "
            f"{'/'.join(a['dataflows'])} array, clock {a['clock_mhz']:.1f} MHz, "
            f"{a['clock_limit']}): {s['accel_cycles']:,} cycles = "
            f"{s['accel_modeled_time_s'] * 1e3:.3g} ms, PE utilization "
            f"{s['accel_utilization_pct']:.1f} %; computation "
            f"{s['accel_compute_energy_pj'] / 1e9:.3g} mJ, memory access "
            f"{s['accel_memory_energy_pj'] / 1e9:.3g} mJ "
            f"({s['accel_memory_access_bytes'] / 1e6:.3g} MB moved, "
            f"{s['accel_dram_bytes'] / 1e6:.3g} MB of it DRAM), static "
            f"{s['accel_static_energy_pj'] / 1e9:.3g} mJ, total "
            f"{s['accel_total_energy_pj'] / 1e9:.3g} mJ. **MAC-count model** (the paper's "
            f"method: {data.provenance['accelerator']['mac_units']} lanes): computation "
            f"{s['mac_compute_energy_pj'] / 1e9:.3g} mJ, memory access "
            f"{s['mac_memory_energy_pj'] / 1e9:.3g} mJ ({s['mac_memory_access_bytes'] / 1e6:.3g}"
            f" MB moved, {s['mac_dram_bytes'] / 1e6:.3g} MB of it DRAM), static "
            f"{s['mac_static_energy_pj'] / 1e9:.3g} mJ (logic {sp['logic']:.3g} mW, SRAM "
            f"{sp['sram']:.3g} mW, DRAM background {sp['dram']:.3g} mW over "
            f"{s['mac_modeled_time_s'] * 1e3:.3g} ms), total "
            f"{s['mac_total_energy_pj'] / 1e9:.3g} mJ. "
            f"Per-op energies {c['energy_figure']} "
            f"({c['energy_figure_means']}): MAC {c['units']['fp_mac']['dynamic_pj']:.3g} pJ; "
            f"MAC streams clear the accumulator every {c['dot_length']} terms (the trace's "
            f"mean dot-product length). Model storage after {c['tasks']} tasks without sharing: "
            f"{s['model_storage_without_sharing_bytes'] / 1e3:.3g} kB.\n\nBoth cost models "
            "side by side (savings vs no sharing, %):\n\n"
            f"{md(readable(models_table(data.sweep)))}\n")
    from hwmodel.report.paper import SOURCE, beside_the_paper

    beside = (f"\nThe paper's claimed savings (approach 3 on ResNets, {SOURCE}) next to this "
              "run's at its chosen point, for scale (another network, data set and cost "
              f"model):\n\n{md(beside_the_paper(savings_table(data.sweep)))}\n")
    return md(readable(savings_table(data.sweep))) + text + beside


@block("resnet18-memory")
def resnet18_memory_block() -> str:
    """ResNet-18 (CIFAR shape, batch 16, SGD momentum + weight decay): a new task trained as a
    branch on the frozen first blocks vs as a whole network; one old task."""
    import torch

    from hwmodel.memory import Hierarchy, access_energy, model_storage, working_memory
    from learning.models import freeze_prefix, resnet, sharing_point_for_percent, split_counts
    from learning.training import OptimizerSpec
    from workload import trace_training

    torch.manual_seed(0)
    opt = OptimizerSpec("sgd", 0.05, 0.9, 5e-4)
    net = resnet("resnet18", 10, granularity="block")
    k, pct = sharing_point_for_percent(net, 60)
    shared, branch, _, _ = split_counts(net, k)
    freeze_prefix(net, k)
    tr_s = trace_training(net, (3, 32, 32), 16, optimizer=opt).df
    tr_n = trace_training(resnet("resnet18", 10, granularity="block"), (3, 32, 32), 16,
                          optimizer=opt).df
    whole = shared + branch
    ms = model_storage([(whole, whole), (whole, branch)], 4)
    wm_s, wm_n = working_memory(tr_s), working_memory(tr_n)
    rows = [("model parameters, old + new task", ms.with_sharing_bytes,
             ms.without_sharing_bytes)]
    for key, label in (("activation", "activations (training)"),
                       ("gradient", "gradients (training)"),
                       ("optstate", "optimizer state (training)")):
        rows.append((label, wm_s[key], wm_n[key]))
    table = pd.DataFrame([{"storage (MiB)": n, "with sharing": f"{a / 2**20:.2f}",
                           "without sharing": f"{b / 2**20:.2f}",
                           "saving": f"{100 * (1 - a / b):.1f} %"} for n, a, b in rows])
    h = Hierarchy.global_buffer("2MiB", 64, temp_k=300.15)
    inp = 16 * 3 * 32 * 32 * 4
    e_s = access_energy(tr_s, h, inp)
    e_n = access_energy(tr_n, h, inp)
    text = (f"\n\nShared: the first {k} blocks, {pct:.1f} % of the parameters. Memory traffic "
            "per iteration with a 2 MiB global buffer (64-bit words, 300 K) + DDR3, fills and "
            f"spills included: {e_s['bytes'].sum() / 2**20:.1f} MiB and "
            f"{e_s['energy_pj'].sum() / 1e9:.2f} mJ with sharing vs "
            f"{e_n['bytes'].sum() / 2**20:.1f} MiB and {e_n['energy_pj'].sum() / 1e9:.2f} mJ "
            f"without ({100 * (1 - e_s['energy_pj'].sum() / e_n['energy_pj'].sum()):.1f} % "
            "saving).\n")
    return md(table) + text


@block("cell-key-figures")
def cell_key_figures_block() -> str:
    """Key figures of the nom 1.1 V library, read from its JSON (all measured with ngspice)."""
    from hwmodel.cells.library import load_library

    kf = load_library("nom", 1.1, 25.0).key_figures
    rows = [("FO4 inverter delay (INV_X1)", f"{kf['fo4_delay_ps']:.2f} ps"),
            ("INV_X1 input capacitance", f"{kf['inv_x1_input_cap_ff']:.3f} fF"),
            ("NAND2_X1 input capacitance (mean of its pins)",
             f"{kf['nand2_x1_input_cap_ff']:.3f} fF"),
            (f"FA_X1 energy per output toggle (internal + ½CV², FO4 load "
             f"{kf['ref_load_ff']:.2f} fF, {kf['ref_slew_ns'] * 1e3:.0f} ps slew)",
             f"{kf['fa_x1_energy_per_toggle_fj']:.2f} fJ"),
            ("DFFR_X1 clock energy per cycle (CK rise + fall, Q unchanged)",
             f"{kf['dffr_x1_clock_energy_per_cycle_fj']:.2f} fJ"),
            ("DFFR_X1 clock-to-Q / setup / hold",
             f"{kf['dffr_x1_clk_to_q_ps']:.1f} ps / {kf['dffr_x1_setup_ps']:.1f} ps / "
             f"{kf['dffr_x1_hold_ps']:.1f} ps")]
    return md(pd.DataFrame(rows, columns=["figure (nom, 1.1 V, 25 °C)", "value"])) + "\n"


@block("rtl-cells")
def rtl_cells_block() -> str:
    """Cell instances of every unit as the default path elaborates it (Yosys, LATENCY 0; MACs 1)."""
    import rtl
    from hwmodel.ops.netlist import elaborate
    from hwmodel.ops.oplib import format_params
    from hwmodel.ops.streams import get_format
    from hwmodel.rtlsim import load_unit

    def count(sub: str, unit: str, fmt: str, signed: int | None = None) -> int:
        params = format_params(get_format(fmt)) | {"LATENCY": 1 if "mac" in unit else 0}
        if signed is not None:
            params["SIGNED"] = signed
        return len(elaborate(load_unit(rtl.RTL_DIR / sub / f"{unit}.v"), params).instances)

    rows = [{"unit": u, **{f"{b} bit (unsigned / signed)":
                           f"{count('int', u, f'int{b}', 0):,} / {count('int', u, f'int{b}', 1):,}"
                           for b in (8, 16, 32)}}
            for u in ("add_rca", "add_ks", "mul_array", "mul_booth", "mac_int")]
    fp = [{"unit": u, **{f: f"{count('fp', u, f):,}" for f in ("fp16", "bf16", "fp32")}}
          for u in ("fp_add", "fp_mul", "fp_mac")]
    return md(pd.DataFrame(rows)) + "\n\n" + md(pd.DataFrame(fp)) + "\n"


@block("cacti-grid")
def cacti_grid_block() -> str:
    """The SRAM model against CACTI 7 (built from its source) on the 22-point grid."""
    from hwmodel.sram.compare import agreement_table, compare_grid

    tab = agreement_table(compare_grid(progress=True))
    tab.to_csv(DOCS / "sram_vs_cacti.csv", index=False)
    view = pd.DataFrame({
        "quantity": tab["quantity"].map(lambda q: q.rsplit("_", 1)[0].replace("_", " ")),
        "min ratio": tab["min_ratio"].map(lambda v: f"{v:.3f}"),
        "max ratio": tab["max_ratio"].map(lambda v: f"{v:.3f}"),
        "within 1.5× everywhere": tab["within_1p5x"].map(lambda v: "yes" if v else "no"),
        "trend (rank corr. along capacity)": tab["trend_rank_corr"].map(lambda v: f"{v:.3f}")})
    return md(view) + "\n"


@block("resnet18-phases")
def resnet18_phases_block() -> str:
    """Training MACs per iteration by phase, ResNet-18 (CIFAR stem), batch 64, at three
    requested sharing points; time: mean of 10 iterations on one CPU thread."""
    import torch

    from learning.models import freeze_prefix, resnet, sharing_point_for_percent
    from workload import trace_training

    torch.set_num_threads(1)
    rows, base = [], None
    for req in (0, 50, 80):
        torch.manual_seed(0)
        net = resnet("resnet18", 10, granularity="block")
        k, pct = sharing_point_for_percent(net, req)
        freeze_prefix(net, k)
        tr = trace_training(net, (3, 32, 32), 64, optimizer="sgd", iterations=10)
        m, t = tr.phase_macs(), tr.timing_s
        base = base or (m["total"], t["iteration"])
        upd = int(tr.df[["update_mults", "update_adds"]].to_numpy().sum())
        rows.append({
            "sharing requested": f"{req} %", "shared (blocks)":
                f"{pct:.1f} % ({k} of {len(net.blocks)})",
            "forward GMAC": f"{m['forward'] / 1e9:.3f}",
            "input-grad GMAC": f"{m['backward_input'] / 1e9:.3f}",
            "weight-grad GMAC": f"{m['backward_weight'] / 1e9:.3f}",
            "total GMAC": f"{m['total'] / 1e9:.3f}",
            "MACs vs 0 %": "—" if req == 0 else f"{100 * (m['total'] / base[0] - 1):+.1f} %",
            "update ops (M)": f"{upd / 1e6:.2f}",
            "saved activations (MiB)": f"{tr.df['act_saved_bytes'].sum() / 2**20:.1f}",
            "fwd / bwd (s)": f"{t['forward']:.2f} / {t['backward']:.2f}",
            "step (ms)": f"{t['step'] * 1e3:.1f}", "iteration (s)": f"{t['iteration']:.2f}",
            "time vs 0 %": "—" if req == 0 else f"{100 * (t['iteration'] / base[1] - 1):+.1f} %"})
    return md(pd.DataFrame(rows)) + "\n"


@block("accel-resnet18")
def accel_resnet18_block() -> str:
    """ResNet-18 (CIFAR stem), batch 64, at the block-granular sharing points 0, 5, 7, 8 and 9
    blocks shared: savings vs no sharing of the MAC-count model and of the accelerator back-end (ws
    preset, PE measured in a 4x4 RTL array in dataflow order), fp32 units at 1.0 V (uniform
    stream, glitch-aware); the MAC-count model with the default report's 256 lanes, 256 KiB
    buffer and DDR3 channel."""
    import torch

    from hwmodel.accel import arch as accel_arch
    from hwmodel.accel import units
    from hwmodel.accel.compare import FIGURES, both_models
    from hwmodel.accel.energy import pe_from_arrays
    from hwmodel.cost import Accelerator, mean_dot_length
    from hwmodel.memory import Hierarchy
    from learning.models import freeze_prefix, resnet, sharing_points
    from workload import trace_training

    torch.set_num_threads(1)
    traces, shares = {}, {}
    for k in (0, 5, 7, 8, 9):
        torch.manual_seed(0)
        net = resnet("resnet18", 10, granularity="block")
        pct = dict(sharing_points(net))[k]
        freeze_prefix(net, k)
        label = f"{pct:.1f} % ({k} of {len(net.blocks)} blocks)"
        traces[label] = trace_training(net, (3, 32, 32), 64, optimizer="sgd").df
        shares[label] = k
    a = accel_arch.load("ws")
    _, costs = units.op_costs(a, dot_length=mean_dot_length(next(iter(traces.values()))),
                              progress=True)
    df = both_models(traces, a, costs, pe_from_arrays(a),
                     Hierarchy.global_buffer("256KiB", 64, temp_k=300.0), Accelerator())
    df.to_csv(DOCS / "accel_resnet18.csv", index=False)
    rows = []
    for label in traces:
        r = df[df["label"] == label].set_index("model")
        row = {"shared": label}
        for col, what in FIGURES:
            row[f"{what} saving, MAC model / accelerator"] = (
                "—" if shares[label] == 0 else
                f"{r.loc['mac', col + '_saving_pct']:.1f} % / "
                f"{r.loc['accel', col + '_saving_pct']:.1f} %")
        row["accelerator: time (ms), PE utilization"] = (
            f"{r.loc['accel', 'time_s'] * 1e3:.1f}, {r.loc['accel', 'utilization_pct']:.1f} %")
        rows.append(row)
    return md(pd.DataFrame(rows)) + "\n"


@block("accel-speed")
def accel_speed_block() -> str:
    """benchmarks/bench_accel.py: a whole ResNet-18 iteration on one core, and both modes."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_accel",
                                                  ROOT / "benchmarks" / "bench_accel.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    whole = pd.DataFrame([bench.whole_iteration(64, "ws")])
    return md(whole) + "\n\n" + md(pd.DataFrame(bench.modes())) + "\n"


@block("scalesim-xcheck")
def scalesim_xcheck_block() -> str:
    """Our accelerator simulator against SCALE-Sim v3 on 22 ResNet-18 training GEMMs (CIFAR,
    batch 1: 12 forward, 5 input-gradient, 5 weight-gradient), 16x16 and 32x32 arrays, all three
    dataflows, SCALE-Sim's schedule, no stalls (16 MiB buffers, 4096 words/cycle)."""
    from hwmodel.accel import xcheck

    if xcheck.reference_python() is None:
        raise SystemExit("scalesim-xcheck needs the SCALE-Sim venv: scripts/scalesim_env.sh")
    layers = xcheck.resnet18_layers()
    df = xcheck.compare(layers, progress=True)
    df.to_csv(DOCS / "scalesim_xcheck.csv", index=False)
    ag = xcheck.agreement(df)
    view = pd.DataFrame({
        "array": ag["array"].map(lambda v: f"{v}x{v}"), "dataflow": ag["dataflow"],
        "layers": ag["layers"],
        **{f"{q} (worst ratio)": ag[f"ratio {q}"].map(lambda v: f"{v:.4f}")
           for q in xcheck.QUANTITIES},
        "Total Cycles less the differences by design": ag[
            "ratio Total Cycles (less the differences by design)"].map(lambda v: f"{v:.4f}"),
        "OFMAP Writes less SCALE-Sim's os counter": ag[
            "ratio SRAM OFMAP Writes (less SCALE-Sim's R+C per os fold)"].map(
            lambda v: f"{v:.4f}"),
        "SCALE-Sim s": ag["SCALE-Sim wall s"].map(lambda v: f"{v:.1f}"),
        "ours s": ag["ours wall s"].map(lambda v: f"{v:.4f}"),
        "speed-up": (ag["SCALE-Sim wall s"] / ag["ours wall s"]).map(lambda v: f"{v:,.0f}x")})
    dev = (df["ratio Total Cycles"] - 1).abs()
    worst = df.loc[dev.idxmax()]
    same = (df["ratio Total Cycles (less the differences by design)"] - 1).abs().max()
    sram = max((df[f"ratio {q}"] - 1).abs().max() for q in xcheck.QUANTITIES[1:3])
    return (md(view) + f"\n\n{len(df)} layer runs ({len(layers)} GEMMs x 2 arrays x 3 "
            f"dataflows). Total cycles within 5 % of SCALE-Sim in {(dev <= 0.05).sum()} of "
            f"{len(df)} runs (goal 5 %); the worst is {worst['layer']} "
            f"({worst['M']}x{worst['N']}x{worst['K']}) on the {worst['array']}x{worst['array']} "
            f"{worst['dataflow']} array, {worst['ours Total Cycles']:,.0f} vs "
            f"{worst['ref Total Cycles']:,.0f} cycles, all of it by design: SCALE-Sim's total is "
            "the last cycle's index (one less than a count) and leaves out the first fill and "
            "the last write-back, and our os array drains its last fold (R cycles); without "
            f"those the totals differ by at most {100 * same:.4f} %. SRAM IFMAP and Filter "
            f"reads within {100 * sram:.4f} % (goal 10 %); SRAM OFMAP writes equal for ws and "
            "is, and for os once SCALE-Sim's counter quirk (R + C added per fold, "
            "`systolic_compute_os.py`) is taken out. Per layer: docs/scalesim_xcheck.csv.\n")


@block("learning-fast")
def learning_fast_block() -> str:
    """The fast learning config end to end (one thread, fresh output folder): accuracy of every
    method and the task-1 sweep."""
    import dataclasses
    import time

    from learning.config import load_config
    from learning.incremental import run_experiment

    with tempfile.TemporaryDirectory() as tmp:
        cfg = dataclasses.replace(load_config("fast"), threads=1, output_dir=tmp)
        t0 = time.perf_counter()
        res = run_experiment(cfg, progress=False)
        wall = time.perf_counter() - t0
    rows = []
    for m in res.methods:
        rows.append({"method": m.method, "trained params": f"{m.trained_params:,}",
                     "task 0/1/2, all classes %": " / ".join(f"{v:.1f}" for v in
                                                            m.final_task_acc_pct),
                     "top-1 %": f"{m.top1_pct:.1f}", "top-5 %": f"{m.top5_pct:.1f}"})
    sweep = "; ".join(f"{p.share_k} / {p.sharing_point_pct:.2f} / {p.val_acc_pct:.1f} / "
                      f"{p.test_acc_pct:.1f}{' (chosen)' if p.chosen else ''}"
                      for p in res.sweep)
    return (md(pd.DataFrame(rows)) + f"\n\nSweep on task 1 (blocks shared / base % / "
            f"validation % / test %): {sweep}. Wall time {wall:.0f} s on one thread.\n")


def stage_times(checkpoint: Path) -> tuple[int, float]:
    """(stages, seconds): every trained stage of a learning checkpoint and the sum of their
    measured training times (an interrupted stage's time carries over its resume)."""
    import json

    import torch

    blob = torch.load(checkpoint, map_location="cpu", weights_only=True)
    infos = [json.loads(v["info"]) for v in blob["stages"].values()]
    return len(infos), sum(float(i.get("train_time_s", 0.0)) for i in infos)


def _run_paper(config: str) -> tuple[Any, str]:
    """Run the ``paper-*`` report config with the data root ``../shared/data`` (its learning
    resumes from ``reports/learning/<name>/checkpoint.pt`` when one is there, else trains from
    scratch: the config states how long), copy its figures to docs/figures/<config>/ and
    return (report data, training footnote)."""
    from hwmodel.report.config import load
    from hwmodel.report.pipeline import run
    from hwmodel.report.render import write_report

    root = ROOT.parent / "shared" / "data"
    with tempfile.TemporaryDirectory() as tmp:
        data = run(load(config), data_root=str(root), progress=True)
        out = write_report(data, Path(tmp) / config)
        figs = DOCS / "figures" / config
        figs.mkdir(parents=True, exist_ok=True)
        for png in out.glob("*.png"):
            shutil.copy(png, figs / png.name)
    res = data.learning
    folder = res.config.get("output_dir") or ROOT / "reports" / "learning" / res.name
    n, secs = stage_times(Path(folder) / "checkpoint.pt")
    return data, (f"Training: {n} stages, {secs / 60:.0f} min in all (the sum of every stage's "
                  "measured training time on this 2-core machine).")


def paper_experiment(config: str) -> str:
    """A ``paper-*`` report config run (:func:`_run_paper`): its accuracy beside the paper's
    table and the training time of its stages."""
    from hwmodel.report import paper
    from hwmodel.report.render import _accuracy_view

    data, trained = _run_paper(config)
    beside = paper.view(data.learning)
    table = ("" if beside.accuracy is None
             else md(_accuracy_view(beside.accuracy)) + "\n\n")
    return f"{table}{beside.message} {trained}\n"


#: The paper's figures a sweep experiment shows, (file, caption).
SWEEP_FIGURES = (("fig2b_accuracy_vs_sharing.png", "Fig. 2b, accuracy"),
                 ("fig4a_energy_vs_sharing.png", "Fig. 4a, computation energy"),
                 ("fig4b_time_vs_sharing.png", "Fig. 4b, time per iteration"),
                 ("fig5a_storage_vs_sharing.png", "Fig. 5a, storage"),
                 ("fig5b_memory_access_vs_sharing.png", "Fig. 5b, memory access"))


def paper_sweep_experiment(config: str) -> str:
    """A ``paper-*`` sweep config run (:func:`_run_paper`): the sweep (branch and updated
    network at every point), the savings at every point, the joint bound and the paper's
    Figs. 2b, 4a, 4b, 5a, 5b."""
    from hwmodel.report.costing import savings_table
    from hwmodel.report.display import readable
    from learning.results import sweep_table

    data, trained = _run_paper(config)
    res = data.learning
    saving = savings_table(data.sweep)[["sharing_point_pct", "compute_energy_saving_pct",
                                        "modeled_time_saving_pct", "model_storage_saving_pct",
                                        "memory_access_saving_pct"]]
    joint = next((m for m in res.methods if m.method == "joint"), None)
    bound = ("" if joint is None else
             f"Joint training on all classes (the upper bound): {joint.top1_pct:.2f} %. ")
    figs = "\n".join(f'<img src="docs/figures/{config}/{f}" width="49%" alt="{cap}">'
                     for f, cap in SWEEP_FIGURES)
    return (sweep_table(res) + "\n\nSavings vs no sharing at each point (accelerator back-end, "
            "one training iteration of the new branch, %):\n\n" + md(readable(saving))
            + f"\n\n{bound}{trained}\n\n{figs}\n")


@block("paper-table1")
def paper_table1_block() -> str:
    """Approach 1 as the paper's Table 1 (digits + five letter installments)."""
    return paper_experiment("paper-digits-letters")


@block("paper-table2")
def paper_table2_block() -> str:
    """Approach 2 as the paper's Table 2 (CIFAR-10 4+3+3, the paper's MlpConv)."""
    return paper_experiment("paper-cifar10-clone")


@block("paper-resnet")
def paper_resnet_block() -> str:
    """Approach 3 as the paper's sweep (Figs. 2b-5b) on CIFAR-10 with a narrow ResNet-18."""
    return paper_sweep_experiment("paper-cifar10-resnet")


# -- page plumbing -------------------------------------------------------------------------------


def pages() -> list[Path]:
    """README.md and every page of docs/ (where blocks may live)."""
    return [README, *sorted(DOCS.glob("*.md"))]


def block_homes() -> dict[str, list[Path]]:
    """Block name -> the pages that hold it."""
    homes: dict[str, list[Path]] = {}
    for page in pages():
        for name, _ in MARK.findall(page.read_text()):
            homes.setdefault(name, []).append(page)
    return homes


def replace_blocks(text: str, produced: dict[str, str]) -> str:
    """``text`` with the body of every produced block it holds replaced."""
    return MARK.sub(lambda m: (f"<!-- BEGIN docs:{m.group(1)} -->\n"
                               f"{produced.get(m.group(1), m.group(2))}"
                               f"<!-- END docs:{m.group(1)} -->"), text)


def check_homes(homes: dict[str, list[Path]]) -> str | None:
    """A one-line problem with the markers (unknown, missing or repeated block), or None."""
    for name, where in sorted(homes.items()):
        if name not in BLOCKS:
            return f"{where[0].name} holds block {name!r}, which scripts/docs.py does not make"
        if len(where) > 1:
            return f"block {name!r} is in {len(where)} places ({where[0].name}, ...); keep one"
    missing = sorted(set(BLOCKS) - set(homes))
    if missing:
        return (f"no page holds block {missing[0]!r}; add <!-- BEGIN docs:{missing[0]} --> "
                f"... <!-- END docs:{missing[0]} --> where it belongs")
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/docs.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="+", choices=sorted(BLOCKS), help="only these blocks")
    ap.add_argument("--check", action="store_true", help="only check the pages' markers")
    args = ap.parse_args(argv)
    homes = block_homes()
    problem = check_homes(homes)
    if problem:
        print(f"docs: {problem}", file=sys.stderr)
        return 2
    if args.check:
        return 0
    produced = {}
    for name in args.only or list(BLOCKS):
        print(f"docs: {name}", flush=True)
        produced[name] = BLOCKS[name]()
    for page in {p for name in produced for p in homes[name]}:
        atomic_write(page, replace_blocks(page.read_text(), produced))
    print(f"docs: updated {len(produced)} block(s) in README.md and docs/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
