"""Energy per MAC of an RTL systolic array in dataflow order, measured at gate level.

:func:`array_energy` maps a small array (``rtl/systolic/sa_ws.v`` or ``sa_os.v``, ROWS x COLS
PEs of the project's floating-point MAC datapath) onto the cell library of one supply corner with
the op table's Yosys flow (:func:`hwmodel.ops.synth.synthesize`, target 1 GHz), simulates the
mapped netlist in Icarus on a whole GEMM driven in the timing contract's fold order
(:mod:`hwmodel.accel.sa_drive`: weights held stationary and shifted in for ``ws``, operands
forwarded between PEs, partial sums passed down or unloaded through the shadow chain for
``os``), and costs every toggle with the functions of the op table's gate-level path
(:mod:`hwmodel.ops.gatelevel`: the driving cell's Liberty internal energy at the net's slew and
load plus 1/2 C V^2; flip-flop clock pins and the clock net per cycle; library leakage).

* Simulation (``mode``): ``timed`` (default; glitch-aware: every cell output delayed by its own
  NLDM rise/fall delay, :mod:`hwmodel.ops.glsim`'s annotation, at a testbench period long enough
  for every net to settle) or ``zero-delay`` (functional toggles only). Toggles are counted from
  the FST of every net (:func:`hwmodel.ops.toggles.count_edges`). The netlist's results are
  checked bit for bit against the reference GEMM (every partial sum and result, at the contract's
  cycle and column), so the energy is that of a correct computation.
* Window: the toggles of the clock edges that start cycles 0 .. G of the GEMM (cycle 0: the first
  operands applied; cycle G = ``gemm_cycles``: the last result on the output, written by the edge
  that starts it), after a reset and idle warm-up on all-zero inputs. Clock and leakage energy:
  G cycles (back to back, the next GEMM's cycle 0 is this one's cycle G); leakage over the
  array's own clock period, its static-timing critical path (as the op table charges a unit's
  leakage over its own period at fmax).
* Operands: ``a[M, K]`` and ``w[K, N]`` drawn like the op-characterization streams
  (:func:`hwmodel.ops.streams.make_stream`, seeded; uniform floats keep every dot product finite).
  ``ws`` partial sums of a K fold re-enter through ``ps_in`` with the reference's values, which
  the output check proves equal to the netlist's own.
* Split (all in pJ, totals over the GEMM): ``dynamic_pj`` (toggles of nets driven by logic cells
  and of the input ports), ``sequential_pj`` (toggles of flip-flop outputs and D pins, plus clock
  pins and clock net per cycle), ``leakage_pj``; ``energy_per_mac_pj`` = their sum / ``macs``
  (M N K real MACs: fill, drain, weight loads and padded PEs are paid by the real MACs).

Results are cached in :func:`pnsutil.cache_dir` ``("accel")``, keyed by a content hash of the
RTL sources, the Liberty, the parameters and this module's method version.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import rtl
from hwmodel.accel import sa_drive
from hwmodel.cells.liberty import Liberty, read_liberty
from hwmodel.cells.library import library_paths
from hwmodel.errors import HwmodelError
from hwmodel.ops import glsim
from hwmodel.ops.gatelevel import prepared_costs
from hwmodel.ops.netlist import Netlist
from hwmodel.ops.sta import static_timing
from hwmodel.ops.synth import SynthResult, synthesize
from hwmodel.ops.toggles import ToggleWindow, count_edges
from hwmodel.rtlsim import UnitSpec, dependency_files, require_icarus
from pnsutil import atomic_dir, atomic_write, cache_dir
from rtl.model import fp_ref

#: Bump when the measurement changes meaning (invalidates cached results).
METHOD_VERSION = 1
#: Yosys mapping target (ns): the op table's (:data:`hwmodel.ops.compute.SYNTH_TARGET_NS`).
SYNTH_TARGET_NS = 1.0
#: Idle cycles (all-zero inputs) after reset before the GEMM, and after its last result.
HOLD_CYCLES = 4
TOPS = {"ws": "sa_ws", "os": "sa_os"}
CONTROL = ("clk", "rst")


class ArrayEnergyError(HwmodelError):
    """The array could not be measured (one line naming the problem and the fix)."""


@dataclass(frozen=True)
class ArrayEnergy:
    """Energy of one GEMM on a gate-level systolic array, in dataflow order.

    Energies in pJ: ``energy_per_mac_pj`` = (``dynamic_pj`` + ``sequential_pj`` +
    ``leakage_pj``) / ``macs``, the three being totals over the GEMM's ``cycles`` clock cycles
    (``dynamic``: logic and input-port toggles; ``sequential``: flip-flop toggles, clock pins and
    clock net; ``leakage``: leakage power over ``cycles`` x ``clock_period_ns``).
    ``utilization`` = macs / (rows x cols x cycles). ``area_um2``: mapped cell area (um^2);
    ``fmax_mhz``: 1000 / critical path (MHz); ``clock_period_ns`` the period leakage is charged
    over; ``sim_period_ns`` the testbench period (ns; timed: long enough for nets to settle).
    ``toggles_per_mac``: net toggles in the window / macs. ``wall_s``: seconds the measurement
    took when it ran (synthesis, timing, simulation, counting; a cached result keeps it).
    """

    energy_per_mac_pj: float
    dynamic_pj: float
    sequential_pj: float
    leakage_pj: float
    total_pj: float
    macs: int
    cycles: int
    utilization: float
    area_um2: float
    fmax_mhz: float
    clock_period_ns: float
    sim_period_ns: float
    cells: int
    toggles_per_mac: float
    mode: str
    dataflow: str
    rows: int
    cols: int
    exp_w: int
    man_w: int
    vdd_v: float
    gemm_mnk: tuple[int, int, int]
    stream: str
    seed: int
    provenance: str
    wall_s: float


def default_gemm(rows: int, cols: int) -> tuple[int, int, int]:
    """The default GEMM ``(M, N, K)`` for an array: ``(4 R, 2 C, 2 R)``, several folds in every
    dataflow (ws: 2 K folds x 2 N folds of a 4R-vector stream; os: 4 M folds x 2 N folds)."""
    return 4 * rows, 2 * cols, 2 * rows


def array_spec(dataflow: str, params: dict[str, int]) -> UnitSpec:
    """The array top as a :class:`UnitSpec` (it has no handshake, so not via load_unit)."""
    top = TOPS[dataflow]
    return UnitSpec(top, rtl.RTL_DIR / "systolic" / f"{top}.v", {},
                    {k: str(v) for k, v in params.items()})


def _liberty_path(vdd_v: float) -> Path:
    from hwmodel.ops.compute import library_corner

    path = library_paths(library_corner(vdd_v))["liberty"]
    if not path.is_file():
        raise ArrayEnergyError(f"no cell library at {vdd_v:g} V ({path.name}); build it: "
                               f"python -m hwmodel.cells build --vdd {vdd_v:g}")
    return path


def _cache_key(spec: UnitSpec, liberty: Path, settings: dict) -> str:
    h = hashlib.sha256()
    for src in dependency_files(spec.path):
        h.update(src.name.encode() + b"\0" + src.read_bytes())
    h.update(liberty.read_bytes())
    h.update(json.dumps([METHOD_VERSION, SYNTH_TARGET_NS, HOLD_CYCLES, settings],
                        sort_keys=True).encode())
    return h.hexdigest()[:24]


def array_energy(dataflow: str, rows: int = 4, cols: int = 4, exp_w: int = 8, man_w: int = 23,
                 vdd_v: float = 1.0, timed: bool = True, seed: int = 0, *,
                 gemm: tuple[int, int, int] | None = None,
                 stream: str = "uniform", use_cache: bool = True) -> ArrayEnergy:
    """Energy per MAC (pJ) of a ``rows x cols`` ``dataflow`` array of fp(``exp_w``, ``man_w``)
    PEs at the ``vdd_v`` library corner, measured at gate level on one GEMM in dataflow order.

    ``gemm``: ``(M, N, K)`` (default :func:`default_gemm`); ``stream``: operand kind of
    :func:`hwmodel.ops.streams.make_stream` (``uniform``, ``sparse``, ``constant``); ``timed``:
    glitch-aware timed simulation, else zero-delay. Cached on disk (``use_cache``).
    Raises ArrayEnergyError (one line) when the netlist's results or cycle count are wrong.
    """
    if dataflow not in TOPS:
        raise ArrayEnergyError(f"dataflow {dataflow!r}: the RTL arrays are {', '.join(TOPS)}")
    m, n, k = gemm or default_gemm(rows, cols)
    params = {"ROWS": int(rows), "COLS": int(cols), "EXP_W": int(exp_w), "MAN_W": int(man_w),
              "FTZ": 0}
    spec = array_spec(dataflow, params)
    liberty = _liberty_path(vdd_v)
    mode = "timed" if timed else "zero-delay"
    settings = {"dataflow": dataflow, "params": params, "vdd_v": float(vdd_v), "mode": mode,
                "seed": int(seed), "gemm": [m, n, k], "stream": stream}
    out = cache_dir("accel") / f"array-energy-{_cache_key(spec, liberty, settings)}.json"
    if use_cache and out.is_file():
        d = json.loads(out.read_text())
        d["gemm_mnk"] = tuple(d["gemm_mnk"])
        return ArrayEnergy(**d)
    t0 = time.perf_counter()
    a, w = sa_drive.gemm_operands(m, n, k, exp_w, man_w, seed, stream)
    sched = sa_drive.schedule(dataflow, rows, cols, a, w, exp_w, man_w)
    lib = read_liberty(liberty)
    synth = synthesize(spec, params, liberty, clock_period_ns=SYNTH_TARGET_NS)
    netlist, costs = prepared_costs(synth, lib)
    period_ps, delays = glsim.sim_timing(synth, lib, netlist, mode, None)
    if timed:
        critical_ns = glsim.timed_plan(synth, lib, netlist).critical_path_ns
    else:
        critical_ns = static_timing(synth, lib).critical_path_ns
    rise, fall = _simulate(synth, lib, netlist, sched, mode, period_ps, delays,
                           list(costs.per_net))
    dyn = seq = 0.0
    toggles = 0
    for net, c in costs.per_net.items():
        r, f = rise.get(net, 0), fall.get(net, 0)
        toggles += r + f
        dyn += r * c.rise_logic_pj + f * c.fall_logic_pj
        seq += r * c.rise_seq_pj + f * c.fall_seq_pj
    cycles = sched.cycles
    seq += costs.clock_pj_per_cycle * cycles
    leak = costs.leakage_nw * critical_ns * cycles * 1e-6  # nW * ns = 1e-6 pJ
    total = dyn + seq + leak
    macs = sched.macs
    fmt = sa_drive.fp_format(exp_w, man_w).name
    result = ArrayEnergy(
        energy_per_mac_pj=total / macs, dynamic_pj=dyn, sequential_pj=seq, leakage_pj=leak,
        total_pj=total, macs=macs, cycles=cycles, utilization=macs / (rows * cols * cycles),
        area_um2=synth.area_um2, fmax_mhz=1000.0 / critical_ns, clock_period_ns=critical_ns,
        sim_period_ns=period_ps / 1000.0, cells=synth.cells, toggles_per_mac=toggles / macs,
        mode=mode, dataflow=dataflow, rows=rows, cols=cols, exp_w=exp_w, man_w=man_w,
        vdd_v=float(vdd_v), gemm_mnk=(m, n, k), stream=stream, seed=int(seed),
        provenance=(f"{fmt} {dataflow} {rows}x{cols} array ({TOPS[dataflow]}.v), Yosys-mapped "
                    f"onto {liberty.name} ({vdd_v:g} V), gate-level {mode} Icarus simulation in "
                    f"dataflow order, GEMM {m}x{n}x{k} ({stream} operands, seed {seed}), "
                    f"{cycles} cycles = gemm_cycles, every result bit-exact"),
        wall_s=time.perf_counter() - t0)
    atomic_write(out, json.dumps(asdict(result), indent=1))
    return result


# --- gate-level testbench for an array ---------------------------------------------------------


def _testbench(netlist: Netlist, period_ps: int, data_ports: list[str]) -> str:
    """Verilog testbench: reset, then one stimulus line per cycle (every data port in hex),
    applied at the rising edge that starts the cycle (non-blocking, as glsim's testbench);
    ``cycle y_valid y`` written 1 ps before the next edge whenever ``y_valid`` is not all 0.
    Cycle ``c`` starts at ``3/2 P + c P`` (ps); with ``+fst`` every net is dumped."""
    half = period_ps // 2
    width = {p: len(b) for p, b in netlist.inputs.items()}
    wy, wv = len(netlist.outputs["y"]), len(netlist.outputs["y_valid"])
    regs = "\n".join(f"  reg [{width[p] - 1}:0] {p} = 0, {p}_nx;" for p in data_ports)
    conns = ", ".join(f".{p}({p})" for p in (*netlist.inputs, *netlist.outputs))
    fmt = " ".join("%h" for _ in data_ports)
    nx = ", ".join(f"{p}_nx" for p in data_ports)
    apply = " ".join(f"{p} <= {p}_nx;" for p in data_ports)
    return f"""`timescale 1ps/1ps
module {glsim.TB_MODULE};
  reg clk = 0;
  reg rst = 1;
{regs}
  wire [{wy - 1}:0] y;
  wire [{wv - 1}:0] y_valid;
  integer fin, fout, cyc, ok, ncyc;
  reg [8*1024-1:0] fname;
  {glsim.DUT_MODULE} {glsim.DUT_INSTANCE} ({conns});
  initial begin
    if (!$value$plusargs("stim=%s", fname)) $fatal(1, "no +stim");
    fin = $fopen(fname, "r");
    if (!$value$plusargs("out=%s", fname)) $fatal(1, "no +out");
    fout = $fopen(fname, "w");
    if (!$value$plusargs("cycles=%d", ncyc)) $fatal(1, "no +cycles");
    if ($test$plusargs("fst")) begin
      $dumpfile("wave.fst");
      $dumpvars(1, {glsim.DUT_INSTANCE});
    end
    #{half} clk = 1;
    #{half} clk = 0;
    #1 rst = 0;
    #{half - 1} clk = 1;
    for (cyc = 0; cyc < ncyc; cyc = cyc + 1) begin
      ok = $fscanf(fin, "{fmt}\\n", {nx});
      {apply}
      #{half} clk = 0;
      #{half - 1} if (y_valid !== {wv}'d0) $fwrite(fout, "%0d %h %h\\n", cyc, y_valid, y);
      #1 clk = 1;
    end
    $fclose(fout);
    $finish;
  end
endmodule
"""


def _build(synth: SynthResult, lib: Liberty, netlist: Netlist, mode: str, period_ps: int,
           delays: glsim.Delays | None, data_ports: list[str]) -> Path:
    """Compile (cached by content, beside the mapped netlist) testbench + netlist + models."""
    require_icarus()
    models, _ = glsim.cell_models(lib, None)
    net_v = glsim.simulation_netlist(netlist, lib, mode, delays_ps=delays)
    tb_v = _testbench(netlist, period_ps, data_ports)
    key = hashlib.sha256("\0".join((net_v, tb_v, models)).encode()).hexdigest()[:16]
    out = Path(synth.netlist_json).parent / f"sa-{mode}-{key}"
    if (out / "sim.vvp").exists():
        return out
    with atomic_dir(out, replace=False) as tmp:
        (tmp / "netlist_sim.v").write_text(net_v)
        (tmp / "tb.v").write_text(tb_v)
        (tmp / "cells.v").write_text(models)
        proc = subprocess.run(["iverilog", "-g2005", "-s", glsim.TB_MODULE, "-o",
                               str(tmp / "sim.vvp"), str(tmp / "tb.v"),
                               str(tmp / "netlist_sim.v"), str(tmp / "cells.v")],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            first = (proc.stderr or proc.stdout).strip().splitlines()
            raise ArrayEnergyError(f"{synth.netlist_v}: Icarus could not compile the gate-level "
                                   f"array: {first[0] if first else 'no output'}")
    return out


def _simulate(synth: SynthResult, lib: Liberty, netlist: Netlist, sched: sa_drive.Schedule,
              mode: str, period_ps: int, delays: glsim.Delays | None,
              nets: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Run the schedule through the gate-level array; check every result and the cycle count;
    return the (rises, falls) per net in the window (cycles 0 .. G of the GEMM)."""
    missing = sorted(set(CONTROL) - set(netlist.inputs))
    if missing or not {"y", "y_valid"} <= set(netlist.outputs):
        raise ArrayEnergyError(f"{synth.netlist_json}: mapped {synth.top} lacks ports "
                               f"{missing or ['y', 'y_valid']}")
    data_ports = [p for p in netlist.inputs if p not in CONTROL]
    unknown = sorted(set(sched.ports) - set(data_ports))
    if unknown:
        raise ArrayEnergyError(f"{synth.top}: the schedule drives {unknown}, which the mapped "
                               "netlist lacks")
    build = _build(synth, lib, netlist, mode, period_ps, delays, data_ports)
    hold, length = HOLD_CYCLES, sched.length
    total = hold + length + hold
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=build))
    try:
        with open(run_dir / "stim.txt", "w") as fh:
            for c in range(total):
                s = c - hold
                fh.write(" ".join(format(sched.ports[p][s] if p in sched.ports and
                                         0 <= s < length else 0, "x")
                                  for p in data_ports) + "\n")
        proc = subprocess.run(["vvp", "-n", str(build / "sim.vvp"), "-fst",
                               f"+stim={run_dir / 'stim.txt'}", f"+out={run_dir / 'y.txt'}",
                               f"+cycles={total}", "+fst"], cwd=run_dir, capture_output=True,
                              text=True, check=False)
        if proc.returncode != 0 or not (run_dir / "wave.fst").exists():
            msg = (proc.stderr or proc.stdout).strip().splitlines()
            raise ArrayEnergyError(f"{synth.netlist_v}: gate-level simulation failed: "
                                   f"{msg[0] if msg else 'no output'}")
        got = _read_outputs(run_dir / "y.txt", sched, hold)
        problems = sa_drive.check_outputs(sched, got)
        if problems:
            raise ArrayEnergyError(f"{synth.top} gate-level ({mode}): " + "; ".join(problems[:3]))
        if sched.cycles != sched.expected_cycles():
            raise ArrayEnergyError(f"{synth.top}: last result in cycle {sched.cycles}, the "
                                   f"contract gives {sched.expected_cycles()}")
        start = 3 * (period_ps // 2) + hold * period_ps
        window = ToggleWindow(start, start + (sched.cycles + 1) * period_ps, sched.cycles + 1,
                              period_ps)
        names = {net: f"{glsim.TB_MODULE}.{glsim.DUT_INSTANCE}.n{net}" for net in nets}
        return count_edges(run_dir / "wave.fst", names, window, strict=True)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _read_outputs(path: Path, sched: sa_drive.Schedule,
                  hold: int) -> list[tuple[int, int, int]]:
    """``(GEMM cycle, column, bits)`` of every valid result the testbench wrote."""
    nb = sched.nb
    got: list[tuple[int, int, int]] = []
    for line in path.read_text().splitlines():
        cyc, valid, word = line.split()
        if any(ch in (valid + word).lower() for ch in "xz"):
            raise ArrayEnergyError(f"gate-level array drove X/Z on y or y_valid in cycle "
                                   f"{int(cyc) - hold}")
        v, y = int(valid, 16), int(word, 16)
        for j in range(sched.cols):
            if v >> j & 1:
                got.append((int(cyc) - hold, j, y >> (j * nb) & ((1 << nb) - 1)))
    return got


# --- comparison with the op table --------------------------------------------------------------


def op_table_mac(exp_w: int = 8, man_w: int = 23, vdd_v: float = 1.0, seed: int = 0) -> dict:
    """The op table's fp_mac row (yosys path, uniform independent random operands, default
    vectors and dot length) at the same corner: the per-MAC energy of one MAC unit fed an
    independent random operand pair per cycle (``energy_pj`` zero-delay, ``energy_timed_pj``
    glitch-aware; pJ). Computed and cached by :mod:`hwmodel.ops` if needed."""
    from hwmodel.ops.compute import compute_row, library_corner, make_jobs
    from hwmodel.ops.oplib import default_op_library, select
    from hwmodel.ops.table import build_table

    fmt = sa_drive.fp_format(exp_w, man_w).name
    unit = select(default_op_library(), "fp_mac", fmt)
    jobs = make_jobs(unit, ["uniform"], ["yosys"], 1000, seed, None, library_corner(vdd_v))
    df = build_table(jobs, compute_row, workers=1, progress=False)
    return {k: (v.item() if isinstance(v, np.generic) else v)
            for k, v in df.iloc[0].to_dict().items()}


def main(argv: list[str] | None = None) -> int:
    """``python -m hwmodel.accel.pe_energy``: measure one array and print it beside the op
    table's fp_mac row at the same corner."""
    ap = argparse.ArgumentParser(prog="python -m hwmodel.accel.pe_energy",
                                 description="energy per MAC of an RTL systolic array at gate "
                                             "level, in dataflow order")
    ap.add_argument("--dataflow", choices=list(TOPS), default="ws")
    ap.add_argument("--rows", type=int, default=4)
    ap.add_argument("--cols", type=int, default=4)
    ap.add_argument("--format", dest="fmt", choices=["fp16", "bf16", "fp32"], default="fp32")
    ap.add_argument("--vdd", type=float, default=1.0)
    ap.add_argument("--zero-delay", action="store_true", help="zero-delay instead of timed")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stream", default="uniform", choices=["uniform", "sparse", "constant"])
    args = ap.parse_args(argv)
    f = fp_ref.FORMATS[args.fmt]
    try:
        res = array_energy(args.dataflow, args.rows, args.cols, f.exp_w, f.man_w, args.vdd,
                           not args.zero_delay, args.seed, stream=args.stream)
        row = op_table_mac(f.exp_w, f.man_w, args.vdd, args.seed)
    except HwmodelError as exc:
        print(f"python -m hwmodel.accel.pe_energy: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(asdict(res), indent=1))
    key = "energy_timed_pj" if res.mode == "timed" else "energy_pj"
    print(f"array {res.energy_per_mac_pj:.3f} pJ/MAC ({res.mode}, utilization "
          f"{res.utilization:.3f}); op table fp_mac {row[key]:.3f} pJ/MAC ({key}, independent "
          f"random operands, dot length {row['dot_length']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
