"""The report's figures (matplotlib, PNG): the paper's Figs. 2b, 4a, 4b, 5a and 5b, and an
energy breakdown (dynamic and static parts). Every function takes the sweep DataFrame of
:mod:`hwmodel.report.pipeline` and writes one PNG; x is the share of the network's parameters
that is shared (%)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

DPI = 110


def _axes(title: str, ylabel: str):
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("parameters shared (%)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return fig, ax


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
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


def accuracy_vs_sharing(sweep: pd.DataFrame, path: Path) -> Path:
    """Fig. 2b: new-task test accuracy vs sharing."""
    fig, ax = _axes("New-task accuracy vs sharing", "test accuracy (%)")
    pts = sweep.dropna(subset=["test_acc_pct"])
    ax.plot(pts["sharing_point_pct"], pts["test_acc_pct"], "o-", label="new-task branch")
    _mark_chosen(ax, pts, "test_acc_pct")
    ax.legend(fontsize=8)
    return _save(fig, path)


def energy_and_accuracy(sweep: pd.DataFrame, path: Path) -> Path:
    """Fig. 4a: normalized computation energy per iteration (bars) and accuracy (line)."""
    fig, ax = _axes("Computation energy per training iteration vs sharing",
                    "energy (normalized to no sharing)")
    x = sweep["sharing_point_pct"]
    ax.bar(x, sweep["compute_energy_norm"], width=_bar_width(x), alpha=0.6,
           label="computation energy")
    ax.set_ylim(0, 1.1)
    ax2 = ax.twinx()
    pts = sweep.dropna(subset=["test_acc_pct"])
    ax2.plot(pts["sharing_point_pct"], pts["test_acc_pct"], "o-", color="darkorange",
             label="accuracy")
    ax2.set_ylabel("test accuracy (%)")
    fig.legend(loc="lower left", fontsize=8, bbox_to_anchor=(0.12, 0.18))
    return _save(fig, path)


def time_vs_sharing(sweep: pd.DataFrame, path: Path) -> Path:
    """Fig. 4b: normalized time per training iteration, modeled and measured (CPU)."""
    fig, ax = _axes("Training time per iteration vs sharing", "time (normalized to no sharing)")
    ax.plot(sweep["sharing_point_pct"], sweep["modeled_time_norm"], "o-",
            label="modeled (accelerator)")
    ax.plot(sweep["sharing_point_pct"], sweep["measured_iteration_norm"], "s--",
            label="measured (CPU wall clock)")
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=8)
    return _save(fig, path)


def storage_vs_sharing(sweep: pd.DataFrame, path: Path) -> Path:
    """Fig. 5a: parameters of the grown network after T tasks, with and without sharing."""
    tasks = int(sweep["tasks"].iloc[0])
    fig, ax = _axes(f"Model storage after {tasks} tasks vs sharing", "parameters (kB)")
    ax.plot(sweep["sharing_point_pct"], sweep["model_storage_with_sharing_bytes"] / 1e3, "o-",
            label="with sharing (shared part once + one branch per task)")
    ax.plot(sweep["sharing_point_pct"], sweep["model_storage_without_sharing_bytes"] / 1e3,
            "s--", label=f"without sharing ({tasks} whole networks)")
    ax.set_ylim(0, None)
    ax.legend(fontsize=8)
    return _save(fig, path)


def memory_access_vs_sharing(sweep: pd.DataFrame, path: Path) -> Path:
    """Fig. 5b: memory traffic (bytes, every level) and its energy per iteration, normalized."""
    fig, ax = _axes("Memory access per training iteration vs sharing",
                    "normalized to no sharing")
    ax.plot(sweep["sharing_point_pct"], sweep["memory_access_norm"], "o-",
            label="bytes moved (SRAM + DRAM)")
    ax.plot(sweep["sharing_point_pct"], sweep["dram_norm"], "^:", label="DRAM bytes")
    ax.plot(sweep["sharing_point_pct"], sweep["memory_energy_norm"], "s--",
            label="memory-access energy")
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=8)
    return _save(fig, path)


ENERGY_PARTS = (("compute_energy_pj", "computation (dynamic)"),
                ("memory_energy_pj", "memory access (dynamic)"),
                ("static_logic_pj", "logic leakage (static)"),
                ("static_sram_pj", "SRAM leakage (static)"),
                ("static_dram_pj", "DRAM background (static)"))


def energy_breakdown(sweep: pd.DataFrame, path: Path) -> Path:
    """Total energy per iteration, stacked: dynamic computation and memory, static logic,
    SRAM and DRAM."""
    fig, ax = _axes("Total energy per training iteration: dynamic + static", "energy (µJ)")
    x = sweep["sharing_point_pct"]
    bottom = np.zeros(len(sweep))
    for col, label in ENERGY_PARTS:
        v = sweep[col].to_numpy() / 1e6
        ax.bar(x, v, width=_bar_width(x), bottom=bottom, label=label)
        bottom += v
    ax.legend(fontsize=7)
    return _save(fig, path)


FIGURES = {
    "fig2b_accuracy_vs_sharing.png": accuracy_vs_sharing,
    "fig4a_energy_vs_sharing.png": energy_and_accuracy,
    "fig4b_time_vs_sharing.png": time_vs_sharing,
    "fig5a_storage_vs_sharing.png": storage_vs_sharing,
    "fig5b_memory_access_vs_sharing.png": memory_access_vs_sharing,
    "energy_breakdown.png": energy_breakdown,
}


def write_all(sweep: pd.DataFrame, folder: Path) -> list[Path]:
    """Write every figure into ``folder``; returns the paths."""
    return [fn(sweep, folder / name) for name, fn in FIGURES.items()]
