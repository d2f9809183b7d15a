"""Static timing of a mapped netlist with the Liberty's NLDM tables.

:func:`static_timing` propagates arrival time and slew (separately for rising and falling edges)
through the combinational cells in topological order. Delays and output slews come from the tables
interpolated at the input slew and the net's load (:func:`net_loads`: the core load model of
:mod:`hwmodel.ops.loads` with the Liberty's pin capacitances and wire load, the Liberty's own
``wire_load`` model when it has one, else the 45 nm default that the default energy path uses
too). Paths: register to register, input to register, register to output and input to output,
with the unit's ports assumed to be driven by and captured in the library's flip-flop on the same
ideal clock (so every path is a full register-to-register path, launch clock-to-q and capture
setup from the library tables).

:func:`output_delays` gives, from the same loads and per-edge slews (:func:`net_edge_slews`), the
rise and fall delay (ns) of every cell instance's output, the worst over its arcs: the delays the
``timed`` gate-level simulation (:mod:`hwmodel.ops.glsim`) annotates. Liberty files are read by
:func:`hwmodel.cells.liberty.read_liberty`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwmodel.cells.liberty import LibArc, LibCell, Liberty, LibertyError, read_liberty
from hwmodel.ops.loads import NetLoads, OutputRegister
from hwmodel.ops.loads import net_loads as core_net_loads
from hwmodel.ops.netlist import Netlist
from hwmodel.ops.synth import SynthError, SynthResult, load_mapped_netlist

CLOCK_LEAF_FANOUT = 4  # the ideal clock is a buffer driving 4 clock pins (stated assumption)


def boundary_register(lib: Liberty) -> OutputRegister:
    """The register capturing the unit's outputs: the library flip-flop's D pin on every output
    port bit, as one more fan-out of the net's wire load."""
    ff = lib.sequential_cell()
    d_pin = ff.ff.get("next_state", "D").strip("() ") if ff.ff else "D"
    return OutputRegister(ff.pins[d_pin].capacitance_ff if d_pin in ff.pins else 0.0)


def net_loads(netlist: Netlist, lib: Liberty) -> NetLoads:
    """Capacitive load (fF) of every net of a mapped netlist: the Liberty's input-pin
    capacitances of the fan-out cells + its wire load for the fan-out count; a net that leaves
    the unit also drives the D pin of a boundary flip-flop (one more fan-out)."""
    return core_net_loads(netlist, lambda cell, pin: lib.cells[cell].pins[pin].capacitance_ff,
                          lib.wire_load, boundary_register(lib))


@dataclass(frozen=True)
class PathStep:
    """One step of a timing path: instance, cell, arc ('A->Y rise'), its delay (ns)."""

    instance: str
    cell: str
    arc: str
    delay_ns: float


@dataclass(frozen=True)
class TimingResult:
    """Worst register-to-register path of a mapped unit (boundary registers included).

    ``critical_path_ns`` = launch clock-to-q + combinational delay + capture setup (ns);
    ``fmax_mhz`` = 1000 / critical_path_ns; ``meets_1ghz`` when it fits in 1.0 ns.
    ``path`` lists the steps from the launching flip-flop to the capturing one.
    """

    critical_path_ns: float
    fmax_mhz: float
    meets_1ghz: bool
    path: list[PathStep]
    startpoint: str
    endpoint: str
    clock_slew_ns: float
    wire_load: str
    mode: str = "NLDM static timing, ideal clock"


_UNATE = {
    "positive_unate": (("rise", "rise"), ("fall", "fall")),
    "negative_unate": (("fall", "rise"), ("rise", "fall")),
    "non_unate": (("rise", "rise"), ("fall", "rise"), ("rise", "fall"), ("fall", "fall")),
}


def _arc_out(arc: LibArc, out_edge: str, slew: float, load: float) -> tuple[float, float]:
    d = arc.tables.get(f"cell_{out_edge}")
    s = arc.tables.get(f"{out_edge}_transition")
    if d is None:
        return math.nan, math.nan
    return d.lookup(slew, load), (s.lookup(slew, load) if s is not None else slew)


def clock_slew_ns(lib: Liberty) -> float:
    """Slew (ns) of the ideal clock: the library's strongest buffer driving
    :data:`CLOCK_LEAF_FANOUT` clock pins, from an ideal edge (the smallest characterized slew)."""
    bufs = [c for c in lib.cells.values() if c.ff is None and len(c.inputs) == 1
            and len(c.outputs) == 1 and c.pins[c.outputs[0]].function.strip("() ") == c.inputs[0]]
    ff = lib.sequential_cell()
    ck = ff.clock_pin or "CK"
    load = CLOCK_LEAF_FANOUT * ff.pins[ck].capacitance_ff + lib.wire_cap_ff(CLOCK_LEAF_FANOUT)
    if not bufs:
        raise LibertyError(f"{lib.path}: no buffer cell to drive the clock")
    buf = max(bufs, key=lambda c: c.area_um2)
    arc = buf.pins[buf.outputs[0]].timing[0]
    s0 = float(arc.tables["rise_transition"].slew_ns[0])
    return max(arc.tables["rise_transition"].lookup(s0, load),
               arc.tables["fall_transition"].lookup(s0, load))


