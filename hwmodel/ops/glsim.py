"""Gate-level simulation of a mapped unit in Icarus, and the toggles of its nets in a window.

The Yosys netlist (:mod:`hwmodel.ops.synth`, read as a :class:`hwmodel.ops.netlist.Netlist`) is
rewritten with one wire per net (``n<id>``) and simulated with Verilog models of the library cells
(:mod:`hwmodel.cells.verilog_models`) under the operand stream, one vector per cycle, by a plain
Verilog testbench (no cocotb: it streams the vectors from a text file, so long streams cost no
memory). Toggles are counted by :mod:`hwmodel.ops.toggles`: from the FST waveform of the nets
(every change) or from per-cycle samples of every net (zero-delay only).

Timing of the stream (clock period ``P`` from the synthesis): a warm-up of ``hold`` cycles with
the first vector on the operand ports and ``in_valid`` low (the logic and the pipeline registers
settle on it, nothing is accumulated), then one vector per cycle with ``in_valid`` high, then
``hold`` drain cycles (``in_valid`` low) to collect the last results. The measurement window is
the steady-state cycles in which every register stage moves a real vector-to-vector transition:
for a unit of latency L, the ``vectors - 1 - L`` cycles whose starting edge brings vectors
L+1..n-1 in (stage k then takes vector i-k >= 1). The pipeline fill (the valid bits rising) and
drain are outside the window, so a constant stream has no toggle in it.

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
path and the fix).
"""

from __future__ import annotations

import hashlib
import math
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwmodel.cells.liberty import Liberty
from hwmodel.cells.verilog_models import verilog_models_from_liberty
from hwmodel.ops.netlist import Netlist
from hwmodel.ops.sta import combinational_order, net_loads, output_delays, static_timing
from hwmodel.ops.synth import SynthError, SynthResult, load_mapped_netlist
from hwmodel.ops.toggles import ToggleWindow, count_edges, count_sampled_edges
from hwmodel.rtlsim import HANDSHAKE, require_icarus
from pnsutil import atomic_dir

MODES = ("zero-delay", "unit-delay", "timed")
DEFAULT_HOLD_CYCLES = 8
TB_MODULE, DUT_INSTANCE, DUT_MODULE = "tb", "dut", "gl_top"

Delays = dict[tuple[int, str], tuple[int, int]]  # (instance index, output pin) -> (rise, fall) ps


# --- timed annotation ------------------------------------------------------------------------


def ns_to_ps(delay_ns: float) -> int:
    """A cell delay (ns) as the integer ps of the timed netlist: rounded to the nearest ps
    (half up), at least 1 ps (a zero delay would hide the glitch ordering)."""
    return max(1, math.floor(delay_ns * 1000.0 + 0.5))


def timed_delays_ps(netlist: Netlist, lib: Liberty) -> Delays:
    """(rise, fall) delay in integer ps of every cell output, keyed ``(instance index, pin)``:
    :func:`hwmodel.ops.sta.output_delays` (worst arc, NLDM at the instance's slew and load)
    through :func:`ns_to_ps`."""
    return {key: (ns_to_ps(r), ns_to_ps(f))
            for key, (r, f) in output_delays(netlist, lib, net_loads(netlist, lib)).items()}


def settle_time_ps(netlist: Netlist, lib: Liberty, delays_ps: Delays) -> int:
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
    for k in combinational_order(netlist, lib):
        inst = netlist.instances[k]
        cell = lib.cells[inst.cell]
        start = max((t.get(inst.pins[pin], 0) for pin in cell.inputs
                     if isinstance(inst.pins.get(pin), int)), default=0)
        for pin in cell.outputs:
            if isinstance(inst.pins.get(pin), int):
                t[inst.pins[pin]] = start + max(delays_ps.get((k, pin), (0, 0)))
    return max(t.values(), default=0)


@dataclass(frozen=True)
class TimedPlan:
    """What the ``timed`` simulation of a mapped unit needs: per-output (rise, fall) delays in
    integer ps (:func:`timed_delays_ps`), the latest settling time of any net after an edge
    (``settle_ps``), the static-timing critical path (ns) and the shortest testbench clock
    period (ps, even) that lets every net settle: max(critical path, settle + 2 ps)."""

    delays_ps: Delays
    settle_ps: int
    critical_path_ns: float
    min_period_ps: int


_PLAN_CACHE: dict[tuple, TimedPlan] = {}


def netlist_key(synth_result: SynthResult, lib: Liberty) -> tuple:
    """Identity of a mapped netlist costed with a Liberty (for per-process caches)."""
    return (str(synth_result.netlist_json), synth_result.cache_key, str(lib.path),
            lib.path.stat().st_mtime_ns)


