"""Cross-check against SCALE-Sim v3 (PyPI ``scalesim==3.0.0``), a reference tool run in its own
venv (``scripts/scalesim_env.sh``; it needs numpy < 2), like CACTI for the SRAM model.

The same GEMMs (SCALE-Sim's GEMM topology form, so both tools see identical M, N, K) run on
both with SCALE-Sim's schedule (:func:`hwmodel.accel.mapping.scalesim_mapping`), buffers large
enough to hold every operand and a bandwidth high enough that neither tool stalls: that is
where the two model the same thing. Differences by design, kept visible:

- SCALE-Sim reports the index of the last cycle (one less than a count), and leaves the first
  fill from DRAM and the last write-back out of its total, which we count; our ``os`` array
  also drains its last fold (``R`` cycles, :mod:`hwmodel.accel.timing`);
- SCALE-Sim's ``os`` OFMAP write counter adds ``R + C`` per fold to the real writes
  (``systolic_compute_os.py``); :func:`compare` shows the raw ratio and the one without it.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd

from hwmodel.accel import analytical, mapping, topology
from hwmodel.accel.errors import AccelError
from hwmodel.accel.timing import gemm_dims, tail_cycles

REFERENCE = Path(__file__).with_name("scalesim_ref.py")
REPO = Path(__file__).resolve().parents[2]
#: The quantities compared, under SCALE-Sim's names.
QUANTITIES = ("Total Cycles", "SRAM IFMAP Reads", "SRAM Filter Reads", "SRAM OFMAP Writes")


def reference_python() -> Path | None:
    """The SCALE-Sim venv's python (``$SCALESIM_PYTHON`` or ``.venv-scalesim``), if it exists."""
    env = os.environ.get("SCALESIM_PYTHON")
    p = Path(env) if env else REPO / ".venv-scalesim" / "bin" / "python"
    return p if p.is_file() else None


def resnet18_layers(batch: int = 1) -> list[topology.Layer]:
    """Every distinct forward GEMM of a CIFAR ResNet-18 training iteration (batch ``batch``)
    and the input- and weight-gradient GEMMs of its distinct convolutions, from our trace."""
    import torch

    from hwmodel.accel.lower import lower
    from learning.models import resnet
    from workload import trace_training

    torch.manual_seed(0)
    tr = trace_training(resnet("resnet18", 10), (3, 32, 32), batch, optimizer="sgd").df
    gemms, _ = lower(tr)
    seen, out = set(), []
    for phase, limit in (("forward", 99), ("input_grad", 5), ("weight_grad", 5)):
        n = 0
        for g in gemms:
            if g.phase == phase and (g.m, g.n, g.k) not in seen and n < limit:
                seen.add((g.m, g.n, g.k))
                out.append(topology.Layer(f"{g.layer}:{phase}", g.m, g.n, g.k))
                n += 1
    return out


def _write_gemm_csv(layers: list[topology.Layer], path: Path) -> None:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Layer", "M", "N", "K", ""])
        for x in layers:
            w.writerow([x.name.replace(",", ";"), x.m, x.n, x.k, ""])


def run_reference(layers: list[topology.Layer], rows: int, cols: int, dataflow: str,
                  sram_kb: int, bandwidth: int, python: Path | None = None,
                  progress: bool = False) -> list[dict]:
    """SCALE-Sim's per-layer numbers (its names, plus ``wall_s``); ``progress``: its
    per-layer lines on stderr."""
    py = python or reference_python()
    if py is None:
        raise AccelError("no SCALE-Sim venv; create it with scripts/scalesim_env.sh")
    with tempfile.TemporaryDirectory(prefix="xcheck_") as tmp:
        topo, out = Path(tmp) / "t.csv", Path(tmp) / "ref.json"
        _write_gemm_csv(layers, topo)
        cmd = [str(py), str(REFERENCE), "--gemm", "--topology", str(topo), "--rows", str(rows),
               "--cols", str(cols), "--dataflow", dataflow, "--ifmap-kb", str(sram_kb),
               "--filter-kb", str(sram_kb), "--ofmap-kb", str(sram_kb), "--bandwidth",
               str(bandwidth), "--json", str(out)]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True,
                              stderr=None if progress else subprocess.PIPE)
        if done.returncode:
            tail = ((done.stderr or "").strip().splitlines() or ["see above"])[-1]
            raise AccelError(f"SCALE-Sim failed ({tail}); check {py} with "
                             "scripts/scalesim_env.sh")
        return json.loads(out.read_text())["layers"]


