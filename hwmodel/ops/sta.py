"""Static timing of a mapped netlist with the Liberty's NLDM tables, and the Liberty reader it uses.

:func:`read_liberty` parses the subset of Liberty the op-cost layer needs (units, templates,
``cell``/``pin``/``ff``/``timing``/``internal_power`` groups with ``cell_rise``, ``cell_fall``,
``rise_transition``, ``fall_transition``, ``rise_constraint``, ``fall_constraint``,
``rise_power``, ``fall_power``; ``capacitance``, ``area``, ``cell_leakage_power``,
``timing_sense``, ``timing_type``, ``related_pin``; ``wire_load``), scaling everything to ns, fF,
pJ and nW.

:func:`static_timing` propagates arrival time and slew (separately for rising and falling edges)
through the combinational cells in topological order. Delays and output slews come from the tables
interpolated at the input slew and the net's load: the input pins of the fan-out cells plus a wire-
load capacitance per fan-out (the Liberty's own ``wire_load`` model when it has one, else
:data:`DEFAULT_WIRE_LOAD`, the default energy path's wire model). Paths: register to register,
input to register, register to output and input to output, with the unit's ports assumed to be
driven by and captured in the library's flip-flop on the same ideal clock (so every path is a full
register-to-register path, launch clock-to-q and capture setup from the library tables).

:func:`output_delays` gives, from the same loads and per-edge slews (:func:`net_edge_slews`), the
rise and fall delay (ns) of every cell instance's output, the worst over its arcs: the delays the
``timed`` gate-level simulation (:mod:`hwmodel.ops.gatelevel`) annotates.
"""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwmodel.cells.nldm import NldmTable
from hwmodel.ops.energy import WIRE_CAP_FF_PER_UM, WIRE_UM_PER_FANOUT
from hwmodel.ops.synth import MappedNetlist, SynthError, SynthResult, load_mapped_netlist

# Wire load when the Liberty has no ``wire_load`` group: the same linear model as the default
# energy path (hwmodel.ops.energy, where the constants and their sources are stated), so that both
# paths cost a net's wire alike: WIRE_UM_PER_FANOUT um of wire per fan-out at WIRE_CAP_FF_PER_UM.
DEFAULT_WIRE_LOAD = {
    "name": f"linear {WIRE_CAP_FF_PER_UM:g} fF/um x {WIRE_UM_PER_FANOUT:g} um per fan-out "
            "(hwmodel.ops.energy)",
    "capacitance": WIRE_CAP_FF_PER_UM,
    "slope": WIRE_UM_PER_FANOUT,
    "fanout_length": ((1, WIRE_UM_PER_FANOUT),),
}
CLOCK_LEAF_FANOUT = 4  # the ideal clock is a buffer driving 4 clock pins (stated assumption)


class LibertyError(SynthError):
    """A Liberty file cannot be read or lacks what the op-cost layer needs."""


# --- Liberty parsing -------------------------------------------------------------------------


@dataclass
class _Group:
    name: str
    args: list[str]
    attrs: dict[str, str] = field(default_factory=dict)
    complex: dict[str, list[list[str]]] = field(default_factory=dict)
    groups: list[_Group] = field(default_factory=list)

    def sub(self, name: str) -> list[_Group]:
        return [g for g in self.groups if g.name == name]


_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[{}():;,]|[^\s{}():;,"]+')
_COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)


