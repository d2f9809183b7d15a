"""One training iteration on an accelerator: lower the trace, map and simulate every
layer-phase GEMM on the array, run the element-wise and optimizer work on the vector unit,
and cost it all by level and phase.

Time: the array's GEMMs run one after another, each as simulated (stalls included); the
vector work of each phase runs after it at ``lanes`` ops per cycle, or as fast as DRAM
delivers its traffic if that is slower. The vector unit's traffic (element-wise layers,
col2im's input gradient, the optimizer step: the trace's own access columns of that work) goes
through one buffer of the architecture's total SRAM (:func:`hwmodel.memory.access_energy`,
resident share of the whole iteration's working memory). Static energy accrues over each
phase's time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from hwmodel.accel import analytical, cyclesim, lower, mapping
from hwmodel.accel.arch import Architecture
from hwmodel.accel.energy import LEVELS, LevelCosts, gemm_energy, static_pj
from hwmodel.accel.errors import AccelError
from hwmodel.memory import Buffer, Hierarchy, access_energy, resident_fraction
from workload.schema import ACCESS_COLUMNS, bytes_column

MODES = ("analytical", "cycle")
#: Trace access columns of the vector unit's work, per phase; ``all`` rows or only the rows
#: without array work (``vector``); the array's own operands are never here.
VECTOR_COLUMNS = {
    "forward": {"vector": ("ifmap_read_elems", "ofmap_write_elems"),
                "all": ("act_saved_write_elems",)},
    "input_grad": {"vector": ("act_saved_read_elems", "actgrad_read_elems"),
                   "all": ("actgrad_write_elems",)},
    "update": {"all": ("weight_read_update_elems", "weight_write_elems", "wgrad_read_elems",
                       "optstate_read_elems", "optstate_write_elems")},
}


@dataclass(frozen=True)
class AccelCost:
    """One iteration on an accelerator. ``gemms``: one row per layer-phase (mapping, cycles,
    accesses in elements, energy by level in pJ); ``vector``: vector work per phase;
    ``breakdown``: energy (pJ) per phase x level; totals in the named units."""

    arch: str
    objective: str
    mode: str
    gemms: pd.DataFrame
    vector: pd.DataFrame
    breakdown: pd.DataFrame
    cycles: int
    clock_mhz: float
    clock_limit: str
    pe_provenance: str
    vector_lanes: int
    dram_gb_per_s: float

    @property
    def time_s(self) -> float:
        return self.cycles / (self.clock_mhz * 1e6)

    def level_pj(self, level: str) -> float:
        return float(self.breakdown[level].sum())

    @property
    def energy_pj(self) -> float:
        return float(self.breakdown[list(LEVELS)].to_numpy().sum())

    @property
    def compute_energy_pj(self) -> float:
        """PE datapath + PE registers + vector unit (dynamic)."""
        return sum(self.level_pj(x) for x in ("pe", "rf", "vector"))

    @property
    def memory_energy_pj(self) -> float:
        """SRAM + DRAM accesses (dynamic)."""
        return self.level_pj("sram") + self.level_pj("dram")

    @property
    def static_energy_pj(self) -> float:
        return self.level_pj("static")

    @property
    def memory_access_bytes(self) -> float:
        """Every element moved at SRAM and DRAM (array and vector unit), in bytes."""
        return float(self.gemms["access_bytes"].sum() + self.vector["access_bytes"].sum())

    @property
    def dram_bytes(self) -> float:
        return float(self.gemms["dram_bytes"].sum() + self.vector["dram_bytes"].sum())

    @property
    def busy_cycles(self) -> int:
        """Cycles the array computes plus the vector unit's op cycles (no stalls)."""
        g, v = self.gemms, self.vector
        ops = int((v["mults"] + v["adds"]).sum())
        return (int(g["compute_cycles"].sum()) if len(g) else 0) + -(-ops // self.vector_lanes)

    @property
    def utilization_pct(self) -> float:
        g = self.gemms
        return 100.0 * float(g["macs"].sum()) / float(g["pe_cycles"].sum()) if len(g) else 0.0


def _simulate(gm: lower.Gemm, arch: Architecture, lc: LevelCosts, objective: str, mode: str,
              memo: dict) -> mapping.Choice:
    key = (gm.m, gm.n, gm.k, gm.ratios)
    if key not in memo:
        memo[key] = mapping.search(gm.m, gm.n, gm.k, arch, lc, objective, ratios=gm.ratios)
    ch = memo[key]
    if mode == "cycle":
        bw = analytical.as_bandwidth(arch.dram_words_per_cycle(lc.clock_mhz))
        r = cyclesim.simulate(ch.mapping, gm.m, gm.n, gm.k, arch.array.rows, arch.array.cols,
                              bw, ratios=gm.ratios)
        ch = mapping.Choice(ch.mapping, r, ch.candidates)
    if gm.count > 1:
        ch = mapping.Choice(ch.mapping, ch.result.scaled(gm.count), ch.candidates)
    return ch


def _gemm_rows(gemms: list[lower.Gemm], arch: Architecture, lc: LevelCosts, objective: str,
               mode: str, progress: bool) -> pd.DataFrame:
    memo: dict = {}
    rows = []
    it = gemms
    if progress:
        from tqdm import tqdm
        it = tqdm(gemms, desc=f"map+simulate ({arch.name})", unit="gemm", leave=False)
    for gm in it:
        ch = _simulate(gm, arch, lc, objective, mode, memo)
        r = ch.result
        e = gemm_energy(r, lc, ch.mapping.dataflow)
        sram = (r.sram_a_reads + r.sram_b_reads + r.sram_c_reads + r.sram_c_writes
                + r.dram_elems)
        rows.append({"layer": gm.layer, "branch": gm.branch, "phase": gm.phase, "m": gm.m,
                     "n": gm.n, "k": gm.k, "count": gm.count, "dataflow": ch.mapping.dataflow,
                     "mapping": str(ch.mapping), "candidates": ch.candidates, **r.as_dict(),
                     "access_bytes": (sram + r.dram_elems) * arch.elem_bytes,
                     "dram_bytes": r.dram_elems * arch.elem_bytes,
                     **{f"{k}_pj": v for k, v in e.items()}})
    return pd.DataFrame(rows)


def _vector_trace(trace: pd.DataFrame, phase: str) -> pd.DataFrame:
    t = trace.copy()
    keep = VECTOR_COLUMNS.get(phase, {})
    array_rows = (t["fwd_macs"] + t["bwd_input_macs"] + t["bwd_weight_macs"]) > 0
    for col in ACCESS_COLUMNS:
        mask = pd.Series(True, index=t.index)
        if col in keep.get("all", ()):
            mask[:] = False
        elif col in keep.get("vector", ()):
            mask = array_rows
        for c in (col, bytes_column(col)):
            if c in t:
                t.loc[mask, c] = 0
    return t


def _vector_rows(trace: pd.DataFrame, work: list[lower.VectorWork], arch: Architecture,
                 lc: LevelCosts, temp_k: float) -> pd.DataFrame:
    cap = sum(b.capacity_bytes for b in arch.buffers)
    hier = Hierarchy((Buffer("sram", cap, arch.buffers[0].word_bits,
                             ("weight", "activation", "gradient", "optstate")),),
                     dram=arch.dram.kind, temp_k=temp_k)
    resident = resident_fraction(trace, hier)
    bytes_per_cycle = arch.dram.bandwidth_gb_s * 1e9 / (lc.clock_mhz * 1e6)
    rows = []
    for phase in lower.PHASES:
        ops = [w for w in work if w.phase == phase]
        mults, adds = sum(w.mults for w in ops), sum(w.adds for w in ops)
        traffic = (access_energy(_vector_trace(trace, phase), hier, 0.0, resident)
                   if phase in VECTOR_COLUMNS else pd.DataFrame(columns=["level", "bytes",
                                                                          "energy_pj"]))
        dram_b = float(traffic.loc[traffic["level"] == "dram", "bytes"].sum())
        cycles = max(math.ceil((mults + adds) / arch.vector.lanes),
                     math.ceil(dram_b / bytes_per_cycle))
        rows.append({"phase": phase, "mults": mults, "adds": adds, "cycles": cycles,
                     "vector_pj": mults * lc.vector_mul_pj + adds * lc.vector_add_pj,
                     "sram_pj": float(traffic.loc[traffic["level"] != "dram",
                                                  "energy_pj"].sum()),
                     "dram_pj": float(traffic.loc[traffic["level"] == "dram",
                                                  "energy_pj"].sum()),
                     "access_bytes": float(traffic["bytes"].sum()), "dram_bytes": dram_b})
    return pd.DataFrame(rows)


def _breakdown(g: pd.DataFrame, v: pd.DataFrame, lc: LevelCosts) -> pd.DataFrame:
    rows = []
    for phase in lower.PHASES:
        gp = g[g["phase"] == phase] if len(g) else g
        vp = v[v["phase"] == phase]
        cyc = int(gp["cycles"].sum() if len(gp) else 0) + int(vp["cycles"].sum())
        rows.append({"phase": phase, "cycles": cyc,
                     "pe": float(gp["pe_pj"].sum()) if len(gp) else 0.0,
                     "rf": float(gp["rf_pj"].sum()) if len(gp) else 0.0,
                     "sram": (float(gp["sram_pj"].sum()) if len(gp) else 0.0)
                     + float(vp["sram_pj"].sum()),
                     "dram": (float(gp["dram_pj"].sum()) if len(gp) else 0.0)
                     + float(vp["dram_pj"].sum()),
                     "vector": float(vp["vector_pj"].sum()),
                     "static": static_pj(lc, cyc)})
    return pd.DataFrame(rows).set_index("phase")


def _provenance(lc: LevelCosts) -> str:
    if not lc.pe_by_dataflow:
        return lc.pe.provenance
    return "; ".join(f"{df}: {p.provenance}" for df, p in lc.pe_by_dataflow.items())


def cost_iteration(trace: pd.DataFrame, arch: Architecture, lc: LevelCosts,
                   objective: str = "edp", mode: str = "analytical",
                   progress: bool = False, temp_k: float = 300.0) -> AccelCost:
    """Cost one training iteration of ``trace`` on ``arch`` (see the module doc); the vector
    unit's SRAM at ``temp_k`` (as :func:`hwmodel.accel.energy.level_costs`)."""
    if mode not in MODES:
        raise AccelError(f"mode {mode!r} is unknown; use one of {', '.join(MODES)}")
    gemms, work = lower.lower(trace)
    g = _gemm_rows(gemms, arch, lc, objective, mode, progress)
    v = _vector_rows(trace, work, arch, lc, temp_k)
    b = _breakdown(g, v, lc)
    return AccelCost(arch.name, objective, mode, g, v, b, int(b["cycles"].sum()), lc.clock_mhz,
                     lc.clock_limit, _provenance(lc), arch.vector.lanes,
                     arch.dram.bandwidth_gb_s)