def _ff_arcs(cell: LibCell) -> tuple[str, LibArc | None, LibArc | None, str]:
    """(Q pin, clock->Q arc, D setup arc, D pin) of a flip-flop cell."""
    ck = cell.clock_pin or "CK"
    q = next((p for p in cell.outputs if any(a.related_pin == ck for a in cell.pins[p].timing)),
             cell.outputs[0])
    c2q = next((a for a in cell.pins[q].timing if a.related_pin == ck
                and a.timing_type.startswith("rising_edge")), None)
    d = (cell.ff or {}).get("next_state", "D").strip("() ")
    setup = None
    if d in cell.pins:
        setup = next((a for a in cell.pins[d].timing if a.timing_type.startswith("setup")), None)
    return q, c2q, setup, d


def combinational_order(netlist: Netlist, lib: Liberty, where: str = "") -> list[int]:
    """Indices of the combinational instances in topological order (every driver before its
    fan-out; flip-flop outputs and ports are sources). SynthError on a combinational loop."""
    comb = [k for k, inst in enumerate(netlist.instances) if lib.cells[inst.cell].ff is None]
    indeg = {}
    users: dict[int, list[int]] = defaultdict(list)
    for k in comb:
        inst = netlist.instances[k]
        cell = lib.cells[inst.cell]
        deps = 0
        for p in cell.inputs:
            net = inst.pins.get(p)
            if isinstance(net, int) and net in netlist.driver:
                dk = netlist.driver[net][0]
                if lib.cells[netlist.instances[dk].cell].ff is None:
                    users[dk].append(k)
                    deps += 1
        indeg[k] = deps
    ready = sorted(k for k in comb if indeg[k] == 0)
    order = []
    while ready:
        k = ready.pop()
        order.append(k)
        for u in users.get(k, []):
            indeg[u] -= 1
            if indeg[u] == 0:
                ready.append(u)
    if len(order) != len(comb):
        raise SynthError(f"{where or netlist.top}: combinational loop in the mapped netlist of "
                         f"{netlist.top}; static timing needs acyclic logic")
    return order


# arrival[(net, edge)] = (time ns, slew ns, predecessor step or None)
Arrivals = dict[tuple[int, str], tuple[float, float, tuple | None]]


def _untimed_inputs(netlist: Netlist, lib: Liberty) -> set[int]:
    """Input-port nets that launch no data path: clock ports (they reach a clock pin) and the
    nets of flip-flops' asynchronous clear/preset pins."""
    clock_ports = {name for name, bits in netlist.inputs.items()
                   if any(isinstance(b, int) and any(
                       lib.cells[netlist.instances[k].cell].clock_pin == p
                       for k, p in netlist.sinks.get(b, [])) for b in bits)}
    out = {b for name in clock_ports for b in netlist.inputs[name] if isinstance(b, int)}
    for inst in netlist.instances:
        cell = lib.cells[inst.cell]
        if cell.ff is not None:
            for key in ("clear", "preset"):
                pin = cell.ff.get(key, "").strip("()!' ")
                if pin in inst.pins and isinstance(inst.pins[pin], int):
                    out.add(inst.pins[pin])
    return out


def _launch_points(netlist: Netlist, lib: Liberty, loads: NetLoads,
                   clk_slew: float) -> Arrivals:
    """Arrivals at the start of every path: the input ports (launched by a boundary flip-flop)
    and the flip-flop outputs, at clock-to-Q."""
    arrival: Arrivals = {}

    def launch(net: int, label: str, cell: LibCell, c2q: LibArc | None) -> None:
        for edge in ("rise", "fall"):
            if c2q is None:
                d, s = 0.0, clk_slew
            else:
                d, s = _arc_out(c2q, edge, clk_slew, loads.load_ff[net])
            arrival[(net, edge)] = (d, s, (None, label, cell.name,
                                           f"{cell.clock_pin}->Q {edge}", d))

    bff = lib.sequential_cell()
    _, bc2q, _, _ = _ff_arcs(bff)
    untimed = _untimed_inputs(netlist, lib)
    for net, name in netlist.port_labels(netlist.inputs).items():
        if net not in untimed:
            launch(net, f"in_reg({name})", bff, bc2q)
    for inst in netlist.instances:
        cell = lib.cells[inst.cell]
        if cell.ff is None:
            continue
        q, c2q, _, _ = _ff_arcs(cell)
        if isinstance(inst.pins.get(q), int):
            launch(inst.pins[q], inst.name, cell, c2q)
    return arrival


