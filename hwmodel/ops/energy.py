"""Default energy path: toggles of every RTL cell instance costed with the 45 nm cell library.

No synthesis: the structural unit's own ``rc_*`` instances are the gates. For each instance output
toggle the energy is the cell's internal energy (library table, at the net's load and the
library's nominal input slew) plus the energy that charges the load, 1/2 * C_load * VDD^2, with
C_load = fan-out input-pin capacitances + a wire-load estimate. Flip-flops add their clock-pin
energy every cycle; every cell adds its leakage over the clock period. Toggles come from a
zero-delay simulation, so glitches are not counted (the Yosys path can bound them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hwmodel.ops.netlist import Netlist, rtl_cell_to_library

# Wire-load estimate for a net inside a placed arithmetic datapath: WIRE_UM_PER_FANOUT of wire per
# fan-out pin at WIRE_CAP_FF_PER_UM. 0.2 fF/um is the order of local (M1/M2) interconnect
# capacitance at 45 nm (PTM interconnect model, ptm.asu.edu; ITRS 2007 interconnect tables give
# ~0.19 fF/um for intermediate wires). 2.5 um per fan-out is about two 45 nm standard-cell pitches.
WIRE_CAP_FF_PER_UM = 0.2
WIRE_UM_PER_FANOUT = 2.5
# The unit's outputs are captured by a register outside it: each y bit carries one DFF D-pin load.
OUTPUT_LOAD_CELL, OUTPUT_LOAD_PIN = "DFFR_X1", "D"
SEQ_CELLS = frozenset({"DFFR_X1"})


class CellCosts(Protocol):
    """What the default path needs from a characterized cell library (units in the names)."""

    vdd_v: float

    def pin_cap_ff(self, cell: str, pin: str) -> float: ...

    def internal_energy_pj(self, cell: str, out_pin: str, load_ff: float) -> float:
        """Internal energy per output toggle (mean of rise and fall, over the cell's arcs)."""
        ...

    def clock_energy_pj(self, cell: str) -> float:
        """Energy drawn by a flip-flop's clock pin per clock cycle (data unchanged)."""
        ...

    def leakage_nw(self, cell: str) -> float: ...

    def area_um2(self, cell: str) -> float: ...


@dataclass(frozen=True)
class OpEnergy:
    """Energy per operation (pJ) of one unit under one stream, split as published figures are."""

    energy_logic_pj: float
    energy_seq_pj: float
    energy_leakage_pj: float
    energy_pj: float
    leakage_nw: float
    toggles_per_op: float
    cells: int
    flops: int
    area_um2: float
    mode: str = "default: RTL cells, zero-delay toggles, library internal energy + 1/2 C V^2"


def net_loads_ff(netlist: Netlist, lib: CellCosts) -> dict[int, float]:
    """Load capacitance (fF) of every net bit: fan-out pins + wire + output register pin."""
    loads: dict[int, float] = {}
    for bit, sinks in netlist.fanout.items():
        pins = sum(lib.pin_cap_ff(rtl_cell_to_library(cell), pin) for cell, pin in sinks)
        loads[bit] = pins + WIRE_CAP_FF_PER_UM * WIRE_UM_PER_FANOUT * len(sinks)
    out_cap = lib.pin_cap_ff(OUTPUT_LOAD_CELL, OUTPUT_LOAD_PIN)
    for bit in netlist.port_bits.get("y", []):
        loads[bit] = loads.get(bit, 0.0) + out_cap + WIRE_CAP_FF_PER_UM * WIRE_UM_PER_FANOUT
    return loads


def op_energy(netlist: Netlist, toggles: dict[str, int], ops: int, lib: CellCosts,
              clock_period_ns: float = 1.0) -> OpEnergy:
    """Energy per op from ``toggles`` (instance-output name ``inst.pin`` -> count over ``ops``
    operations at one op per cycle)."""
    if ops < 1:
        raise ValueError("ops must be at least 1")
    loads = net_loads_ff(netlist, lib)
    v2 = lib.vdd_v**2
    logic_pj = seq_pj = leak_nw = area = 0.0
    flops = 0
    total_toggles = 0
    for inst in netlist.instances:
        cell = rtl_cell_to_library(inst.cell)
        leak_nw += lib.leakage_nw(cell)
        area += lib.area_um2(cell)
        is_seq = cell in SEQ_CELLS
        if is_seq:
            flops += 1
            seq_pj += lib.clock_energy_pj(cell) * ops
        for pin, bit in inst.outputs.items():
            count = toggles.get(f"{inst.name}.{pin}", 0)
            if not count:
                continue
            total_toggles += count
            load = loads.get(bit, 0.0)
            # fF * V^2 = fJ; 1e-3 pJ per fJ.
            e = count * (lib.internal_energy_pj(cell, pin, load) + 0.5 * load * v2 * 1e-3)
            if is_seq:
                seq_pj += e
            else:
                logic_pj += e
    # nW * ns = 1e-18 J = 1e-6 pJ.
    leak_pj = leak_nw * clock_period_ns * 1e-6
    logic, seq = logic_pj / ops, seq_pj / ops
    return OpEnergy(
        energy_logic_pj=logic,
        energy_seq_pj=seq,
        energy_leakage_pj=leak_pj,
        energy_pj=logic + seq + leak_pj,
        leakage_nw=leak_nw,
        toggles_per_op=total_toggles / ops,
        cells=len(netlist.instances),
        flops=flops,
        area_um2=area,
    )
