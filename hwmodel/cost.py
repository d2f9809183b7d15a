"""The cost model: a layer-wise training trace x per-op costs x memory model -> one iteration.

**Dynamic energy.** Computation (pJ) = MACs (forward + input-gradient + weight-gradient) x the
MAC unit's energy per op + optimizer-update multiplies x the multiplier's + update adds and
element-wise ops (BatchNorm, ReLU, pooling, residual adds, loss) x the adder's. Per-op energies
are the dynamic part (datapath logic + registers and clock) of one op-cost row per unit
(:mod:`hwmodel.ops`), for the number format of training and one named energy figure
(:data:`ENERGY_FIGURES`: zero-delay on the RTL's own cells, zero-delay on the Yosys netlist, or
glitch-aware timed simulation of the Yosys netlist). Optimizer divides and square roots (Adam)
have no unit in the RTL library: they are counted (``uncosted_ops``) and left out of the
energy, never guessed. Memory-access energy comes from :mod:`hwmodel.memory`.

**Time.** ``mac_units`` lanes, each with one MAC, one multiplier and one adder of the costed
kinds; every operation issues to a lane at one op per cycle. The clock is the fmax of the
slowest of the three units (static timing of the mapped netlist, at the characterized
pipelining) capped by the stated target ``clock_mhz_max``. DRAM traffic overlaps at
``dram_gb_per_s``: time = max(ops / lanes / f_clk, DRAM bytes / bandwidth).

**Static energy** over the modeled time: leakage of every lane's three units (busy or idle), of
the SRAM buffers (from the SRAM model), and DRAM background + refresh power
(:func:`hwmodel.dram.background_power_mw`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

from hwmodel.errors import HwmodelError
from workload.schema import REQUIRED_COLUMNS, SCHEMA, column

# Which RTL unit costs each operation, per number-format family.
UNIT_FOR_OP = {
    "int": {"mac": "mac_int", "mul": "mul_booth", "add": "add_ks"},
    "float": {"mac": "fp_mac", "mul": "fp_mul", "add": "fp_add"},
}
#: Energy figures a report can cost with: name -> (op-table path, logic column, seq column).
ENERGY_FIGURES: dict[str, tuple[str, str, str]] = {
    "default": ("default", "energy_logic_pj", "energy_seq_pj"),
    "yosys": ("yosys", "energy_logic_pj", "energy_seq_pj"),
    "yosys-timed": ("yosys", "energy_timed_logic_pj", "energy_timed_seq_pj"),
}
ENERGY_FIGURE_DOCS = {
    "default": "zero-delay toggles of the RTL's own 45 nm cells (no glitches)",
    "yosys": "zero-delay toggles of the Yosys-mapped netlist (no glitches)",
    "yosys-timed": "glitch-aware: Yosys-mapped netlist simulated with Liberty NLDM delays",
}


#: Arithmetic of a trace (:attr:`workload.schema.Column.op`) that no RTL unit costs: Adam's
#: divides and square roots, ops outside the update model. Counted (``uncosted_ops``), never
#: guessed.
UNCOSTED_OPS = ("div", "sqrt", "other")
#: The trace columns :func:`compute_energy` costs: the required arithmetic columns of the schema
#: (MACs by phase, optimizer-step multiplies and adds, element-wise ops).
COMPUTE_COLUMNS: tuple[str, ...] = tuple(c for c in REQUIRED_COLUMNS if column(c).op)
#: The trace columns it counts but cannot cost (used when the trace has them).
UNCOSTED_COLUMNS: tuple[str, ...] = tuple(c.name for c in SCHEMA if c.op in UNCOSTED_OPS)


class CostModelError(HwmodelError):
    """Bad input to the cost model; the message names the thing and the fix."""


def units_for(fmt: str, override: dict[str, str] | None = None) -> dict[str, str]:
    """The unit costing each op (``mac``, ``mul``, ``add``) for number format ``fmt``:
    :data:`UNIT_FOR_OP` of its family, with ``override`` replacing any of them."""
    family = "float" if fmt.startswith(("fp", "bf")) else "int"
    bad = sorted(set(override or {}) - set(UNIT_FOR_OP[family]))
    if bad:
        raise CostModelError(f"unknown op {bad[0]!r} in the unit choice; use mac, mul or add")
    return UNIT_FOR_OP[family] | dict(override or {})


@dataclass(frozen=True)
class UnitCost:
    """One characterized unit as the cost model uses it (units in the names)."""

    unit: str
    dynamic_pj: float  # logic + registers/clock, per op at one op per cycle
    leakage_nw: float
    critical_path_ns: float
    latency_cycles: int
    params: str

    @property
    def fmax_mhz(self) -> float:
        return 1000.0 / self.critical_path_ns


def _unit_cost(table: pd.DataFrame, unit: str, fmt: str, stream: str, figure: str) -> UnitCost:
    path, logic, seq = ENERGY_FIGURES[figure]
    fix = (f"python -m hwmodel.ops --unit {unit} --format {fmt} --stream {stream} "
           f"--path {path}")
    rows = table[(table["unit"] == unit) & (table["format"] == fmt)
                 & (table["stream"] == stream) & (table["path"] == path)]
    if rows.empty:
        raise CostModelError(f"op-cost table has no row for {unit} {fmt} stream={stream} "
                             f"path={path}; fix: {fix}")
    r = rows.iloc[0]
    for col in (logic, seq, "leakage_nw", "critical_path_ns"):
        v = r.get(col, float("nan"))
        if v is None or not math.isfinite(float(v)) or float(v) < 0:
            raise CostModelError(f"op-cost row {unit} {fmt} {stream} {path} has no {col} "
                                 f"(older table?); fix: {fix}")
    if float(r["critical_path_ns"]) <= 0:
        raise CostModelError(f"op-cost row {unit} {fmt}: critical path must be > 0 ns")
    return UnitCost(unit, float(r[logic]) + float(r[seq]), float(r["leakage_nw"]),
                    float(r["critical_path_ns"]), int(r.get("latency_cycles", 1)),
                    str(r.get("params", "")))


@dataclass(frozen=True)
class OpCosts:
    """The three units that cost training (MAC, multiplier, adder) for one format, stream
    and energy figure."""

    fmt: str
    stream: str
    figure: str
    mac: UnitCost
    mul: UnitCost
    add: UnitCost

    @classmethod
    def from_table(cls, table: pd.DataFrame, fmt: str = "fp32", stream: str = "uniform",
                   figure: str = "default", units: dict[str, str] | None = None) -> OpCosts:
        """Pick the mac/mul/add rows of ``table`` (the op-cost table) for one format;
        ``units`` names a unit (e.g. a user's own) for any of the ops instead of
        :data:`UNIT_FOR_OP`."""
        if figure not in ENERGY_FIGURES:
            raise CostModelError(f"unknown energy figure {figure!r}; use one of: "
                                 f"{', '.join(ENERGY_FIGURES)}")
        names = units_for(fmt, units)
        units = {op: _unit_cost(table, unit, fmt, stream, figure) for op, unit in names.items()}
        return cls(fmt, stream, figure, units["mac"], units["mul"], units["add"])

    @property
    def units(self) -> tuple[UnitCost, UnitCost, UnitCost]:
        return (self.mac, self.mul, self.add)

    @property
    def mac_pj(self) -> float:
        """Dynamic energy of one MAC (pJ)."""
        return self.mac.dynamic_pj

    @property
    def lane_leakage_nw(self) -> float:
        """Leakage of one lane: its MAC, multiplier and adder (nW)."""
        return sum(u.leakage_nw for u in self.units)


@dataclass(frozen=True)
class Accelerator:
    """A stated training accelerator configuration."""

    mac_units: int = 256
    clock_mhz_max: float = 1000.0  # the target clock (the paper's 1 GHz)
    # One DDR3-1600 channel (JEDEC JESD79-3: 1600 MT/s x 8 bytes), matching the default DRAM
    # energy (hwmodel.dram "ddr3").
    dram_gb_per_s: float = 12.8

    def __post_init__(self) -> None:
        for name in ("mac_units", "clock_mhz_max", "dram_gb_per_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
                raise CostModelError(f"accelerator {name} must be a positive number, got {v!r}")

    def clock(self, costs: OpCosts) -> tuple[float, str]:
        """(clock MHz, what limits it): the slowest unit's fmax, or the target if lower."""
        slowest = min(costs.units, key=lambda u: u.fmax_mhz)
        if slowest.fmax_mhz < self.clock_mhz_max:
            return slowest.fmax_mhz, f"{slowest.unit} fmax"
        return self.clock_mhz_max, "target"


def compute_energy(trace: pd.DataFrame, costs: OpCosts) -> pd.DataFrame:
    """Per-layer dynamic computation energy (pJ) of one training iteration."""
    need = COMPUTE_COLUMNS
    missing = [c for c in need if c not in trace.columns]
    if missing:
        raise CostModelError(f"trace lacks column {missing[0]!r}; make it with "
                             "workload.trace_training (python -m workload trace)")
    df = trace[["layer", "kind", "branch", *need]].copy()
    macs = df["fwd_macs"] + df["bwd_input_macs"] + df["bwd_weight_macs"]
    df["macs"] = macs
    df["mac_energy_pj"] = macs * costs.mac.dynamic_pj
    df["update_energy_pj"] = (df["update_mults"] * costs.mul.dynamic_pj
                              + df["update_adds"] * costs.add.dynamic_pj)
    df["elementwise_energy_pj"] = df["elementwise_ops"] * costs.add.dynamic_pj
    df["compute_energy_pj"] = (df["mac_energy_pj"] + df["update_energy_pj"]
                               + df["elementwise_energy_pj"])
    uncosted = [c for c in UNCOSTED_COLUMNS if c in trace]
    df["uncosted_ops"] = trace[uncosted].sum(axis=1) if uncosted else 0
    return df


def mean_dot_length(trace: pd.DataFrame) -> int:
    """Mean accumulation length of a training iteration's MACs (terms per sum): all
    conv/matmul MACs over the sums they produce (forward: output elements; input gradient:
    input-gradient elements; weight gradient: weight-gradient elements), rounded; the MAC
    streams clear their accumulator this often."""
    fwd = trace["fwd_macs"] > 0
    bi = trace["bwd_input_macs"] > 0
    bw = trace["bwd_weight_macs"] > 0
    sums = (trace.loc[fwd, "ofmap_write_elems"].sum() + trace.loc[bi, "actgrad_write_elems"].sum()
            + trace.loc[bw, "wgrad_write_elems"].sum())
    macs = trace[["fwd_macs", "bwd_input_macs", "bwd_weight_macs"]].to_numpy().sum()
    if sums <= 0:
        raise CostModelError("trace has no conv/matmul MACs: no dot-product length to take")
    return max(1, round(float(macs) / float(sums)))


@dataclass(frozen=True)
class StaticPower:
    """Static power of the accelerator while it trains (mW)."""

    logic_mw: float  # leakage of every lane's MAC, multiplier and adder
    sram_mw: float  # leakage of the on-chip buffers
    dram_mw: float  # DRAM background + refresh

    @property
    def total_mw(self) -> float:
        return self.logic_mw + self.sram_mw + self.dram_mw


def static_power(costs: OpCosts, accel: Accelerator, sram_leakage_mw: float,
                 dram_background_mw: float) -> StaticPower:
    """Static power (mW) of ``accel`` built from the units in ``costs``."""
    return StaticPower(accel.mac_units * costs.lane_leakage_nw * 1e-6, float(sram_leakage_mw),
                       float(dram_background_mw))


@dataclass(frozen=True)
class IterationCost:
    """Cost of one training iteration (energies pJ, time s, data bytes, work in ops)."""

    macs: int
    update_ops: int
    elementwise_ops: int
    uncosted_ops: int
    compute_energy_pj: float  # dynamic, datapath
    memory_energy_pj: float  # dynamic, SRAM + DRAM accesses
    dynamic_energy_pj: float
    static_logic_pj: float
    static_sram_pj: float
    static_dram_pj: float
    static_energy_pj: float
    total_energy_pj: float  # dynamic + static
    memory_access_bytes: float  # every level, every movement
    dram_bytes: float
    clock_mhz: float
    clock_limit: str
    compute_time_s: float
    memory_time_s: float
    modeled_time_s: float
    compute_bound: bool

    def as_dict(self) -> dict:
        return asdict(self)


def iteration_cost(trace: pd.DataFrame, costs: OpCosts, memory_energy: pd.DataFrame,
                   accel: Accelerator, static: StaticPower) -> IterationCost:
    """Combine computation (``costs``), memory traffic (``hwmodel.memory.access_energy``) and
    static power (:func:`static_power`) into one iteration's cost."""
    comp = compute_energy(trace, costs)
    macs = int(comp["macs"].sum())
    upd = int((comp["update_mults"] + comp["update_adds"]).sum())
    elem = int(comp["elementwise_ops"].sum())
    mem_pj = float(memory_energy["energy_pj"].sum())
    dram_bytes = float(memory_energy.loc[memory_energy["level"] == "dram", "bytes"].sum())
    f_mhz, limit = accel.clock(costs)
    t_compute = (macs + upd + elem) / accel.mac_units / (f_mhz * 1e6)
    t_memory = dram_bytes / (accel.dram_gb_per_s * 1e9)
    t = max(t_compute, t_memory)
    comp_pj = float(comp["compute_energy_pj"].sum())
    # mW * s = 1e-3 J = 1e9 pJ
    s_logic, s_sram, s_dram = (p * t * 1e9 for p in (static.logic_mw, static.sram_mw,
                                                      static.dram_mw))
    s_total = s_logic + s_sram + s_dram
    return IterationCost(
        macs, upd, elem, int(comp["uncosted_ops"].sum()), comp_pj, mem_pj, comp_pj + mem_pj,
        s_logic, s_sram, s_dram, s_total, comp_pj + mem_pj + s_total,
        float(memory_energy["bytes"].sum()), dram_bytes, f_mhz, limit, t_compute, t_memory, t,
        t_compute >= t_memory)
