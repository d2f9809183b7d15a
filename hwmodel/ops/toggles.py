"""Toggle counting for both energy paths: per-net rises and falls inside a window of cycles.

:func:`count_edges` streams an FST waveform with pywellen (one change at a time; the waveform is
never held in memory) and counts, per signal, the rises (to 1) and falls (to 0) inside a
:class:`ToggleWindow` (start inclusive, end exclusive). A toggle is a change between 0 and 1;
changes from or to X/Z (power-up) are not counted, except that with ``strict`` (the gate-level
path, whose every net is driven and initialised before the window) every change to 0 or 1 counts
and a change to X/Z inside the window is an error. :func:`count_toggles` is the same counter
summed over both edges, keyed by name.

Windows: :func:`stream_window` finds one in a run of the stream harness (see
:mod:`hwmodel.rtlsim._stream_tb`: cycle k starts at the k-th rising clock edge after ``in_valid``
first rose; changes at the edge that starts the window are in it, those at its end edge are not);
the gate-level testbench knows its own edge times and builds the window directly.

:func:`count_sampled_edges` counts the same from per-cycle samples of every net (the gate-level
testbench's cheaper source for zero-delay runs, where a net changes at most once per cycle).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from hwmodel.rtlsim import HANDSHAKE, UnitError

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class ToggleWindow:
    """Times (ps) bounding ``cycles`` consecutive stream cycles; start inclusive, end exclusive."""

    start_ps: int
    end_ps: int
    cycles: int
    clock_period_ps: int


def _waveform(path: Path):
    """A pywellen waveform (each can stream its changes once)."""
    import pywellen

    if not Path(path).is_file():
        raise UnitError(f"{path}: no such waveform file")
    return pywellen.Waveform(str(path))


def signal_names(path: Path) -> set[str]:
    """Full hierarchical names of every signal in the waveform."""
    return {v.full_name for v in _waveform(path).all_vars()}


_GENBLK_RE = re.compile(r"(?:^|(?<=\.))genblk\d+\.")


def fst_name(name: str, available: set[str]) -> str:
    """The waveform's name for a Yosys hierarchical name: Yosys calls unnamed generate blocks
    ``genblkN`` while Icarus gives them no scope, so those components are dropped if needed."""
    if name in available:
        return name
    alt = _GENBLK_RE.sub("", name)
    return alt if alt in available else name


def stream_window(path: Path, top: str, first_cycle: int, cycles: int) -> ToggleWindow:
    """Window over stream cycles [first_cycle, first_cycle + cycles) of the run in ``path``."""
    wave = _waveform(path)
    by_name = {v.full_name: v for v in wave.all_vars()}
    clk_name, valid_name = f"{top}.{HANDSHAKE.clk}", f"{top}.{HANDSHAKE.in_valid}"
    for name in (clk_name, valid_name):
        if name not in by_name:
            raise UnitError(f"{path}: waveform has no signal {name}")
    clk, valid = by_name[clk_name], by_name[valid_name]
    clk_id, valid_id = str(clk.signal_ref), str(valid.signal_ref)
    rises: list[int] = []
    valid_rise: int | None = None
    last: dict[str, object] = {}

    def on_change(t: int, sid, v) -> None:
        nonlocal valid_rise
        key = str(sid)
        if key == clk_id and v in (1, "1") and last.get(key) in (0, "0"):
            rises.append(t)
        if key == valid_id and v in (1, "1") and valid_rise is None:
            valid_rise = t
        last[key] = v

    wave.stream_changes(on_change, [clk, valid])
    if valid_rise is None:
        raise UnitError(f"{path}: {HANDSHAKE.in_valid} never rose; nothing was streamed")
    first_edge = next((i for i, t in enumerate(rises) if t >= valid_rise), None)
    if first_edge is None or first_edge + first_cycle + cycles >= len(rises):
        raise UnitError(f"{path}: waveform is shorter than {first_cycle + cycles} stream cycles")
    start = rises[first_edge + first_cycle]
    end = rises[first_edge + first_cycle + cycles]
    period = rises[first_edge + 1] - rises[first_edge]
    return ToggleWindow(start, end, cycles, period)


def count_edges(path: Path, signals: Mapping[K, str], window: ToggleWindow, *,
                strict: bool = False) -> tuple[dict[K, int], dict[K, int]]:
    """(rises, falls) inside ``window`` of each signal in ``signals`` (key -> full FST name;
    several keys may name the same signal). With ``strict``, a change to X/Z inside the window
    raises UnitError naming the signal; otherwise changes from or to X/Z are not counted."""
    wave = _waveform(path)
    by_name = {v.full_name: v for v in wave.all_vars()}
    missing = [n for n in dict.fromkeys(signals.values()) if n not in by_name]
    if missing:
        raise UnitError(f"{path}: waveform has no signal {missing[0]} ({len(missing)} missing)")
    keys_by_id: dict[str, list[K]] = {}
    variables = []
    for key, name in signals.items():
        sid = str(by_name[name].signal_ref)
        if sid not in keys_by_id:
            keys_by_id[sid] = []
            variables.append(by_name[name])
        keys_by_id[sid].append(key)
    rise = dict.fromkeys(keys_by_id, 0)
    fall = dict.fromkeys(keys_by_id, 0)
    last: dict[str, object] = {}
    start, end = window.start_ps, window.end_ps

    def on_change(t: int, sid, value) -> None:
        key = str(sid)
        prev = last.get(key)
        last[key] = value
        if not start <= t < end or prev == value:
            return
        if value in (0, 1):
            if strict or prev in (0, 1):
                (rise if value == 1 else fall)[key] += 1
        elif strict:
            raise UnitError(f"{path}: {signals[keys_by_id[key][0]]} went to {value!r} inside "
                            "the measurement window (undriven or uninitialised logic)")

    wave.stream_changes(on_change, variables)
    return ({k: rise[sid] for sid, ks in keys_by_id.items() for k in ks},
            {k: fall[sid] for sid, ks in keys_by_id.items() for k in ks})


def count_toggles(path: Path, names: Iterable[str], window: ToggleWindow) -> dict[str, int]:
    """Toggles (rises + falls) of each named 1-bit signal inside ``window`` (full FST names)."""
    rise, fall = count_edges(path, {n: n for n in names}, window)
    return {n: rise[n] + fall[n] for n in rise}


_HEX = np.full(256, 255, dtype=np.uint8)
for _k, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _k


def count_sampled_edges(path: Path, nets: list[int], first_cycle: int, last_cycle: int,
                        chunk_rows: int = 4096) -> tuple[dict[int, int], dict[int, int]]:
    """Rising and falling toggles per net between consecutive per-cycle samples (one hex line
    per cycle, ``nets[0]`` in the least significant bit), for the changes at the edges starting
    cycles ``first_cycle..last_cycle``; read ``chunk_rows`` lines at a time. An X/Z sample is an
    error (undriven or uninitialised logic)."""
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
                raise UnitError(f"{path}: a net was X/Z at a cycle boundary "
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