def timed_plan(synth_result: SynthResult, lib: Liberty,
               netlist: Netlist | None = None) -> TimedPlan:
    """The :class:`TimedPlan` of a mapped unit (cached per netlist and Liberty in the process)."""
    key = netlist_key(synth_result, lib)
    if key not in _PLAN_CACHE:
        netlist = netlist or load_mapped_netlist(synth_result, lib)
        delays = timed_delays_ps(netlist, lib)
        settle = settle_time_ps(netlist, lib, delays)
        cp_ns = static_timing(synth_result, lib).critical_path_ns
        need = _even(max(math.ceil(cp_ns * 1000.0 - 1e-9), settle + 2))
        _PLAN_CACHE[key] = TimedPlan(delays, settle, cp_ns, need)
    return _PLAN_CACHE[key]


def _even(ps: int) -> int:
    return ps + (ps % 2)


def sim_timing(synth_result: SynthResult, lib: Liberty, netlist: Netlist, mode: str,
               sim_period_ns: float | None) -> tuple[int, Delays | None]:
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


# --- simulation netlist, testbench, build ----------------------------------------------------


def _const(v: str) -> str:
    return "1'b1" if v == "1" else "1'b0"


def simulation_netlist(netlist: Netlist, lib: Liberty, mode: str, module: str = DUT_MODULE,
                       delays_ps: Delays | None = None) -> str:
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
        conns = []
        for pin, net in inst.pins.items():
            if not isinstance(net, int):
                conns.append(f".{pin}({_const(net)})")
            elif mode != "zero-delay" and pin in inst.output_pins:
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


