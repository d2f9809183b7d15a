"""Cycle-level simulation of a handshake unit on Icarus through the cocotb runner.

``simulate`` compiles the unit and its dependencies once per (sources, parameters) and streams an
operand vector per cycle through it, returning every result with the measured latency and
initiation interval. Used by the RTL tests and by per-op characterization.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwmodel.rtlsim.deps import dependency_files
from hwmodel.rtlsim.handshake import HANDSHAKE
from hwmodel.rtlsim.unit import UnitError, UnitSpec, check_handshake
from pnsutil import atomic_write, cache_dir

TIMESCALE = ("1ns", "1ps")


@dataclass
class SimResult:
    """Outputs of one streamed simulation.

    ``y`` holds the raw output bit patterns (uint64 when ``y`` is at most 64 bits wide, else Python
    ints in an object array), one per input vector and in input order. Latency and initiation
    interval are in clock cycles, measured from the cycle a vector entered to the cycle its result
    was visible on ``y`` with ``out_valid`` high.
    """

    y: np.ndarray
    latency_cycles: int
    ii_cycles: int
    vectors: int
    sim_wall_s: float
    build_wall_s: float
    params: dict[str, int]
    wave_path: Path | None = None


def cache_root() -> Path:
    """Folder for compiled simulations: :func:`pnsutil.cache_dir` ``("sim")``."""
    return cache_dir("sim")


def require_icarus() -> None:
    """UnitError naming the fix unless Icarus Verilog (iverilog, vvp) is on PATH."""
    for tool in ("iverilog", "vvp"):
        if shutil.which(tool) is None:
            raise UnitError(f"{tool} not found on PATH; install Icarus Verilog: "
                            "apt-get install iverilog (or run `make setup`)")


def build_unit(spec: UnitSpec, params: dict[str, int], *, waves: bool = False,
               search_dirs: list[Path] | None = None) -> tuple[Path, float]:
    """Compile ``spec`` with ``params`` (cached by content hash); returns (build dir, seconds)."""
    require_icarus()
    from cocotb_tools.runner import get_runner

    sources = dependency_files(spec.path, search_dirs)
    digest = hashlib.sha256()
    for src in sources:
        digest.update(str(src.name).encode())
        digest.update(src.read_bytes())
    digest.update(json.dumps([spec.name, sorted(params.items()), waves]).encode())
    build_dir = cache_root() / f"{spec.name}-{digest.hexdigest()[:16]}"
    stamp = build_dir / "built.ok"
    if stamp.exists():
        return build_dir, 0.0
    build_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    # The compiled design embeds its own folder (the wave dump module), so it is built in place,
    # under a lock so that parallel workers never build the same folder at once.
    with open(build_dir.parent / f"{build_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists():
            return build_dir, 0.0
        runner = get_runner("icarus")
        log_file = build_dir / "build.log"
        try:
            runner.build(
                sources=[str(s) for s in sources],
                hdl_toplevel=spec.name,
                parameters=dict(params),
                build_dir=str(build_dir),
                timescale=TIMESCALE,
                waves=waves,
                always=True,
                log_file=str(log_file),
            )
        except (SystemExit, Exception) as exc:  # iverilog: SystemExit or CalledProcessError
            log = log_file.read_text(errors="replace") if log_file.exists() else str(exc)
            lines = log.splitlines()
            first = next((ln for ln in lines if "error" in ln.lower()), log.strip()[:200])
            shutil.rmtree(build_dir, ignore_errors=True)
            raise UnitError(f"{spec.path}: Icarus could not compile {spec.name}: {first}") from None
        atomic_write(stamp, json.dumps({"sources": [str(s) for s in sources]}))
    return build_dir, time.perf_counter() - t0


def simulate(spec: UnitSpec, inputs: dict[str, np.ndarray], params: dict[str, int] | None = None,
             *, wave_path: Path | None = None, drain_cycles: int = 1000,
             search_dirs: list[Path] | None = None) -> SimResult:
    """Stream ``inputs`` (raw bit patterns per input port; ``a`` and ``b`` required, other inputs
    default to 0) through ``spec`` at one vector per cycle and return the results in order.
    With ``wave_path``, the run's FST waveform (every net, from reset on) is written there.

    Raises UnitError for a bad interface, operands that do not fit their ports, a compile error,
    or a unit that does not return exactly one valid result per input.
    """
    values = spec.resolve_params(params)
    check_handshake(spec, values)
    widths = spec.widths(values)
    arrays = _input_arrays(spec, inputs, widths)
    n = len(arrays[HANDSHAKE.operands[0]])
    build_dir, build_s = build_unit(spec, values, waves=wave_path is not None,
                                    search_dirs=search_dirs)
    chunks = (widths[HANDSHAKE.result] + 63) // 64
    out, sim_s, wave = _run_stream(spec, build_dir, arrays, chunks, drain_cycles, wave_path)
    y, latency, ii = _results(spec, out, n, chunks)
    return SimResult(y=y, latency_cycles=latency, ii_cycles=ii, vectors=n, sim_wall_s=sim_s,
                     build_wall_s=build_s, params=values, wave_path=wave)


def _input_arrays(spec: UnitSpec, inputs: dict[str, np.ndarray],
                  widths: dict[str, int]) -> dict[str, np.ndarray]:
    """Every data input as uint64 (missing ones 0), checked against its port width."""
    for name in HANDSHAKE.operands:
        if name not in inputs:
            raise UnitError(f"simulate({spec.name}): operand {name!r} missing from inputs")
    arrays: dict[str, np.ndarray] = {}
    n = len(np.asarray(inputs[HANDSHAKE.operands[0]]))
    for name in (*HANDSHAKE.operands, *spec.extra_inputs):
        arr = np.asarray(inputs.get(name, np.zeros(n, dtype=np.uint64)))
        if arr.shape != (n,):
            raise UnitError(f"simulate({spec.name}): input {name!r} has shape {arr.shape}; "
                            f"expected ({n},) like 'a'")
        if widths[name] > 64:
            raise UnitError(f"simulate({spec.name}): input {name!r} is {widths[name]} bits; "
                            "the stream harness drives inputs up to 64 bits")
        arr = arr.astype(np.uint64)
        if widths[name] < 64 and n and int(arr.max()) >> widths[name]:
            raise UnitError(f"simulate({spec.name}): input {name!r} has values wider than its "
                            f"{widths[name]} bits; mask operands to the port width")
        arrays[name] = arr
    unknown_inputs = sorted(set(inputs) - set(arrays))
    if unknown_inputs:
        raise UnitError(f"simulate({spec.name}): module has no input port {unknown_inputs[0]!r}")
    return arrays


def _run_stream(spec: UnitSpec, build_dir: Path, arrays: dict[str, np.ndarray], chunks: int,
                drain_cycles: int, wave_path: Path | None) -> tuple[dict, float, Path | None]:
    """Run the cocotb stream testbench once: (its outputs, simulation seconds, the waveform)."""
    from cocotb_tools.runner import get_runner

    waves = wave_path is not None
    run_dir = Path(tempfile.mkdtemp(prefix=f"run-{spec.name}-", dir=build_dir))
    try:
        in_path, out_path = run_dir / "in.npz", run_dir / "out.npz"
        np.savez(in_path, **arrays)
        runner = get_runner("icarus")
        t0 = time.perf_counter()
        try:
            runner.test(
                test_module="hwmodel.rtlsim._stream_tb",
                hdl_toplevel=spec.name,
                hdl_toplevel_lang="verilog",
                build_dir=str(build_dir),
                test_dir=str(run_dir),
                waves=waves,
                extra_env={
                    "PNS_STREAM_IN": str(in_path),
                    "PNS_STREAM_OUT": str(out_path),
                    "PNS_STREAM_DRAIN": str(drain_cycles),
                    "PNS_STREAM_Y_CHUNKS": str(chunks),
                },
                plusargs=[f"+dumpfile_path={run_dir / 'wave.fst'}"] if waves else [],
                results_xml=str(run_dir / "results.xml"),
                log_file=str(run_dir / "sim.log"),
            )
        except SystemExit:
            log = (run_dir / "sim.log").read_text(errors="replace")
            err = next((ln for ln in log.splitlines() if "Error" in ln or "FAIL" in ln), "")
            raise UnitError(f"{spec.path}: simulation of {spec.name} failed: {err.strip()}"
                            ) from None
        sim_s = time.perf_counter() - t0
        if not out_path.exists():
            raise UnitError(f"{spec.path}: simulation of {spec.name} produced no results "
                            f"(see {run_dir / 'sim.log'})")
        with np.load(out_path) as data:
            out = {k: data[k] for k in data.files}
        wave = None
        if wave_path is not None:
            if not (run_dir / "wave.fst").exists():
                raise UnitError(f"{spec.path}: simulation of {spec.name} wrote no waveform")
            wave = Path(wave_path)
            wave.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(run_dir / "wave.fst"), wave)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return out, sim_s, wave


def _results(spec: UnitSpec, out: dict, n: int, chunks: int) -> tuple[np.ndarray, int, int]:
    """(results in input order, latency, initiation interval) from the testbench's outputs;
    UnitError unless there is exactly one known result per input at a fixed latency."""
    words, unknown = out["y"], out["unknown"]
    in_cycle, out_cycle = out["in_cycle"], out["out_cycle"]
    if len(words) != n:
        raise UnitError(f"{spec.path}: {spec.name} returned {len(words)} valid results for {n} "
                        f"inputs (out_valid must follow in_valid one-for-one)")
    if unknown.any():
        first = int(np.argmax(unknown))
        raise UnitError(f"{spec.path}: {spec.name} drove X/Z on y for vector {first} "
                        f"(uninitialised or undriven logic)")
    if chunks == 1:
        y = words[:, 0].copy()
    else:
        y = np.array([sum(int(w) << (64 * k) for k, w in enumerate(row)) for row in words],
                     dtype=object)
    lat = out_cycle - in_cycle if n else np.zeros(0, dtype=np.int64)
    if n and lat.min() != lat.max():
        raise UnitError(f"{spec.path}: {spec.name} has a variable latency "
                        f"({lat.min()}..{lat.max()} cycles); the harness needs a fixed latency")
    ii = int(np.median(np.diff(out_cycle))) if n > 1 else 1
    return y, int(lat[0]) if n else 0, ii
