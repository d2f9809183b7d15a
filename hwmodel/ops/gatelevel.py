"""Energy per operation of a mapped (gate-level) unit, from simulating the netlist in Icarus.

The Yosys netlist (:mod:`hwmodel.ops.synth`) is rewritten with one wire per net (``n<id>``) and
simulated with Verilog models of the library cells under the operand stream, one vector per
cycle, by a plain Verilog testbench (no cocotb: it streams the vectors from a text file, so long
streams cost no memory). The FST waveform of the netlist's nets is read back with pywellen one
change at a time, and every rising and falling toggle of a cell output inside the measurement
window is costed with

* the driving cell's Liberty internal energy (``rise_power``/``fall_power`` of the arcs into that
  output, averaged over the arcs), interpolated at the slew of the arc's input net and the net's
  load, both from the NLDM propagation of :mod:`hwmodel.ops.sta`, plus
* the net's switching energy 1/2 C_load VDD^2 (load = fan-out pin capacitances + wire load);

plus, per clock cycle, the flip-flops' clock-pin internal energy and the clock net's C VDD^2, and
the library leakage of every cell over one clock period. Energy of nets driven by flip-flops and
the clock is ``energy_seq_pj``; everything else (including the unit's input nets, charged by the
operand stream) is ``energy_logic_pj``.

Timing of the stream (clock period ``P`` from the synthesis): a warm-up of ``hold`` cycles with
the first vector on the operand ports and ``in_valid`` low (the logic and the pipeline registers
settle on it, nothing is accumulated), then one vector per cycle with ``in_valid`` high, then
``hold`` drain cycles (``in_valid`` low) to collect the last results. The measurement window is
the steady-state cycles in which every register stage moves a real vector-to-vector transition:
for a unit of latency L, the ``vectors - 1 - L`` cycles whose starting edge brings vectors
L+1..n-1 in (stage k then takes vector i-k >= 1). Dynamic energy per op = window energy / number
of window cycles; clock and leakage energy per op = one initiation interval of them. The pipeline
fill (the valid bits rising) and drain are outside the window, so a constant stream has no toggle
in it.

Modes: ``zero-delay`` (functional toggles only; same-time-step glitches are not in the FST),
``unit-delay`` (every cell output delayed by 1 ps, so unequal path depths produce glitches that
are counted: an estimate of glitch energy from path-depth imbalance) and ``timed`` (glitch-aware,
timing-annotated: every cell output delayed by its own NLDM delay, below).

``timed``: each cell instance drives its output net through ``assign #(rise, fall)`` (timescale
1ps/1ps), the rise and fall delays of that instance from the Liberty tables at its actual output
load and input slews, the same loads (:func:`hwmodel.ops.sta.net_loads`) and per-edge slews
(:func:`hwmodel.ops.sta.net_edge_slews`) static timing propagates
(:func:`hwmodel.ops.sta.output_delays`). Per output and per output edge the delay is the worst
(max) over the arcs from its inputs (Verilog ``assign`` has one delay per output edge, not one
per arc, so a path through a faster arc is delayed as much as the slowest arc: glitches are
still produced wherever the reconverging paths differ by more than the gate delays); flip-flops
use their clock-to-Q arc (reset arcs are not modelled: reset happens once, before the
measurement). Delays are rounded to the nearest ps (half up) and are at least 1 ps. Continuous-
assignment delays are inertial: a pulse at a gate's (zero-delay) output shorter than the delay
to its next value is filtered and never reaches the net, as a real gate swallows pulses shorter
than its delay; a wider glitch propagates and every change of every net is counted from the FST.
The testbench clock then has to let every net settle before the next edge: it runs at
``sim_period_ns`` = max(synthesis period, the static-timing critical path, the latest settling
time of any net with the annotated delays + 2 ps), rounded up to an even number of ps, unless a
period is passed (a passed period shorter than that is a SynthError naming the unit, the critical
path and the fix). Dynamic energy per op does not depend on the period; ``energy_leakage_pj``
stays at the synthesis period in every mode, so the three modes differ only in toggles.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwmodel.ops.sta import (
    LibCell,
    Liberty,
    LibertyError,
    clock_slew_ns,
    combinational_order,
    net_loads,
    net_slews,
    output_delays,
    read_liberty,
    static_timing,
)
from hwmodel.ops.synth import MappedNetlist, SynthError, SynthResult, load_mapped_netlist
from pnsutil import atomic_dir

MODES = ("zero-delay", "unit-delay", "timed")
HANDSHAKE_CONTROL = ("clk", "rst", "in_valid")
DEFAULT_HOLD_CYCLES = 8


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
    mode long enough for every net to settle (see the module docstring).
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


# --- cell models -----------------------------------------------------------------------------

_FN_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|[!()&|^*+']|1|0)")


def liberty_function_to_verilog(function: str) -> str:
    """Liberty Boolean function (``!``, postfix ``'``, ``&``/``*``/space, ``|``/``+``, ``^``)
    as a Verilog expression."""
    tokens = []
    pos = 0
    text = function.strip()
    while pos < len(text):
        m = _FN_TOKEN.match(text, pos)
        if not m:
            raise LibertyError(f"cannot read Liberty function {function!r} at {text[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    out: list[str] = []
    prev_operand = False
    for tok in tokens:
        operand_start = tok == "(" or tok == "!" or re.match(r"[A-Za-z_01]", tok)
        if operand_start and prev_operand:
            out.append("&")  # juxtaposition is AND
        if tok == "'":
            # postfix complement of the previous operand (identifier or parenthesised group)
            if out and out[-1] == ")":
                depth, k = 0, len(out) - 1
                while k >= 0:
                    depth += out[k] == ")"
                    depth -= out[k] == "("
                    if depth == 0:
                        break
                    k -= 1
                out.insert(k, "~")
            else:
                out.insert(len(out) - 1, "~")
            prev_operand = True
            continue
        mapped = {"!": "~", "*": "&", "+": "|", "1": "1'b1", "0": "1'b0"}.get(tok, tok)
        out.append(mapped)
        prev_operand = tok == ")" or bool(re.match(r"[A-Za-z_01]", tok))
    return " ".join(out)


def cell_models_from_liberty(lib: Liberty) -> str:
    """Verilog models of the library's cells, generated from their Liberty ``function`` and
    ``ff`` groups (zero delay; flip-flop: edge on ``clocked_on``, async ``clear``/``preset``)."""
    parts = [f"// Cell models generated from {lib.path.name} (Liberty functions)",
             "`timescale 1ps/1ps"]
    for name, cell in sorted(lib.cells.items()):
        ports = cell.inputs + cell.outputs
        decl = [f"input wire {p}" for p in cell.inputs]
        body: list[str] = []
        if cell.ff is None:
            decl += [f"output wire {p}" for p in cell.outputs]
            for p in cell.outputs:
                fn = cell.pins[p].function
                if not fn:
                    raise LibertyError(f"{lib.path}: output {name}.{p} has no function")
                body.append(f"  assign {p} = {liberty_function_to_verilog(fn)};")
        else:
            decl += [f"output wire {p}" for p in cell.outputs]
            ff = cell.ff
            state = "IQ"
            clk = liberty_function_to_verilog(ff["clocked_on"])
            events = [f"posedge {clk}" if re.fullmatch(r"\w+", clk) else None]
            if events[0] is None:
                raise LibertyError(f"{lib.path}: {name} clocked_on {ff['clocked_on']!r} is not "
                                   "a plain pin")
            cond = []
            for key, val in (("clear", "1'b0"), ("preset", "1'b1")):
                if key in ff:
                    expr = ff[key].strip()
                    neg = expr.startswith("!") or expr.endswith("'")
                    pin = expr.strip("!' ()")
                    events.append(f"{'negedge' if neg else 'posedge'} {pin}")
                    cond.append((f"{'!' if neg else ''}{pin}", val))
            body.append(f"  reg {state};")
            body.append(f"  always @({' or '.join(events)})")
            first = True
            for c, v in cond:
                body.append(f"    {'if' if first else 'else if'} ({c}) {state} <= {v};")
                first = False
            nxt = liberty_function_to_verilog(ff["next_state"])
            body.append(f"    {'else ' if cond else ''}{state} <= {nxt};")
            for p in cell.outputs:
                fn = cell.pins[p].function.replace("IQN", "(!IQ)")
                body.append(f"  assign {p} = {liberty_function_to_verilog(fn)};")
        parts.append(f"module {name} ({', '.join(ports)});")
        parts.append("  " + ";\n  ".join(decl) + ";")
        parts.extend(body)
        parts.append("endmodule")
    return "\n".join(parts) + "\n"


# --- simulation netlist and testbench --------------------------------------------------------


def _const(v: str) -> str:
    return "1'b1" if v == "1" else "1'b0"


def ns_to_ps(delay_ns: float) -> int:
    """A cell delay (ns) as the integer ps of the timed netlist: rounded to the nearest ps
    (half up), at least 1 ps (a zero delay would hide the glitch ordering)."""
    return max(1, math.floor(delay_ns * 1000.0 + 0.5))


def timed_delays_ps(netlist: MappedNetlist, lib: Liberty
                    ) -> dict[tuple[int, str], tuple[int, int]]:
    """(rise, fall) delay in integer ps of every cell output, keyed ``(instance index, pin)``:
    :func:`hwmodel.ops.sta.output_delays` (worst arc, NLDM at the instance's slew and load)
    through :func:`ns_to_ps`."""
    return {key: (ns_to_ps(r), ns_to_ps(f))
            for key, (r, f) in output_delays(netlist, lib, net_loads(netlist, lib)).items()}


def settle_time_ps(netlist: MappedNetlist, lib: Liberty,
                   delays_ps: dict[tuple[int, str], tuple[int, int]]) -> int:
    """Latest time (ps after a clock edge) at which any net can still change in the timed
    simulation: the longest path through the annotated delays (max of rise and fall per output),
    from the input ports (changed at the edge) and the flip-flop outputs (at clock-to-Q)."""
    t: dict[int, int] = {}
    for k, inst in enumerate(netlist.instances):
        cell = lib.cells[inst.cell]
        if cell.ff is not None:
            for pin in cell.outputs:
                if isinstance(inst.pins.get(pin), int):
                    t[inst.pins[pin]] = max(delays_ps.get((k, pin), (0, 0)))
    for k in combinational_order(netlist, lib, net_loads(netlist, lib)):
        inst = netlist.instances[k]
        cell = lib.cells[inst.cell]
        start = max((t.get(inst.pins[pin], 0) for pin in cell.inputs
                     if isinstance(inst.pins.get(pin), int)), default=0)
        for pin in cell.outputs:
            if isinstance(inst.pins.get(pin), int):
                t[inst.pins[pin]] = start + max(delays_ps.get((k, pin), (0, 0)))
    return max(t.values(), default=0)


def simulation_netlist(netlist: MappedNetlist, lib: Liberty, mode: str,
                       module: str = "gl_top",
                       delays_ps: dict[tuple[int, str], tuple[int, int]] | None = None) -> str:
    """The mapped netlist as Verilog with one wire ``n<id>`` per net (``unit-delay``: each cell
    output drives its net through a 1 ps delay; ``timed``: through ``assign #(rise, fall)`` with
    ``delays_ps``, default :func:`timed_delays_ps`)."""
    if mode == "timed" and delays_ps is None:
        delays_ps = timed_delays_ps(netlist, lib)
    lines = ["`timescale 1ps/1ps", f"module {module} ("]
    decls = []
    for name, bits in netlist.inputs.items():
        decls.append(f"  input wire [{len(bits) - 1}:0] {name}")
    for name, bits in netlist.outputs.items():
        decls.append(f"  output wire [{len(bits) - 1}:0] {name}")
    lines.append(",\n".join(decls))
    lines.append(");")
    port_in = {b for bits in netlist.inputs.values() for b in bits if isinstance(b, int)}
    for net in sorted(netlist.nets):
        lines.append(f"  wire n{net};")
    for name, bits in netlist.inputs.items():
        for i, b in enumerate(bits):
            if isinstance(b, int):
                lines.append(f"  assign n{b} = {name}[{i}];")
    for name, bits in netlist.outputs.items():
        for i, b in enumerate(bits):
            lines.append(f"  assign {name}[{i}] = {f'n{b}' if isinstance(b, int) else _const(b)};")
    for k, inst in enumerate(netlist.instances):
        cell = lib.cell(inst.cell)
        conns = []
        for pin, net in inst.pins.items():
            if not isinstance(net, int):
                conns.append(f".{pin}({_const(net)})")
            elif mode != "zero-delay" and cell.pins[pin].direction == "output":
                if net in port_in:
                    raise SynthError(f"{inst.name} drives an input port net")
                conns.append(f".{pin}(r{net})")
                lines.append(f"  wire r{net};")
                delay = "#1" if mode == "unit-delay" else "#({}, {})".format(*delays_ps[(k, pin)])
                lines.append(f"  assign {delay} n{net} = r{net};")
            else:
                conns.append(f".{pin}(n{net})")
        lines.append(f"  {inst.cell} {inst.name} ({', '.join(conns)});")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def _testbench(netlist: MappedNetlist, period_ps: int, data_ports: list[str],
               sampled: list[int]) -> str:
    """Verilog testbench: one reset edge, then one line of the stimulus file per cycle
    (``in_valid`` then the data ports, in hex).

    Cycle ``c`` starts at the rising edge at ``3/2 P + c P`` (ps); its inputs are applied at that
    edge with non-blocking assignments (after the flip-flops sampled, in the same time step, so a
    zero-delay net changes at most once per cycle); its outputs are read 1 ps before the next edge.
    With ``+fst`` every net of the netlist is dumped to ``wave.fst``; with ``+samples=FILE`` the
    values of the ``sampled`` nets are written once per cycle, 1 ps before the next edge (one hex
    line per cycle, ``sampled[0]`` in the least significant bit).
    """
    half = period_ps // 2
    width = {n: len(b) for n, b in netlist.inputs.items()}
    wy = len(netlist.outputs["y"])
    regs = [f"  reg [{width[n] - 1}:0] {n} = 0;" for n in data_ports]
    nxt = [f"  reg [{width[n] - 1}:0] {n}_nx;" for n in data_ports] + ["  reg valid_nx;"]
    conns = [f".{n}({n})" for n in (*netlist.inputs, *netlist.outputs)]
    fmt = " ".join("%h" for _ in ("in_valid", *data_ports))
    concat = "{" + ", ".join(f"dut.n{n}" for n in reversed(sampled)) + "}"
    return f"""`timescale 1ps/1ps
module tb;
  reg clk = 0;
  reg rst = 1;
  reg in_valid = 0;
{chr(10).join(regs)}
{chr(10).join(nxt)}
  wire out_valid;
  wire [{wy - 1}:0] y;
  integer fin, fout, fs, cyc, ok, ncyc, dump, samp;
  reg [8*1024-1:0] fname;
  gl_top dut ({', '.join(conns)});
  initial begin
    if (!$value$plusargs("stim=%s", fname)) $fatal(1, "no +stim");
    fin = $fopen(fname, "r");
    if (!$value$plusargs("out=%s", fname)) $fatal(1, "no +out");
    fout = $fopen(fname, "w");
    if (!$value$plusargs("cycles=%d", ncyc)) $fatal(1, "no +cycles");
    dump = $test$plusargs("fst");
    samp = $value$plusargs("samples=%s", fname);
    if (samp) fs = $fopen(fname, "w");
    if (dump) begin
      $dumpfile("wave.fst");
      $dumpvars(1, dut);
    end
    #{half} clk = 1;
    #{half} clk = 0;
    #1 rst = 0;
    #{half - 1} clk = 1;
    for (cyc = 0; cyc < ncyc; cyc = cyc + 1) begin
      ok = $fscanf(fin, "{fmt}\\n", {', '.join(['valid_nx'] + [f'{n}_nx' for n in data_ports])});
      {' '.join(f'{n} <= {n}_nx;' for n in data_ports)}
      in_valid <= valid_nx;
      #{half} clk = 0;
      #{half - 1} if (out_valid === 1'b1) $fwrite(fout, "%0d %h\\n", cyc, y);
      else if (out_valid !== 1'b0) $fwrite(fout, "%0d x\\n", cyc);
      if (samp) $fwrite(fs, "%h\\n", {concat});
      #1 clk = 1;
    end
    if (samp) $fclose(fs);
    $fclose(fout);
    $finish;
  end
endmodule
"""


def _cell_models(lib: Liberty, cell_models: Path | None) -> tuple[str, str]:
    """(Verilog text, provenance) of the cell models to simulate with."""
    if cell_models is not None:
        path = Path(cell_models)
        if not path.is_file():
            raise SynthError(f"{path}: no such cell-model file")
        return path.read_text(), str(path)
    sibling = lib.path.with_name(f"{lib.path.stem}_cells.v")
    if sibling.is_file():
        return sibling.read_text(), str(sibling)
    return cell_models_from_liberty(lib), f"generated from {lib.path.name} functions"


def _build(netlist: MappedNetlist, lib: Liberty, synth: SynthResult, mode: str,
           models: str, data_ports: list[str], period_ps: int,
           delays_ps: dict[tuple[int, str], tuple[int, int]] | None = None) -> Path:
    """Compile (cached by content) the testbench (clock period ``period_ps``, even) + netlist +
    models; returns the folder."""
    for tool in ("iverilog", "vvp"):
        if shutil.which(tool) is None:
            raise SynthError(f"{tool} not found on PATH; install Icarus Verilog: "
                             "apt-get install iverilog (or run `make setup`)")
    net_v = simulation_netlist(netlist, lib, mode, delays_ps=delays_ps)
    tb_v = _testbench(netlist, period_ps, data_ports, sampled_nets(netlist))
    key = hashlib.sha256("\0".join((net_v, tb_v, models)).encode()).hexdigest()[:16]
    out = Path(synth.netlist_json).parent / f"gl-{mode}-{key}"
    if (out / "sim.vvp").exists():
        return out
    with atomic_dir(out, replace=False) as tmp:  # keep a build another process made first
        (tmp / "netlist_sim.v").write_text(net_v)
        (tmp / "tb.v").write_text(tb_v)
        (tmp / "cells.v").write_text(models)
        proc = subprocess.run(["iverilog", "-g2005", "-s", "tb", "-o", str(tmp / "sim.vvp"),
                               str(tmp / "tb.v"), str(tmp / "netlist_sim.v"),
                               str(tmp / "cells.v")], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            first = (proc.stderr or proc.stdout).strip().splitlines()
            raise SynthError(f"{synth.netlist_v}: Icarus could not compile the gate-level "
                             f"netlist: {first[0] if first else 'no output'}")
    return out


# --- energy ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NetCost:
    """Energy (pJ) of one rising / one falling toggle of a net, split logic / sequential."""

    rise_logic_pj: float
    fall_logic_pj: float
    rise_seq_pj: float
    fall_seq_pj: float


_COST_CACHE: dict[tuple, tuple[MappedNetlist, dict[int, _NetCost], dict]] = {}


def _toggle_costs(netlist: MappedNetlist, lib: Liberty) -> tuple[dict[int, _NetCost], dict]:
    """Energy (pJ) of one rising and one falling toggle of every net, and per-cycle constants.

    A net's toggle costs the internal energy of the cell output driving it (the mean over its
    ``internal_power`` arcs; for a flip-flop the clock arc) plus 1/2 C V^2
    (charged to the driver: sequential when a flip-flop drives it), plus the internal energy of
    the input pins it reaches that have their own ``internal_power`` (a flip-flop's D pin:
    sequential). Clock pins and the clock net are costed per cycle.
    """
    loads = net_loads(netlist, lib)
    slews = net_slews(netlist, lib, loads)
    clk_slew = clock_slew_ns(lib)
    v2 = lib.voltage_v ** 2
    half_cv2 = {n: 0.5 * c * v2 * 1e-3 for n, c in loads.load_ff.items()}  # fF*V^2 = 1e-3 pJ
    acc: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    driver_seq: dict[int, bool] = {}
    clock_pj = 0.0
    clock_nets: set[int] = set()
    for inst in netlist.instances:
        cell: LibCell = lib.cells[inst.cell]
        ck = cell.clock_pin
        is_seq = cell.ff is not None
        for pin, net in inst.pins.items():
            lp = cell.pins[pin]
            if not isinstance(net, int):
                continue
            if pin == ck:
                clock_nets.add(net)
            off = 2 if is_seq else 0
            if lp.direction == "output":
                driver_seq[net] = is_seq
                arcs = [a for a in lp.power if a.related_pin in inst.pins or a.related_pin == ""]
                if is_seq and any(a.related_pin == ck for a in arcs):
                    # a flip-flop output toggles on the clock edge (reset happens once, untimed)
                    arcs = [a for a in arcs if a.related_pin == ck]
                if arcs:
                    er = ef = 0.0
                    for a in arcs:
                        rel = inst.pins.get(a.related_pin)
                        s = clk_slew if (a.related_pin == ck or not isinstance(rel, int)) \
                            else slews.get(rel, clk_slew)
                        if "rise_power" in a.tables:
                            er += max(0.0, a.tables["rise_power"].lookup(s, loads.load_ff[net]))
                        if "fall_power" in a.tables:
                            ef += max(0.0, a.tables["fall_power"].lookup(s, loads.load_ff[net]))
                    acc[net][off] += er / len(arcs)
                    acc[net][off + 1] += ef / len(arcs)
            elif lp.power:
                # input-pin internal energy: the clock pin per cycle, other pins per toggle
                s = clk_slew if pin == ck else slews.get(net, clk_slew)
                er = float(np.mean([max(0.0, a.tables["rise_power"].lookup(s, 0.0))
                                    for a in lp.power if "rise_power" in a.tables] or [0.0]))
                ef = float(np.mean([max(0.0, a.tables["fall_power"].lookup(s, 0.0))
                                    for a in lp.power if "fall_power" in a.tables] or [0.0]))
                if pin == ck:
                    clock_pj += er + ef
                else:
                    acc[net][off] += er
                    acc[net][off + 1] += ef
    for net in clock_nets:
        clock_pj += 2 * half_cv2[net]  # one rise and one fall of the clock net per cycle
    costs = {}
    for net in netlist.nets:
        if net in clock_nets:
            continue
        rl, fl, rs, fs = acc[net]
        sw = half_cv2[net]
        if driver_seq.get(net, False):
            rs, fs = rs + sw, fs + sw
        else:
            rl, fl = rl + sw, fl + sw
        costs[net] = _NetCost(rl, fl, rs, fs)
    leak_nw = sum(lib.cells[i.cell].leakage_nw for i in netlist.instances)
    return costs, {"clock_pj_per_cycle": clock_pj, "leakage_nw": leak_nw}


def _prepared(synth_result: SynthResult, lib: Liberty
              ) -> tuple[MappedNetlist, dict[int, _NetCost], dict]:
    """Netlist and toggle costs of a mapped unit, cached per (netlist, Liberty) in the process."""
    key = _cache_key(synth_result, lib)
    if key not in _COST_CACHE:
        netlist = load_mapped_netlist(synth_result)
        costs, const = _toggle_costs(netlist, lib)
        _COST_CACHE[key] = (netlist, costs, const)
    return _COST_CACHE[key]


def _cache_key(synth_result: SynthResult, lib: Liberty) -> tuple:
    return (str(synth_result.netlist_json), synth_result.cache_key, str(lib.path),
            lib.path.stat().st_mtime_ns)


@dataclass(frozen=True)
class TimedPlan:
    """What the ``timed`` simulation of a mapped unit needs: per-output (rise, fall) delays in
    integer ps (:func:`timed_delays_ps`), the latest settling time of any net after an edge
    (``settle_ps``), the static-timing critical path (ns) and the shortest testbench clock
    period (ps, even) that lets every net settle: max(critical path, settle + 2 ps)."""

    delays_ps: dict[tuple[int, str], tuple[int, int]]
    settle_ps: int
    critical_path_ns: float
    min_period_ps: int


_PLAN_CACHE: dict[tuple, TimedPlan] = {}


def timed_plan(synth_result: SynthResult, lib: Liberty,
               netlist: MappedNetlist | None = None) -> TimedPlan:
    """The :class:`TimedPlan` of a mapped unit (cached per netlist and Liberty in the process)."""
    key = _cache_key(synth_result, lib)
    if key not in _PLAN_CACHE:
        netlist = netlist or load_mapped_netlist(synth_result)
        delays = timed_delays_ps(netlist, lib)
        settle = settle_time_ps(netlist, lib, delays)
        cp_ns = static_timing(synth_result, lib).critical_path_ns
        need = _even(max(math.ceil(cp_ns * 1000.0 - 1e-9), settle + 2))
        _PLAN_CACHE[key] = TimedPlan(delays, settle, cp_ns, need)
    return _PLAN_CACHE[key]


def _even(ps: int) -> int:
    return ps + (ps % 2)


def _sim_timing(synth_result: SynthResult, lib: Liberty, netlist: MappedNetlist, mode: str,
                sim_period_ns: float | None
                ) -> tuple[int, dict[tuple[int, str], tuple[int, int]] | None]:
    """(testbench clock period in ps, even; the timed delays or None) for ``mode``."""
    top = synth_result.top
    if sim_period_ns is not None and not sim_period_ns * 1000.0 >= 4:
        raise SynthError(f"gate_level_energy({top}): sim_period_ns must be >= 0.004 ns, got "
                         f"{sim_period_ns}")
    asked = None if sim_period_ns is None else _even(math.ceil(sim_period_ns * 1000.0 - 1e-9))
    if mode != "timed":
        return asked or _even(round(synth_result.clock_period_ns * 1000)), None
    plan = timed_plan(synth_result, lib, netlist)
    if asked is None:
        return _even(max(round(synth_result.clock_period_ns * 1000), plan.min_period_ps)), \
            plan.delays_ps
    if asked < plan.min_period_ps:
        raise SynthError(
            f"gate_level_energy({top}, mode='timed'): sim_period_ns={sim_period_ns:g} is too "
            f"short for nets to settle (critical path {plan.critical_path_ns:.3f} ns; with the "
            f"annotated delays nets settle {plan.settle_ps} ps after an edge); pass "
            f"sim_period_ns >= {plan.min_period_ps / 1000:.3f} or None (runs at such a period)")
    return asked, plan.delays_ps


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


def _check_ports(synth_result: SynthResult, netlist: MappedNetlist) -> list[str]:
    """The data input ports (all but clk/rst/in_valid); SynthError without the handshake."""
    for port in ("clk", "rst", "in_valid", "a", "b"):
        if port not in netlist.inputs:
            raise SynthError(f"{synth_result.netlist_json}: mapped {synth_result.top} has no "
                             f"input port {port!r}; units need the handshake ports")
    for port in ("out_valid", "y"):
        if port not in netlist.outputs:
            raise SynthError(f"{synth_result.netlist_json}: mapped {synth_result.top} has no "
                             f"output port {port!r}; units need the handshake ports")
    return [n for n in netlist.inputs if n not in HANDSHAKE_CONTROL]


def _stimulus(synth_result: SynthResult, netlist: MappedNetlist, data_ports: list[str],
              inputs: dict[str, np.ndarray]) -> tuple[dict[str, list[int]], int]:
    """Per data port the vector values (missing ports: 0), and the number of vectors."""
    top = synth_result.top
    unknown = sorted(set(inputs) - set(data_ports))
    if unknown:
        raise SynthError(f"gate_level_energy({top}): no input port {unknown[0]!r}")
    for name in ("a", "b"):
        if name not in inputs:
            raise SynthError(f"gate_level_energy({top}): operand {name!r} missing")
    n = len(np.asarray(inputs["a"]))
    if n < 2:
        raise SynthError(f"gate_level_energy({top}): need at least 2 vectors "
                         f"(energy is per vector-to-vector transition), got {n}")
    cols: dict[str, list[int]] = {}
    for name in data_ports:
        arr = np.asarray(inputs.get(name, np.zeros(n, dtype=np.uint64)))
        if arr.shape != (n,):
            raise SynthError(f"gate_level_energy({top}): input {name!r} has "
                             f"shape {arr.shape}; expected ({n},) like 'a'")
        w = len(netlist.inputs[name])
        if w > 64:
            raise SynthError(f"gate_level_energy({top}): input {name!r} is {w} "
                             "bits; the testbench drives inputs up to 64 bits")
        vals = [int(v) for v in arr.tolist()]
        if any(v < 0 or v >> w for v in vals):
            raise SynthError(f"gate_level_energy({top}): input {name!r} has values "
                             f"wider than its {w} bits; mask operands to the port width")
        cols[name] = vals
    return cols, n


@dataclass
class _SimRun:
    """What one testbench run gave: results, latency, window cycles, toggles, wall times (s)."""

    y: list[int]
    latency: int
    first: int
    last: int
    rise: dict[int, int]
    fall: dict[int, int]
    sim_s: float
    count_s: float


def _write_stimulus(path: Path, cols: dict[str, list[int]], data_ports: list[str], n: int,
                    hold: int) -> int:
    """Warm-up (v0, in_valid low) | v0..v[n-1] one per cycle | drain (v[n-1], in_valid low);
    returns the number of cycles written."""
    order = [0] * hold + list(range(n)) + [n - 1] * hold
    valid = [0] * hold + [1] * n + [0] * hold
    with open(path, "w") as fh:
        for idx, v in zip(order, valid, strict=True):
            fh.write(" ".join([str(v)] + [format(cols[p][idx], "x") for p in data_ports]) + "\n")
    return len(order)


def _run_vvp(build: Path, run_dir: Path, cycles: int, source: str, where: Path) -> float:
    """Run the compiled testbench in ``run_dir``; returns the wall time (s)."""
    t0 = time.perf_counter()
    dump = ["-fst", "+fst"] if source == "fst" else \
        ["-none", f"+samples={run_dir / 'samples.txt'}"]
    proc = subprocess.run(["vvp", "-n", str(build / "sim.vvp"), dump[0],
                           f"+stim={run_dir / 'stim.txt'}", f"+out={run_dir / 'y.txt'}",
                           f"+cycles={cycles}", dump[1]], cwd=run_dir,
                          capture_output=True, text=True, check=False)
    made = run_dir / ("wave.fst" if source == "fst" else "samples.txt")
    if proc.returncode != 0 or not made.exists():
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise SynthError(f"{where}: gate-level simulation failed: "
                         f"{msg[0] if msg else 'no output'}")
    return time.perf_counter() - t0


def _read_results(run_dir: Path, top: str, n: int, hold: int) -> tuple[list[int], int] | None:
    """(results in input order, latency in cycles), or None when ``hold`` is too short for the
    latency (the caller reruns with a longer hold)."""
    rows = (run_dir / "y.txt").read_text().split()
    out_cycles = [int(c) for c in rows[0::2]]
    out_vals = rows[1::2]
    if not out_cycles:
        raise SynthError(f"{top}: gate-level netlist never raised out_valid")
    latency = out_cycles[0] - hold
    if latency + 2 > hold:
        return None
    if latency < 0:
        raise SynthError(f"{top}: gate-level out_valid rose before any input was valid")
    if any("x" in v.lower() or "z" in v.lower() for v in out_vals):
        raise SynthError(f"{top}: gate-level netlist drove X/Z on y")
    # result of vector i is the output of cycle hold + i + latency
    if len(out_cycles) != n or out_cycles != list(range(out_cycles[0], out_cycles[0] + n)):
        raise SynthError(f"{top}: gate-level netlist returned {len(out_cycles)} valid results "
                         f"for {n} inputs (expected one per input, in consecutive cycles)")
    return [int(v, 16) for v in out_vals], latency


def _simulate(synth_result: SynthResult, netlist: MappedNetlist, build: Path,
              costs: dict[int, _NetCost], cols: dict[str, list[int]], data_ports: list[str],
              n: int, hold: int, period_ps: int, source: str) -> _SimRun:
    """Run the stream through the compiled testbench and count the window's toggles."""
    half = period_ps // 2
    top = synth_result.top
    for _attempt in range(2):
        run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=build))
        try:
            cycles = _write_stimulus(run_dir / "stim.txt", cols, data_ports, n, hold)
            sim_s = _run_vvp(build, run_dir, cycles, source, synth_result.netlist_v)
            got = _read_results(run_dir, top, n, hold)
            if got is None:
                hold = int((run_dir / "y.txt").read_text().split()[0]) - hold + 2
                continue
            y, latency = got
            # window: the steady-state cycles whose starting edge brings vector i in while every
            # register stage k moves vector i-k (i >= k+1, so all stages see real transitions)
            first, last = hold + latency + 1, hold + n - 1
            if last < first:
                raise SynthError(f"gate_level_energy({top}): need at least "
                                 f"latency + 2 = {latency + 2} vectors, got {n}")
            t1 = time.perf_counter()
            if source == "fst":
                rise, fall = _count_toggles(run_dir / "wave.fst", costs,
                                            3 * half + first * period_ps,
                                            3 * half + (last + 1) * period_ps)
            else:
                rise, fall = _count_samples(run_dir / "samples.txt", sampled_nets(netlist),
                                            first, last)
            return _SimRun(y, latency, first, last, rise, fall, sim_s, time.perf_counter() - t1)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
    raise SynthError(f"{top}: latency too long for the testbench")  # pragma: no cover


def gate_level_energy(synth_result: SynthResult, liberty: Liberty | Path,
                      inputs: dict[str, np.ndarray], params: dict[str, int] | None = None, *,
                      mode: str = "zero-delay", cell_models: Path | None = None,
                      toggles: str = "auto",
                      hold_cycles: int = DEFAULT_HOLD_CYCLES,
                      sim_period_ns: float | None = None) -> GateEnergy:
    """Energy per op (pJ) of the mapped unit under ``inputs`` (raw bit patterns per input port,
    ``a`` and ``b`` required, others default to 0), at one vector per clock cycle.

    ``params`` is accepted for symmetry with the RTL harness and must match the synthesis.
    ``mode``: ``zero-delay``, ``unit-delay`` or ``timed`` (module docstring).
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
    netlist, costs, const = _prepared(synth_result, lib)
    data_ports = _check_ports(synth_result, netlist)
    cols, n = _stimulus(synth_result, netlist, data_ports, inputs)
    period_ps, delays = _sim_timing(synth_result, lib, netlist, mode, sim_period_ns)
    models, provenance = _cell_models(lib, cell_models)
    build = _build(netlist, lib, synth_result, mode, models, data_ports, period_ps, delays)
    run = _simulate(synth_result, netlist, build, costs, cols, data_ports, n, hold_cycles,
                    period_ps, source)
    return _energy(synth_result, lib, netlist, costs, const, run, n, mode, source,
                   period_ps, provenance)


def _energy(synth_result: SynthResult, lib: Liberty, netlist: MappedNetlist,
            costs: dict[int, _NetCost], const: dict, run: _SimRun, n: int, mode: str,
            source: str, period_ps: int, provenance: str) -> GateEnergy:
    """Cost the window's toggles (pJ per op) and add the clock and leakage of one cycle."""
    transitions = run.last - run.first + 1
    logic = seq = 0.0
    toggles = 0
    for net, c in costs.items():
        r, f = run.rise.get(net, 0), run.fall.get(net, 0)
        if not r and not f:
            continue
        toggles += r + f
        logic += r * c.rise_logic_pj + f * c.fall_logic_pj
        seq += r * c.rise_seq_pj + f * c.fall_seq_pj
    ii = 1  # one result per cycle for one input per cycle (checked by _read_results)
    clock = const["clock_pj_per_cycle"] * ii
    leak = const["leakage_nw"] * synth_result.clock_period_ns * ii * 1e-6  # nW*ns = 1e-6 pJ
    seq_total = seq / transitions + clock
    logic /= transitions
    y_arr = np.array(run.y, dtype=np.uint64) if len(netlist.outputs["y"]) <= 64 \
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


def _count_toggles(wave_path: Path, costs: dict[int, _NetCost], start_ps: int,
                   end_ps: int) -> tuple[dict[int, int], dict[int, int]]:
    """Rising and falling toggles of every costed net in [start_ps, end_ps), streamed one
    time step at a time (the waveform is never held in memory). Within the window every change
    is a 0/1 toggle: a change to 1 is a rise, to 0 a fall (X/Z changes are an error)."""
    import pywellen

    wave = pywellen.Waveform(str(wave_path))
    by_id: dict[str, int] = {}
    variables = []
    for var in wave.all_vars():
        name = var.full_name.rsplit(".", 1)[-1]
        if name.startswith("n") and name[1:].isdigit() and int(name[1:]) in costs:
            sid = str(var.signal_ref)
            if sid not in by_id:
                by_id[sid] = int(name[1:])
                variables.append(var)
    changes: Counter[tuple[str, object]] = Counter()

    def on_step(t: int, values, ids) -> None:
        if start_ps <= t < end_ps:
            changes.update([(str(s), values[s]) for s in ids])

    wave.stream_time_steps(on_step, variables)
    rise: dict[int, int] = {}
    fall: dict[int, int] = {}
    for (sid, value), count in changes.items():
        if value == 1:
            rise[by_id[sid]] = count
        elif value == 0:
            fall[by_id[sid]] = count
        else:
            raise SynthError(f"{wave_path}: net n{by_id[sid]} went to {value!r} inside the "
                             "measurement window (undriven or uninitialised logic)")
    return rise, fall


def sampled_nets(netlist: MappedNetlist) -> list[int]:
    """Nets whose values the testbench writes once per cycle (all of them, by id)."""
    return sorted(netlist.nets)


_HEX = np.full(256, 255, dtype=np.uint8)
for _k, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _k


def _count_samples(path: Path, nets: list[int], first_cycle: int, last_cycle: int,
                   chunk_rows: int = 4096) -> tuple[dict[int, int], dict[int, int]]:
    """Rising and falling toggles per net between consecutive per-cycle samples, for the
    changes at the edges starting cycles ``first_cycle..last_cycle``; read ``chunk_rows`` lines
    at a time."""
    k = len(nets)
    rise = np.zeros(k, dtype=np.int64)
    fall = np.zeros(k, dtype=np.int64)
    prev: np.ndarray | None = None
    row = 0
    with open(path, "rb") as fh:
        while True:
            lines = fh.readlines(chunk_rows * (k // 4 + 2))
            if not lines:
                break
            width = len(lines[0]) - 1
            buf = np.frombuffer(b"".join(lines), dtype=np.uint8).reshape(len(lines), width + 1)
            nib = _HEX[buf[:, :width]]
            if (nib == 255).any():
                raise SynthError(f"{path}: a net was X/Z at a cycle boundary "
                                 "(undriven or uninitialised logic)")
            bits = np.unpackbits(nib[:, :, None], axis=2)[:, :, 4:].reshape(len(lines), -1)
            bits = bits[:, ::-1][:, :k]  # column i = nets[i]
            first = row
            row += len(lines)
            if prev is not None:
                bits = np.vstack([prev, bits])
                first -= 1
            prev = bits[-1:].copy()
            # transition from sample r-1 to r happens at the edge starting cycle r
            lo = max(first_cycle - first, 1)
            hi = min(last_cycle - first + 1, len(bits))
            if lo < hi:
                before, after = bits[lo - 1:hi - 1], bits[lo:hi]
                rise += ((before == 0) & (after == 1)).sum(axis=0)
                fall += ((before == 1) & (after == 0)).sum(axis=0)
    return ({nets[i]: int(v) for i, v in enumerate(rise) if v},
            {nets[i]: int(v) for i, v in enumerate(fall) if v})


def result_json(e: GateEnergy) -> str:
    """The numbers of ``e`` as JSON (no outputs), for logs and provenance."""
    d = {k: v for k, v in e.__dict__.items() if k != "y"}
    return json.dumps(d, sort_keys=True)