def _parse(text: str, path: Path) -> _Group:
    text = _COMMENT_RE.sub(" ", text).replace("\\\n", " ")
    tokens = _TOKEN_RE.findall(text)
    pos = 0

    def unq(tok: str) -> str:
        return tok[1:-1] if tok.startswith('"') else tok

    def fail(msg: str) -> LibertyError:
        return LibertyError(f"{path}: Liberty syntax error near token {pos}: {msg}")

    def group_body(group: _Group) -> None:
        nonlocal pos
        while pos < len(tokens):
            tok = tokens[pos]
            if tok == "}":
                pos += 1
                return
            if tok == ";":
                pos += 1
                continue
            name = tok
            pos += 1
            if pos >= len(tokens):
                raise fail("unexpected end")
            if tokens[pos] == ":":
                pos += 1
                value = []
                while pos < len(tokens) and tokens[pos] not in (";", "}"):
                    value.append(unq(tokens[pos]))
                    pos += 1
                if pos < len(tokens) and tokens[pos] == ";":
                    pos += 1
                group.attrs[name] = " ".join(value)
            elif tokens[pos] == "(":
                pos += 1
                args: list[str] = []
                while pos < len(tokens) and tokens[pos] != ")":
                    if tokens[pos] != ",":
                        args.append(unq(tokens[pos]))
                    pos += 1
                pos += 1
                if pos < len(tokens) and tokens[pos] == "{":
                    pos += 1
                    child = _Group(name, args)
                    group_body(child)
                    group.groups.append(child)
                else:
                    group.complex.setdefault(name, []).append(args)
            else:
                raise fail(f"expected ':' or '(' after {name!r}")

    root = _Group("root", [])
    group_body(root)
    libs = root.sub("library")
    if not libs:
        raise LibertyError(f"{path}: no library group; is this a Liberty (.lib) file?")
    return libs[0]


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.replace(",", " ").split()]


@dataclass(frozen=True)
class TimingArc:
    """A ``timing`` group of an output (or constrained input) pin; tables in ns."""

    related_pin: str
    timing_type: str
    timing_sense: str
    tables: dict[str, NldmTable]


@dataclass(frozen=True)
class PowerArc:
    """An ``internal_power`` group: ``rise_power``/``fall_power`` tables scaled to pJ."""

    related_pin: str
    tables: dict[str, NldmTable]


@dataclass(frozen=True)
class LibPin:
    """A cell pin: direction, capacitance (fF), Boolean function, arcs."""

    name: str
    direction: str
    capacitance_ff: float
    function: str
    clock: bool
    timing: tuple[TimingArc, ...]
    power: tuple[PowerArc, ...]


@dataclass(frozen=True)
class LibCell:
    """A library cell: area (um^2), leakage (nW), pins, and its flip-flop (if sequential)."""

    name: str
    area_um2: float
    leakage_nw: float
    pins: dict[str, LibPin]
    ff: dict[str, str] | None

    @property
    def inputs(self) -> list[str]:
        return [p for p, pin in self.pins.items() if pin.direction == "input"]

    @property
    def outputs(self) -> list[str]:
        return [p for p, pin in self.pins.items() if pin.direction == "output"]

    @property
    def clock_pin(self) -> str | None:
        if self.ff is None:
            return None
        return self.ff.get("clocked_on", "").strip("() ")


@dataclass(frozen=True)
class Liberty:
    """The parts of a Liberty library the op-cost layer uses, in ns, fF, pJ, nW, um^2 and V."""

    name: str
    path: Path
    voltage_v: float
    cells: dict[str, LibCell]
    wire_load_name: str
    wire_cap_per_length_ff: float
    wire_slope: float
    fanout_length: tuple[tuple[int, float], ...]

    def cell(self, name: str) -> LibCell:
        """The named cell; LibertyError when the library has none."""
        if name not in self.cells:
            raise LibertyError(f"{self.path}: no cell {name!r} in library {self.name}")
        return self.cells[name]

    def wire_cap_ff(self, fanout: int) -> float:
        """Wire-load capacitance (fF) of a net with ``fanout`` sinks."""
        if fanout <= 0:
            return 0.0
        pts = dict(self.fanout_length)
        if fanout in pts:
            length = pts[fanout]
        else:
            lo = [f for f in pts if f < fanout]
            hi = [f for f in pts if f > fanout]
            if lo and hi:
                f0, f1 = max(lo), min(hi)
                length = pts[f0] + (pts[f1] - pts[f0]) * (fanout - f0) / (f1 - f0)
            elif lo:
                f0 = max(lo)
                length = pts[f0] + self.wire_slope * (fanout - f0)
            else:
                length = self.wire_slope * fanout
        return self.wire_cap_per_length_ff * length

    def sequential_cell(self) -> LibCell:
        """The flip-flop that boundary registers are made of (the first ``ff`` cell by name)."""
        seq = [c for n, c in sorted(self.cells.items()) if c.ff is not None]
        if not seq:
            raise LibertyError(f"{self.path}: library {self.name} has no flip-flop cell")
        return seq[0]