def run_ours(layers: list[topology.Layer], rows: int, cols: int, dataflow: str, sram_kb: int,
             bandwidth: int) -> list[dict]:
    """Our closed-form numbers for the same layers and machine (SCALE-Sim's schedule)."""
    a = topology.scalesim_arch(rows, cols, dataflow, (sram_kb,) * 3, bandwidth)
    bw = analytical.as_bandwidth(a.dram_words_per_cycle(a.clock_mhz_max))
    out = []
    for x in layers:
        t0 = time.perf_counter()
        mp = mapping.scalesim_mapping(dataflow, x.m, x.n, x.k, rows, cols)
        r = analytical.simulate(mp, x.m, x.n, x.k, rows, cols, bw)
        sr, sc, _ = gemm_dims(dataflow, x.m, x.n, x.k)
        out.append({**r.scalesim(), "Compute Cycles": r.compute_cycles,
                    "folds": -(-sr // rows) * -(-sc // cols),
                    "wall_s": time.perf_counter() - t0})
    return out


def compare(layers: list[topology.Layer], arrays: tuple[int, ...] = (16, 32),
            dataflows: tuple[str, ...] = ("ws", "os", "is"), sram_kb: int = 16384,
            bandwidth: int = 4096, progress: bool = False) -> pd.DataFrame:
    """One row per layer x array x dataflow: both tools' :data:`QUANTITIES`, their ratios
    (ours / SCALE-Sim), both wall times."""
    rows = []
    for size in arrays:
        for df in dataflows:
            if progress:
                print(f"xcheck: SCALE-Sim {size}x{size} {df}, {len(layers)} layers", flush=True)
            ref = run_reference(layers, size, size, df, sram_kb, bandwidth, progress=progress)
            ours = run_ours(layers, size, size, df, sram_kb, bandwidth)
            for x, r, o in zip(layers, ref, ours, strict=True):
                row = {"layer": x.name, "M": x.m, "N": x.n, "K": x.k, "array": size,
                       "dataflow": df, "ref_stall_cycles": r["Stall Cycles"],
                       "ours_stall_cycles": o["Stall Cycles"],
                       "ref_wall_s": r["wall_s"], "ours_wall_s": o["wall_s"]}
                for q in QUANTITIES:
                    row[f"ref {q}"], row[f"ours {q}"] = r[q], o[q]
                    row[f"ratio {q}"] = o[q] / r[q] if r[q] else float("nan")
                # by design: SCALE-Sim's last-cycle index, our first fill and last write-back
                # (the stalls at this bandwidth), our os drain of the last fold
                same = (o["Total Cycles"] - o["Stall Cycles"] - 1
                        - tail_cycles(df, size, size))
                row["ratio Total Cycles (less the differences by design)"] = (
                    same / r["Total Cycles"])
                quirk = o["folds"] * 2 * size if df == "os" else 0
                row["ratio SRAM OFMAP Writes (less SCALE-Sim's R+C per os fold)"] = (
                    o["SRAM OFMAP Writes"] / (r["SRAM OFMAP Writes"] - quirk))
                rows.append(row)
    return pd.DataFrame(rows)


def agreement(df: pd.DataFrame) -> pd.DataFrame:
    """Per array x dataflow: the worst ratio of each quantity and the speed-up."""
    cols = [c for c in df.columns if c.startswith("ratio ")]
    g = df.groupby(["array", "dataflow"], sort=False)
    out = g[cols].agg(lambda s: s.iloc[(s - 1).abs().argmax()]).reset_index()
    out["layers"] = g.size().to_numpy()
    out["SCALE-Sim wall s"] = g["ref_wall_s"].sum().to_numpy()
    out["ours wall s"] = g["ours_wall_s"].sum().to_numpy()
    return out
