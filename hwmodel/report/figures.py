"""The report's figures (matplotlib, PNG): the paper's Figs. 2b, 4a, 4b, 5a and 5b, and an
energy breakdown (dynamic and static parts). Every function takes the sweep DataFrame of
:mod:`hwmodel.report.pipeline` and writes one PNG; x is the share of the network's parameters
that is shared (%). Those that take an :class:`Overlay` also draw the paper's claims (Sarwar,
Ankit, Roy, IEEE Access 2019; :mod:`hwmodel.report.paper`) and, in Fig. 2b, the updated
network's all-class accuracy."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

DPI = 110
PAPER_COLORS = ("tab:green", "tab:purple", "tab:brown")


@dataclass
class Overlay:
    """What the figures draw beside this run's sweep: ``claims`` (the paper's hardware claims,
    :func:`hwmodel.report.paper.claims`: quantity, label, claim, x_lo_pct/x_hi_pct,
    norm_lo/norm_hi), ``updated`` (the updated network's all-class accuracy per sweep point,
    :func:`hwmodel.report.assemble.updated_vs_sharing`) and ``source`` (the paper's citation)."""

    claims: pd.DataFrame | None = None
    updated: pd.DataFrame | None = None
    source: str = ""


def _axes(title: str, ylabel: str):
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("parameters shared (%)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return fig, ax


def _save(fig, path: Path) -> Path:
    fig.tight_layout(rect=(0, 0.04, 1, 1) if fig.texts else None)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _mark_chosen(ax, sweep: pd.DataFrame, col: str) -> None:
    chosen = sweep[sweep["chosen"]]
    if not chosen.empty:
        ax.scatter(chosen["sharing_point_pct"], chosen[col], s=120, facecolors="none",
                   edgecolors="crimson", linewidths=1.5, label="chosen sharing point", zorder=5)


def _bar_width(x: pd.Series) -> float:
    gaps = x.sort_values().diff().dropna()
    gaps = gaps[gaps > 0]
    return max(1.0, 0.6 * float(gaps.min())) if len(gaps) else 5.0


MODEL_NAMES = {"accel": "accelerator back-end", "mac": "MAC-count model"}


def _models(sweep: pd.DataFrame) -> tuple[str, str | None]:
    """(the figures' cost model, the other one when the sweep has both)."""
    model = str(sweep["cost_model"].iloc[0]) if "cost_model" in sweep else "mac"
    other = "mac" if model == "accel" else "accel"
    return model, (other if f"{other}_compute_energy_norm" in sweep else None)


def _other_line(ax, sweep: pd.DataFrame, col: str, style: str, what: str) -> None:
    """The other cost model's normalized ``col`` as a thin line, for comparison."""
    _, other = _models(sweep)
    if other:
        ax.plot(sweep["sharing_point_pct"], sweep[f"{other}_{col}"], style, color="gray",
                lw=1, label=f"{what} ({MODEL_NAMES[other]})")


def _mark_paper(ax, overlay: Overlay | None, quantity: str, scale: float = 1.0) -> int:
    """The paper's claims on ``quantity`` (a :data:`hwmodel.report.paper.QUANTITIES` key) in
    the figure's units (``scale`` x our cost with sharing / without): a star at a claim's one
    sharing point, a band over its range of sharing points (or over the whole axis when that
    range is unknown), and the citation under the figure. Returns the marks drawn."""
    if overlay is None or overlay.claims is None or overlay.claims.empty:
        return 0
    rows = overlay.claims[overlay.claims["quantity"] == quantity]
    for i, r in enumerate(rows.itertuples()):
        color = PAPER_COLORS[i % len(PAPER_COLORS)]
        lo, hi = r.norm_lo * scale, r.norm_hi * scale
        label = f"{r.label}: {r.claim} less"
        if math.isnan(r.x_lo_pct):
            ax.axhspan(lo, hi, color=color, alpha=0.15, label=label)
        elif r.x_lo_pct == r.x_hi_pct:
            ax.errorbar([r.x_lo_pct], [(lo + hi) / 2], yerr=[[(hi - lo) / 2], [(hi - lo) / 2]],
                        fmt="*", ms=13, color=color, label=label, zorder=6)
        else:
            ax.fill_between([r.x_lo_pct, r.x_hi_pct], lo, hi, color=color, alpha=0.2,
                            hatch="//", label=label)
    if len(rows):
        ax.figure.text(0.01, 0.01, f"paper: {overlay.source}", fontsize=6, color="dimgray")
    return len(rows)


RULE_STYLES = {"max-softmax": ("s--", "the paper's max-softmax rule")}


def accuracy_vs_sharing(sweep: pd.DataFrame, path: Path, overlay: Overlay | None = None) -> Path:
    """Fig. 2b: the new-task branch's test accuracy and, when the run recorded it, the updated
    network's all-class test accuracy (what the paper plots) vs sharing, one line per
    combination rule; a note on the figure when it was not recorded."""
    fig, ax = _axes("Accuracy vs sharing", "test accuracy (%)")
    pts = sweep.dropna(subset=["test_acc_pct"])
    ax.plot(pts["sharing_point_pct"], pts["test_acc_pct"], "o-",
            label="new-task branch (its own classes)")
    _mark_chosen(ax, pts, "test_acc_pct")
    upd = overlay.updated if overlay is not None else None
    if upd is None or upd.empty:
        ax.text(0.01, 0.02, "updated network's all-class accuracy per sharing point: not "
                "recorded by this run", transform=ax.transAxes, fontsize=7, color="dimgray")
    else:
        for rule, g in upd.groupby("rule", sort=False):
            style, what = RULE_STYLES.get(str(rule), ("^-", f"the {rule} rule"))
            g = g.sort_values("sharing_point_pct")
            ax.plot(g["sharing_point_pct"], g["updated_acc_pct"], style,
                    label=f"updated network, all classes ({what})")
    ax.legend(fontsize=7)
    return _save(fig, path)


def energy_and_accuracy(sweep: pd.DataFrame, path: Path, overlay: Overlay | None = None) -> Path:
    """Fig. 4a: normalized computation energy per iteration (bars) and accuracy (line), with
    the paper's claim marked."""
    fig, ax = _axes("Computation energy per training iteration vs sharing",
                    "energy (normalized to no sharing)")
    x = sweep["sharing_point_pct"]
    model, _ = _models(sweep)
    ax.bar(x, sweep["compute_energy_norm"], width=_bar_width(x), alpha=0.6,
           label=f"computation energy ({MODEL_NAMES[model]})")
    _other_line(ax, sweep, "compute_energy_norm", "x:", "computation energy")
    _mark_paper(ax, overlay, "compute_energy_saving")
    ax.set_ylim(0, 1.1)
    ax2 = ax.twinx()
    pts = sweep.dropna(subset=["test_acc_pct"])
    ax2.plot(pts["sharing_point_pct"], pts["test_acc_pct"], "o-", color="darkorange",
             label="accuracy")
    ax2.set_ylabel("test accuracy (%)")
    fig.legend(loc="lower left", fontsize=8, bbox_to_anchor=(0.12, 0.18))
    return _save(fig, path)


def time_vs_sharing(sweep: pd.DataFrame, path: Path, overlay: Overlay | None = None) -> Path:
    """Fig. 4b: normalized time per training iteration, modeled and measured (CPU), with the
    paper's claims marked."""
    fig, ax = _axes("Training time per iteration vs sharing", "time (normalized to no sharing)")
    model, _ = _models(sweep)
    ax.plot(sweep["sharing_point_pct"], sweep["modeled_time_norm"], "o-",
            label=f"modeled ({MODEL_NAMES[model]})")
    _other_line(ax, sweep, "modeled_time_norm", "x:", "modeled")
    ax.plot(sweep["sharing_point_pct"], sweep["measured_iteration_norm"], "s--",
            label="measured (CPU wall clock)")
    _mark_paper(ax, overlay, "time_per_iteration_saving")
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=8)
    return _save(fig, path)


def storage_vs_sharing(sweep: pd.DataFrame, path: Path, overlay: Overlay | None = None) -> Path:
    """Fig. 5a: parameters of the grown network after T tasks, with and without sharing; the
    paper's claimed saving marked as a share of this run's storage without sharing."""
    tasks = int(sweep["tasks"].iloc[0])
    fig, ax = _axes(f"Model storage after {tasks} tasks vs sharing", "parameters (kB)")
    ax.plot(sweep["sharing_point_pct"], sweep["model_storage_with_sharing_bytes"] / 1e3, "o-",
            label="with sharing (shared part once + one branch per task)")
    ax.plot(sweep["sharing_point_pct"], sweep["model_storage_without_sharing_bytes"] / 1e3,
            "s--", label=f"without sharing ({tasks} whole networks)")
    _mark_paper(ax, overlay, "storage_saving",
                float(sweep["model_storage_without_sharing_bytes"].max()) / 1e3)
    ax.set_ylim(0, None)
    ax.legend(fontsize=8)
    return _save(fig, path)


def memory_access_vs_sharing(sweep: pd.DataFrame, path: Path,
                             overlay: Overlay | None = None) -> Path:
    """Fig. 5b: memory traffic (bytes, every level) and its energy per iteration, normalized,
    with the paper's claims marked."""
    model, _ = _models(sweep)
    fig, ax = _axes(f"Memory access per iteration vs sharing ({MODEL_NAMES[model]})",
                    "normalized to no sharing")
    ax.plot(sweep["sharing_point_pct"], sweep["memory_access_norm"], "o-",
            label="bytes moved (SRAM + DRAM)")
    ax.plot(sweep["sharing_point_pct"], sweep["dram_norm"], "^:", label="DRAM bytes")
    ax.plot(sweep["sharing_point_pct"], sweep["memory_energy_norm"], "s--",
            label="memory-access energy")
    _other_line(ax, sweep, "memory_access_norm", "x:", "bytes moved")
    _mark_paper(ax, overlay, "memory_access_saving")
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=8)
    return _save(fig, path)


