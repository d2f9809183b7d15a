"""Energy per operation of a mapped (gate-level) unit, from simulating the netlist in Icarus.

:func:`gate_level_energy` simulates the Yosys-mapped netlist under the operand stream
(:mod:`hwmodel.ops.glsim`: testbench, modes, measurement window) and costs every rising and
falling toggle of a net inside the window with

* the driving cell's Liberty internal energy (``rise_power``/``fall_power`` of the arcs into that
  output, averaged over the arcs), interpolated at the slew of the arc's input net and the net's
  load, both from the NLDM propagation of :mod:`hwmodel.ops.sta` (propagated slews, where the
  default path reads the library at its reference slew), plus
* the net's switching energy 1/2 C_load VDD^2 (the load model of :mod:`hwmodel.ops.loads`);

plus, per clock cycle, the flip-flops' clock-pin internal energy and the clock net's C VDD^2, and
the library leakage of every cell over one clock period. Energy of nets driven by flip-flops and
the clock is ``energy_seq_pj``; everything else (including the unit's input nets, charged by the
operand stream) is ``energy_logic_pj``. Dynamic energy per op = window energy / number of window
cycles; clock and leakage energy per op = one initiation interval of them. Dynamic energy per op
does not depend on the testbench period; ``energy_leakage_pj`` stays at the synthesis period in
every mode, so the three modes differ only in toggles.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwmodel.cells.liberty import LibCell, Liberty, read_liberty
from hwmodel.ops import glsim
from hwmodel.ops.glsim import DEFAULT_HOLD_CYCLES, MODES, SimRun
from hwmodel.ops.netlist import Instance, Netlist
from hwmodel.ops.sta import clock_slew_ns, net_loads, net_slews
from hwmodel.ops.synth import SynthError, SynthResult, load_mapped_netlist
from hwmodel.rtlsim import HANDSHAKE

__all__ = ["DEFAULT_HOLD_CYCLES", "MODES", "GateEnergy", "gate_level_energy", "result_json"]


@dataclass(frozen=True)
class GateEnergy:
    """Energy per operation of a mapped unit under one operand stream (pJ per op).

    ``energy_pj`` = ``energy_logic_pj`` + ``energy_seq_pj`` + ``energy_leakage_pj``;
    ``energy_clock_pj`` is the part of ``energy_seq_pj`` spent on the clock pins and clock net.
    ``toggles_per_op`` counts cell-output (and input-port) net toggles per operation, over the
    ``window_cycles`` steady-state cycles measured (``vectors - 1 - latency_cycles``).
    ``y`` holds the netlist's results in input order (to compare with the RTL).
    ``clock_period_ns`` is the synthesis period (leakage is costed over it);
    ``sim_period_ns`` the testbench's clock period (ns): the synthesis period, or in ``timed``
    mode long enough for every net to settle (see :mod:`hwmodel.ops.glsim`).
    """

    energy_logic_pj: float
    energy_seq_pj: float
    energy_leakage_pj: float
    energy_pj: float
    energy_clock_pj: float
    vectors: int
    window_cycles: int
    mode: str
    toggle_source: str
    latency_cycles: int
    ii_cycles: int
    clock_period_ns: float
    sim_period_ns: float
    toggles_per_op: float
    y: np.ndarray
    cell_models: str
    wire_load: str
    sim_wall_s: float
    count_wall_s: float


def gate_level_energy(synth_result: SynthResult, liberty: Liberty | Path,
                      inputs: dict[str, np.ndarray], params: dict[str, int] | None = None, *,
                      mode: str = "zero-delay", cell_models: Path | None = None,
                      toggles: str = "auto",
                      hold_cycles: int = DEFAULT_HOLD_CYCLES,
                      sim_period_ns: float | None = None) -> GateEnergy:
    """Energy per op (pJ) of the mapped unit under ``inputs`` (raw bit patterns per input port,
    ``a`` and ``b`` required, others default to 0), at one vector per clock cycle.

    ``params`` is accepted for symmetry with the RTL harness and must match the synthesis.
    ``mode``: ``zero-delay``, ``unit-delay`` or ``timed`` (:mod:`hwmodel.ops.glsim`).
    ``cell_models``: Verilog models of the library cells (default: the library's own
    ``<liberty stem>_cells.v`` next to the Liberty, else models generated from its functions).
    ``toggles``: where toggles are counted: ``fst`` (the FST waveform of every net, read with
    pywellen: every change, glitches included), ``samples`` (every net's value once per cycle,
    written by the testbench: exact in zero-delay mode, where a net changes at most once per
    cycle, and about 2x faster), or ``auto`` (``samples`` for zero-delay, ``fst`` otherwise).
    ``sim_period_ns``: the testbench clock period (ns; rounded up to an even number of ps).
    Default: the synthesis period, or in ``timed`` mode the shortest period in which every net
    settles if that is longer; a ``timed`` period shorter than that is a SynthError.
    Deterministic: the same inputs give the same numbers.
    """
    source = _toggle_source(mode, toggles)
    if params is not None and {k: int(v) for k, v in params.items()} != \
            {k: synth_result.params[k] for k in params}:
        raise SynthError(f"gate_level_energy({synth_result.top}): params {params} differ from "
                         f"the synthesized {synth_result.params}; synthesize with these params")
    lib = liberty if isinstance(liberty, Liberty) else read_liberty(liberty)
    netlist, costs = prepared_costs(synth_result, lib)
    data_ports = glsim.check_ports(synth_result, netlist)
    cols, n = glsim.stimulus(synth_result, netlist, data_ports, inputs)
    period_ps, delays = glsim.sim_timing(synth_result, lib, netlist, mode, sim_period_ns)
    models, provenance = glsim.cell_models(lib, cell_models)
    build = glsim.build(netlist, lib, synth_result, mode, models, data_ports, period_ps, delays)
    run = glsim.simulate(synth_result, netlist, build, costs.per_net, cols, data_ports, n,
                         hold_cycles, period_ps, source)
    return _energy(synth_result, lib, netlist, costs, run, n, mode, source, period_ps,
                   provenance)


def _toggle_source(mode: str, toggles: str) -> str:
    """Where toggles are counted (``fst`` or ``samples``) for ``mode`` and ``toggles``."""
    if mode not in MODES:
        raise SynthError(f"gate_level_energy: mode must be one of {MODES}, got {mode!r}")
    source = {"auto": "samples" if mode == "zero-delay" else "fst"}.get(toggles, toggles)
    if source not in ("fst", "samples"):
        raise SynthError(f"gate_level_energy: toggles must be auto, fst or samples, got "
                         f"{toggles!r}")
    if source == "samples" and mode != "zero-delay":
        raise SynthError(f"gate_level_energy: toggles='samples' sees one value per cycle and "
                         f"misses glitches; use toggles='fst' with mode={mode!r}")
    return source


# --- toggle costs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NetCost:
    """Energy (pJ) of one rising / one falling toggle of a net, split logic / sequential."""

    rise_logic_pj: float
    fall_logic_pj: float
    rise_seq_pj: float
    fall_seq_pj: float


@dataclass(frozen=True)
class ToggleCosts:
    """Per-net toggle costs of a mapped unit, and its per-cycle clock energy and leakage."""

    per_net: dict[int, NetCost]
    clock_pj_per_cycle: float
    leakage_nw: float


_COST_CACHE: dict[tuple, tuple[Netlist, ToggleCosts]] = {}


def prepared_costs(synth_result: SynthResult, lib: Liberty) -> tuple[Netlist, ToggleCosts]:
    """Netlist and per-net toggle costs (pJ) of a mapped unit, cached per (netlist, Liberty) in
    the process; used by the unit and array energy paths alike."""
    key = glsim.netlist_key(synth_result, lib)
    if key not in _COST_CACHE:
        netlist = load_mapped_netlist(synth_result, lib)
        _COST_CACHE[key] = (netlist, _toggle_costs(netlist, lib))
    return _COST_CACHE[key]


class _Slews:
    """Input slews for the internal-energy lookups: a net's propagated slew (the mean of its
    edges), the ideal clock's for clock pins and nets static timing does not reach."""

    def __init__(self, netlist: Netlist, lib: Liberty, loads) -> None:
        self.net = net_slews(netlist, lib, loads)
        self.clock = clock_slew_ns(lib)

    def at(self, net: int | str | None, clock: bool = False) -> float:
        if clock or not isinstance(net, int):
            return self.clock
        return self.net.get(net, self.clock)


