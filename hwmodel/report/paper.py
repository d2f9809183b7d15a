"""The paper's claimed savings, as published, for the report to show beside its own.

Sarwar, Ankit, Roy, "Incremental Learning in Deep Convolutional Neural Networks Using Partial
Network Sharing", IEEE Access 7, 2019, doi 10.1109/ACCESS.2019.2963056: the hardware results for
approach 3 (ResNet-101 on CIFAR-100, ResNet-34 on ImageNet), IBM 45 nm at 1 GHz with a MAC-count
energy model and CACTI 6.0 SRAM. Quoted facts, not results of this toolkit.
"""

from __future__ import annotations

import pandas as pd

SOURCE = "Sarwar, Ankit, Roy, IEEE Access 7, 2019 (doi 10.1109/ACCESS.2019.2963056)"

#: (setting, quantity, claimed value as published, the column of our savings table it matches,
#: how ours is expressed: "x" = times less than without sharing, "pct" = % saved)
CLAIMS: tuple[tuple[str, str, str, str, str], ...] = (
    ("ResNet-101, CIFAR-100, 80 % sharing", "computation energy", "1.89×",
     "compute_energy_saving_pct", "x"),
    ("ResNet-101, CIFAR-100, every sharing point", "time per iteration", "2.3-2.6×",
     "modeled_time_saving_pct", "x"),
    ("ResNet-101, CIFAR-100, every sharing point", "storage", "66-99 %",
     "model_storage_saving_pct", "pct"),
    ("ResNet-101, CIFAR-100, every sharing point", "memory access", "32-49 %",
     "memory_access_saving_pct", "pct"),
    ("ResNet-34, ImageNet, 38 % sharing", "computation energy", "1.7×",
     "compute_energy_saving_pct", "x"),
    ("ResNet-34, ImageNet, 38 % sharing", "time per iteration", "55 %",
     "modeled_time_saving_pct", "pct"),
    ("ResNet-34, ImageNet, 38 % sharing", "memory access", "19 %",
     "memory_access_saving_pct", "pct"),
)


def beside_the_paper(savings: pd.DataFrame) -> pd.DataFrame:
    """The paper's claims with this run's figure for the same quantity at its chosen sharing
    point (or the most shared point when none is chosen), in the paper's form."""
    chosen = savings[savings["chosen"]]
    row = chosen.iloc[0] if not chosen.empty else savings.iloc[-1]
    out = []
    for setting, quantity, claim, col, form in CLAIMS:
        pct = float(row[col])
        ours = f"{1.0 / (1.0 - pct / 100.0):.2f}×" if form == "x" else f"{pct:.1f} %"
        out.append({"paper: setting": setting, "quantity": quantity, "paper claims": claim,
                    f"this run at {row['sharing_point_pct']:.1f} % shared": ours})
    return pd.DataFrame(out)
