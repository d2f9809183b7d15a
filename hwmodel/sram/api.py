"""Public functions of the SRAM model: one point (:func:`sram`), a sweep (:func:`sweep`)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from hwmodel.sram import model, tech
from hwmodel.sram.errors import SramInputError

DEFAULT_NODE = 45
DEFAULT_FLAVOUR = "hp"
# CACTI's sample configuration temperature (cache.cfg: 360 K); leakage depends on it strongly.
DEFAULT_TEMP_K = 360.0

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2,
          "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3}


@dataclass(frozen=True)
class Organization:
    """The chosen array organization (see :mod:`hwmodel.sram.model`)."""

    subarray_rows: int
    subarray_cols: int
    col_mux: int
    mats: int
    mats_x: int


@dataclass(frozen=True)
class SramResult:
    """One SRAM design point; energies per access of one word."""

    capacity_bytes: int
    word_bits: int
    banks: int
    node_nm: int
    flavour: str
    temp_k: float
    read_energy_pj: float
    write_energy_pj: float
    access_time_ns: float
    cycle_time_ns: float
    leakage_mw: float
    area_mm2: float
    organization: Organization

    def to_dict(self) -> dict:
        """Flat dict (organization fields inlined), e.g. for JSON."""
        d = asdict(self)
        d.update(d.pop("organization"))
        return d


def parse_size(text: str | int) -> int:
    """Parse ``64KiB``, ``4MB``, ``4096`` (bytes) into an integer byte count."""
    if isinstance(text, int | np.integer):
        return int(text)
    m = re.fullmatch(r"\s*([-+]?[0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).lower() not in _UNITS:
        raise SramInputError(f"capacity: cannot parse size {text!r}; use e.g. 4096, 64KiB, 4MiB")
    value = float(m.group(1)) * _UNITS[m.group(2).lower()]
    if value <= 0:
        raise SramInputError(f"capacity: must be positive (got {text!r})")
    if value != int(value):
        raise SramInputError(f"capacity: {text!r} is not a whole number of bytes")
    return int(value)


def _check_common(node: int, flavour: str, temp_k: float, rw: int, r: int, w: int) -> None:
    if node not in tech.NODES:
        raise SramInputError(f"node: unknown technology node {node!r}; use one of "
                             f"{sorted(tech.NODES)} (nm)")
    if flavour not in tech.FLAVOURS:
        raise SramInputError(f"flavour: unknown flavour {flavour!r}; use one of "
                             f"{sorted(tech.FLAVOURS)}")
    if not (tech.T_MIN_K <= float(temp_k) <= tech.T_MAX_K):
        raise SramInputError(f"temperature: {temp_k} K is outside the tabulated "
                             f"{tech.T_MIN_K:.0f}-{tech.T_MAX_K:.0f} K range")
    for name, v in (("rw_ports", rw), ("read_ports", r), ("write_ports", w)):
        if int(v) != v or v < 0:
            raise SramInputError(f"{name}: must be a non-negative integer (got {v!r})")
    if rw + r < 1 or rw + w < 1:
        raise SramInputError("rw_ports: need at least one port that reads and one that writes")


def sweep(
    capacity_bytes,
    word_bits,
    banks=1,
    *,
    node: int = DEFAULT_NODE,
    flavour: str = DEFAULT_FLAVOUR,
    temp_k: float = DEFAULT_TEMP_K,
    rw_ports: int = 1,
    read_ports: int = 0,
    write_ports: int = 0,
) -> pd.DataFrame:
    """Vectorised model over broadcast arrays of capacity (bytes), word width (bits), banks.

    Returns one row per point with the inputs and ``read_energy_pj``, ``write_energy_pj``,
    ``access_time_ns``, ``cycle_time_ns``, ``leakage_mw``, ``area_mm2`` and the organization.
    Raises :class:`SramInputError` on bad input or when a point has no feasible organization.
    """
    _check_common(node, flavour, temp_k, rw_ports, read_ports, write_ports)
    cap = np.atleast_1d(np.asarray(capacity_bytes))
    wb = np.atleast_1d(np.asarray(word_bits))
    nb = np.atleast_1d(np.asarray(banks))
    model.check_inputs(cap, wb, nb)
    cap, wb, nb = (a.ravel() for a in np.broadcast_arrays(cap.astype(float), wb.astype(float),
                                                          nb.astype(float)))
    res = model.evaluate(cap, wb, nb, node=node, flavour=flavour, temp_k=float(temp_k),
                         rw_ports=rw_ports, read_ports=read_ports, write_ports=write_ports)
    bad = ~np.isfinite(res["read_energy_pj"])
    if bad.any():
        i = int(np.argmax(bad))
        raise SramInputError(
            f"capacity: no feasible organization for {int(cap[i])} bytes x {int(wb[i])}-bit words"
            f" in {int(nb[i])} bank(s) (need at least 8 words per bank and a subarray of at "
            "least 8 rows); use a larger capacity or a narrower word")
    df = pd.DataFrame({"capacity_bytes": cap.astype(np.int64), "word_bits": wb.astype(np.int64),
                       "banks": nb.astype(np.int64)})
    for k in model.RESULT_COLUMNS:
        df[k] = res[k]
    for k in ("subarray_rows", "subarray_cols", "col_mux", "mats", "mats_x"):
        df[k] = df[k].astype(np.int64)
    df["node_nm"] = node
    df["flavour"] = flavour
    df["temp_k"] = float(temp_k)
    return df


def sram(
    capacity_bytes: int | str,
    word_bits: int,
    *,
    banks: int = 1,
    node: int = DEFAULT_NODE,
    flavour: str = DEFAULT_FLAVOUR,
    temp_k: float = DEFAULT_TEMP_K,
    rw_ports: int = 1,
    read_ports: int = 0,
    write_ports: int = 0,
) -> SramResult:
    """Model one SRAM: ``capacity_bytes`` (int or "64KiB"), ``word_bits`` per access."""
    cap = parse_size(capacity_bytes) if isinstance(capacity_bytes, str) else capacity_bytes
    row = sweep(cap, word_bits, banks, node=node, flavour=flavour, temp_k=temp_k,
                rw_ports=rw_ports, read_ports=read_ports, write_ports=write_ports).iloc[0]
    return SramResult(
        capacity_bytes=int(row.capacity_bytes),
        word_bits=int(row.word_bits),
        banks=int(row.banks),
        node_nm=int(node),
        flavour=flavour,
        temp_k=float(temp_k),
        read_energy_pj=float(row.read_energy_pj),
        write_energy_pj=float(row.write_energy_pj),
        access_time_ns=float(row.access_time_ns),
        cycle_time_ns=float(row.cycle_time_ns),
        leakage_mw=float(row.leakage_mw),
        area_mm2=float(row.area_mm2),
        organization=Organization(
            subarray_rows=int(row.subarray_rows),
            subarray_cols=int(row.subarray_cols),
            col_mux=int(row.col_mux),
            mats=int(row.mats),
            mats_x=int(row.mats_x),
        ),
    )
