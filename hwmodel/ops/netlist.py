"""Cell-level connectivity of a structural unit, elaborated by Yosys (no synthesis, no mapping).

Yosys reads the unit and its sources with the ``rc_*`` RTL cells as black boxes, applies the
parameters, flattens the hierarchy and writes JSON. Every ``rc_*`` instance keeps its
hierarchical name (the same path the FST waveform uses), so toggles counted on an instance's
output in simulation can be costed with the load that instance really drives: the input pins of
its fan-out cells plus a wire-load estimate.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field

import rtl
from hwmodel.rtlsim import UnitError, UnitSpec, dependency_files
from pnsutil import atomic_path, cache_dir

CELL_DIR = rtl.RTL_DIR / "cells"
# Output pins of the rc_* cells (rtl/cells/*.v); every other pin is an input.
OUTPUT_PINS = {"rc_ha": frozenset({"S", "CO"}), "rc_fa": frozenset({"S", "CO"}),
               "rc_dffr": frozenset({"Q"})}
DEFAULT_OUTPUTS = frozenset({"Y"})


def rtl_cell_to_library(cell_type: str) -> str:
    """Library cell characterizing an RTL cell: ``rc_fa`` -> ``FA_X1``."""
    if not cell_type.startswith("rc_"):
        raise UnitError(f"instance of {cell_type!r} is not an rc_* RTL cell")
    return cell_type[3:].upper() + "_X1"


@dataclass(frozen=True)
class Instance:
    """One RTL cell instance: hierarchical name (as in the FST), type, and pin -> net bit id."""

    name: str
    cell: str
    pins: dict[str, int]

    @property
    def outputs(self) -> dict[str, int]:
        outs = OUTPUT_PINS.get(self.cell, DEFAULT_OUTPUTS)
        return {p: b for p, b in self.pins.items() if p in outs}

    @property
    def inputs(self) -> dict[str, int]:
        outs = OUTPUT_PINS.get(self.cell, DEFAULT_OUTPUTS)
        return {p: b for p, b in self.pins.items() if p not in outs}


@dataclass
class Netlist:
    """Flattened cell netlist of a unit for one parameter set."""

    top: str
    params: dict[str, int]
    instances: list[Instance]
    port_bits: dict[str, list[int]]
    fanout: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # bit -> (cell, pin)

    def __post_init__(self) -> None:
        if not self.fanout:
            table: dict[int, list[tuple[str, str]]] = defaultdict(list)
            for inst in self.instances:
                for pin, bit in inst.inputs.items():
                    table[bit].append((inst.cell, pin))
            self.fanout = dict(table)

    def cell_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for inst in self.instances:
            counts[inst.cell] += 1
        return dict(sorted(counts.items()))

    @property
    def output_port_bits(self) -> set[int]:
        return set(self.port_bits.get("y", [])) | set(self.port_bits.get("out_valid", []))


def _yosys() -> str:
    exe = shutil.which("yosys")
    if exe is None:
        raise UnitError("yosys not found on PATH; install it: apt-get install yosys "
                        "(or run `make setup`)")
    return exe


def elaborate(spec: UnitSpec, params: dict[str, int] | None = None) -> Netlist:
    """Flatten ``spec`` with ``params`` into its ``rc_*`` cell instances (cached by content hash).

    Raises UnitError when Yosys fails, or when the flattened unit contains logic that is not an
    ``rc_*`` cell (the default energy path can only cost cell instances).
    """
    values = spec.resolve_params(params)
    sources = dependency_files(spec.path)
    cells = [s for s in sources if s.parent == CELL_DIR]
    design = [s for s in sources if s.parent != CELL_DIR]
    digest = hashlib.sha256()
    for src in sources:
        digest.update(src.name.encode() + src.read_bytes())
    digest.update(json.dumps([spec.name, sorted(values.items())]).encode())
    cache = cache_dir("netlist") / f"{spec.name}-{digest.hexdigest()[:16]}.json"
    if not cache.exists():
        chparams = " ".join(f"-chparam {k} {v}" for k, v in values.items())
        script = (
            f"read_verilog -lib {' '.join(str(c) for c in cells)}; "
            f"read_verilog {' '.join(str(d) for d in design)}; "
            f"hierarchy -top {spec.name} {chparams}; proc; flatten; opt_clean -purge; "
            "write_json {out}"
        )
        with atomic_path(cache, suffix=".json") as tmp:
            proc = subprocess.run([_yosys(), "-q", "-p", script.format(out=tmp)],
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                err = next((ln for ln in (proc.stderr + proc.stdout).splitlines()
                            if "ERROR" in ln), proc.stderr.strip()[-200:])
                raise UnitError(f"{spec.path}: yosys could not elaborate {spec.name}: {err}")
    data = json.loads(cache.read_text())
    module = data["modules"][spec.name]
    instances: list[Instance] = []
    for name, cell in module["cells"].items():
        if not cell["type"].startswith("rc_"):
            raise UnitError(f"{spec.path}: {spec.name} contains {cell['type']} ({name}) outside "
                            "the rc_* cells; the default energy path needs a structural unit")
        pins = {pin: int(bits[0]) for pin, bits in cell["connections"].items()
                if bits and isinstance(bits[0], int)}
        instances.append(Instance(name, cell["type"], pins))
    ports = {name: [int(b) for b in p["bits"] if isinstance(b, int)]
             for name, p in module["ports"].items()}
    return Netlist(spec.name, values, sorted(instances, key=lambda i: i.name), ports)
