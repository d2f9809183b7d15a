"""Storage and memory traffic of training, with and without partial network sharing.

Input: a layer-wise trace (``pandas.DataFrame``, one row per layer call, counts for ONE training
iteration of batch B, from :func:`workload.trace_training`) with the columns in ``TRACE_COLUMNS``
(the required columns of :mod:`workload.schema`, the contract of a trace), and a memory
hierarchy (:class:`Hierarchy`: on-chip SRAM buffers, each serving some data types and costed by
:mod:`hwmodel.sram`, plus a DRAM type from :mod:`hwmodel.dram`).

**Storage** has two parts that are never mixed into one number:

* *model storage* (:func:`model_storage`): the parameters of the incrementally grown network
  after T tasks (the paper's Fig. 5a). With sharing: the base network once plus, per later task,
  the parameters that task trained (its branch); without sharing: one whole network per task.
* *training working memory* of one iteration of the network being trained
  (:func:`working_memory`): weights read, optimizer state, activations kept for backward plus
  the largest layer output being produced, weight gradients plus the largest layer's input and
  output gradients.

**Traffic** (:func:`access_energy`): every access the datapath makes is served by the SRAM
buffer that holds its data type. Placement (stated, simple): a buffer holding data of total
size S in capacity C keeps a fraction f = min(1, C/S) resident; the rest lives in DRAM and moves
through the buffer, so a read of non-resident data is first *filled* (DRAM read + SRAM write) and
a write of non-resident data is later *spilled* (SRAM read + DRAM write). The input batch of
every iteration is filled from DRAM. Data types that no buffer serves are accessed in DRAM
directly. Each tensor movement is counted once per level and movement; which trace column is
which data type and access is the schema's (``ACCESS_COLUMNS``):

* ``weight``: reads ``weight_read_fwd/bwd/update_elems``; writes ``weight_write_elems``.
* ``optstate``: reads/writes ``optstate_read/write_elems``.
* ``activation``: reads ``ifmap_read_elems`` + ``act_saved_read_elems``; writes
  ``ofmap_write_elems`` + ``act_saved_write_elems`` (saved tensors the forward did not already
  write, e.g. pooling indices: a layer output kept for backward is one write).
* ``gradient``: reads ``actgrad_read_elems`` + ``wgrad_read_elems``; writes
  ``actgrad_write_elems`` + ``wgrad_write_elems``.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hwmodel import dram
from hwmodel.sram import sram
from hwmodel.sram.api import parse_size
from hwmodel.sram.errors import SramInputError
from workload import schema
from workload.errors import WorkloadError

#: Data types a buffer can hold (:data:`workload.schema.DATA_TYPES`).
DATA_TYPES = schema.DATA_TYPES
#: Trace column -> (data type, access) of every datapath access of one training iteration
#: (:data:`workload.schema.ACCESS_COLUMNS`).
ACCESS_COLUMNS: dict[str, tuple[str, str]] = schema.ACCESS_COLUMNS
#: The columns a trace must have to be costed (:data:`workload.schema.REQUIRED_COLUMNS`).
TRACE_COLUMNS: tuple[str, ...] = schema.REQUIRED_COLUMNS
#: Movements of :func:`access_energy`: the datapath's own access, a DRAM->SRAM fill of
#: non-resident data before it is read, an SRAM->DRAM spill of non-resident data it wrote.
MOVEMENTS = ("access", "fill", "spill")
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
    """Raise :class:`SramInputError` naming the first missing, negative or non-finite column of
    ``TRACE_COLUMNS`` and the fix (:func:`workload.schema.validate`)."""
    try:
        schema.validate(trace, TRACE_COLUMNS)
    except WorkloadError as exc:
        raise SramInputError(str(exc)) from None


def _bytes(rows: pd.DataFrame, col: str) -> pd.Series:
    """Bytes of an ``*_elems`` column: the trace's ``*_bytes`` column when it has one (real
    dtypes, e.g. int64 pooling indices), else elems x ``bytes_per_elem``."""
    bcol = col[: -len("_elems")] + "_bytes" if col.endswith("_elems") else col + "_bytes"
    if bcol in rows.columns:
        return rows[bcol].astype(float)
    return rows[col].astype(float) * rows["bytes_per_elem"].astype(float)


def working_memory(trace: pd.DataFrame) -> dict[str, float]:
    """Bytes of each data type held while training the layers of ``trace`` (one iteration):
    ``weight`` (parameters read), ``optstate`` (every state element is written once per
    iteration), ``activation`` (tensors kept for backward, ``act_saved_elems``, plus the largest
    layer output being produced) and ``gradient`` (weight gradients plus the largest layer's
    input and output activation gradients)."""
    check_trace(trace)
    if trace.empty:
        return dict.fromkeys(DATA_TYPES, 0.0)
    return {
        "weight": float((trace["params"] * trace["bytes_per_elem"]).sum()),
        "optstate": float(_bytes(trace, "optstate_write_elems").sum()),
        "activation": float(_bytes(trace, "act_saved_elems").sum()
                            + _bytes(trace, "ofmap_write_elems").max()),
        "gradient": float(_bytes(trace, "wgrad_write_elems").sum()
                          + (_bytes(trace, "actgrad_read_elems")
                             + _bytes(trace, "actgrad_write_elems")).max()),
    }


@dataclass(frozen=True)
class ModelStorage:
    """Parameters of the grown network after ``tasks`` tasks (counts in elements, sizes in
    bytes): with sharing, the base network once plus what each later task trained; without
    sharing, one whole network per task."""

    tasks: int
    with_sharing_params: int
    without_sharing_params: int
    bytes_per_param: int

    @property
    def with_sharing_bytes(self) -> int:
        return self.with_sharing_params * self.bytes_per_param

    @property
    def without_sharing_bytes(self) -> int:
        return self.without_sharing_params * self.bytes_per_param

    @property
    def saving_pct(self) -> float:
        """Model-storage saving of sharing (%)."""
        return 100.0 * (1.0 - self.with_sharing_params / self.without_sharing_params)


def model_storage(networks: list[tuple[int, int]], bytes_per_param: int) -> ModelStorage:
    """Model storage of an incrementally grown network.

    ``networks[t] = (network_params, own_params)`` of task t: the parameters its whole network
    uses and those it trained itself (task 0, the base network, owns all of its parameters; a
    branch on a frozen trunk owns only the branch). Element counts; ``bytes_per_param`` bytes.
    """
    if not networks:
        raise SramInputError("networks: need at least one task's (network, own) parameters")
    for t, (net, own) in enumerate(networks):
        if not 0 <= int(own) <= int(net):
            raise SramInputError(f"networks[{t}]: own parameters {own} must be within 0.."
                                 f"{net} (the task's whole network)")
    if int(networks[0][1]) != int(networks[0][0]):
        raise SramInputError("networks[0]: the base network owns all its parameters")
    if bytes_per_param < 1:
        raise SramInputError(f"bytes_per_param: must be >= 1 (got {bytes_per_param})")
    with_s = int(networks[0][0]) + sum(int(own) for _, own in networks[1:])
    without = sum(int(net) for net, _ in networks)
    return ModelStorage(len(networks), with_s, without, int(bytes_per_param))


def _moved_bytes(trace: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Bytes the datapath reads and writes per (data type, access) in one iteration."""
    moved: dict[tuple[str, str], float] = {}
    for col, key in ACCESS_COLUMNS.items():
        moved[key] = moved.get(key, 0.0) + float(_bytes(trace, col).sum())
    return moved