_TIME_NS = {"1ps": 1e-3, "10ps": 1e-2, "100ps": 0.1, "1ns": 1.0, "10ns": 10.0, "1us": 1e3}
_CAP_FF = {"ff": 1.0, "pf": 1e3, "nf": 1e6}
_LEAK_NW = {"1pw": 1e-3, "10pw": 1e-2, "100pw": 0.1, "1nw": 1.0, "10nw": 10.0, "100nw": 100.0,
            "1uw": 1e3, "1mw": 1e6}


def _table(group: _Group, templates: dict[str, _Group], scale: float, path: Path) -> NldmTable:
    tmpl = templates.get(group.args[0]) if group.args else None
    vars_ = [tmpl.attrs.get("variable_1", ""), tmpl.attrs.get("variable_2", "")] if tmpl \
        else ["input_net_transition", "total_output_net_capacitance"]

    def index(k: int) -> np.ndarray | None:
        for src in (group, tmpl):
            if src is not None and f"index_{k}" in src.complex:
                return np.array(_floats(" ".join(src.complex[f"index_{k}"][0])))
        return None

    i1, i2 = index(1), index(2)
    rows = [_floats(r) for r in group.complex.get("values", [[]])[0]]
    vals = np.array(rows, dtype=float)
    if vals.size == 0:
        raise LibertyError(f"{path}: table {group.name} has no values")
    if i1 is None:
        i1 = np.zeros(1)
    if i2 is None:
        i2 = np.zeros(1)
    try:
        return _oriented(vals.reshape(len(i1), len(i2)), i1, i2, vars_, scale)
    except ValueError as exc:  # values not matching the indexes, or indexes not increasing
        raise LibertyError(f"{path}: table {group.name} is malformed ({exc}); fix its index_1/"
                           "index_2/values") from None


def _oriented(vals: np.ndarray, i1: np.ndarray, i2: np.ndarray, vars_: list[str],
              scale: float) -> NldmTable:
    """The table with its axes named by the template variables, as (slew, load)."""
    axis = {vars_[0]: i1, vars_[1]: i2}
    # timing/power: (input transition, output capacitance); constraints: (constrained pin
    # transition, related pin transition) -- the second axis is then the clock slew.
    slew_var = next((v for v in vars_ if "transition" in v and "related" not in v), vars_[0])
    load_var = next((v for v in vars_ if "capacitance" in v or "related_pin" in v), None)
    slew_ax = axis[slew_var]
    if load_var is None:  # 1-D table in slew only (e.g. clock-pin power)
        return NldmTable(slew_ax, np.zeros(1), vals.reshape(len(slew_ax), 1) * scale)
    load_ax = axis[load_var]
    if slew_var != vars_[0]:
        vals = vals.T
    return NldmTable(slew_ax.copy(), load_ax.copy(), vals * scale)


