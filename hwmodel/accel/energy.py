"""Energy per access at every level of an :class:`~hwmodel.accel.arch.Architecture`, and the
energy of a simulated GEMM by level.

Levels: ``pe`` (the MAC datapath of every PE, per MAC), ``rf`` (the PE's registers and clock:
stationary operand, forwarded operands and partial sums, per MAC), ``sram`` (the operand
buffers, per element read or written, from the SRAM model :mod:`hwmodel.sram` at the buffer's
capacity, word width and banks; an element costs ``elem_bits / word_bits`` of a word access),
``dram`` (per element moved, :mod:`hwmodel.dram`), ``vector`` (element-wise and optimizer ops
on the vector unit's adders and multipliers) and ``static`` (leakage of PEs, vector lanes and
SRAM, DRAM background, times the modeled time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hwmodel import dram
from hwmodel.accel.arch import OPERANDS, Architecture
from hwmodel.accel.errors import AccelError
from hwmodel.accel.result import SimResult
from hwmodel.cost import ENERGY_FIGURES, OpCosts
from hwmodel.sram.api import sram

LEVELS = ("pe", "rf", "sram", "dram", "vector", "static")


@dataclass(frozen=True)
class PeCost:
    """One PE per MAC: datapath ``logic_pj``, registers and clock ``register_pj`` (the RF
    level), ``leakage_nw`` of one PE, its ``fmax_mhz``, and where the figures come from."""

    logic_pj: float
    register_pj: float
    leakage_nw: float
    fmax_mhz: float
    provenance: str

    @property
    def mac_pj(self) -> float:
        return self.logic_pj + self.register_pj


def pe_from_op_table(table: pd.DataFrame, costs: OpCosts) -> PeCost:
    """The PE as the op table's MAC row (an independent random operand stream)."""
    path, logic, seq = ENERGY_FIGURES[costs.figure]
    rows = table[(table["unit"] == costs.mac.unit) & (table["format"] == costs.fmt)
                 & (table["stream"] == costs.stream) & (table["path"] == path)]
    if rows.empty:
        raise AccelError(f"op table has no {costs.mac.unit} {costs.fmt} row; run "
                         f"python -m hwmodel.ops --unit {costs.mac.unit}")
    r = rows.iloc[0]
    return PeCost(float(r[logic]), float(r[seq]), costs.mac.leakage_nw, costs.mac.fmax_mhz,
                  f"{costs.mac.unit} {costs.fmt} op-table row: independent {costs.stream} "
                  f"operand stream, {costs.figure} energy")


#: (exponent, mantissa) bits of the floating-point formats the RTL arrays are built in.
FP_FORMATS = {"fp32": (8, 23), "fp16": (5, 10), "bf16": (8, 7)}


def pe_from_array(e) -> PeCost:
    """The PE as measured in a whole RTL array in dataflow order
    (:class:`hwmodel.accel.pe_energy.ArrayEnergy`): dynamic and sequential energy per real
    MAC, the array's leakage power per PE over its own clock period, its fmax."""
    leak_nw = e.leakage_pj * 1e6 / (e.clock_period_ns * e.cycles) / (e.rows * e.cols)
    return PeCost(e.dynamic_pj / e.macs, e.sequential_pj / e.macs, leak_nw, e.fmax_mhz,
                  e.provenance)


def pe_from_arrays(arch: Architecture, vdd_v: float = 1.0, timed: bool = True,
                   size: int = 4) -> dict[str, PeCost]:
    """Dataflow -> PE cost measured in a ``size x size`` RTL array of ``arch``'s format (the
    ``is`` dataflow runs on the ``ws`` array with the operands exchanged)."""
    from hwmodel.accel.pe_energy import array_energy

    if arch.fmt not in FP_FORMATS:
        raise AccelError(f"the RTL arrays are floating point; {arch.name} computes in "
                         f"{arch.fmt}: use pe_energy = \"op-table\"")
    exp_w, man_w = FP_FORMATS[arch.fmt]
    out = {}
    for df in arch.array.dataflows:
        rtl_df = "ws" if df == "is" else df
        out[df] = pe_from_array(array_energy(rtl_df, size, size, exp_w, man_w, vdd_v, timed))
    return out