ENERGY_PARTS = (("compute_energy_pj", "computation (dynamic)"),
                ("memory_energy_pj", "memory access (dynamic)"),
                ("static_logic_pj", "logic leakage (static)"),
                ("static_sram_pj", "SRAM leakage (static)"),
                ("static_dram_pj", "DRAM background (static)"))


def energy_breakdown(sweep: pd.DataFrame, path: Path) -> Path:
    """Total energy per iteration of the MAC-count model, stacked: dynamic computation and
    memory, static logic, SRAM and DRAM."""
    fig, ax = _axes("MAC-count model: energy per iteration, dynamic + static", "energy (µJ)")
    x = sweep["sharing_point_pct"]
    bottom = np.zeros(len(sweep))
    for col, label in ENERGY_PARTS:
        col = f"mac_{col}" if f"mac_{col}" in sweep else col
        v = sweep[col].to_numpy() / 1e6
        ax.bar(x, v, width=_bar_width(x), bottom=bottom, label=label)
        bottom += v
    ax.legend(fontsize=7)
    return _save(fig, path)


PHASE_NAMES = {"forward": "forward", "input_grad": "input gradient",
               "weight_grad": "weight gradient", "update": "optimizer update"}
LEVEL_NAMES = {"pe": "PE datapath", "rf": "PE registers (RF)", "sram": "SRAM buffers",
               "dram": "DRAM", "vector": "vector unit", "static": "static (leakage, DRAM "
               "background)"}


