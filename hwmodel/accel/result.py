"""What simulating one GEMM yields: cycles and accesses per operand and level (elements)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

#: SCALE-Sim's names (its COMPUTE_REPORT / DETAILED_ACCESS_REPORT) for our fields.
SCALESIM_NAMES = {
    "cycles": "Total Cycles",
    "stall_cycles": "Stall Cycles",
    "sram_a_reads": "SRAM IFMAP Reads",
    "sram_b_reads": "SRAM Filter Reads",
    "sram_c_writes": "SRAM OFMAP Writes",
    "dram_a_reads": "DRAM IFMAP Reads",
    "dram_b_reads": "DRAM Filter Reads",
    "dram_c_writes": "DRAM OFMAP Writes",
}


@dataclass(frozen=True)
class SimResult:
    """One GEMM (all its groups) on the array. Cycles are array clock cycles; every count is
    in elements. ``sram_c_reads``: partial sums read back; ``dram_c_reads``: partial sums
    fetched again from DRAM. DRAM reads are also SRAM writes (fills) and DRAM writes SRAM
    reads (write-back); the energy model charges both."""

    cycles: int
    compute_cycles: int
    stall_cycles: int
    macs: int
    pe_cycles: int  # rows x cols x cycles: the capacity the MACs use a part of
    sram_a_reads: int
    sram_b_reads: int
    sram_c_writes: int
    sram_c_reads: int
    dram_a_reads: int
    dram_b_reads: int
    dram_c_reads: int
    dram_c_writes: int

    @property
    def utilization_pct(self) -> float:
        """MACs over PE-cycles (%)."""
        return 100.0 * self.macs / self.pe_cycles if self.pe_cycles else 0.0

    @property
    def dram_elems(self) -> int:
        return self.dram_a_reads + self.dram_b_reads + self.dram_c_reads + self.dram_c_writes

    def scaled(self, count: int) -> SimResult:
        """``count`` back-to-back copies (a grouped conv's groups)."""
        return SimResult(**{f.name: getattr(self, f.name) * count for f in fields(self)})

    def as_dict(self) -> dict:
        d = asdict(self)
        d["utilization_pct"] = self.utilization_pct
        return d

    def scalesim(self) -> dict:
        """Our counts under SCALE-Sim's names."""
        return {name: getattr(self, f) for f, name in SCALESIM_NAMES.items()}
