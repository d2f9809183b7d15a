"""Write a report folder: report.md, self-contained report.html, PNG figures, CSVs, summary.json.

Everything is written into a temporary folder beside the target and renamed into place at the
end, so an interrupted run never leaves a half-written report.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from hwmodel.report import figures
from hwmodel.report.pipeline import ReportData


def _fmt(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "-"
        return f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


def md_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table of ``df``."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(_fmt(row[c]) for c in cols) + " |")
    return "\n".join(lines)


def savings_table(data: ReportData) -> pd.DataFrame:
    """Paper Tables 3/5 form: savings of each sharing point relative to no sharing (%)."""
    s = data.sweep
    base_acc = float(s.loc[s["share_k"] == 0, "test_acc_pct"].iloc[0])
    out = pd.DataFrame({
        "sharing_point_pct": s["sharing_point_pct"],
        "chosen": s["chosen"],
        "test_acc_pct": s["test_acc_pct"],
        "acc_loss_pct_points": base_acc - s["test_acc_pct"],
        "compute_energy_saving_pct": 100 * (1 - s["compute_energy_norm"]),
        "memory_access_saving_pct": 100 * (1 - s["memory_access_norm"]),
        "total_energy_saving_pct": 100 * (1 - s["total_energy_norm"]),
        "storage_saving_pct": 100 * (1 - s["storage_with_sharing_bytes"]
                                     / s["storage_without_sharing_bytes"]),
        "modeled_time_saving_pct": 100 * (1 - s["modeled_time_norm"]),
        "measured_time_saving_pct": 100 * (1 - s["measured_iteration_norm"]),
    })
    return out


def _op_table_view(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["unit", "format", "stream", "path", "energy_pj", "energy_logic_pj", "energy_seq_pj",
            "energy_leakage_pj", "latency_cycles", "ii_cycles", "area_um2", "cells", "vectors"]
    return df[[c for c in cols if c in df.columns]]


def _sram_view(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["buffer", "capacity_bytes", "word_bits", "read_energy_pj", "write_energy_pj",
            "access_time_ns", "leakage_mw", "area_mm2"]
    return df[[c for c in cols if c in df.columns]]


def _combination_view(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["method", "rule", "top1_pct", "top5_pct", "task_id_pct", "gap_to_joint_pts",
            "storage_bytes", "macs_per_inference", "energy_per_inference_pj"]
    return df[[c for c in cols if c in df.columns]]


def _sweep_view(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["sharing_point_pct", "chosen", "test_acc_pct", "macs", "compute_energy_pj",
            "memory_energy_pj", "total_energy_pj", "modeled_time_s", "measured_iteration_s",
            "storage_with_sharing_bytes", "storage_without_sharing_bytes"]
    return df[[c for c in cols if c in df.columns]]


def sections(data: ReportData) -> list[tuple[str, str, pd.DataFrame | None, str | None]]:
    """(heading, text, table, figure file) in report order."""
    res = data.learning
    ds = res.dataset
    chosen = data.sweep[data.sweep["chosen"]]
    lead = (f"Dataset **{ds['name']}** ({ds.get('source', '')}), task splits "
            f"{'+'.join(str(len(t)) for t in res.tasks)}, model **{res.config['model']}**, "
            f"training in **{data.config.format}**. Op energies: default path (the RTL's own "
            f"45 nm cells), stream **{data.config.stream}**.")
    if not chosen.empty:
        c = chosen.iloc[0]
        lead += (f" Chosen sharing point: **{c['sharing_point_pct']:.1f} %** of the parameters "
                 f"shared, computation energy per iteration x{c['compute_energy_norm']:.3f} of "
                 f"no sharing, accuracy {c['test_acc_pct']:.1f} %.")
    return [
        ("Summary", lead, None, None),
        ("Accuracy of the updated network (paper Tables 1 and 2)",
         "All-class top-1 after the last task; the column `combiner` names the combination "
         "rule that produced each accuracy (the learning config's "
         f"`{res.config.get('combiner')}`).", data.methods, None),
        ("Combination rules", "Every rule on the same trained branches: all-class top-1, "
         "task identification (predicted class in the image's own task), gap to joint "
         "training, and each rule's extra storage and compute per inference (energy at the "
         f"{data.config.format} MAC cost). `max-softmax` is the paper's rule.",
         _combination_view(data.combination), None),
        ("Savings vs sharing (paper Tables 3 and 5)", "Relative to training the new branch "
         "without sharing (0 %).", savings_table(data), None),
        ("Accuracy vs sharing (Fig. 2b)", "", None, "fig2b_accuracy_vs_sharing.png"),
        ("Computation energy vs sharing (Fig. 4a)", "", None, "fig4a_energy_vs_sharing.png"),
        ("Training time per iteration (Fig. 4b)", "Modeled: the stated accelerator; measured: "
         "this machine's CPU wall clock.", None, "fig4b_time_vs_sharing.png"),
        ("Storage (Fig. 5a)", "", None, "fig5a_storage_vs_sharing.png"),
        ("Memory access (Fig. 5b)", "", None, "fig5b_memory_access_vs_sharing.png"),
        ("Per training iteration at each sharing point", "", _sweep_view(data.sweep), None),
        ("Op costs used", "From `python -m hwmodel.ops` (cached by content hash).",
         _op_table_view(data.op_costs), None),
        ("SRAM used", "From `hwmodel.sram` (CACTI-style analytical model).",
         _sram_view(data.sram), None),
        ("Provenance", "```json\n" + json.dumps(data.provenance, indent=1, default=str)
         + "\n```\nStage times (s): " + ", ".join(f"{k} {v:.1f}" for k, v in
                                                 data.timings_s.items()), None, None),
    ]


def render_markdown(data: ReportData) -> str:
    out = [f"# pns-hwcost report: {data.config.name}", "", data.config.description, ""]
    for head, text, table, fig in sections(data):
        out += [f"## {head}", ""]
        if text:
            out += [text, ""]
        if table is not None:
            out += [md_table(table), ""]
        if fig:
            out += [f"![{head}]({fig})", ""]
    return "\n".join(out)


def render_html(data: ReportData, folder: Path) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>pns-hwcost report: {html.escape(data.config.name)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;}"
             "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;"
             "padding:2px 6px}pre{background:#f6f6f6;padding:8px;overflow:auto}</style>",
             "</head><body>", f"<h1>pns-hwcost report: {html.escape(data.config.name)}</h1>",
             f"<p>{html.escape(data.config.description)}</p>"]
    for head, text, table, fig in sections(data):
        parts.append(f"<h2>{html.escape(head)}</h2>")
        if text.startswith("```json"):
            body = text.split("```json\n", 1)[1].split("\n```", 1)
            parts.append(f"<pre>{html.escape(body[0])}</pre><p>{html.escape(body[1])}</p>")
        elif text:
            parts.append(f"<p>{html.escape(text).replace('**', '')}</p>")
        if table is not None:
            parts.append(table.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
        if fig:
            b64 = base64.b64encode((folder / fig).read_bytes()).decode()
            parts.append(f"<img alt='{html.escape(head)}' src='data:image/png;base64,{b64}'>")
    # Lets a headless browser (the report test) read how many images really decoded.
    parts.append("<script>window.addEventListener('load',function(){var im=document.images,"
                 "ok=0;for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)"
                 "ok++;}document.body.setAttribute('data-images-loaded',ok+'/'+im.length);});"
                 "</script>")
    parts.append("</body></html>")
    return "\n".join(parts)


def summary(data: ReportData) -> dict:
    res = data.learning
    return {
        "config": data.config.name,
        "learning": {"name": res.name, "tasks": res.tasks,
                     "chosen_sharing_point_pct": res.chosen_sharing_point_pct,
                     "methods": {m.method: {"top1_pct": m.top1_pct, "combiner": m.combiner}
                                 for m in res.methods},
                     "combination": json.loads(data.combination.to_json(orient="records"))},
        "sweep": json.loads(data.sweep.to_json(orient="records")),
        "savings": json.loads(savings_table(data).to_json(orient="records")),
        "provenance": data.provenance,
        "timings_s": data.timings_s,
    }


def write_report(data: ReportData, out_dir: Path) -> Path:
    """Write the whole report folder atomically; returns ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        figures.write_all(data.sweep, tmp)
        tables = {"sweep.csv": data.sweep, "methods.csv": data.methods,
                  "combination.csv": data.combination,
                  "savings.csv": savings_table(data), "op_costs.csv": data.op_costs,
                  "sram.csv": data.sram, "memory_access.csv": data.memory,
                  "storage.csv": data.storage}
        for name, df in tables.items():
            df.to_csv(tmp / name, index=False)
        (tmp / "summary.json").write_text(json.dumps(summary(data), indent=1, default=str))
        (tmp / "report.md").write_text(render_markdown(data))
        (tmp / "report.html").write_text(render_html(data, tmp))
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
