"""Compare the analytical model with CACTI 7 on a grid (used by the tests and the CLI)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hwmodel.sram.api import sweep
from hwmodel.sram.cacti import run_cacti

# The README grid: 4 KiB .. 4 MiB, 64- and 256-bit words, 45 nm HP, 360 K, 1 bank, 1 RW port.
GRID_CAPACITIES = tuple(int(2**k) for k in range(12, 23))
GRID_WORDS = (64, 256)
QUANTITIES = ("read_energy_pj", "access_time_ns", "leakage_mw", "area_mm2", "write_energy_pj",
              "cycle_time_ns")


def compare_grid(capacities=GRID_CAPACITIES, words=GRID_WORDS, *, node: int = 45,
                 flavour: str = "hp", temp_k: float = 360.0, progress: bool = False
                 ) -> pd.DataFrame:
    """One row per point: model value, CACTI value and ratio model/CACTI per quantity."""
    cap, wb = np.meshgrid(np.asarray(capacities), np.asarray(words), indexing="ij")
    cap, wb = cap.ravel(), wb.ravel()
    model = sweep(cap, wb, node=node, flavour=flavour, temp_k=temp_k)
    it = range(len(cap))
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="CACTI", unit="pt")
    rows = []
    for i in it:
        c = run_cacti(int(cap[i]), int(wb[i]), node=node, flavour=flavour, temp_k=temp_k)
        row = {"capacity_bytes": int(cap[i]), "word_bits": int(wb[i])}
        for q in QUANTITIES:
            row[f"model_{q}"] = float(model[q].iloc[i])
            row[f"cacti_{q}"] = c[q]
            row[f"ratio_{q}"] = float(model[q].iloc[i]) / c[q]
        rows.append(row)
    return pd.DataFrame(rows)


def agreement_table(cmp: pd.DataFrame) -> pd.DataFrame:
    """Per quantity: min and max of model/CACTI over the grid, and the Spearman rank
    correlation of model vs CACTI along capacity (same scaling trend = 1.0)."""
    out = []
    for q in QUANTITIES:
        r = cmp[f"ratio_{q}"]
        rho = []
        for _, g in cmp.groupby("word_bits"):
            a = g[f"model_{q}"].rank().to_numpy()
            b = g[f"cacti_{q}"].rank().to_numpy()
            rho.append(float(np.corrcoef(a, b)[0, 1]))
        out.append({"quantity": q, "min_ratio": float(r.min()), "max_ratio": float(r.max()),
                    "within_1p5x": bool(((r >= 1 / 1.5) & (r <= 1.5)).all()),
                    "trend_rank_corr": min(rho)})
    return pd.DataFrame(out)