def _output_energy(cell: LibCell, inst: Instance, pin: str, load_ff: float,
                   slews: _Slews) -> tuple[float, float] | None:
    """(rise, fall) internal energy (pJ) of a toggle of output ``pin``: the mean over its
    ``internal_power`` arcs (a flip-flop's output toggles on the clock edge: its clock arc only;
    reset happens once, untimed); None when it has no arc."""
    ck = cell.clock_pin
    arcs = [a for a in cell.pins[pin].power if a.related_pin in inst.pins or a.related_pin == ""]
    if cell.ff is not None and any(a.related_pin == ck for a in arcs):
        arcs = [a for a in arcs if a.related_pin == ck]
    if not arcs:
        return None
    er = ef = 0.0
    for a in arcs:
        s = slews.at(inst.pins.get(a.related_pin), clock=a.related_pin == ck)
        if "rise_power" in a.tables:
            er += max(0.0, a.tables["rise_power"].lookup(s, load_ff))
        if "fall_power" in a.tables:
            ef += max(0.0, a.tables["fall_power"].lookup(s, load_ff))
    return er / len(arcs), ef / len(arcs)


def _input_energy(cell: LibCell, pin: str, slew: float) -> tuple[float, float]:
    """(rise, fall) internal energy (pJ) of an input pin with its own ``internal_power`` (a
    flip-flop's D and clock pins), the mean over its arcs, at ``slew``."""
    power = cell.pins[pin].power
    er = float(np.mean([max(0.0, a.tables["rise_power"].lookup(slew, 0.0))
                        for a in power if "rise_power" in a.tables] or [0.0]))
    ef = float(np.mean([max(0.0, a.tables["fall_power"].lookup(slew, 0.0))
                        for a in power if "fall_power" in a.tables] or [0.0]))
    return er, ef


