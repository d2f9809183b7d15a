"""Default path's costing: toggles of every RTL cell instance priced with the 45 nm cell library.

No synthesis: the structural unit's own ``rc_*`` instances are the gates. For each instance output
toggle the energy is the cell's internal energy (library table, at the net's load and the
library's reference input slew) plus the energy that charges the load, 1/2 * C_load * VDD^2, with
C_load from the load model (:mod:`hwmodel.ops.loads`: fan-out pin capacitances + wire load + the
output register on ``y``). Flip-flops add their clock-pin energy every cycle; every cell adds its
leakage over the clock period. Toggles come from a zero-delay simulation, so glitches are not
counted (the Yosys path can bound them).

:class:`LibraryCosts` adapts the characterized library (:mod:`hwmodel.cells`) to
:class:`CellCosts`: internal energies are read at the library's reference input slew
(``key_figures['ref_slew_ns']``, else the second slew index point). A flip-flop's clock pin draws
its clock energy every cycle (CK rise + CK fall with Q unchanged); when Q also toggles, the CK->Q
arc's internal energy is added. The library's CK->Q tables already exclude the plain clock-edge
energy (see ``hwmodel.cells.library``), so the clock edge is not counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from hwmodel.cells.library import CellLibrary, load_library
from hwmodel.ops.loads import (
    DEFAULT_WIRE_LOAD,
    OUTPUT_LOAD_CELL,
    OUTPUT_LOAD_PIN,
    NetLoads,
    OutputRegister,
    net_loads,
)
from hwmodel.ops.netlist import Netlist, rtl_cell_to_library
from hwmodel.rtlsim import HANDSHAKE

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


class LibraryCosts:
    """:class:`CellCosts` backed by a :class:`CellLibrary`."""

    def __init__(self, lib: CellLibrary, slew_ns: float | None = None) -> None:
        self.lib = lib
        self.vdd_v = float(lib.vdd_v)
        self.slew_ns = float(lib.key_figures.get("ref_slew_ns", lib.slew_index_ns[1])) \
            if slew_ns is None else float(slew_ns)
        self._energy = lru_cache(maxsize=None)(self._internal)

    def pin_cap_ff(self, cell: str, pin: str) -> float:
        return float(self.lib.cell(cell).input_cap_ff[pin])

    def _internal(self, cell: str, out_pin: str, load_ff: float) -> float:
        c = self.lib.cell(cell)
        return c.internal_energy_per_toggle_pj(out_pin, self.slew_ns, load_ff)

    def internal_energy_pj(self, cell: str, out_pin: str, load_ff: float) -> float:
        return self._energy(cell, out_pin, round(load_ff, 4))

    def clock_energy_pj(self, cell: str) -> float:
        seq = self.lib.cell(cell).sequential
        return 0.0 if seq is None else seq.clock_energy_per_cycle_pj(self.slew_ns)

    def leakage_nw(self, cell: str) -> float:
        return float(self.lib.cell(cell).leakage_avg_nw)

    def area_um2(self, cell: str) -> float:
        return float(self.lib.cell(cell).area_um2)


@lru_cache(maxsize=4)
def default_costs(corner: str = "nom", vdd_v: float = 1.1, temp_c: float = 25.0) -> LibraryCosts:
    """Costs from the committed library (or one built with ``python -m hwmodel.cells build``)."""
    return LibraryCosts(load_library(corner, vdd_v, temp_c))


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


def default_loads(netlist: Netlist, lib: CellCosts) -> NetLoads:
    """The default path's loads (fF) of an elaborated RTL netlist: library pin capacitances, the
    45 nm wire model, and one ``DFFR_X1`` D pin on its own wire per ``y`` bit."""
    register = OutputRegister(lib.pin_cap_ff(OUTPUT_LOAD_CELL, OUTPUT_LOAD_PIN),
                              (HANDSHAKE.result,), own_wire=True)
    return net_loads(netlist, lambda cell, pin: lib.pin_cap_ff(rtl_cell_to_library(cell), pin),
                     DEFAULT_WIRE_LOAD, register)


def op_energy(netlist: Netlist, toggles: dict[str, int], ops: int, lib: CellCosts,
              clock_period_ns: float = 1.0) -> OpEnergy:
    """Energy per op from ``toggles`` (instance-output name ``inst.pin`` -> count over ``ops``
    operations at one op per cycle)."""
    if ops < 1:
        raise ValueError("ops must be at least 1")
    loads = default_loads(netlist, lib).load_ff
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