def accel_breakdown(breakdown: pd.DataFrame, path: Path) -> Path:
    """The accelerator back-end's energy per iteration at every sharing point, stacked by
    training phase (left) and by level of the hardware (right)."""
    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.0), sharey=True)
    pts = breakdown.groupby("sharing_point_pct")
    x = np.array(sorted(pts.groups))
    w = _bar_width(pd.Series(x))
    for ax, key, names, title in ((axes[0], "phase", PHASE_NAMES, "by training phase"),
                                  (axes[1], "level", LEVEL_NAMES, "by hardware level")):
        piv = breakdown.pivot_table(index="sharing_point_pct", columns=key, values="energy_pj",
                                    aggfunc="sum").reindex(x)
        bottom = np.zeros(len(x))
        for part, label in names.items():
            v = piv[part].to_numpy() / 1e6 if part in piv else np.zeros(len(x))
            ax.bar(x, v, width=w, bottom=bottom, label=label)
            bottom += v
        ax.set_title(f"Accelerator energy per iteration, {title}", fontsize=10)
        ax.set_xlabel("parameters shared (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("energy (µJ)")
    return _save(fig, path)


FIGURES = {
    "fig2b_accuracy_vs_sharing.png": accuracy_vs_sharing,
    "fig4a_energy_vs_sharing.png": energy_and_accuracy,
    "fig4b_time_vs_sharing.png": time_vs_sharing,
    "fig5a_storage_vs_sharing.png": storage_vs_sharing,
    "fig5b_memory_access_vs_sharing.png": memory_access_vs_sharing,
    "energy_breakdown.png": energy_breakdown,
}


def write_all(sweep: pd.DataFrame, folder: Path, breakdown: pd.DataFrame | None = None,
              overlay: Overlay | None = None) -> list[Path]:
    """Write every figure into ``folder`` (the accelerator breakdown when ``breakdown`` is
    given; ``overlay`` to the figures that take one); returns the paths."""
    out = [fn(sweep, folder / name, overlay=overlay)
           if "overlay" in inspect.signature(fn).parameters else fn(sweep, folder / name)
           for name, fn in FIGURES.items()]
    if breakdown is not None and len(breakdown):
        out.append(accel_breakdown(breakdown, folder / "accel_breakdown.png"))
    return out