def _propagate_cell(arrival: Arrivals, netlist: Netlist, lib: Liberty, loads: NetLoads,
                    k: int) -> None:
    """Extend ``arrival`` through instance ``k``: per output edge the latest arrival over its
    arcs and input edges, and the worst slew among the arcs reaching it (conservative)."""
    inst = netlist.instances[k]
    cell = lib.cells[inst.cell]
    for opin in cell.outputs:
        onet = inst.pins.get(opin)
        if not isinstance(onet, int):
            continue
        load = loads.load_ff[onet]
        for arc in cell.pins[opin].timing:
            inet = inst.pins.get(arc.related_pin)
            if not isinstance(inet, int):
                continue
            for in_edge, out_edge in _UNATE.get(arc.timing_sense, _UNATE["non_unate"]):
                src = arrival.get((inet, in_edge))
                if src is None:
                    continue
                d, s = _arc_out(arc, out_edge, src[1], load)
                if math.isnan(d):
                    continue
                t = src[0] + d
                cur = arrival.get((onet, out_edge))
                if cur is None or t > cur[0]:
                    step = ((inet, in_edge), inst.name, cell.name,
                            f"{arc.related_pin}->{opin} {out_edge}", d)
                    slew = max(s, cur[1]) if cur is not None else s
                    arrival[(onet, out_edge)] = (t, slew, step)
                elif s > cur[1]:
                    arrival[(onet, out_edge)] = (cur[0], s, cur[2])


def _propagate(netlist: Netlist, lib: Liberty, loads: NetLoads, clk_slew: float,
               where: str) -> Arrivals:
    """Arrival time and slew (ns) per (net, 'rise'|'fall'), with the predecessor step."""
    arrival = _launch_points(netlist, lib, loads, clk_slew)
    for k in combinational_order(netlist, lib, where):
        _propagate_cell(arrival, netlist, lib, loads, k)
    return arrival


def net_slews(netlist: Netlist, lib: Liberty,
              loads: NetLoads | None = None) -> dict[int, float]:
    """Slew (ns) of every timed net: the mean of its rising and falling transition times."""
    acc: dict[int, list[float]] = defaultdict(list)
    for (net, _edge), slew in net_edge_slews(netlist, lib, loads).items():
        acc[net].append(slew)
    return {net: float(np.mean(v)) for net, v in acc.items()}


def net_edge_slews(netlist: Netlist, lib: Liberty,
                   loads: NetLoads | None = None) -> dict[tuple[int, str], float]:
    """Slew (ns) of every timed net per edge, keyed ``(net, 'rise'|'fall')``: the transition
    time static timing propagates (the worst over the arcs reaching that edge of the net)."""
    loads = loads or net_loads(netlist, lib)
    arrival = _propagate(netlist, lib, loads, clock_slew_ns(lib), netlist.top)
    return {key: slew for key, (_, slew, _) in arrival.items()}


def _output_arcs(cell: LibCell, pin: str) -> list[LibArc]:
    """The delay arcs into output ``pin``: clock-to-output for a flip-flop (its edge-triggered
    arcs from the clock pin; reset arcs are not delays of the data path), else every arc, as
    static timing propagates them."""
    arcs = cell.pins[pin].timing
    if cell.ff is not None:
        return [a for a in arcs if a.related_pin == cell.clock_pin
                and a.timing_type.startswith(("rising_edge", "falling_edge"))]
    return list(arcs)


def output_delays(netlist: Netlist, lib: Liberty,
                  loads: NetLoads | None = None) -> dict[tuple[int, str], tuple[float, float]]:
    """Rise and fall delay (ns) of every cell output, keyed ``(instance index, output pin)``.

    Each is the worst (max) over the output's arcs and, per arc, over the input edges that give
    that output edge (its ``timing_sense``) of the NLDM ``cell_rise``/``cell_fall`` at the
    instance's actual output load (:func:`net_loads`) and the input net's slew for that edge
    (:func:`net_edge_slews`; the ideal clock's slew for a clock pin or a net static timing does
    not reach, such as the reset). Flip-flops: clock-to-Q. An output with no arc gets 0.0.
    """
    loads = loads or net_loads(netlist, lib)
    slews = net_edge_slews(netlist, lib, loads)
    clk_slew = clock_slew_ns(lib)
    out: dict[tuple[int, str], tuple[float, float]] = {}
    for k, inst in enumerate(netlist.instances):
        cell = lib.cells[inst.cell]
        for opin in cell.outputs:
            onet = inst.pins.get(opin)
            if not isinstance(onet, int):
                continue
            worst = {"rise": 0.0, "fall": 0.0}
            for arc in _output_arcs(cell, opin):
                inet = inst.pins.get(arc.related_pin)
                if not isinstance(inet, int):
                    continue
                for in_edge, out_edge in _UNATE.get(arc.timing_sense, _UNATE["non_unate"]):
                    s = clk_slew if cell.ff is not None else slews.get((inet, in_edge), clk_slew)
                    d, _ = _arc_out(arc, out_edge, s, loads.load_ff[onet])
                    if not math.isnan(d):
                        worst[out_edge] = max(worst[out_edge], d)
            out[(k, opin)] = (worst["rise"], worst["fall"])
    return out


