"""A training accelerator as data: a PE array of one characterized MAC unit, its operand
buffers, a vector unit and DRAM, read from TOML (``hwmodel/accel/archs/*.toml`` or a user file).

GEMM operands (:mod:`hwmodel.accel.lower`): ``ifmap`` = the streamed left matrix A (M x K),
``weight`` = the right matrix B (K x N), ``ofmap`` = the result C (M x N, partial sums too).
Every buffer serves one or more of these roles; each is costed by the SRAM model
(:mod:`hwmodel.sram`) at its capacity, word width and banks. A buffer must feed the array's
per-cycle demand (one word per array row or column per cycle), or the architecture is refused:
bank conflicts are designed out rather than modelled as stalls.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hwmodel import dram
from hwmodel.accel.errors import AccelError
from hwmodel.accel.timing import DATAFLOWS
from hwmodel.sram.api import parse_size
from hwmodel.sram.errors import SramInputError

ARCH_DIR = Path(__file__).with_name("archs")
OPERANDS = ("ifmap", "weight", "ofmap")
FORMAT_BITS = {"fp32": 32, "fp16": 16, "bf16": 16, "int8": 8, "int16": 16, "int32": 32}


@dataclass(frozen=True)
class PeArray:
    """``rows x cols`` PEs, each one MAC unit (``unit`` from the op library) at ``latency``
    register stages; ``dataflows``: the dataflows the mapper may choose (one fixed, or several
    for a reconfigurable array)."""

    rows: int
    cols: int
    dataflows: tuple[str, ...]
    unit: str = "fp_mac"
    latency: int = 1

    @property
    def pes(self) -> int:
        return self.rows * self.cols


@dataclass(frozen=True)
class OperandBuffer:
    """One on-chip SRAM: ``capacity_bytes``, ``word_bits`` per access, ``banks``, the GEMM
    operand roles it holds (:data:`OPERANDS`)."""

    name: str
    operands: tuple[str, ...]
    capacity_bytes: int
    word_bits: int
    banks: int = 1


@dataclass(frozen=True)
class VectorUnit:
    """``lanes`` adders and multipliers for element-wise work and the optimizer step."""

    lanes: int


@dataclass(frozen=True)
class DramChannel:
    """Off-chip memory: ``kind`` (:data:`hwmodel.dram.DRAM_TYPES`) and ``bandwidth_gb_s``."""

    kind: str
    bandwidth_gb_s: float


@dataclass(frozen=True)
class Architecture:
    """A whole accelerator. ``clock_mhz_max``: the target clock; the modeled clock is the PE
    unit's fmax if lower. ``source``: where the preset's organisation comes from."""

    name: str
    array: PeArray
    buffers: tuple[OperandBuffer, ...]
    vector: VectorUnit
    dram: DramChannel
    fmt: str = "fp32"
    clock_mhz_max: float = 1000.0
    source: str = ""
    path: str = field(default="", compare=False)

    @property
    def elem_bits(self) -> int:
        return FORMAT_BITS[self.fmt]

    @property
    def elem_bytes(self) -> int:
        return self.elem_bits // 8

    def buffer_for(self, operand: str) -> OperandBuffer:
        """The buffer holding GEMM operand ``operand``."""
        for b in self.buffers:
            if operand in b.operands:
                return b
        raise AccelError(f"architecture {self.name}: no buffer holds {operand!r}")

    def capacity_elems(self, operand: str) -> int:
        """Elements of ``operand`` one half of its buffer holds (double buffering; a shared
        buffer is split evenly between the operands it holds)."""
        b = self.buffer_for(operand)
        return b.capacity_bytes // len(b.operands) // 2 // self.elem_bytes

    def dram_words_per_cycle(self, clock_mhz: float) -> float:
        """DRAM bandwidth in elements per array cycle at ``clock_mhz``."""
        return self.dram.bandwidth_gb_s * 1e9 / (clock_mhz * 1e6) / self.elem_bytes


def _need(table: dict, key: str, where: str, src: str, kind: type | tuple = (int, float)):
    """``table[key]``, a number of ``kind`` (int: an integer), or a one-line error."""
    if key not in table:
        raise AccelError(f"{src}: [{where}] lacks {key!r}; add it (see "
                         f"{ARCH_DIR / 'ws.toml'} for an example)")
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, kind):
        what = "an integer" if kind is int else "a number"
        raise AccelError(f"{src}: [{where}] {key} = {v!r} is not {what}; give {what}")
    return v


def _positive(v, name: str, src: str) -> None:
    if not v > 0:
        raise AccelError(f"{src}: {name} = {v!r} must be > 0; give a positive value")


def _array(t: dict, src: str) -> PeArray:
    rows, cols = (_need(t, k, "array", src, int) for k in ("rows", "cols"))
    _positive(rows, "array.rows", src)
    _positive(cols, "array.cols", src)
    flows = t.get("dataflow", "ws")
    flows = tuple(DATAFLOWS) if flows == "any" else ((flows,) if isinstance(flows, str)
                                                      else tuple(flows))
    for f in flows:
        if f not in DATAFLOWS:
            raise AccelError(f"{src}: array.dataflow {f!r} is unknown; use one of "
                             f"{', '.join(DATAFLOWS)} or \"any\"")
    lat = int(t.get("latency", 1))
    _positive(lat, "array.latency", src)
    return PeArray(rows, cols, flows, str(t.get("unit", "fp_mac")), lat)


def _buffers(items: list, src: str) -> tuple[OperandBuffer, ...]:
    bufs, seen = [], {}
    for i, b in enumerate(items):
        for k in ("name", "operands", "capacity", "word_bits"):
            if k not in b:
                raise AccelError(f"{src}: [[buffer]] #{i} lacks {k!r}; add it")
        try:
            cap = parse_size(b["capacity"])
        except SramInputError as e:
            raise AccelError(f"{src}: buffer {b['name']!r} capacity: {e}") from None
        buf = OperandBuffer(str(b["name"]), tuple(b["operands"]), cap, int(b["word_bits"]),
                            int(b.get("banks", 1)))
        _positive(buf.capacity_bytes, f"buffer {buf.name!r} capacity", src)
        _positive(buf.word_bits, f"buffer {buf.name!r} word_bits", src)
        _positive(buf.banks, f"buffer {buf.name!r} banks", src)
        for op in buf.operands:
            if op not in OPERANDS:
                raise AccelError(f"{src}: buffer {buf.name!r} operand {op!r} is unknown; use "
                                 f"{', '.join(OPERANDS)}")
            if op in seen:
                raise AccelError(f"{src}: operand {op!r} is in buffers {seen[op]!r} and "
                                 f"{buf.name!r}; give each operand one buffer")
            seen[op] = buf.name
        bufs.append(buf)
    for op in OPERANDS:
        if op not in seen:
            raise AccelError(f"{src}: no [[buffer]] holds operand {op!r}; add it to a buffer's "
                             "operands")
    return tuple(bufs)


def check_feeds(arch: Architecture) -> None:
    """Refuse a buffer that cannot feed the array one element per array row and column per
    cycle (its banks x word width), and a buffer smaller than one array fold of its operands."""
    a = arch.array
    edge = max(a.rows, a.cols)
    for b in arch.buffers:
        per_cycle = b.banks * (b.word_bits // arch.elem_bits) // len(b.operands)
        if per_cycle < edge:
            need = -(-edge * len(b.operands) * arch.elem_bits // b.word_bits)
            raise AccelError(
                f"{arch.path or arch.name}: buffer {b.name!r} delivers {per_cycle} {arch.fmt} "
                f"words per cycle per operand, the {a.rows}x{a.cols} array needs {edge}; set "
                f"banks >= {need} (or widen word_bits)")
    for op in OPERANDS:
        if arch.capacity_elems(op) < a.rows * a.cols:
            b = arch.buffer_for(op)
            raise AccelError(
                f"{arch.path or arch.name}: buffer {b.name!r} holds fewer {op} elements per half "
                f"({arch.capacity_elems(op)}) than one {a.rows}x{a.cols} fold; raise its capacity")


def from_dict(cfg: dict, src: str = "architecture") -> Architecture:
    """Build and check an :class:`Architecture` from a parsed TOML table."""
    for sec in ("array", "buffer", "vector", "dram"):
        if sec not in cfg:
            raise AccelError(f"{src}: missing [{sec}] section; see {ARCH_DIR / 'ws.toml'}")
    fmt = str(cfg.get("format", "fp32"))
    if fmt not in FORMAT_BITS:
        raise AccelError(f"{src}: format {fmt!r} is unknown; use one of {', '.join(FORMAT_BITS)}")
    lanes = _need(cfg["vector"], "lanes", "vector", src, int)
    _positive(lanes, "vector.lanes", src)
    kind = str(cfg["dram"].get("type", dram.DEFAULT_DRAM))
    try:
        dram.dram_type(kind)
    except SramInputError:
        raise AccelError(f"{src}: dram.type {kind!r} is unknown; use one of "
                         f"{', '.join(dram.DRAM_TYPES)}") from None
    bw = _need(cfg["dram"], "bandwidth_gb_s", "dram", src)
    _positive(bw, "dram.bandwidth_gb_s", src)
    clock = cfg.get("clock_mhz_max", 1000.0)
    _positive(clock, "clock_mhz_max", src)
    arch = Architecture(str(cfg.get("name", Path(src).stem)), _array(cfg["array"], src),
                        _buffers(cfg["buffer"], src), VectorUnit(lanes),
                        DramChannel(kind, float(bw)), fmt, float(clock),
                        str(cfg.get("source", "")), src)
    check_feeds(arch)
    return arch


def presets() -> dict[str, Path]:
    """Preset name -> TOML file (``hwmodel/accel/archs``)."""
    return {p.stem: p for p in sorted(ARCH_DIR.glob("*.toml"))}


def load(name_or_path: str | os.PathLike) -> Architecture:
    """A preset by name (``ws``, ``os``, ...) or a user's TOML file."""
    p = Path(name_or_path)
    if not p.suffix:
        known = presets()
        if str(name_or_path) not in known:
            raise AccelError(f"architecture {name_or_path!r}: no such preset; use one of "
                             f"{', '.join(known)} or a .toml file")
        p = known[str(name_or_path)]
    try:
        cfg = tomllib.loads(p.read_text())
    except OSError as e:
        raise AccelError(f"architecture {p}: cannot read it ({e.strerror}); give an existing "
                         ".toml file") from None
    except tomllib.TOMLDecodeError as e:
        raise AccelError(f"architecture {p}: not valid TOML ({e}); fix the file") from None
    return from_dict(cfg, str(p))