def resident_fraction(trace: pd.DataFrame, hierarchy: Hierarchy) -> dict[str, float]:
    """Fraction of each data type resident on chip: min(1, capacity / data in its buffer);
    0 for data types no buffer holds."""
    need = working_memory(trace)
    out = {}
    for t in DATA_TYPES:
        buf = hierarchy.buffer_for(t)
        total = sum(need[x] for x in buf.data_types) if buf else 0.0
        out[t] = 0.0 if buf is None else (1.0 if total <= buf.capacity_bytes
                                          else buf.capacity_bytes / total)
    return out


def _sram_pj(hierarchy: Hierarchy, buf: Buffer, access: str, nbytes: float) -> float:
    cost = hierarchy.sram_costs[buf.name]
    per_word = cost.read_energy_pj if access == "read" else cost.write_energy_pj
    return nbytes * 8.0 / buf.word_bits * per_word


def _traffic_rows(t: str, acc: str, nbytes: float, f: float, buf: Buffer | None,
                  hierarchy: Hierarchy) -> list[dict]:
    """Rows of one (data type, access): the datapath access and, for the non-resident share,
    the fill (read) or spill (write) through the buffer."""
    dram_pj = 8.0 * dram.dram_type(hierarchy.dram).energy_pj_per_bit
    if buf is None:
        return [{"level": "dram", "data_type": t, "access": acc, "movement": "access",
                 "bytes": nbytes, "energy_pj": nbytes * dram_pj}]
    off = nbytes * (1.0 - f)
    back = "write" if acc == "read" else "read"  # the buffer side of a fill / spill
    move = "fill" if acc == "read" else "spill"
    return [
        {"level": buf.name, "data_type": t, "access": acc, "movement": "access",
         "bytes": nbytes, "energy_pj": _sram_pj(hierarchy, buf, acc, nbytes)},
        {"level": buf.name, "data_type": t, "access": back, "movement": move,
         "bytes": off, "energy_pj": _sram_pj(hierarchy, buf, back, off)},
        {"level": "dram", "data_type": t, "access": acc, "movement": move,
         "bytes": off, "energy_pj": off * dram_pj},
    ]