Endpoint = tuple[int, LibCell, LibArc | None, str]  # net, capturing cell, its setup arc, label


def _endpoints(netlist: Netlist, lib: Liberty) -> list[Endpoint]:
    """Where paths end: flip-flop D pins inside, and the unit's outputs into boundary
    flip-flops."""
    bff = lib.sequential_cell()
    _, _, bsetup, _ = _ff_arcs(bff)
    endpoints: list[Endpoint] = []
    for inst in netlist.instances:
        cell = lib.cells[inst.cell]
        if cell.ff is None:
            continue
        _, _, setup, d = _ff_arcs(cell)
        if isinstance(inst.pins.get(d), int):
            endpoints.append((inst.pins[d], cell, setup, f"{inst.name}.{d}"))
    for net, name in netlist.port_labels(netlist.outputs).items():
        endpoints.append((net, bff, bsetup, f"out_reg({name})"))
    return endpoints


def _worst_endpoint(arrival: Arrivals, endpoints: list[Endpoint], clk_slew: float
                    ) -> tuple[float, tuple[int, str] | None, str, PathStep | None]:
    """(arrival + setup ns, (net, edge), endpoint label, capture step) of the latest endpoint."""
    best: tuple[float, tuple[int, str] | None, str, PathStep | None] = (0.0, None, "", None)
    for net, cell, setup, label in endpoints:
        for edge in ("rise", "fall"):
            a = arrival.get((net, edge))
            if a is None:
                continue
            su = 0.0
            if setup is not None:
                tbl = setup.tables.get(f"{edge}_constraint")
                if tbl is not None:
                    su = max(0.0, tbl.lookup(a[1], clk_slew))
            total = a[0] + su
            if best[1] is None or total > best[0]:
                best = (total, (net, edge), label,
                        PathStep(label, cell.name, f"setup {edge}", su))
    return best


def _trace_back(arrival: Arrivals, key: tuple[int, str] | None, capture: PathStep
                ) -> tuple[list[PathStep], str]:
    """The path's steps from its launch to ``capture``, and its startpoint."""
    steps: list[PathStep] = [capture]
    start = ""
    while key is not None:
        _, _, prev = arrival[key]
        if prev is None:
            break
        pkey, inst_name, cell_name, arc_label, d = prev
        steps.append(PathStep(inst_name, cell_name, arc_label, d))
        start = inst_name
        key = pkey
    steps.reverse()
    return steps, start


def static_timing(synth_result: SynthResult, liberty: Liberty | Path) -> TimingResult:
    """Critical path (ns), fmax (MHz) and whether 1 GHz is met, from the NLDM tables.

    Every unit port is assumed registered outside the unit by the library flip-flop on the same
    ideal clock: inputs launch at its clock-to-q (at the input net's load), outputs are captured
    with its setup time. Asynchronous reset paths are not timed (no recovery/removal checks).
    """
    lib = liberty if isinstance(liberty, Liberty) else read_liberty(liberty)
    netlist = load_mapped_netlist(synth_result, lib)
    loads = net_loads(netlist, lib)
    clk_slew = clock_slew_ns(lib)
    arrival = _propagate(netlist, lib, loads, clk_slew, str(synth_result.netlist_json))
    cp, key, endpoint, capture = _worst_endpoint(arrival, _endpoints(netlist, lib), clk_slew)
    if key is None or capture is None:
        raise SynthError(f"{synth_result.netlist_json}: {synth_result.top} has no timed path "
                         "(no flip-flop or output is reached from an input or a flip-flop)")
    steps, start = _trace_back(arrival, key, capture)
    return TimingResult(
        critical_path_ns=cp,
        fmax_mhz=1000.0 / cp if cp > 0 else math.inf,
        meets_1ghz=cp <= 1.0,
        path=steps,
        startpoint=start,
        endpoint=endpoint,
        clock_slew_ns=clk_slew,
        wire_load=lib.wire_load_name,
    )
