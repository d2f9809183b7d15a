"""The default op library: which RTL unit implements each (operation, number format).

Training is counted in MACs, adds and multiplies; each is costed with the unit below. Parameters
follow each unit's header comment; ``LATENCY`` is chosen so every unit is registered (its flip-flop
and clock energy shows up in ``energy_seq_pj``).

:func:`user_unit` makes an :class:`OpUnit` of any Verilog file with the standard handshake
(``python -m hwmodel.ops --rtl FILE``), so a user's own unit is costed like a library one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import rtl
from hwmodel.ops.streams import FORMATS, NumberFormat, get_format
from hwmodel.rtlsim import HANDSHAKE, UnitError, UnitSpec, check_handshake, load_unit


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


OPS = ("add", "mul", "mac")
#: The MAC's extra input: clear the accumulator (see :func:`hwmodel.ops.streams.acc_clr_schedule`).
ACC_CLR = "acc_clr"


def user_unit(path: str | Path, op: str | None = None, fmt: str | None = None,
              params: dict[str, int] | None = None) -> OpUnit:
    """An :class:`OpUnit` of the last module in a Verilog file with the standard handshake
    (ports read by pyverilog, :func:`hwmodel.rtlsim.load_unit`).

    ``op``: ``add``, ``mul`` or ``mac`` (default: ``mac`` when the unit has an ``acc_clr``
    input, else the op its module name holds, e.g. ``fp_add``). ``fmt``: the operands' number
    format (default ``int<width of a>``); the format's parameters (``W``/``SIGNED`` or
    ``EXP_W``/``MAN_W``) are set where the module declares them and ``params`` does not.
    Raises UnitError, one line naming the file, for a syntax error, a missing handshake port, an
    unknown parameter, or operand (float: result) widths that do not fit the format.
    """
    spec = load_unit(path)
    given = dict(params or {})
    op = op or _infer_op(spec)
    if op not in OPS:
        raise UnitError(f"{spec.path}: unknown operation {op!r}; use one of: {', '.join(OPS)}")
    if fmt is None:
        width = spec.widths(given)[HANDSHAKE.operands[0]]
        fmt = f"int{width}"
        if fmt not in FORMATS:
            raise UnitError(f"{spec.path}: no integer format of {width} bits for operand "
                            f"{HANDSHAKE.operands[0]!r}; pass --format (one of: "
                            f"{', '.join(FORMATS)})")
    number = get_format(fmt)
    values = {k: v for k, v in format_params(number).items() if k in spec.params} | given
    _check_widths(spec, op, number, spec.resolve_params(values))
    return OpUnit(spec.name, op, fmt, spec.path, values)


def _infer_op(spec: UnitSpec) -> str:
    if ACC_CLR in spec.ports:
        return "mac"
    m = re.search(rf"(?:^|_)({'|'.join(OPS)})", spec.name)
    if m is None:
        raise UnitError(f"{spec.path}: cannot tell whether {spec.name} adds, multiplies or "
                        "multiply-accumulates; pass --op add|mul|mac")
    return m.group(1)


def _check_widths(spec: UnitSpec, op: str, fmt: NumberFormat, values: dict[str, int]) -> None:
    """UnitError unless the operands (and a float unit's result) are as wide as ``fmt`` and a
    MAC has a 1-bit ``acc_clr`` input."""
    want = {name: fmt.bits for name in HANDSHAKE.operands}
    if fmt.kind == "float":  # results are read as the format (non-finite share)
        want[HANDSHAKE.result] = fmt.bits
    if op == "mac":
        if ACC_CLR not in spec.ports or spec.ports[ACC_CLR].direction != "input":
            raise UnitError(f"{spec.path}: {spec.name} has no input {ACC_CLR!r}; a mac unit "
                            "clears its accumulator with it")
        want[ACC_CLR] = 1
    check_handshake(spec, values)
    try:
        check_handshake(spec, values, want)
    except UnitError as exc:
        raise UnitError(f"{exc} for format {fmt.name}") from None
