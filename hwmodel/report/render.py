"""Write a report folder: report.md, self-contained report.html, PNG figures, CSVs, summary.json.

Everything is written into a temporary folder beside the target and renamed into place at the
end, so an interrupted run never leaves a half-written report. The CSVs and ``summary.json`` keep
the raw columns (units in their names); report.md and report.html show tables for reading
(:mod:`hwmodel.report.display`).
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import pandas as pd

from hwmodel.report import figures, paper
from hwmodel.report.assemble import ReportData, updated_vs_sharing
from hwmodel.report.costing import models_table, savings_table
from hwmodel.report.display import header, readable, sig
from pnsutil import atomic_dir

Section = tuple[str, str, pd.DataFrame | None, str | None]


def md_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table of ``df`` (values as they are)."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(str(row[c]) for c in cols) + " |")
    return "\n".join(lines)


def _cols(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df[[c for c in cols if c in df.columns]]


def _sweep_view(df: pd.DataFrame) -> pd.DataFrame:
    return _cols(df, ["sharing_point_pct", "chosen", "test_acc_pct", "macs", "compute_energy_pj",
                      "memory_energy_pj", "static_energy_pj", "total_energy_pj", "clock_mhz",
                      "compute_time_s", "memory_time_s", "modeled_time_s",
                      "measured_iteration_s"])


def _storage_view(df: pd.DataFrame) -> pd.DataFrame:
    return _cols(df, ["sharing_point_pct", "model_storage_with_sharing_bytes",
                      "model_storage_without_sharing_bytes", "weight_bytes",
                      "optimizer_state_bytes", "activation_bytes", "gradient_bytes"])


def _traffic_view(traffic: pd.DataFrame, sweep: pd.DataFrame) -> pd.DataFrame:
    """Bytes by level and movement (columns) at every sharing point (rows)."""
    t = traffic.assign(where=traffic["level"] + " " + traffic["access"] + " ("
                       + traffic["movement"] + ")")
    piv = t.pivot_table(index="label", columns="where", values="bytes", aggfunc="sum",
                        fill_value=0.0)
    pct = sweep.set_index("label")["sharing_point_pct"]
    piv.insert(0, "sharing_point_pct", pct.reindex(piv.index))
    piv = piv.sort_values("sharing_point_pct")
    piv.columns = [c if c == "sharing_point_pct" else f"{c}_bytes" for c in piv.columns]
    return piv.reset_index(drop=True)


def _op_view(df: pd.DataFrame) -> pd.DataFrame:
    return _cols(df, ["unit", "path", "stream", "vdd_v", "energy_logic_pj", "energy_seq_pj",
                      "energy_timed_logic_pj", "energy_timed_seq_pj", "leakage_nw",
                      "critical_path_ns", "fmax_mhz", "latency_cycles", "area_um2",
                      "nonfinite_pct", "dot_length"])


def _lead(data: ReportData) -> str:
    res, c, cfg = data.learning, data.costing, data.config
    ds = res.dataset
    text = (f"Dataset **{ds['name']}** ({ds.get('source', '')}), task splits "
            f"{'+'.join(str(len(t)) for t in res.tasks)}, model **{res.config['model']}**, "
            f"training in **{cfg.format}**, optimizer as trained. Per-op energies: "
            f"**{c['energy_figure']}** ({c['energy_figure_means']}), stream **{cfg.stream}**, "
            f"LATENCY {c['latency_cycles']}, {cfg.vdd_v:g} V. MAC-count model clock "
            f"**{sig(c['clock_mhz'])} MHz** ({c['clock_limit']}; target "
            f"{sig(c['clock_target_mhz'])} MHz).")
    model = str(data.sweep["cost_model"].iloc[0]) if "cost_model" in data.sweep else "mac"
    if data.accel:
        a = data.accel["summary"]
        name = "accelerator back-end" if model == "accel" else "MAC-count model"
        text += (f" Figures and savings: the **{name}**"
                 f" (accelerator `{a['arch']}`: {a['array']} {'/'.join(a['dataflows'])} array at "
                 f"{sig(a['clock_mhz'])} MHz, {a['objective']}-optimal mappings; the other "
                 "model beside it).")
    chosen = data.sweep[data.sweep["chosen"]]
    if not chosen.empty:
        r = chosen.iloc[0]
        text += (f" Chosen sharing point: **{r['sharing_point_pct']:.1f} %** of the parameters "
                 f"shared: computation energy ×{r['compute_energy_norm']:.3f}, total energy "
                 f"×{r['total_energy_norm']:.3f} of no sharing, accuracy "
                 f"{r['test_acc_pct']:.1f} %.")
    return text


def _mapping_view(df: pd.DataFrame) -> pd.DataFrame:
    return _cols(df, ["layer", "phase", "m", "n", "k", "count", "mapping", "cycles",
                      "stall_cycles", "utilization_pct", "sram_a_reads", "sram_b_reads",
                      "sram_c_writes", "dram_a_reads", "dram_b_reads", "dram_c_writes"])


def _accel_sections(data: ReportData) -> list[Section]:
    if not data.accel:
        return []
    a = data.accel["summary"]
    bufs = ", ".join(f"{n} {b['capacity_bytes'] // 1024} KiB ({'/'.join(b['operands'])}, "
                     f"{b['banks']} x {b['word_bits']} b)" for n, b in a["buffers"].items())
    text = (f"Accelerator `{a['arch']}` ({a['source']}): {a['array']} PEs, dataflow "
            f"{'/'.join(a['dataflows'])}; buffers {bufs}; {a['vector_lanes']}-lane vector unit; "
            f"{a['dram']['type']} at {sig(a['dram']['bandwidth_gb_s'])} GB/s; clock "
            f"{sig(a['clock_mhz'])} MHz ({a['clock_limit']}). PE energy: {a['pe_energy']}. "
            f"Every conv/linear layer-phase is a GEMM mapped by an exhaustive tile/loop-order "
            f"search ({a['objective']}) and simulated with stalls; element-wise work and the "
            "optimizer step run on the vector unit (`python -m hwmodel.accel`, "
            "docs/accel.md).")
    return [
        ("Both cost models", "Savings vs no sharing (%) of the MAC-count model (the paper's "
         "method: MACs x one op energy, tensors through one buffer) and of the accelerator "
         "back-end, at every sharing point.", readable(models_table(data.sweep)), None),
        ("Accelerator back-end: energy by phase and level", text, None,
         "accel_breakdown.png"),
        (f"Accelerator mappings at {data.accel['mappings_at_pct']:.1f} % shared",
         "Per layer-phase GEMM C[m,n] = A[m,k] B[k,n] (count = groups): the chosen dataflow, "
         "SRAM tile and loop order, cycles with DRAM stalls, PE utilization and accesses "
         "(elements, SCALE-Sim's names: A = IFMAP, B = Filter, C = OFMAP).",
         readable(_mapping_view(data.accel["mappings"])), None),
    ]


def _accuracy_view(acc: pd.DataFrame) -> pd.DataFrame:
    """The accuracy-beside-the-paper table for reading: accuracies with 2 decimals (as the
    paper prints them), differences signed, blank where a side has no number."""
    def num(v: float, fmt: str) -> str:
        return "" if pd.isna(v) else format(v, fmt)

    out = pd.DataFrame({header(c): acc[c] for c in ("paper_classes", "ours", "our_classes")})
    out["metric"] = acc["metric"].map({"top1_pct": "top-1", "top5_pct": "top-5"})
    for c in [c for c in acc.columns if c.endswith(("_pct", "_pts"))]:
        fmt = "+.2f" if c.endswith("_pts") else ".2f"
        out[header(c)] = acc[c].map(lambda v, f=fmt: num(v, f))
    return out


def _paper_sections(data: ReportData, beside: paper.Beside) -> list[Section]:
    """This run's accuracy beside the paper's table for the same experiment (or the one line
    saying why there is none) and the paper's hardware claims beside this run's savings."""
    acc = (f"Beside the paper: accuracy (Table {beside.table})" if beside.table
           else "Beside the paper: accuracy")
    out: list[Section] = [(acc, beside.message, None if beside.accuracy is None
                           else _accuracy_view(beside.accuracy), None)]
    if beside.path is not None:
        out.append(("Beside the paper: hardware claims", "The paper's claimed savings for "
                    "approach 3 (" + paper.SOURCE + "; ResNets on CIFAR-100 and ImageNet, IBM "
                    "45 nm at 1 GHz, a MAC-count energy model) next to this run's at its chosen "
                    "point: a different network, data set and cost model, shown for scale. "
                    "Figs. 4a, 4b, 5a and 5b mark them.",
                    paper.beside_the_paper(savings_table(data.sweep),
                                           paper.load_tables(beside.path)), None))
    return out


def _cites(beside: paper.Beside) -> str:
    return (f" Marked: the paper's claims ({paper.SOURCE})." if not beside.claims.empty
            else "")


def sections(data: ReportData) -> list[Section]:
    """(heading, text, table, figure file) in report order."""
    res, c = data.learning, data.costing
    sp = c["static_power_mw"]
    beside = paper.view(res)
    fig2b = ("The new-task branch on its own classes and the updated network on all classes "
             "(the curve the paper's Fig. 2b plots), one line per combination rule.")
    return [
        ("Summary", _lead(data), None, None),
        ("Accuracy of the updated network (paper Tables 1 and 2)",
         "All-class top-1 after the last task; `combiner` names the combination rule "
         f"(the learning config's `{res.config.get('combiner')}`).", readable(data.methods),
         None),
        ("Combination rules", "Every rule on the same trained branches; extra storage and "
         f"compute per inference (energy at the {data.config.format} MAC's dynamic energy). "
         "`max-softmax` is the paper's rule.", readable(data.combination), None),
        ("Savings vs sharing (paper Tables 3 and 5)", "Relative to training the same new-task "
         f"branch without sharing (0 %). Model storage: the grown network after {c['tasks']} "
         "tasks. Total energy: dynamic + static.", readable(savings_table(data.sweep)), None),
        *_accel_sections(data),
        *_paper_sections(data, beside),
        ("Accuracy vs sharing (Fig. 2b)", fig2b, None, "fig2b_accuracy_vs_sharing.png"),
        ("Computation energy vs sharing (Fig. 4a)", _cites(beside).strip(), None,
         "fig4a_energy_vs_sharing.png"),
        ("Training time per iteration (Fig. 4b)", "Modeled: the stated accelerator; measured: "
         "this machine's CPU wall clock." + _cites(beside), None, "fig4b_time_vs_sharing.png"),
        ("Storage (Fig. 5a)", f"Parameters of the grown network after {c['tasks']} tasks. The "
         "training working memory of one iteration is listed separately below. The paper's "
         "claimed saving is drawn as a share of this run's storage without sharing."
         + _cites(beside), None, "fig5a_storage_vs_sharing.png"),
        ("Memory access (Fig. 5b)", _cites(beside).strip(), None,
         "fig5b_memory_access_vs_sharing.png"),
        ("Energy per iteration: dynamic and static", "Static power: logic leakage "
         f"{sig(sp['logic'])} mW, SRAM leakage {sig(sp['sram'])} mW, DRAM background "
         f"{sig(sp['dram'])} mW, over the modeled time.", None, "energy_breakdown.png"),
        ("Per training iteration at each sharing point", "", readable(_sweep_view(data.sweep)),
         None),
        ("Storage and working memory", "Model storage (parameters) with and without sharing; "
         "weights, optimizer state, activations and gradients held while training one "
         "iteration of the new branch.", readable(_storage_view(data.sweep)), None),
        ("Memory traffic", "Bytes per iteration by level and movement: `access` = the "
         "datapath's own reads and writes, `fill` = DRAM to SRAM before a read of data not "
         "resident on chip (and the input batch), `spill` = SRAM to DRAM after a write.",
         readable(_traffic_view(data.memory, data.sweep)), None),
        ("Op costs used", f"From `python -m hwmodel.ops`: zero-delay (`energy_logic/seq`) and "
         "glitch-aware timed (`energy_timed_logic/seq`, yosys path) per-op energies; the totals "
         f"use **{c['energy_figure']}**. Timing: static timing of the Yosys netlist.",
         readable(_op_view(data.op_costs)), None),
        ("Operating points", "Logic, SRAM and DRAM as modeled; where they differ the row says "
         "so.", readable(data.operating_points), None),
        ("SRAM used", "From `hwmodel.sram` (CACTI-style analytical model).",
         readable(_cols(data.sram, ["buffer", "capacity_bytes", "word_bits", "read_energy_pj",
                                    "write_energy_pj", "access_time_ns", "leakage_mw",
                                    "temp_k"])), None),
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


_CSS = ("body{font-family:sans-serif;max-width:1240px;margin:1.5em auto;padding:0 8px}"
        "table{border-collapse:collapse;font-size:12px;max-width:100%}"
        "td,th{border:1px solid #ccc;padding:2px 5px;text-align:right}"
        "th{max-width:8em;white-space:normal;word-wrap:break-word;vertical-align:bottom}"
        "pre{background:#f6f6f6;padding:8px;overflow:auto;white-space:pre-wrap}"
        "img{max-width:100%}")
# Lets a headless browser (the report test) read how many images decoded and whether any table
# is wider than the window.
_SCRIPT = ("<script>window.addEventListener('load',function(){var im=document.images,ok=0;"
           "for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)ok++;}"
           "var w=0,t=document.getElementsByTagName('table');for(var j=0;j<t.length;j++){"
           "w=Math.max(w,Math.ceil(t[j].getBoundingClientRect().right));}"
           "var b=document.body;b.setAttribute('data-images-loaded',ok+'/'+im.length);"
           "b.setAttribute('data-table-right',w);b.setAttribute('data-window-width',"
           "window.innerWidth);b.setAttribute('data-scroll-width',"
           "document.documentElement.scrollWidth);});</script>")


def render_html(data: ReportData, folder: Path) -> str:
    name = html.escape(data.config.name)
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>pns-hwcost report: {name}</title><style>{_CSS}</style></head><body>",
             f"<h1>pns-hwcost report: {name}</h1>",
             f"<p>{html.escape(data.config.description)}</p>"]
    for head, text, table, fig in sections(data):
        parts.append(f"<h2>{html.escape(head)}</h2>")
        if text.startswith("```json"):
            body = text.split("```json\n", 1)[1].split("\n```", 1)
            parts.append(f"<pre>{html.escape(body[0])}</pre><p>{html.escape(body[1])}</p>")
        elif text:
            parts.append(f"<p>{html.escape(text).replace('**', '')}</p>")
        if table is not None:
            parts.append(table.to_html(index=False, escape=True))
        if fig:
            b64 = base64.b64encode((folder / fig).read_bytes()).decode()
            parts.append(f"<img alt='{html.escape(head)}' src='data:image/png;base64,{b64}'>")
    parts += [_SCRIPT, "</body></html>"]
    return "\n".join(parts)


def summary(data: ReportData) -> dict:
    """The numbers of the report (raw units in the keys)."""
    res = data.learning
    return {
        "config": data.config.name,
        "learning": {"name": res.name, "tasks": res.tasks,
                     "chosen_sharing_point_pct": res.chosen_sharing_point_pct,
                     "methods": {m.method: {"top1_pct": m.top1_pct, "combiner": m.combiner}
                                 for m in res.methods},
                     "combination": json.loads(data.combination.to_json(orient="records"))},
        "costing": data.costing,
        "operating_points": json.loads(data.operating_points.to_json(orient="records")),
        "sweep": json.loads(data.sweep.to_json(orient="records")),
        "savings": json.loads(savings_table(data.sweep).to_json(orient="records")),
        "provenance": data.provenance,
        "accelerator": data.accel.get("summary", {}),
        "timings_s": data.timings_s,
        "paper": _paper_summary(paper.view(res)),
    }


def _paper_summary(beside: paper.Beside) -> dict:
    """The paper comparison of summary.json: source, the CSV read, the matching table."""
    acc = beside.accuracy
    return {"source": paper.SOURCE, "csv": str(beside.path) if beside.path else None,
            "message": beside.message, "table": beside.table,
            "accuracy": json.loads(acc.to_json(orient="records")) if acc is not None else []}


def _paper_tables(data: ReportData, beside: paper.Beside) -> dict[str, pd.DataFrame]:
    """paper_tables.csv (accuracy beside the paper's table) and paper_claims.csv (hardware
    claims beside this run's savings), where the paper's CSV was found."""
    out = {}
    if beside.accuracy is not None:
        out["paper_tables.csv"] = beside.accuracy
    if beside.path is not None:
        out["paper_claims.csv"] = paper.beside_the_paper(savings_table(data.sweep),
                                                         paper.load_tables(beside.path))
    return out


def write_report(data: ReportData, out_dir: Path) -> Path:
    """Write the whole report folder atomically; returns ``out_dir``."""
    out_dir = Path(out_dir)
    beside = paper.view(data.learning)
    overlay = figures.Overlay(beside.claims, updated_vs_sharing(data.learning), paper.SOURCE)
    with atomic_dir(out_dir) as tmp:
        figures.write_all(data.sweep, tmp, data.accel.get("breakdown"), overlay)
        tables = {"sweep.csv": data.sweep, "methods.csv": data.methods,
                  "combination.csv": data.combination, "savings.csv": savings_table(data.sweep),
                  "op_costs.csv": data.op_costs, "sram.csv": data.sram,
                  "memory_access.csv": data.memory,
                  "operating_points.csv": data.operating_points}
        if data.accel:
            tables.update({"models.csv": models_table(data.sweep),
                           "accel_breakdown.csv": data.accel["breakdown"],
                           "accel_mappings.csv": data.accel["mappings"]})
        tables.update(_paper_tables(data, beside))
        for name, df in tables.items():
            df.to_csv(tmp / name, index=False)
        (tmp / "summary.json").write_text(json.dumps(summary(data), indent=1, default=str))
        (tmp / "report.md").write_text(render_markdown(data))
        (tmp / "report.html").write_text(render_html(data, tmp))
    return out_dir
