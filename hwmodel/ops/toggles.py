"""Toggle counts per net from an FST waveform (pywellen), streamed, inside a cycle window.

A toggle is a 0->1 or 1->0 change of a 1-bit signal; changes from or to X/Z (power-up) are not
counted. The window is given in clock cycles of the stream harness (see
:mod:`hwmodel.rtlsim._stream_tb`): cycle k starts at the k-th rising clock edge after ``in_valid``
first rose. Changes at the edge that starts the window are in it; those at its end edge are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hwmodel.rtlsim import UnitError


@dataclass(frozen=True)
class ToggleWindow:
    """Times (ps) bounding ``cycles`` consecutive stream cycles; start inclusive, end exclusive."""

    start_ps: int
    end_ps: int
    cycles: int
    clock_period_ps: int


def _waveform(path: Path):
    import pywellen

    if not Path(path).is_file():
        raise UnitError(f"{path}: no such waveform file")
    return pywellen.Waveform(str(path))


def _changes(wave, variables: list) -> Iterable[tuple[int, str, object]]:
    events: list[tuple[int, str, object]] = []
    wave.stream_changes(lambda t, sid, v: events.append((t, str(sid), v)), variables)
    return events


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
    for name in (f"{top}.clk", f"{top}.in_valid"):
        if name not in by_name:
            raise UnitError(f"{path}: waveform has no signal {name}")
    clk, valid = by_name[f"{top}.clk"], by_name[f"{top}.in_valid"]
    clk_id, valid_id = str(clk.signal_ref), str(valid.signal_ref)
    rises: list[int] = []
    valid_rise: int | None = None
    last: dict[str, object] = {}
    for t, sid, v in _changes(wave, [clk, valid]):
        if sid == clk_id and v in (1, "1") and last.get(sid) in (0, "0"):
            rises.append(t)
        if sid == valid_id and v in (1, "1") and valid_rise is None:
            valid_rise = t
        last[sid] = v
    if valid_rise is None:
        raise UnitError(f"{path}: in_valid never rose; nothing was streamed")
    first_edge = next((i for i, t in enumerate(rises) if t >= valid_rise), None)
    if first_edge is None or first_edge + first_cycle + cycles >= len(rises):
        raise UnitError(f"{path}: waveform is shorter than {first_cycle + cycles} stream cycles")
    start = rises[first_edge + first_cycle]
    end = rises[first_edge + first_cycle + cycles]
    period = rises[first_edge + 1] - rises[first_edge]
    return ToggleWindow(start, end, cycles, period)


def count_toggles(path: Path, names: Iterable[str], window: ToggleWindow) -> dict[str, int]:
    """Toggles of each named 1-bit signal inside ``window`` (names as full FST paths)."""
    wave = _waveform(path)
    by_name = {v.full_name: v for v in wave.all_vars()}
    wanted = list(dict.fromkeys(names))
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise UnitError(f"{path}: waveform has no signal {missing[0]} ({len(missing)} missing)")
    variables = [by_name[n] for n in wanted]
    id_to_names: dict[str, list[str]] = {}
    for n, v in zip(wanted, variables, strict=True):
        id_to_names.setdefault(str(v.signal_ref), []).append(n)
    counts_by_id = dict.fromkeys(id_to_names, 0)
    last: dict[str, object] = {}
    start, end = window.start_ps, window.end_ps
    unique = [by_name[names_[0]] for names_ in id_to_names.values()]

    def on_change(t: int, sid, value) -> None:
        key = str(sid)
        prev = last.get(key)
        last[key] = value
        if start <= t < end and prev is not None and prev != value and value in (0, 1) \
                and prev in (0, 1):
            counts_by_id[key] += 1

    wave.stream_changes(on_change, unique)
    return {n: counts_by_id[sid] for sid, ns in id_to_names.items() for n in ns}
