"""Storage and memory-access energy of one training iteration, with and without sharing.

Input: a layer-wise trace (``pandas.DataFrame``, one row per layer, counts for ONE training
iteration of batch B, produced by ``learning.trace``) with the columns in ``TRACE_COLUMNS``,
and a memory hierarchy (:class:`Hierarchy`: on-chip SRAM buffers, each serving some data types
and costed by :mod:`hwmodel.sram`, plus a DRAM type from :mod:`hwmodel.dram`).

Data types and the trace columns that feed them:

* ``weight``: ``params`` (storage); reads ``weight_read_fwd/bwd_elems``, writes
  ``weight_write_elems``.
* ``optstate``: storage = ``optstate_write_elems`` (every state element is written once per
  iteration); reads/writes ``optstate_read/write_elems``.
* ``activation``: storage = all activations saved for backward plus the largest layer output
  being produced; reads ``ifmap_read_elems`` + ``act_saved_read_elems``, writes
  ``ofmap_write_elems`` + ``act_saved_write_elems``.
* ``gradient``: storage = all weight gradients plus the largest layer's input+output
  activation gradients; reads ``actgrad_read_elems``, writes ``actgrad_write_elems`` +
  ``wgrad_write_elems``.

Placement policy (stated, simple): a buffer holding data of total size S in capacity C keeps a
fraction f = min(1, C/S) on chip; that fraction of every access to those types is served by the
SRAM (energy per word from the SRAM model), the rest by DRAM (energy per bit).  Data types
that no buffer serves go to DRAM.

Sharing: the trunk rows (``branch == "shared"``) are stored once with sharing; without sharing
every branch keeps its own copy of the trunk (storage counted as trunk + branch per branch).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hwmodel import dram
from hwmodel.sram import sram
from hwmodel.sram.api import parse_size
from hwmodel.sram.errors import SramInputError

DATA_TYPES = ("weight", "activation", "gradient", "optstate")
ACCESS_COLUMNS: dict[str, tuple[str, str]] = {
    "weight_read_fwd_elems": ("weight", "read"),
    "weight_read_bwd_elems": ("weight", "read"),
    "weight_write_elems": ("weight", "write"),
    "optstate_read_elems": ("optstate", "read"),
    "optstate_write_elems": ("optstate", "write"),
    "ifmap_read_elems": ("activation", "read"),
    "ofmap_write_elems": ("activation", "write"),
    "act_saved_write_elems": ("activation", "write"),
    "act_saved_read_elems": ("activation", "read"),
    "actgrad_read_elems": ("gradient", "read"),
    "actgrad_write_elems": ("gradient", "write"),
    "wgrad_write_elems": ("gradient", "write"),
}
# Present in learning.trace output; used when there (absent columns count as zero).
OPTIONAL_ACCESS_COLUMNS: dict[str, tuple[str, str]] = {
    "weight_read_update_elems": ("weight", "read"),
    "wgrad_read_elems": ("gradient", "read"),
}
TRACE_COLUMNS = (
    "layer", "kind", "branch", "trainable", "params", "bytes_per_elem", "fwd_macs",
    "bwd_input_macs", "bwd_weight_macs", "update_mults", "update_adds", "elementwise_ops",
    *ACCESS_COLUMNS,
)
SHARED = "shared"


@dataclass(frozen=True)
class Buffer:
    """One on-chip SRAM buffer: capacity (bytes), word width (bits), the data types it holds."""

    name: str
    capacity_bytes: int
    word_bits: int
    data_types: tuple[str, ...]
    banks: int = 1


@dataclass(frozen=True)
class Hierarchy:
    """On-chip buffers (costed by the SRAM model) plus DRAM for what does not fit."""

    buffers: tuple[Buffer, ...]
    dram: str = dram.DEFAULT_DRAM
    node: int = 45
    flavour: str = "hp"
    temp_k: float = 360.0
    sram_costs: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        dram.dram_type(self.dram)
        seen: dict[str, str] = {}
        names = set()
        for b in self.buffers:
            if b.name in names or b.name == "dram":
                raise SramInputError(f"buffer: duplicate or reserved buffer name {b.name!r}")
            names.add(b.name)
            for t in b.data_types:
                if t not in DATA_TYPES:
                    raise SramInputError(f"data_types: unknown data type {t!r} in buffer "
                                         f"{b.name!r}; use {list(DATA_TYPES)}")
                if t in seen:
                    raise SramInputError(f"data_types: {t!r} is held by both {seen[t]!r} and "
                                         f"{b.name!r}; give each data type one buffer")
                seen[t] = b.name
        for b in self.buffers:  # cost each buffer once (raises on bad sizes)
            self.sram_costs[b.name] = sram(b.capacity_bytes, b.word_bits, banks=b.banks,
                                           node=self.node, flavour=self.flavour,
                                           temp_k=self.temp_k)

    def buffer_for(self, data_type: str) -> Buffer | None:
        """The buffer that holds ``data_type`` (None: it lives in DRAM)."""
        for b in self.buffers:
            if data_type in b.data_types:
                return b
        return None

    @classmethod
    def global_buffer(cls, capacity_bytes: int | str, word_bits: int = 64, **kw) -> Hierarchy:
        """One global buffer for all data types, plus DRAM."""
        cap = parse_size(capacity_bytes)
        return cls(buffers=(Buffer("global", cap, word_bits, DATA_TYPES),), **kw)

    @classmethod
    def per_type(cls, capacities: dict[str, int | str], word_bits: int = 64, **kw) -> Hierarchy:
        """One buffer per data type (``{"weight": "256KiB", ...}``), plus DRAM."""
        bufs = tuple(Buffer(f"{t}_buf", parse_size(c), word_bits, (t,))
                     for t, c in capacities.items())
        return cls(buffers=bufs, **kw)

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> Hierarchy:
        """Load ``dram``, ``node``, ``flavour``, ``temp_k`` and ``[[buffer]]`` tables
        (``name``, ``capacity``, ``word_bits``, ``data_types``, optional ``banks``)."""
        p = Path(path)
        try:
            cfg = tomllib.loads(p.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise SramInputError(f"hierarchy: cannot read {p}: {e}") from e
        bufs = []
        for i, b in enumerate(cfg.get("buffer", [])):
            missing = {"name", "capacity", "word_bits", "data_types"} - set(b)
            if missing:
                raise SramInputError(f"hierarchy: buffer #{i} in {p} lacks {sorted(missing)}")
            bufs.append(Buffer(str(b["name"]), parse_size(b["capacity"]), int(b["word_bits"]),
                               tuple(b["data_types"]), int(b.get("banks", 1))))
        return cls(buffers=tuple(bufs), dram=cfg.get("dram", dram.DEFAULT_DRAM),
                   node=int(cfg.get("node", 45)), flavour=str(cfg.get("flavour", "hp")),
                   temp_k=float(cfg.get("temp_k", 360.0)))


def check_trace(trace: pd.DataFrame) -> None:
    """Raise :class:`SramInputError` naming the first missing or negative column."""
    missing = [c for c in TRACE_COLUMNS if c not in trace.columns]
    if missing:
        raise SramInputError(f"trace: missing column(s) {missing}; expected learning.trace "
                             "output")
    num = [c for c in TRACE_COLUMNS if c not in ("layer", "kind", "branch", "trainable")]
    vals = trace[num].to_numpy(dtype=float)
    if (vals < 0).any() or not np.isfinite(vals).all():
        col = num[int(np.argmax(((vals < 0) | ~np.isfinite(vals)).any(axis=0)))]
        raise SramInputError(f"trace: column {col!r} has negative or non-finite counts")
    if (trace["bytes_per_elem"] <= 0).any():
        raise SramInputError("trace: bytes_per_elem must be positive")


def _bytes(rows: pd.DataFrame, col: str) -> pd.Series:
    """Bytes of an ``*_elems`` column: the trace's ``*_bytes`` column when it has one (real
    dtypes, e.g. int64 pooling indices), else elems x ``bytes_per_elem``."""
    bcol = col[: -len("_elems")] + "_bytes" if col.endswith("_elems") else col + "_bytes"
    if bcol in rows.columns:
        return rows[bcol].astype(float)
    return rows[col].astype(float) * rows["bytes_per_elem"].astype(float)


def _storage_of(rows: pd.DataFrame) -> dict[str, float]:
    """Bytes of each data type needed to train the layers in ``rows`` (one network)."""
    if rows.empty:
        return dict.fromkeys(DATA_TYPES, 0.0)
    return {
        "weight": float((rows["params"] * rows["bytes_per_elem"]).sum()),
        "optstate": float(_bytes(rows, "optstate_write_elems").sum()),
        "activation": float(_bytes(rows, "act_saved_write_elems").sum()
                            + _bytes(rows, "ofmap_write_elems").max()),
        "gradient": float(_bytes(rows, "wgrad_write_elems").sum()
                          + (_bytes(rows, "actgrad_read_elems")
                             + _bytes(rows, "actgrad_write_elems")).max()),
    }


def storage(trace: pd.DataFrame, extra_tasks: int = 0) -> pd.DataFrame:
    """Storage requirement (bytes) per data type, with and without sharing.

    Every distinct non-``shared`` branch of the trace is one task's branch; ``extra_tasks``
    more tasks own a branch identical to the trace's (e.g. 1 for the old task of incremental
    learning, whose branch is not in the new task's trace).  ``with_sharing``: the trunk
    stored once plus every task's branch.  ``without_sharing``: every task is a separate
    network with its own copy of the trunk.  Weights add up over tasks; optimizer state,
    activations and gradients are working memory of the one network being trained, so they
    are the largest over tasks.  Columns: ``data_type``, ``sharing``, ``bytes``.
    """
    check_trace(trace)
    if int(extra_tasks) != extra_tasks or extra_tasks < 0:
        raise SramInputError(f"extra_tasks: must be a non-negative integer (got {extra_tasks})")
    shared = trace[trace["branch"] == SHARED]
    names = [b for b in pd.unique(trace["branch"]) if b != SHARED]
    branch_rows = [trace[trace["branch"] == b] for b in names]
    if extra_tasks and not branch_rows:
        raise SramInputError("extra_tasks: the trace has no branch rows to replicate")
    branch_rows += [branch_rows[0]] * int(extra_tasks) if branch_rows else []
    trunk = _storage_of(shared)
    per_branch = [_storage_of(b) for b in branch_rows]
    whole = [_storage_of(pd.concat([shared, b])) for b in branch_rows] or [trunk]
    with_s, without = {}, {}
    with_s["weight"] = trunk["weight"] + sum(p["weight"] for p in per_branch)
    without["weight"] = sum(w["weight"] for w in whole)
    for t in ("optstate", "activation", "gradient"):
        with_s[t] = max(w[t] for w in whole)
        without[t] = with_s[t]
    rows = [{"data_type": t, "sharing": s, "bytes": v[t]}
            for s, v in (("with_sharing", with_s), ("without_sharing", without))
            for t in DATA_TYPES]
    return pd.DataFrame(rows)


def access_energy(trace: pd.DataFrame, hierarchy: Hierarchy) -> pd.DataFrame:
    """Memory-access energy of one training iteration, by level and data type.

    Returns one row per (``level``, ``data_type``, ``access``) with ``bytes`` moved and
    ``energy_pj``.  ``level`` is a buffer name or ``"dram"``.
    """
    check_trace(trace)
    need = _storage_of(trace)
    moved: dict[tuple[str, str], float] = {}
    cols = dict(ACCESS_COLUMNS)
    cols.update({c: v for c, v in OPTIONAL_ACCESS_COLUMNS.items() if c in trace.columns})
    for col, (t, acc) in cols.items():
        moved[(t, acc)] = moved.get((t, acc), 0.0) + float(_bytes(trace, col).sum())
    dram_pj_per_byte = 8.0 * dram.dram_type(hierarchy.dram).energy_pj_per_bit
    out = []
    for (t, acc), nbytes in moved.items():
        buf = hierarchy.buffer_for(t)
        if buf is None:
            on_chip = 0.0
        else:
            total = sum(need[x] for x in buf.data_types)
            on_chip = 1.0 if total <= buf.capacity_bytes else buf.capacity_bytes / total
            cost = hierarchy.sram_costs[buf.name]
            per_word = cost.read_energy_pj if acc == "read" else cost.write_energy_pj
            b_on = nbytes * on_chip
            out.append({"level": buf.name, "data_type": t, "access": acc, "bytes": b_on,
                        "energy_pj": b_on * 8.0 / buf.word_bits * per_word})
        b_off = nbytes * (1.0 - on_chip)
        out.append({"level": "dram", "data_type": t, "access": acc, "bytes": b_off,
                    "energy_pj": b_off * dram_pj_per_byte})
    df = pd.DataFrame(out)
    return (df.groupby(["level", "data_type", "access"], as_index=False, sort=True)
              [["bytes", "energy_pj"]].sum())


def energy_breakdown(energy: pd.DataFrame) -> pd.DataFrame:
    """Pivot of :func:`access_energy`: energy (pJ) by data type (rows) and level (columns)."""
    return energy.pivot_table(index="data_type", columns="level", values="energy_pj",
                              aggfunc="sum", fill_value=0.0, margins=True, margins_name="total")


def compare_sharing(shared_trace: pd.DataFrame, separate_trace: pd.DataFrame,
                    hierarchy: Hierarchy, extra_tasks: int = 1) -> dict[str, pd.DataFrame]:
    """Side-by-side cost of learning a new task with and without partial network sharing.

    ``shared_trace``: the new task trained as a branch on a frozen shared trunk;
    ``separate_trace``: the new task trained as a separate network.  ``extra_tasks`` old tasks
    keep their own branch (with sharing) or their own whole network (without).  Returns
    ``{"storage": ..., "energy": ...}``: storage bytes per data type and access energy (pJ) per
    data type and level, each with columns ``with_sharing`` and ``without_sharing``.
    """
    st_s = storage(shared_trace, extra_tasks).query("sharing == 'with_sharing'")
    st_n = storage(separate_trace, extra_tasks).query("sharing == 'without_sharing'")
    st = pd.DataFrame({"with_sharing": st_s.set_index("data_type")["bytes"],
                       "without_sharing": st_n.set_index("data_type")["bytes"]})
    st.index.name = "data_type"
    e_s = access_energy(shared_trace, hierarchy).set_index(["level", "data_type", "access"])
    e_n = access_energy(separate_trace, hierarchy).set_index(["level", "data_type", "access"])
    en = pd.DataFrame({"with_sharing": e_s["energy_pj"], "without_sharing": e_n["energy_pj"]})
    en = en.fillna(0.0).groupby(level=["level", "data_type"]).sum()
    return {"storage": st.reset_index(), "energy": en.reset_index()}