@functools.lru_cache(maxsize=8)
def _read_cached(path: str, mtime_ns: int, size: int) -> Liberty:  # noqa: ARG001 (cache key)
    p = Path(path)
    lib = _parse(p.read_text(errors="replace"), p)
    time_ns = _TIME_NS.get(lib.attrs.get("time_unit", "1ns").replace(" ", "").lower())
    if time_ns is None:
        raise LibertyError(f"{p}: unsupported time_unit {lib.attrs.get('time_unit')!r}")
    cap_args = lib.complex.get("capacitive_load_unit", [["1", "ff"]])[0]
    cap_ff = float(cap_args[0]) * _CAP_FF[cap_args[1].lower()]
    leak_nw = _LEAK_NW.get(lib.attrs.get("leakage_power_unit", "1nW").replace(" ", "").lower())
    if leak_nw is None:
        raise LibertyError(f"{p}: unsupported leakage_power_unit "
                           f"{lib.attrs.get('leakage_power_unit')!r}")
    volt_unit = lib.attrs.get("voltage_unit", "1V").replace(" ", "").lower()
    volt_scale = {"1v": 1.0, "1mv": 1e-3}.get(volt_unit, 1.0)
    if "nom_voltage" not in lib.attrs:
        raise LibertyError(f"{p}: library has no nom_voltage; the energy model needs VDD")
    vdd = float(lib.attrs["nom_voltage"]) * volt_scale
    # Liberty internal energy is in (capacitive_load_unit) x (voltage_unit)^2: fF*V^2 = fJ.
    energy_pj = cap_ff * volt_scale ** 2 * 1e-3
    templates = {g.args[0]: g for g in lib.groups
                 if g.name in ("lu_table_template", "power_lut_template") and g.args}
    cells: dict[str, LibCell] = {}
    for cg in lib.sub("cell"):
        pins: dict[str, LibPin] = {}
        for pg in cg.sub("pin"):
            arcs = []
            for tg in pg.sub("timing"):
                tables = {t.name: _table(t, templates, time_ns, p) for t in tg.groups
                          if t.name in ("cell_rise", "cell_fall", "rise_transition",
                                        "fall_transition", "rise_constraint", "fall_constraint")}
                arcs.append(TimingArc(tg.attrs.get("related_pin", ""),
                                      tg.attrs.get("timing_type", "combinational"),
                                      tg.attrs.get("timing_sense", "non_unate"), tables))
            powers = []
            for ig in pg.sub("internal_power"):
                tables = {t.name: _table(t, templates, energy_pj, p) for t in ig.groups
                          if t.name in ("rise_power", "fall_power", "power")}
                if "power" in tables:
                    tables.setdefault("rise_power", tables["power"])
                    tables.setdefault("fall_power", tables["power"])
                powers.append(PowerArc(ig.attrs.get("related_pin", ""), tables))
            for pin_name in pg.args:
                pins[pin_name] = LibPin(
                    name=pin_name,
                    direction=pg.attrs.get("direction", "input"),
                    capacitance_ff=float(pg.attrs.get("capacitance", 0.0)) * cap_ff,
                    function=pg.attrs.get("function", ""),
                    clock=pg.attrs.get("clock", "false") == "true",
                    timing=tuple(arcs),
                    power=tuple(powers),
                )
        if "cell_leakage_power" in cg.attrs:
            leak = float(cg.attrs["cell_leakage_power"])
        else:
            states = [float(g.attrs["value"]) for g in cg.sub("leakage_power")
                      if "value" in g.attrs]
            leak = float(np.mean(states)) if states else 0.0
        ffs = cg.sub("ff")
        ff = dict(ffs[0].attrs) if ffs else None
        name = cg.args[0]
        cells[name] = LibCell(name, float(cg.attrs.get("area", 0.0)), leak * leak_nw, pins, ff)
    wl_groups = {g.args[0]: g for g in lib.sub("wire_load") if g.args}
    wl_name = lib.attrs.get("default_wire_load", "")
    wl = wl_groups.get(wl_name) or (next(iter(wl_groups.values())) if wl_groups else None)
    if wl is not None and "capacitance" in wl.attrs:
        fl = tuple(sorted((int(float(a[0])), float(a[1])) for a in wl.complex.get(
            "fanout_length", [])))
        wire = (f"{wl.args[0]} (Liberty)", float(wl.attrs["capacitance"]) * cap_ff,
                float(wl.attrs.get("slope", 0.0)), fl)
    else:
        d = DEFAULT_WIRE_LOAD
        wire = (d["name"], d["capacitance"], d["slope"], d["fanout_length"])
    return Liberty(lib.args[0] if lib.args else p.stem, p, vdd, cells, *wire)


def read_liberty(path: Path) -> Liberty:
    """Read a Liberty file (cached per path and modification time)."""
    p = Path(path).resolve()
    if not p.is_file():
        raise LibertyError(f"{p}: no such Liberty file; pass the project library "
                           "(hwmodel.cells.default_liberty_path())")
    st = p.stat()
    return _read_cached(str(p), st.st_mtime_ns, st.st_size)


# --- loads -----------------------------------------------------------------------------------


@dataclass
class NetLoads:
    """Per net: driver (instance index, pin) or None for a port/constant, sinks, load in fF."""

    driver: dict[int, tuple[int, str]]
    sinks: dict[int, list[tuple[int, str]]]
    load_ff: dict[int, float]
    primary_inputs: dict[int, str]
    primary_outputs: dict[int, str]