@dataclass(frozen=True)
class LevelCosts:
    """Energy per access of every level (pJ) and static power (mW) of one architecture;
    ``pe_by_dataflow``: the PE measured per dataflow, where it differs from ``pe``."""

    pe: PeCost
    sram_read_pj: dict[str, float]  # operand -> pJ per element read
    sram_write_pj: dict[str, float]
    dram_pj: float  # per element moved
    vector_add_pj: float
    vector_mul_pj: float
    static_mw: dict[str, float]  # pe, vector, sram, dram
    clock_mhz: float
    clock_limit: str
    pe_by_dataflow: dict[str, PeCost] = field(default_factory=dict)

    @property
    def static_total_mw(self) -> float:
        return sum(self.static_mw.values())

    def pe_for(self, dataflow: str | None) -> PeCost:
        """The PE of ``dataflow`` (``pe`` when it has no own measurement)."""
        return self.pe_by_dataflow.get(dataflow, self.pe) if dataflow else self.pe


def level_costs(arch: Architecture, costs: OpCosts, pe: PeCost | dict[str, PeCost],
                dram_background_mw: float | None = None, temp_k: float = 300.0) -> LevelCosts:
    """Per-access energies and static power of ``arch`` with PE ``pe`` and vector-unit ops
    from ``costs`` (its multiplier and adder); the clock is the slowest of PE, multiplier and
    adder fmax, capped by the architecture's target. SRAM at ``temp_k`` (default 300 K, the
    logic libraries' 27 C). ``pe``: one PE cost, or one per dataflow (:func:`pe_from_arrays`;
    static power and clock take the slowest, leakiest)."""
    by_df = dict(pe) if isinstance(pe, dict) else {}
    if by_df:
        pe = max(by_df.values(), key=lambda p: (p.leakage_nw, -p.fmax_mhz))
        slowest = min(p.fmax_mhz for p in by_df.values())
        pe = PeCost(pe.logic_pj, pe.register_pj, pe.leakage_nw, slowest, pe.provenance)
    rd, wr, leak = {}, {}, 0.0
    for b in arch.buffers:
        s = sram(b.capacity_bytes, b.word_bits, banks=b.banks, temp_k=temp_k)
        share = arch.elem_bits / b.word_bits
        for op in b.operands:
            rd[op], wr[op] = s.read_energy_pj * share, s.write_energy_pj * share
        leak += s.leakage_mw
    assert set(rd) == set(OPERANDS)
    fmax = {"pe": pe.fmax_mhz, costs.mul.unit: costs.mul.fmax_mhz,
            costs.add.unit: costs.add.fmax_mhz}
    slow = min(fmax, key=fmax.get)
    clock, limit = ((fmax[slow], f"{slow} fmax") if fmax[slow] < arch.clock_mhz_max
                    else (arch.clock_mhz_max, "target"))
    lanes = arch.vector.lanes
    static = {"pe": arch.array.pes * pe.leakage_nw * 1e-6,
              "vector": lanes * (costs.mul.leakage_nw + costs.add.leakage_nw) * 1e-6,
              "sram": leak,
              "dram": dram.background_power_mw(arch.dram.kind, dram_background_mw)}
    return LevelCosts(pe, rd, wr, dram.dram_energy_pj(arch.elem_bytes, arch.dram.kind),
                      costs.add.dynamic_pj, costs.mul.dynamic_pj, static, clock, limit, by_df)


def gemm_energy(r: SimResult, lc: LevelCosts, dataflow: str | None = None) -> dict[str, float]:
    """Dynamic energy (pJ) of a simulated GEMM by level: ``pe``, ``rf``, ``sram``, ``dram``
    (the PE of ``dataflow``). DRAM reads are also buffer writes (fills); DRAM writes are also
    buffer reads."""
    pe = lc.pe_for(dataflow)
    rd, wr = lc.sram_read_pj, lc.sram_write_pj
    sram_pj = (r.sram_a_reads * rd["ifmap"] + r.sram_b_reads * rd["weight"]
               + r.sram_c_reads * rd["ofmap"] + r.sram_c_writes * wr["ofmap"]
               + r.dram_a_reads * wr["ifmap"] + r.dram_b_reads * wr["weight"]
               + r.dram_c_reads * wr["ofmap"] + r.dram_c_writes * rd["ofmap"])
    return {"pe": r.macs * pe.logic_pj, "rf": r.macs * pe.register_pj,
            "sram": sram_pj, "dram": r.dram_elems * lc.dram_pj}


def static_pj(lc: LevelCosts, cycles: int) -> float:
    """Static energy (pJ) over ``cycles`` at the modeled clock (mW x s = 1e9 pJ)."""
    return lc.static_total_mw * cycles / (lc.clock_mhz * 1e6) * 1e9