def testbench(netlist: Netlist, period_ps: int, data_ports: list[str],
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
    hs = HANDSHAKE
    clk, rst, valid, out_valid, y = hs.clk, hs.rst, hs.in_valid, hs.out_valid, hs.result
    half = period_ps // 2
    width = {n: len(b) for n, b in netlist.inputs.items()}
    wy = len(netlist.outputs[y])
    regs = [f"  reg [{width[n] - 1}:0] {n} = 0;" for n in data_ports]
    nxt = [f"  reg [{width[n] - 1}:0] {n}_nx;" for n in data_ports] + ["  reg valid_nx;"]
    conns = [f".{n}({n})" for n in (*netlist.inputs, *netlist.outputs)]
    fmt = " ".join("%h" for _ in (valid, *data_ports))
    concat = "{" + ", ".join(f"{DUT_INSTANCE}.n{n}" for n in reversed(sampled)) + "}"
    return f"""`timescale 1ps/1ps
module {TB_MODULE};
  reg {clk} = 0;
  reg {rst} = 1;
  reg {valid} = 0;
{chr(10).join(regs)}
{chr(10).join(nxt)}
  wire {out_valid};
  wire [{wy - 1}:0] {y};
  integer fin, fout, fs, cyc, ok, ncyc, dump, samp;
  reg [8*1024-1:0] fname;
  {DUT_MODULE} {DUT_INSTANCE} ({', '.join(conns)});
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
      $dumpvars(1, {DUT_INSTANCE});
    end
    #{half} {clk} = 1;
    #{half} {clk} = 0;
    #1 {rst} = 0;
    #{half - 1} {clk} = 1;
    for (cyc = 0; cyc < ncyc; cyc = cyc + 1) begin
      ok = $fscanf(fin, "{fmt}\\n", {', '.join(['valid_nx'] + [f'{n}_nx' for n in data_ports])});
      {' '.join(f'{n} <= {n}_nx;' for n in data_ports)}
      {valid} <= valid_nx;
      #{half} {clk} = 0;
      #{half - 1} if ({out_valid} === 1'b1) $fwrite(fout, "%0d %h\\n", cyc, {y});
      else if ({out_valid} !== 1'b0) $fwrite(fout, "%0d x\\n", cyc);
      if (samp) $fwrite(fs, "%h\\n", {concat});
      #1 {clk} = 1;
    end
    if (samp) $fclose(fs);
    $fclose(fout);
    $finish;
  end
endmodule
"""


def cell_models(lib: Liberty, path: Path | None) -> tuple[str, str]:
    """(Verilog text, provenance) of the cell models to simulate with: ``path``, else the
    library's own ``<liberty stem>_cells.v`` next to the Liberty, else models generated from the
    Liberty's functions."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise SynthError(f"{path}: no such cell-model file")
        return path.read_text(), str(path)
    sibling = lib.path.with_name(f"{lib.path.stem}_cells.v")
    if sibling.is_file():
        return sibling.read_text(), str(sibling)
    return verilog_models_from_liberty(lib), f"generated from {lib.path.name} functions"


def build(netlist: Netlist, lib: Liberty, synth: SynthResult, mode: str, models: str,
          data_ports: list[str], period_ps: int, delays_ps: Delays | None = None) -> Path:
    """Compile (cached by content) the testbench (clock period ``period_ps``, even) + netlist +
    models; returns the folder."""
    require_icarus()
    net_v = simulation_netlist(netlist, lib, mode, delays_ps=delays_ps)
    tb_v = testbench(netlist, period_ps, data_ports, sampled_nets(netlist))
    key = hashlib.sha256("\0".join((net_v, tb_v, models)).encode()).hexdigest()[:16]
    out = Path(synth.netlist_json).parent / f"gl-{mode}-{key}"
    if (out / "sim.vvp").exists():
        return out
    with atomic_dir(out, replace=False) as tmp:  # keep a build another process made first
        (tmp / "netlist_sim.v").write_text(net_v)
        (tmp / "tb.v").write_text(tb_v)
        (tmp / "cells.v").write_text(models)
        proc = subprocess.run(["iverilog", "-g2005", "-s", TB_MODULE, "-o", str(tmp / "sim.vvp"),
                               str(tmp / "tb.v"), str(tmp / "netlist_sim.v"),
                               str(tmp / "cells.v")], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            first = (proc.stderr or proc.stdout).strip().splitlines()
            raise SynthError(f"{synth.netlist_v}: Icarus could not compile the gate-level "
                             f"netlist: {first[0] if first else 'no output'}")
    return out


def sampled_nets(netlist: Netlist) -> list[int]:
    """Nets whose values the testbench writes once per cycle (all of them, by id)."""
    return sorted(netlist.nets)


# --- stimulus --------------------------------------------------------------------------------


def check_ports(synth_result: SynthResult, netlist: Netlist) -> list[str]:
    """The data input ports (all but the handshake's control); SynthError without the
    handshake."""
    for port in HANDSHAKE.inputs:
        if port not in netlist.inputs:
            raise SynthError(f"{synth_result.netlist_json}: mapped {synth_result.top} has no "
                             f"input port {port!r}; units need the handshake ports")
    for port in HANDSHAKE.outputs:
        if port not in netlist.outputs:
            raise SynthError(f"{synth_result.netlist_json}: mapped {synth_result.top} has no "
                             f"output port {port!r}; units need the handshake ports")
    return [n for n in netlist.inputs if n not in HANDSHAKE.control]


def stimulus(synth_result: SynthResult, netlist: Netlist, data_ports: list[str],
             inputs: dict[str, np.ndarray]) -> tuple[dict[str, list[int]], int]:
    """Per data port the vector values (missing ports: 0), and the number of vectors."""
    top = synth_result.top
    unknown = sorted(set(inputs) - set(data_ports))
    if unknown:
        raise SynthError(f"gate_level_energy({top}): no input port {unknown[0]!r}")
    for name in HANDSHAKE.operands:
        if name not in inputs:
            raise SynthError(f"gate_level_energy({top}): operand {name!r} missing")
    n = len(np.asarray(inputs[HANDSHAKE.operands[0]]))
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


# --- run and count ---------------------------------------------------------------------------


@dataclass
class SimRun:
    """What one testbench run gave: results, latency, window cycles, toggles, wall times (s)."""

    y: list[int]
    latency: int
    first: int
    last: int
    rise: dict[int, int]
    fall: dict[int, int]
    sim_s: float
    count_s: float


def _run_vvp(build_dir: Path, run_dir: Path, cycles: int, source: str, where: Path) -> float:
    """Run the compiled testbench in ``run_dir``; returns the wall time (s)."""
    t0 = time.perf_counter()
    dump = ["-fst", "+fst"] if source == "fst" else \
        ["-none", f"+samples={run_dir / 'samples.txt'}"]
    proc = subprocess.run(["vvp", "-n", str(build_dir / "sim.vvp"), dump[0],
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


def _count(run_dir: Path, netlist: Netlist, nets: Iterable[int], source: str, first: int,
           last: int, period_ps: int) -> tuple[dict[int, int], dict[int, int]]:
    """Rises and falls of ``nets`` at the edges starting cycles ``first..last``."""
    if source == "samples":
        return count_sampled_edges(run_dir / "samples.txt", sampled_nets(netlist), first, last)
    start = 3 * (period_ps // 2)  # cycle c starts at 3/2 P + c P (see testbench)
    window = ToggleWindow(start + first * period_ps, start + (last + 1) * period_ps,
                          last - first + 1, period_ps)
    names = {net: f"{TB_MODULE}.{DUT_INSTANCE}.n{net}" for net in nets}
    return count_edges(run_dir / "wave.fst", names, window, strict=True)


def simulate(synth_result: SynthResult, netlist: Netlist, build_dir: Path, nets: Iterable[int],
             cols: dict[str, list[int]], data_ports: list[str], n: int, hold: int,
             period_ps: int, source: str) -> SimRun:
    """Run the stream through the compiled testbench and count the window's toggles of
    ``nets`` (``source``: ``fst`` or ``samples``)."""
    top = synth_result.top
    for _attempt in range(2):
        run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=build_dir))
        try:
            cycles = _write_stimulus(run_dir / "stim.txt", cols, data_ports, n, hold)
            sim_s = _run_vvp(build_dir, run_dir, cycles, source, synth_result.netlist_v)
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
            rise, fall = _count(run_dir, netlist, nets, source, first, last, period_ps)
            return SimRun(y, latency, first, last, rise, fall, sim_s, time.perf_counter() - t1)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)
    raise SynthError(f"{top}: latency too long for the testbench")  # pragma: no cover
