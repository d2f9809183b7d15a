"""The one cell netlist of both energy paths: cells, pins, nets, drivers, fan-out and port bits.

A :class:`Netlist` is a flat list of cell :class:`Instance` s whose pins connect to nets (integer
ids, as Yosys numbers its bits; ``"0"``/``"1"`` for a pin or port bit tied to a constant), plus the
unit's input and output ports as lists of nets (LSB first). It is read from Yosys JSON by
:func:`netlist_from_yosys` with the cells' output pins known, so every net has its driver
(instance, pin) and its sinks (instance, pin) in instance order.

Two netlists of a unit are read this way:

* :func:`elaborate` (default path): Yosys only elaborates the structural unit, with the ``rc_*``
  RTL cells as black boxes, flattens it and writes JSON. Every ``rc_*`` instance keeps its
  hierarchical name (the same path the FST waveform uses), so toggles counted on an instance's
  output in simulation can be costed with the load that instance really drives.
* :func:`hwmodel.ops.synth.load_mapped_netlist` (yosys path): the unit mapped onto the Liberty's
  cells; instances are renamed ``g0, g1, ...`` in the order of Yosys' names.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import rtl
from hwmodel.rtlsim import UnitError, UnitSpec, dependency_files
from pnsutil import atomic_path, cache_dir

CELL_DIR = rtl.RTL_DIR / "cells"
# Output pins of the rc_* cells (rtl/cells/*.v); every other pin is an input.
OUTPUT_PINS = {"rc_ha": frozenset({"S", "CO"}), "rc_fa": frozenset({"S", "CO"}),
               "rc_dffr": frozenset({"Q"})}
DEFAULT_OUTPUTS = frozenset({"Y"})

Net = int | str  # a net id, or "0"/"1" for a constant


def rtl_cell_to_library(cell_type: str) -> str:
    """Library cell characterizing an RTL cell: ``rc_fa`` -> ``FA_X1``."""
    if not cell_type.startswith("rc_"):
        raise UnitError(f"instance of {cell_type!r} is not an rc_* RTL cell")
    return cell_type[3:].upper() + "_X1"


def rtl_output_pins(cell_type: str) -> frozenset[str]:
    """Output pins of an ``rc_*`` RTL cell."""
    return OUTPUT_PINS.get(cell_type, DEFAULT_OUTPUTS)


@dataclass(frozen=True)
class Instance:
    """One cell instance: name, cell type, pin -> net, and which of its pins are outputs."""

    name: str
    cell: str
    pins: dict[str, Net]
    output_pins: frozenset[str] = frozenset()

    @property
    def outputs(self) -> dict[str, int]:
        """Output pin -> net, for pins on a net (not a constant)."""
        return {p: b for p, b in self.pins.items() if p in self.output_pins and isinstance(b, int)}

    @property
    def inputs(self) -> dict[str, int]:
        """Input pin -> net, for pins on a net (not a constant)."""
        return {p: b for p, b in self.pins.items()
                if p not in self.output_pins and isinstance(b, int)}


@dataclass
class Netlist:
    """Flattened cell netlist of a unit for one parameter set.

    ``driver``: net -> (instance index, output pin); ``sinks``: net -> [(instance index, input
    pin)], both in instance order (derived from the instances).
    """

    top: str
    params: dict[str, int]
    instances: list[Instance]
    inputs: dict[str, list[Net]]
    outputs: dict[str, list[Net]]
    driver: dict[int, tuple[int, str]] = field(init=False, repr=False)
    sinks: dict[int, list[tuple[int, str]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        driver: dict[int, tuple[int, str]] = {}
        sinks: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for k, inst in enumerate(self.instances):
            for pin, net in inst.pins.items():
                if not isinstance(net, int):
                    continue
                if pin in inst.output_pins:
                    driver[net] = (k, pin)
                else:
                    sinks[net].append((k, pin))
        self.driver, self.sinks = driver, dict(sinks)

    @property
    def nets(self) -> set[int]:
        """Every net id used by a port or a cell pin."""
        out: set[int] = set()
        for bits in (*self.inputs.values(), *self.outputs.values()):
            out.update(b for b in bits if isinstance(b, int))
        for inst in self.instances:
            out.update(b for b in inst.pins.values() if isinstance(b, int))
        return out

    @property
    def fanout(self) -> dict[int, list[tuple[str, str]]]:
        """Net -> the (cell type, input pin) of every sink."""
        return {net: [(self.instances[k].cell, pin) for k, pin in fan]
                for net, fan in self.sinks.items()}

    @property
    def port_bits(self) -> dict[str, list[int]]:
        """Port -> its nets (constant bits left out), inputs and outputs."""
        return {name: [b for b in bits if isinstance(b, int)]
                for name, bits in (*self.inputs.items(), *self.outputs.items())}

    def port_labels(self, ports: dict[str, list[Net]]) -> dict[int, str]:
        """Net -> ``name[i]`` of the port bits in ``ports`` (``self.inputs`` or ``outputs``)."""
        return {b: f"{name}[{i}]" for name, bits in ports.items()
                for i, b in enumerate(bits) if isinstance(b, int)}

    def cell_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for inst in self.instances:
            counts[inst.cell] += 1
        return dict(sorted(counts.items()))


def _bit(value: int | str) -> Net:
    if isinstance(value, int) or value in ("0", "1"):
        return value
    return "0"  # 'x'/'z' constants: tied low, as `setundef -zero` does


def netlist_from_yosys(data: dict, top: str, params: dict[str, int],
                       output_pins: Callable[[str], frozenset[str]], *, where: str,
                       rename: bool = False) -> Netlist:
    """The module ``top`` of Yosys JSON ``data`` as a :class:`Netlist`.

    ``output_pins(cell type)`` names each cell's output pins; ``rename``: call the instances
    ``g0, g1, ...`` (in the order of their Yosys names) instead of keeping those names. Raises
    UnitError naming ``where`` for a missing module, an inout port or a multi-bit cell pin
    (an unconnected pin is left out).
    """
    module = data["modules"].get(top)
    if module is None:
        raise UnitError(f"{where}: no module {top} in the netlist")
    ports: dict[str, dict[str, list[Net]]] = {"input": {}, "output": {}}
    for name, port in module["ports"].items():
        if port["direction"] not in ports:
            raise UnitError(f"{where}: port {name} is {port['direction']}; "
                            "units must have only input and output ports")
        ports[port["direction"]][name] = [_bit(b) for b in port["bits"]]
    instances = []
    for k, (name, cell) in enumerate(sorted(module["cells"].items())):
        pins: dict[str, Net] = {}
        for pin, bits in cell["connections"].items():
            if not bits:  # an unconnected pin
                continue
            if len(bits) != 1:
                raise UnitError(f"{where}: cell {name} pin {pin} has {len(bits)} bits; "
                                "expected a 1-bit pin")
            pins[pin] = _bit(bits[0])
        instances.append(Instance(f"g{k}" if rename else name, cell["type"], pins,
                                  output_pins(cell["type"])))
    return Netlist(top, dict(params), instances, ports["input"], ports["output"])


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
    for name, cell in data["modules"][spec.name]["cells"].items():
        if not cell["type"].startswith("rc_"):
            raise UnitError(f"{spec.path}: {spec.name} contains {cell['type']} ({name}) outside "
                            "the rc_* cells; the default energy path needs a structural unit")
    return netlist_from_yosys(data, spec.name, values, rtl_output_pins, where=str(spec.path))
