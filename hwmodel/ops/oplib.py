"""The default op library: which RTL unit implements each (operation, number format).

Training is counted in MACs, adds and multiplies; each is costed with the unit below. Parameters
follow each unit's header comment; ``LATENCY`` is chosen so every unit is registered (its flip-flop
and clock energy shows up in ``energy_seq_pj``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import rtl
from hwmodel.ops.streams import NumberFormat, get_format
from hwmodel.rtlsim import UnitError


@dataclass(frozen=True)
class OpUnit:
    """One characterizable configuration: a unit file, a number format and its parameters."""

    unit: str
    op: str  # "add", "mul" or "mac"
    fmt: str
    path: Path
    params: dict[str, int] = field(default_factory=dict)

    @property
    def number_format(self) -> NumberFormat:
        return get_format(self.fmt)

    @property
    def label(self) -> str:
        return f"{self.unit}/{self.fmt}"

    @property
    def work_hint(self) -> int:
        """Relative characterization effort, format bits x (op weight + 1 for floats): a
        scheduling hint only, so the largest rows start first and the workers finish together."""
        return self.number_format.bits * _OP_WEIGHT.get(self.op, 1) + \
            (self.number_format.bits if self.number_format.kind == "float" else 0)


def format_params(fmt: NumberFormat) -> dict[str, int]:
    """Unit parameters selecting a number format."""
    if fmt.kind == "float":
        return {"EXP_W": fmt.exp_bits, "MAN_W": fmt.man_bits}
    return {"W": fmt.bits, "SIGNED": int(fmt.signed)}


_INT_UNITS = (("add_rca", "add"), ("add_ks", "add"), ("mul_array", "mul"), ("mul_booth", "mul"),
              ("mac_int", "mac"))
_FP_UNITS = (("fp_add", "add"), ("fp_mul", "mul"), ("fp_mac", "mac"))
DEFAULT_LATENCY = {"add": 1, "mul": 1, "mac": 1}
_OP_WEIGHT = {"add": 1, "mul": 3, "mac": 4}


def default_op_library(latency: int | None = None) -> list[OpUnit]:
    """Every unit of the RTL library in int8/16/32 and fp16/bf16/fp32 (files that exist), with
    ``LATENCY`` = ``latency`` register stages (default :data:`DEFAULT_LATENCY`; MACs need >= 1)."""
    if latency is not None and (int(latency) != latency or latency < 1):
        raise UnitError(f"latency must be an integer >= 1 register stages, got {latency!r}")
    out: list[OpUnit] = []
    for sub, units, fmts in (("int", _INT_UNITS, ("int8", "int16", "int32")),
                             ("fp", _FP_UNITS, ("fp16", "bf16", "fp32"))):
        for unit, op in units:
            path = rtl.RTL_DIR / sub / f"{unit}.v"
            if not path.exists():
                continue
            for fmt in fmts:
                lat = DEFAULT_LATENCY[op] if latency is None else int(latency)
                params = format_params(get_format(fmt)) | {"LATENCY": lat}
                out.append(OpUnit(unit, op, fmt, path, params))
    return out


def select(units: list[OpUnit], unit: str | None = None, fmt: str | None = None) -> list[OpUnit]:
    """Filter by unit and/or format name; a filter matching nothing is a one-line error."""
    if fmt is not None:
        get_format(fmt)
    chosen = [u for u in units
              if (unit is None or u.unit == unit) and (fmt is None or u.fmt == fmt)]
    if not chosen:
        known = sorted({u.unit for u in units})
        raise UnitError(f"no op unit matches unit={unit!r} format={fmt!r}; "
                        f"units: {', '.join(known)}")
    return chosen