def _toggle_costs(netlist: Netlist, lib: Liberty) -> ToggleCosts:
    """Energy (pJ) of one rising and one falling toggle of every net, and per-cycle constants.

    A net's toggle costs the internal energy of the cell output driving it (the mean over its
    ``internal_power`` arcs; for a flip-flop the clock arc) plus 1/2 C V^2
    (charged to the driver: sequential when a flip-flop drives it), plus the internal energy of
    the input pins it reaches that have their own ``internal_power`` (a flip-flop's D pin:
    sequential). Clock pins and the clock net are costed per cycle.
    """
    loads = net_loads(netlist, lib)
    slews = _Slews(netlist, lib, loads)
    v2 = lib.voltage_v ** 2
    half_cv2 = {n: 0.5 * c * v2 * 1e-3 for n, c in loads.load_ff.items()}  # fF*V^2 = 1e-3 pJ
    acc: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    driver_seq: dict[int, bool] = {}
    clock_pj = 0.0
    clock_nets: set[int] = set()
    for inst in netlist.instances:
        cell: LibCell = lib.cells[inst.cell]
        ck = cell.clock_pin
        off = 2 if cell.ff is not None else 0
        for pin, net in inst.pins.items():
            if not isinstance(net, int):
                continue
            if pin == ck:
                clock_nets.add(net)
            if pin in inst.output_pins:
                driver_seq[net] = cell.ff is not None
                energy = _output_energy(cell, inst, pin, loads.load_ff[net], slews)
            elif cell.pins[pin].power:
                # input-pin internal energy: the clock pin per cycle, other pins per toggle
                energy = _input_energy(cell, pin, slews.at(net, clock=pin == ck))
                if pin == ck:
                    clock_pj += energy[0] + energy[1]
                    continue
            else:
                continue
            if energy is not None:
                acc[net][off] += energy[0]
                acc[net][off + 1] += energy[1]
    for net in clock_nets:
        clock_pj += 2 * half_cv2[net]  # one rise and one fall of the clock net per cycle
    per_net = {}
    for net in netlist.nets:
        if net in clock_nets:
            continue
        rl, fl, rs, fs = acc[net]
        sw = half_cv2[net]
        if driver_seq.get(net, False):
            rs, fs = rs + sw, fs + sw
        else:
            rl, fl = rl + sw, fl + sw
        per_net[net] = NetCost(rl, fl, rs, fs)
    leak_nw = sum(lib.cells[i.cell].leakage_nw for i in netlist.instances)
    return ToggleCosts(per_net, clock_pj, leak_nw)


def _energy(synth_result: SynthResult, lib: Liberty, netlist: Netlist, costs: ToggleCosts,
            run: SimRun, n: int, mode: str, source: str, period_ps: int,
            provenance: str) -> GateEnergy:
    """Cost the window's toggles (pJ per op) and add the clock and leakage of one cycle."""
    transitions = run.last - run.first + 1
    logic = seq = 0.0
    toggles = 0
    for net, c in costs.per_net.items():
        r, f = run.rise.get(net, 0), run.fall.get(net, 0)
        if not r and not f:
            continue
        toggles += r + f
        logic += r * c.rise_logic_pj + f * c.fall_logic_pj
        seq += r * c.rise_seq_pj + f * c.fall_seq_pj
    ii = 1  # one result per cycle for one input per cycle (checked by glsim)
    clock = costs.clock_pj_per_cycle * ii
    leak = costs.leakage_nw * synth_result.clock_period_ns * ii * 1e-6  # nW*ns = 1e-6 pJ
    seq_total = seq / transitions + clock
    logic /= transitions
    y_arr = np.array(run.y, dtype=np.uint64) if len(netlist.outputs[HANDSHAKE.result]) <= 64 \
        else np.array(run.y, dtype=object)
    return GateEnergy(
        energy_logic_pj=logic, energy_seq_pj=seq_total, energy_leakage_pj=leak,
        energy_pj=logic + seq_total + leak, energy_clock_pj=clock, vectors=n,
        window_cycles=transitions, mode=mode, toggle_source=source,
        latency_cycles=run.latency, ii_cycles=ii,
        clock_period_ns=synth_result.clock_period_ns, sim_period_ns=period_ps / 1000.0,
        toggles_per_op=toggles / transitions, y=y_arr, cell_models=provenance,
        wire_load=lib.wire_load_name, sim_wall_s=run.sim_s, count_wall_s=run.count_s,
    )


def result_json(e: GateEnergy) -> str:
    """The numbers of ``e`` as JSON (no outputs), for logs and provenance."""
    d = {k: v for k, v in e.__dict__.items() if k != "y"}
    return json.dumps(d, sort_keys=True)
