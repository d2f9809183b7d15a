"""RTL systolic arrays (``rtl/systolic/``) simulated on Icarus with a whole GEMM, checked bit for
bit and cycle for cycle.

Each run drives a GEMM whose sizes are not multiples of the array (several folds, padded rows and
columns) through the array in the contract's fold order (:mod:`hwmodel.accel.sa_drive`, testbench
``tests/rtl/systolic_tb.py``) and asserts that

* every result leaves in exactly the cycle and column the timing contract gives, and nothing else
  does, so the cycle count from the first operand in to the last result out equals
  :func:`hwmodel.accel.timing.gemm_cycles`;
* every result (for ``ws`` also the partial sums of every K fold, which re-enter the array
  through ``ps_in`` as the array's own values) equals the reference chain
  ``acc = round(acc + round(a * w))`` in k order from +0 (``rtl.model.fp_ref``).

A reference that sums the same products in reverse k order disagrees with the same outputs, so
the comparison sees the rounding order.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import rtl
from hwmodel.accel import sa_drive as D
from hwmodel.accel.timing import gemm_cycles
from hwmodel.rtlsim import UnitSpec, build_unit
from hwmodel.rtlsim.sim import TIMESCALE
from tests.rtl.test_fp_structural import (
    _ASSIGN,
    _FORBIDDEN_WORDS,
    _OPERATORS,
    _code,
    _strip_constant_parts,
)

SA_DIR = rtl.RTL_DIR / "systolic"
TOP = {"ws": "sa_ws", "os": "sa_os"}
FMT = {"fp16": (5, 10), "fp32": (8, 23)}
DRAIN = 12  # idle cycles after the last expected result: no result may appear in them

needs_icarus = pytest.mark.skipif(shutil.which("iverilog") is None,
                                  reason="Icarus Verilog (iverilog) not installed")


@dataclass
class ArrayRun:
    """One GEMM through one array: the schedule, what the array put out, simulation seconds."""

    sched: D.Schedule
    got: list[tuple[int, int, int]]
    sim_s: float


_RUNS: dict[tuple, ArrayRun] = {}
_LOGGED: set[tuple] = set()


def array_spec(dataflow: str, params: dict[str, int]) -> UnitSpec:
    """A :class:`UnitSpec` of the array top (no handshake: built directly, not by load_unit)."""
    return UnitSpec(TOP[dataflow], SA_DIR / f"{TOP[dataflow]}.v", {},
                    {k: str(v) for k, v in params.items()})


def run_array(dataflow: str, rows: int, cols: int, fmt: str, m: int, n: int, k: int,
              seed: int = 1) -> ArrayRun:
    """Build (cached) and run one GEMM on the array; memoized per configuration."""
    key = (dataflow, rows, cols, fmt, m, n, k, seed)
    if key in _RUNS:
        return _RUNS[key]
    from cocotb_tools.runner import get_runner

    exp_w, man_w = FMT[fmt]
    a, w = D.gemm_operands(m, n, k, exp_w, man_w, seed)
    # a few signed zeros in the operands: +-0 products must not disturb the chain
    a[0, 0] = np.uint64(1 << (exp_w + man_w))  # -0
    w[-1, -1] = np.uint64(0)
    sched = D.schedule(dataflow, rows, cols, a, w, exp_w, man_w)
    params = {"ROWS": rows, "COLS": cols, "EXP_W": exp_w, "MAN_W": man_w, "FTZ": 0}
    build_dir, _ = build_unit(array_spec(dataflow, params), params)
    run_dir = Path(tempfile.mkdtemp(prefix=f"run-{TOP[dataflow]}-", dir=build_dir))
    try:
        spec = {"nb": sched.nb, "cols": cols,
                "ports": {p: [format(v, "x") for v in vals] for p, vals in sched.ports.items()},
                "feedback": [[c, j, e] for (c, j), e in sched.feedback.items()],
                "events": [[e.cycle, e.col] for e in sched.events]}
        (run_dir / "in.json").write_text(json.dumps(spec))
        t0 = time.perf_counter()
        try:
            get_runner("icarus").test(
                test_module="tests.rtl.systolic_tb", hdl_toplevel=TOP[dataflow],
                hdl_toplevel_lang="verilog", build_dir=str(build_dir), test_dir=str(run_dir),
                extra_env={"PNS_SA_IN": str(run_dir / "in.json"),
                           "PNS_SA_OUT": str(run_dir / "out.json"), "PNS_SA_DRAIN": str(DRAIN)},
                results_xml=str(run_dir / "results.xml"), log_file=str(run_dir / "sim.log"),
                timescale=TIMESCALE)
        except SystemExit:
            log = (run_dir / "sim.log").read_text(errors="replace")
            lines = [ln for ln in log.splitlines() if "Error" in ln or "FAIL" in ln]
            pytest.fail(f"{TOP[dataflow]} simulation failed: {lines[:3]}")
        sim_s = time.perf_counter() - t0
        got = [tuple(x) for x in json.loads((run_dir / "out.json").read_text())]
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    run = ArrayRun(sched, got, sim_s)
    _RUNS[key] = run
    return run


def _check_run(dataflow: str, rows: int, cols: int, fmt: str, m: int, n: int, k: int,
               sim_log) -> ArrayRun:
    run = run_array(dataflow, rows, cols, fmt, m, n, k)
    key = (dataflow, rows, cols, fmt, m, n, k)
    if key not in _LOGGED:  # once per simulation, however many tests reuse it
        _LOGGED.add(key)
        sim_log(f"{TOP[dataflow]} {rows}x{cols} {fmt} gemm {m}x{n}x{k}", run.sched.macs,
                run.sim_s)
    problems = D.check_outputs(run.sched, run.got)
    assert not problems, f"{dataflow} {rows}x{cols} {fmt}:\n  " + "\n  ".join(problems)
    # cycle count: first operand in (cycle 0) -> last result out
    last_out = max(c for c, _, _ in run.got)
    assert last_out == gemm_cycles(dataflow, rows, cols, m, n, k)
    finals = [e for e in run.sched.events if e.want is not None and e.terms == k]
    assert len(finals) == m * n  # every element of the GEMM was produced and checked
    return run


# Icarus' elaboration time grows about quadratically with the number of cell instances (16 fp32
# PEs: ~40 s to compile, 64 fp16 PEs: ~100 s; 64 fp32 PEs: over 9 minutes and 2 GB before it was
# stopped), so the fast set is 4x4 fp16 and 2x2 fp32 (~35 s cold, compiles included) and the
# 8x8 and 4x4 fp32 arrays are slow tests.
FAST = [
    ("ws", 4, 4, "fp16", 6, 5, 7),
    ("os", 4, 4, "fp16", 6, 5, 7),
    ("ws", 2, 2, "fp32", 3, 5, 3),
    ("os", 2, 2, "fp32", 3, 5, 3),
]
SLOW = [
    ("ws", 8, 8, "fp16", 10, 9, 11),
    ("os", 8, 8, "fp16", 10, 9, 11),
    ("ws", 4, 4, "fp32", 5, 6, 5),
    ("os", 4, 4, "fp32", 5, 6, 5),
]


@pytest.mark.sim
@needs_icarus
@pytest.mark.parametrize(("dataflow", "rows", "cols", "fmt", "m", "n", "k"), FAST)
def test_array_gemm(dataflow: str, rows: int, cols: int, fmt: str, m: int, n: int, k: int,
                    sim_log) -> None:
    _check_run(dataflow, rows, cols, fmt, m, n, k, sim_log)


@pytest.mark.sim
@pytest.mark.slow
@needs_icarus
@pytest.mark.parametrize(("dataflow", "rows", "cols", "fmt", "m", "n", "k"), SLOW)
def test_array_gemm_large(dataflow: str, rows: int, cols: int, fmt: str, m: int, n: int,
                             k: int, sim_log) -> None:
    _check_run(dataflow, rows, cols, fmt, m, n, k, sim_log)


@pytest.mark.sim
@needs_icarus
@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_reverse_order_reference_is_detected(dataflow: str, sim_log) -> None:
    """The same products summed in reverse k order (another rounding order) disagree with the
    array on some results: the check sees the order, not just the value to a tolerance."""
    run = _check_run(dataflow, 4, 4, "fp16", 6, 5, 7, sim_log)
    s = run.sched
    exp_w, man_w = FMT["fp16"]
    a, w = D.gemm_operands(6, 5, 7, exp_w, man_w, 1)
    a[0, 0] = np.uint64(1 << (exp_w + man_w))
    w[-1, -1] = np.uint64(0)
    rev = D.reference_chain(a[:, ::-1].copy(), w[::-1, :].copy(), exp_w, man_w)[-1]
    seen = {(c, j): v for c, j, v in run.got}
    finals = [(seen[(e.cycle, e.col)], int(rev[e.m, e.n])) for e in s.events
              if e.want is not None and e.terms == s.k]
    differ = sum(got != want for got, want in finals)
    assert differ >= len(finals) // 10, f"reverse order differs on only {differ} results"


@pytest.mark.parametrize("dataflow", ["ws", "os"])
@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (2, 3), (4, 4), (3, 8)])
@pytest.mark.parametrize(("m", "n", "k"), [(1, 1, 1), (5, 7, 3), (9, 4, 10), (16, 16, 16)])
def test_schedule_meets_timing_contract(dataflow: str, rows: int, cols: int, m: int, n: int,
                                        k: int) -> None:
    """The driver's per-PE timing (no port slot written twice) puts the last result at exactly
    gemm_cycles and one result per output element and fold."""
    a = np.zeros((m, k), dtype=np.uint64)
    w = np.zeros((k, n), dtype=np.uint64)
    s = D.schedule(dataflow, rows, cols, a, w, 5, 10)
    assert s.cycles == gemm_cycles(dataflow, rows, cols, m, n, k) == s.length - 1
    folds_k = -(-k // rows) if dataflow == "ws" else 1
    assert sum(e.want is not None for e in s.events) == m * n * folds_k
    assert len({(e.cycle, e.col) for e in s.events}) == len(s.events)


def test_systolic_rtl_is_structural() -> None:
    files = sorted(SA_DIR.glob("*.v"))
    assert {p.stem for p in files} >= {"sa_ws", "sa_os", "pe_ws", "pe_os"}
    for path in files:
        code = _code(path)

        assert re.findall(r"^\s*module\s+(\w+)", code, re.MULTILINE) == [path.stem]
        assert not _FORBIDDEN_WORDS.search(code), f"{path.name}: behavioural construct"
        for rhs in _ASSIGN.findall(code):
            value = rhs.partition("=")[2]
            assert not _OPERATORS.search(_strip_constant_parts(value)), (
                f"{path.name}: logic in 'assign {rhs.strip()}'")