def net_loads(netlist: MappedNetlist, lib: Liberty) -> NetLoads:
    """Driver, sinks and capacitive load (fF) of every net.

    Load = input-pin capacitances of the fan-out cells + wire load for the fan-out count; a net
    that leaves the unit also drives the D pin of a boundary flip-flop (one more fan-out).
    """
    driver: dict[int, tuple[int, str]] = {}
    sinks: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for k, inst in enumerate(netlist.instances):
        cell = lib.cell(inst.cell)
        for pin, net in inst.pins.items():
            if pin not in cell.pins:
                raise LibertyError(f"{lib.path}: cell {inst.cell} has no pin {pin} "
                                   f"(used by the mapped netlist)")
            if not isinstance(net, int):
                continue
            if cell.pins[pin].direction == "output":
                driver[net] = (k, pin)
            else:
                sinks[net].append((k, pin))
    pis = {b: f"{name}[{i}]" for name, bits in netlist.inputs.items()
           for i, b in enumerate(bits) if isinstance(b, int)}
    pos = {b: f"{name}[{i}]" for name, bits in netlist.outputs.items()
           for i, b in enumerate(bits) if isinstance(b, int)}
    ff = lib.sequential_cell()
    d_pin = ff.ff.get("next_state", "D").strip("() ") if ff.ff else "D"
    d_cap = ff.pins[d_pin].capacitance_ff if d_pin in ff.pins else 0.0
    load: dict[int, float] = {}
    for net in netlist.nets:
        fan = sinks.get(net, [])
        cap = sum(lib.cells[netlist.instances[k].cell].pins[p].capacitance_ff for k, p in fan)
        fanout = len(fan)
        if net in pos:
            cap += d_cap
            fanout += 1
        load[net] = cap + lib.wire_cap_ff(fanout)
    return NetLoads(driver, dict(sinks), load, pis, pos)


# --- static timing ---------------------------------------------------------------------------


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


def _arc_out(arc: TimingArc, out_edge: str, slew: float, load: float) -> tuple[float, float]:
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


def _ff_arcs(cell: LibCell) -> tuple[str, TimingArc | None, TimingArc | None, str]:
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


def combinational_order(netlist: MappedNetlist, lib: Liberty, loads: NetLoads,
                        where: str = "") -> list[int]:
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
            if isinstance(net, int) and net in loads.driver:
                dk = loads.driver[net][0]
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


def _propagate(netlist: MappedNetlist, lib: Liberty, loads: NetLoads, clk_slew: float,
               where: str) -> dict[tuple[int, str], tuple[float, float, tuple | None]]:
    """Arrival time and slew (ns) per (net, 'rise'|'fall'), with the predecessor step."""
    bff = lib.sequential_cell()
    _, bc2q, _, _ = _ff_arcs(bff)
    clock_ports = {name for name, bits in netlist.inputs.items()
                   if any(isinstance(b, int) and any(
                       lib.cells[netlist.instances[k].cell].clock_pin == p
                       for k, p in loads.sinks.get(b, [])) for b in bits)}
    reset_nets: set[int] = set()
    for inst in netlist.instances:
        cell = lib.cells[inst.cell]
        if cell.ff is not None:
            for key in ("clear", "preset"):
                pin = cell.ff.get(key, "").strip("()!' ")
                if pin in inst.pins and isinstance(inst.pins[pin], int):
                    reset_nets.add(inst.pins[pin])

    # arrival[(net, edge)] = (time_ns, slew_ns, predecessor step)
    arrival: dict[tuple[int, str], tuple[float, float, tuple | None]] = {}

    def launch(net: int, label: str, cell: LibCell, c2q: TimingArc | None) -> None:
        for edge in ("rise", "fall"):
            if c2q is None:
                d, s = 0.0, clk_slew
            else:
                d, s = _arc_out(c2q, edge, clk_slew, loads.load_ff[net])
            arrival[(net, edge)] = (d, s, (None, label, cell.name,
                                           f"{cell.clock_pin}->Q {edge}", d))

    for net, name in loads.primary_inputs.items():
        port = name.split("[")[0]
        if port in clock_ports or net in reset_nets:
            continue
        launch(net, f"in_reg({name})", bff, bc2q)
    for inst in netlist.instances:
        cell = lib.cells[inst.cell]
        if cell.ff is None:
            continue
        q, c2q, _, _ = _ff_arcs(cell)
        if isinstance(inst.pins.get(q), int):
            launch(inst.pins[q], inst.name, cell, c2q)

    for k in combinational_order(netlist, lib, loads, where):
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
                        # worst slew among arcs reaching this net (conservative)
                        slew = max(s, cur[1]) if cur is not None else s
                        arrival[(onet, out_edge)] = (t, slew, step)
                    elif s > cur[1]:
                        arrival[(onet, out_edge)] = (cur[0], s, cur[2])

    return arrival


