"""The one load model of both energy paths: the capacitance (fF) every net of a netlist drives.

load = the input-pin capacitances of the net's fan-out cells
     + the wire load for its fan-out count (:class:`hwmodel.cells.liberty.WireLoad`; the 45 nm
       linear model :data:`hwmodel.cells.liberty.DEFAULT_WIRE_LOAD` unless a Liberty has its own)
     + the output register: the unit's outputs are captured by a register outside it
       (:class:`OutputRegister`, a stated assumption of both paths), so each bit of its ports
       drives one more flip-flop D pin.

The paths differ only in the parameters (each path's numbers are kept exactly as they were):

==================  =====================================  ======================================
                    default path                           yosys path
==================  =====================================  ======================================
pin capacitances    cell library JSON (``input_cap_ff``)   the Liberty's ``capacitance``
wire load           :data:`DEFAULT_WIRE_LOAD`              the Liberty's (else the default)
output register     ``y`` bits: one ``DFFR_X1`` D pin on   every output port bit (``y`` and
                    a one-fan-out wire of its own, per     ``out_valid``): the library flip-flop's
                    bit of the port                        D pin as one more fan-out of the net
==================  =====================================  ======================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hwmodel.cells.liberty import (
    DEFAULT_WIRE_LOAD,
    WIRE_CAP_FF_PER_UM,
    WIRE_UM_PER_FANOUT,
    WireLoad,
)
from hwmodel.ops.netlist import Netlist

__all__ = ["DEFAULT_WIRE_LOAD", "OUTPUT_LOAD_CELL", "OUTPUT_LOAD_PIN", "WIRE_CAP_FF_PER_UM",
           "WIRE_UM_PER_FANOUT", "NetLoads", "OutputRegister", "net_loads"]

# The default path's output register: each y bit carries one DFF D-pin load.
OUTPUT_LOAD_CELL, OUTPUT_LOAD_PIN = "DFFR_X1", "D"


@dataclass(frozen=True)
class OutputRegister:
    """The register outside the unit that captures its outputs.

    Every bit of ``ports`` (None: every output port) drives one D pin of ``cap_ff``. With
    ``own_wire`` that pin hangs on a wire of its own (one fan-out of the wire model, added per
    port bit); otherwise it is one more fan-out of the net's wire-load model.
    """

    cap_ff: float
    ports: tuple[str, ...] | None = None
    own_wire: bool = False

    def bits(self, netlist: Netlist) -> list[int]:
        """The registered nets, once per port bit."""
        names = netlist.outputs if self.ports is None else self.ports
        return [b for name in names for b in netlist.outputs.get(name, []) if isinstance(b, int)]


@dataclass(frozen=True)
class NetLoads:
    """Load capacitance (fF) per net, and the wire-load model it was computed with."""

    load_ff: dict[int, float]
    wire_load: WireLoad


def net_loads(netlist: Netlist, pin_cap_ff: Callable[[str, str], float], wire: WireLoad,
              register: OutputRegister) -> NetLoads:
    """Load (fF) of every net of ``netlist``: fan-out pins (``pin_cap_ff(cell type, pin)``) +
    ``wire`` for the fan-out count + the output ``register`` (module docstring)."""
    registered = register.bits(netlist)
    shared = set() if register.own_wire else set(registered)
    load: dict[int, float] = {}
    for net in netlist.nets:
        fan = netlist.sinks.get(net, [])
        cap = sum(pin_cap_ff(netlist.instances[k].cell, p) for k, p in fan)
        fanout = len(fan)
        if net in shared:
            cap += register.cap_ff
            fanout += 1
        load[net] = cap + wire.cap_ff(fanout)
    if register.own_wire:
        for net in registered:
            load[net] = load[net] + register.cap_ff + wire.cap_ff(1)
    return NetLoads(load, wire)
