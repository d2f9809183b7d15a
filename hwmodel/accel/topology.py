"""SCALE-Sim's interchange files: topology CSVs (conv and GEMM forms) and ``.cfg`` configs.

Conv form, one layer per row: ``Layer name, IFMAP Height, IFMAP Width, Filter Height,
Filter Width, Channels, Num Filter, Strides`` (the IFMAP already padded, batch 1; further
columns ignored), lowered as SCALE-Sim does: ``M = Ho Wo`` with ``Ho = (H - Fh) // S + 1``,
``N = Num Filter``, ``K = Fh Fw Channels``. GEMM form: ``Layer, M, N, K``.
A config's ``[architecture_presets]`` gives ``ArrayHeight``, ``ArrayWidth``,
``IfmapSramSzkB``, ``FilterSramSzkB``, ``OfmapSramSzkB`` (kB of 1-byte words), ``Dataflow``
and ``Bandwidth`` (words per cycle; the first value if several; required).
"""

from __future__ import annotations

import configparser
import csv
from dataclasses import dataclass
from pathlib import Path

from hwmodel.accel.arch import Architecture, from_dict
from hwmodel.accel.errors import AccelError

CONV_FIELDS = ("IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width", "Channels",
               "Num Filter", "Strides")
GEMM_FIELDS = ("M", "N", "K")


@dataclass(frozen=True)
class Layer:
    """One topology row as a GEMM ``m x n x k``."""

    name: str
    m: int
    n: int
    k: int


def _ints(row: list[str], names: tuple[str, ...], where: str) -> list[int]:
    vals = []
    for name, text in zip(names, row, strict=False):
        try:
            v = int(text.strip())
        except ValueError:
            raise AccelError(f"{where}: {name} = {text.strip()!r} is not an integer; fix the "
                             "row") from None
        if v <= 0:
            raise AccelError(f"{where}: {name} = {v} must be > 0; fix the row")
        vals.append(v)
    if len(vals) < len(names):
        raise AccelError(f"{where}: has {len(vals)} of the {len(names)} fields "
                         f"({', '.join(names)}); fix the row")
    return vals


def read_topology(path: str | Path, gemm: bool = False) -> list[Layer]:
    """The layers of a SCALE-Sim topology CSV (conv form, or GEMM form with ``gemm``)."""
    p = Path(path)
    try:
        rows = [r for r in csv.reader(p.read_text().splitlines()) if any(c.strip() for c in r)]
    except OSError as e:
        raise AccelError(f"topology {p}: cannot read it ({e.strerror}); give a SCALE-Sim "
                         "topology CSV") from None
    if len(rows) < 2:
        raise AccelError(f"topology {p}: no layer rows under the header; add layers")
    names = GEMM_FIELDS if gemm else CONV_FIELDS
    out = []
    for i, row in enumerate(rows[1:], 2):
        while row and not row[-1].strip():  # SCALE-Sim rows end with a comma
            row = row[:-1]
        where = f"topology {p} line {i} ({row[0].strip() or '?'})"
        v = _ints(row[1:1 + len(names)], names, where)
        if gemm:
            out.append(Layer(row[0].strip(), *v))
            continue
        h, w, fh, fw, ch, nf, s = v
        if fh > h or fw > w:
            raise AccelError(f"{where}: filter {fh}x{fw} is larger than the IFMAP {h}x{w}; "
                             "fix the row")
        ho, wo = (h - fh) // s + 1, (w - fw) // s + 1
        out.append(Layer(row[0].strip(), ho * wo, nf, fh * fw * ch))
    return out


def read_cfg(path: str | Path) -> Architecture:
    """An architecture from a SCALE-Sim ``.cfg`` (int8 elements of one byte, the array fed
    one word per row/column per cycle, DRAM at the config's bandwidth with a 1 GHz clock)."""
    p = Path(path)
    cp = configparser.ConfigParser()
    try:
        cp.read_string(p.read_text())
    except (OSError, configparser.Error) as e:
        raise AccelError(f"config {p}: cannot read it ({e}); give a SCALE-Sim .cfg") from None
    sec = "architecture_presets"
    if not cp.has_section(sec):
        raise AccelError(f"config {p}: no [{sec}] section; give a SCALE-Sim .cfg")
    a = cp[sec]

    def num(key: str, kind=int):
        if key not in a:
            raise AccelError(f"config {p}: [{sec}] lacks {key}; add it")
        try:
            v = kind(a[key].split(",")[0].strip())
        except ValueError:
            raise AccelError(f"config {p}: {key} = {a[key]!r} is not a number; fix it") from None
        if v <= 0:
            raise AccelError(f"config {p}: {key} = {v} must be > 0; fix it")
        return v

    sizes = tuple(num(k) for k in ("IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB"))
    return scalesim_arch(num("ArrayHeight"), num("ArrayWidth"), a.get("Dataflow", "ws").strip(),
                         sizes, num("Bandwidth", float), name=p.stem, src=str(p))


def scalesim_arch(rows: int, cols: int, dataflow: str, sram_kb: tuple[int, int, int],
                  bandwidth: float, name: str = "scalesim", src: str = "SCALE-Sim machine"
                  ) -> Architecture:
    """SCALE-Sim's machine as an :class:`Architecture`: int8 elements of one byte, ifmap /
    filter / ofmap SRAMs of ``sram_kb`` kB each feeding the array one word per row/column per
    cycle, DRAM at ``bandwidth`` words per cycle (a 1 GHz clock)."""
    buf = [{"name": f"{op}_sram", "operands": [op], "capacity": kb * 1024,
            "word_bits": 8 * max(rows, cols), "banks": 1}
           for op, kb in zip(("ifmap", "weight", "ofmap"), sram_kb, strict=True)]
    return from_dict({"name": name, "format": "int8", "clock_mhz_max": 1000.0,
                      "source": f"SCALE-Sim machine ({src})",
                      "array": {"rows": rows, "cols": cols, "dataflow": dataflow},
                      "buffer": buf, "vector": {"lanes": cols},
                      "dram": {"type": "ddr3", "bandwidth_gb_s": bandwidth}}, src)