def net_slews(netlist: MappedNetlist, lib: Liberty,
              loads: NetLoads | None = None) -> dict[int, float]:
    """Slew (ns) of every timed net: the mean of its rising and falling transition times."""
    acc: dict[int, list[float]] = defaultdict(list)
    for (net, _edge), slew in net_edge_slews(netlist, lib, loads).items():
        acc[net].append(slew)
    return {net: float(np.mean(v)) for net, v in acc.items()}


def net_edge_slews(netlist: MappedNetlist, lib: Liberty,
                   loads: NetLoads | None = None) -> dict[tuple[int, str], float]:
    """Slew (ns) of every timed net per edge, keyed ``(net, 'rise'|'fall')``: the transition
    time static timing propagates (the worst over the arcs reaching that edge of the net)."""
    loads = loads or net_loads(netlist, lib)
    arrival = _propagate(netlist, lib, loads, clock_slew_ns(lib), netlist.top)
    return {key: slew for key, (_, slew, _) in arrival.items()}


def _output_arcs(cell: LibCell, pin: str) -> list[TimingArc]:
    """The delay arcs into output ``pin``: clock-to-output for a flip-flop (its edge-triggered
    arcs from the clock pin; reset arcs are not delays of the data path), else every arc, as
    static timing propagates them."""
    arcs = cell.pins[pin].timing
    if cell.ff is not None:
        return [a for a in arcs if a.related_pin == cell.clock_pin
                and a.timing_type.startswith(("rising_edge", "falling_edge"))]
    return list(arcs)


def output_delays(netlist: MappedNetlist, lib: Liberty,
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


def static_timing(synth_result: SynthResult, liberty: Liberty | Path) -> TimingResult:
    """Critical path (ns), fmax (MHz) and whether 1 GHz is met, from the NLDM tables.

    Every unit port is assumed registered outside the unit by the library flip-flop on the same
    ideal clock: inputs launch at its clock-to-q (at the input net's load), outputs are captured
    with its setup time. Asynchronous reset paths are not timed (no recovery/removal checks).
    """
    lib = liberty if isinstance(liberty, Liberty) else read_liberty(liberty)
    netlist = load_mapped_netlist(synth_result)
    loads = net_loads(netlist, lib)
    clk_slew = clock_slew_ns(lib)
    bff = lib.sequential_cell()
    bq, bc2q, bsetup, _ = _ff_arcs(bff)
    arrival = _propagate(netlist, lib, loads, clk_slew, str(synth_result.netlist_json))

    # endpoints: flip-flop D pins inside, and the unit's outputs into boundary flip-flops
    best: tuple[float, tuple[int, str] | None, str, PathStep | None] = (0.0, None, "", None)
    endpoints: list[tuple[int, LibCell, TimingArc | None, str]] = []
    for inst in netlist.instances:
        cell = lib.cells[inst.cell]
        if cell.ff is None:
            continue
        _, _, setup, d = _ff_arcs(cell)
        if isinstance(inst.pins.get(d), int):
            endpoints.append((inst.pins[d], cell, setup, f"{inst.name}.{d}"))
    for net, name in loads.primary_outputs.items():
        endpoints.append((net, bff, bsetup, f"out_reg({name})"))
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
    if best[1] is None:
        raise SynthError(f"{synth_result.netlist_json}: {synth_result.top} has no timed path "
                         "(no flip-flop or output is reached from an input or a flip-flop)")
    steps: list[PathStep] = [best[3]]
    key: tuple[int, str] | None = best[1]
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
    cp = best[0]
    return TimingResult(
        critical_path_ns=cp,
        fmax_mhz=1000.0 / cp if cp > 0 else math.inf,
        meets_1ghz=cp <= 1.0,
        path=steps,
        startpoint=start,
        endpoint=best[2],
        clock_slew_ns=clk_slew,
        wire_load=lib.wire_load_name,
    )