def access_energy(trace: pd.DataFrame, hierarchy: Hierarchy,
                  input_bytes: float = 0.0, resident: dict[str, float] | None = None
                  ) -> pd.DataFrame:
    """Memory traffic of one training iteration and its energy, by level, data type, access
    and movement (``access``, ``fill``, ``spill``; see the module docstring).

    ``input_bytes``: the input batch, filled from DRAM into the activation buffer once per
    iteration; its reads by the first layer are in the trace and are then treated like every
    other activation (a share 1 - f refilled when activations overflow the buffer).
    ``resident``: the resident fraction per data type, when it comes from another trace than
    the traffic (a part of an iteration costed on the whole iteration's working memory);
    default :func:`resident_fraction` of ``trace``.
    Columns: ``level`` (a buffer name or ``"dram"``), ``data_type``, ``access``
    (``read``/``write`` at that level), ``movement``, ``bytes``, ``energy_pj``.
    """
    check_trace(trace)
    if input_bytes < 0:
        raise SramInputError(f"input_bytes: must be >= 0 (got {input_bytes})")
    f = resident_fraction(trace, hierarchy) if resident is None else resident
    rows: list[dict] = []
    for (t, acc), nbytes in _moved_bytes(trace).items():
        rows += _traffic_rows(t, acc, nbytes, f[t], hierarchy.buffer_for(t), hierarchy)
    act_buf = hierarchy.buffer_for("activation")
    if input_bytes and act_buf is not None:  # without a buffer the reads already hit DRAM
        rows += [r for r in _traffic_rows("activation", "read", float(input_bytes), 0.0,
                                          act_buf, hierarchy) if r["movement"] == "fill"]
    df = pd.DataFrame(rows)
    return (df.groupby(["level", "data_type", "access", "movement"], as_index=False, sort=True)
              [["bytes", "energy_pj"]].sum())


def energy_breakdown(energy: pd.DataFrame) -> pd.DataFrame:
    """Pivot of :func:`access_energy`: energy (pJ) by data type (rows) and level (columns)."""
    return energy.pivot_table(index="data_type", columns="level", values="energy_pj",
                              aggfunc="sum", fill_value=0.0, margins=True, margins_name="total")
