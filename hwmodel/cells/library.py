"""Loading the characterized library (JSON summary) into typed records with units.

``load_library(corner, vdd_v, temp_c)`` reads ``hwmodel/cells/lib/pns45_<tag>.json`` (committed)
and returns a :class:`CellLibrary`. Energies are pJ, times ns, capacitances fF, areas um^2,
leakage nW. Per output toggle a cell dissipates ``internal energy + 1/2 C_load V^2``.

DFF energy accounting (no double counting): every CK edge costs the clock-pin energy
(``SequentialData.clock_rise/fall_energy_pj``, measured with Q unchanged); the CK->Q arc's
rise/fall energy tables ALREADY EXCLUDE the clock-rise energy at the same slew, so a cycle in
which Q toggles costs ``clock_energy_per_cycle + CK->Q internal + 1/2 C_load V^2``. D-pin
toggles with CK low cost ``d_rise/fall_energy_pj``. Do not subtract the clock energy again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import CellLibraryError
from .nldm import NldmTable
from .spice import SimSettings

LIB_DIR = Path(__file__).resolve().parent / "lib"


def library_name(settings: SimSettings) -> str:
    return f"pns45_{settings.tag}"


def library_paths(settings: SimSettings, out_dir: Path | None = None) -> dict[str, Path]:
    """Paths of the Liberty, Verilog-model and JSON files of a library."""
    d = out_dir or LIB_DIR
    n = library_name(settings)
    return {"liberty": d / f"{n}.lib", "verilog": d / f"{n}_cells.v", "json": d / f"{n}.json"}


def default_liberty_path() -> Path:
    """Committed Liberty file of the default library (nom, 1.1 V, 25 C)."""
    return library_paths(SimSettings())["liberty"]


def default_verilog_models_path() -> Path:
    """Committed Verilog cell models of the default library."""
    return library_paths(SimSettings())["verilog"]


@dataclass(frozen=True)
class ArcPoint:
    """One arc evaluated at a slew/load point (ns, pJ); None where the arc has no such edge."""

    delay_rise_ns: float | None
    delay_fall_ns: float | None
    transition_rise_ns: float | None
    transition_fall_ns: float | None
    energy_rise_pj: float | None
    energy_fall_pj: float | None


@dataclass(frozen=True)
class TimingArc:
    """Timing/energy arc ``from_pin -> to_pin``; tables absent (None) for edges it lacks."""

    from_pin: str
    to_pin: str
    timing_type: str
    sense: str
    side_states: tuple[str, ...]
    cell_rise_ns: NldmTable | None
    cell_fall_ns: NldmTable | None
    rise_transition_ns: NldmTable | None
    fall_transition_ns: NldmTable | None
    rise_energy_pj: NldmTable | None
    fall_energy_pj: NldmTable | None

    def interpolate(self, slew_ns: float, load_ff: float) -> ArcPoint:
        def f(t: NldmTable | None) -> float | None:
            return None if t is None else t.lookup(slew_ns, load_ff)

        return ArcPoint(f(self.cell_rise_ns), f(self.cell_fall_ns), f(self.rise_transition_ns),
                        f(self.fall_transition_ns), f(self.rise_energy_pj), f(self.fall_energy_pj))


@dataclass(frozen=True)
class SequentialData:
    """DFF data: constraints (ns) and pin energies per input slew (pJ)."""

    setup_rise_ns: float
    setup_fall_ns: float
    hold_rise_ns: float
    hold_fall_ns: float
    clock_rise_energy_pj: np.ndarray
    clock_fall_energy_pj: np.ndarray
    d_rise_energy_pj: np.ndarray
    d_fall_energy_pj: np.ndarray
    slew_ns: np.ndarray

    def clock_energy_per_cycle_pj(self, slew_ns: float) -> float:
        """CK rise + CK fall energy with Q unchanged (pJ), interpolated in slew."""
        return float(np.interp(slew_ns, self.slew_ns, self.clock_rise_energy_pj)
                     + np.interp(slew_ns, self.slew_ns, self.clock_fall_energy_pj))


@dataclass(frozen=True)
class Cell:
    """A characterized cell."""

    name: str
    area_um2: float
    transistors: int
    input_cap_ff: dict[str, float]
    functions: dict[str, str]
    leakage_nw: dict[str, float]
    leakage_avg_nw: float
    arcs: tuple[TimingArc, ...]
    sequential: SequentialData | None = None

    def arc(self, from_pin: str, to_pin: str) -> TimingArc:
        for a in self.arcs:
            if a.from_pin == from_pin and a.to_pin == to_pin:
                return a
        raise CellLibraryError(f"no arc {from_pin}->{to_pin}", cell=self.name)

    def internal_energy_per_toggle_pj(self, out_pin: str, slew_ns: float, load_ff: float) -> float:
        """Mean internal energy (pJ) of one toggle of ``out_pin``: average of rise and fall over
        all arcs into it (clock->Q for the DFF, which already excludes the clock-pin energy;
        see the module docstring)."""
        vals = []
        for a in self.arcs:
            if a.to_pin != out_pin or a.timing_type == "clear":
                continue
            p = a.interpolate(slew_ns, load_ff)
            es = [e for e in (p.energy_rise_pj, p.energy_fall_pj) if e is not None]
            vals.append(sum(es) / len(es))
        if not vals:
            raise CellLibraryError(f"no switching arc drives pin {out_pin!r}", cell=self.name)
        return float(np.mean(vals))


@dataclass(frozen=True)
class CellLibrary:
    """The characterized library at one operating point."""

    name: str
    corner: str
    vdd_v: float
    temp_c: float
    slew_index_ns: np.ndarray
    load_index_ff: np.ndarray
    cells: dict[str, Cell]
    key_figures: dict[str, float] = field(default_factory=dict)
    liberty_path: Path | None = None
    verilog_models_path: Path | None = None

    def cell(self, name: str) -> Cell:
        try:
            return self.cells[name]
        except KeyError:
            raise CellLibraryError(f"unknown cell {name!r} in library {self.name}; choose from "
                                   f"{', '.join(self.cells)}") from None

    def toggle_energy_pj(self, cell: str, out_pin: str, load_ff: float,
                         slew_ns: float | None = None) -> float:
        """Energy of one output toggle (pJ) = internal energy + 1/2 C_load V^2."""
        s = float(self.key_figures.get("ref_slew_ns", self.slew_index_ns[1])) \
            if slew_ns is None else slew_ns
        e_int = self.cell(cell).internal_energy_per_toggle_pj(out_pin, s, load_ff)
        return e_int + 0.5 * load_ff * 1e-15 * self.vdd_v ** 2 * 1e12


def _tab(arc: dict, key: str, s: np.ndarray, l_: np.ndarray) -> NldmTable | None:
    return NldmTable(s, l_, np.asarray(arc[key], dtype=float)) if key in arc else None


def library_from_summary(d: dict, paths: dict[str, Path] | None = None) -> CellLibrary:
    """Build a :class:`CellLibrary` from the JSON summary dict."""
    s = np.asarray(d["slew_index_ns"], dtype=float)
    l_ = np.asarray(d["load_index_ff"], dtype=float)
    cells = {}
    for name, c in d["cells"].items():
        arcs = tuple(TimingArc(a["from"], a["to"], a["timing_type"], a["sense"],
                               tuple(a.get("side_states", ())),
                               _tab(a, "cell_rise_ns", s, l_), _tab(a, "cell_fall_ns", s, l_),
                               _tab(a, "rise_transition_ns", s, l_),
                               _tab(a, "fall_transition_ns", s, l_),
                               _tab(a, "rise_energy_pj", s, l_), _tab(a, "fall_energy_pj", s, l_))
                     for a in c["arcs"])
        seq = None
        if c.get("sequential"):
            q = c["sequential"]
            seq = SequentialData(q["setup_rise_ns"], q["setup_fall_ns"], q["hold_rise_ns"],
                                 q["hold_fall_ns"], np.asarray(q["clock_rise_energy_pj"]),
                                 np.asarray(q["clock_fall_energy_pj"]),
                                 np.asarray(q["d_rise_energy_pj"]),
                                 np.asarray(q["d_fall_energy_pj"]), s)
        cells[name] = Cell(name, c["area_um2"], c["transistors"],
                           {p: v["capacitance_ff"] for p, v in c["inputs"].items()},
                           {p: v["function"] for p, v in c["outputs"].items()},
                           dict(c["leakage_nw"]), c["leakage_avg_nw"], arcs, seq)
    paths = paths or {}
    return CellLibrary(d["library"], d["corner"], d["vdd_v"], d["temp_c"], s, l_, cells,
                       dict(d.get("key_figures", {})), paths.get("liberty"), paths.get("verilog"))


def load_library(corner: str = "nom", vdd_v: float = 1.1, temp_c: float = 25.0,
                 lib_dir: Path | None = None) -> CellLibrary:
    """Load a characterized library; the committed one is nom / 1.1 V / 25 C.

    Other operating points must be built first with
    ``python -m hwmodel.cells build --corner C --vdd V --temp T``.
    """
    settings = SimSettings(corner, vdd_v, temp_c)
    paths = library_paths(settings, lib_dir)
    if not paths["json"].is_file():
        raise CellLibraryError(
            f"library {library_name(settings)} not built ({paths['json']} missing); fix: "
            f"python -m hwmodel.cells build --corner {corner} --vdd {vdd_v:g} --temp {temp_c:g}")
    try:
        d = json.loads(paths["json"].read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise CellLibraryError(f"cannot read {paths['json']}: {e}; fix: rebuild it with "
                               "python -m hwmodel.cells build") from None
    try:
        return library_from_summary(d, paths)
    except (KeyError, ValueError, TypeError) as e:  # e.g. a table whose axes do not increase
        raise CellLibraryError(f"{paths['json']} is malformed ({e!r}); fix: rebuild it with "
                               "python -m hwmodel.cells build") from None
