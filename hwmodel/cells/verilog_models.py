"""Verilog simulation models of library cells (functional, zero delay): the one generator.

:func:`verilog_models` writes a module per :class:`CellModel` from Liberty-syntax Boolean functions
and, for a flip-flop, its Liberty ``ff`` group (edge on ``clocked_on``, asynchronous
``clear``/``preset``). Two sources feed it, so the models and the library cannot disagree:

* :func:`write_verilog_models`: the pns45 cells from the same :class:`CellNetlist` records the
  Liberty file is written from (``python -m hwmodel.cells build`` writes ``<library>_cells.v``);
* :func:`verilog_models_from_liberty`: any Liberty read by
  :func:`hwmodel.cells.liberty.read_liberty` (the gate-level simulation's models when a Liberty
  comes without its ``_cells.v``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .liberty import Liberty, LibertyError
from .netlists import DFF_PINS, CellNetlist

_FN_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|[!()&|^*+']|1|0)")
_OPERAND = re.compile(r"[A-Za-z_01]")


def liberty_function_to_verilog(function: str) -> str:
    """Liberty Boolean function (``!``, postfix ``'``, ``&``/``*``/space, ``|``/``+``, ``^``)
    as a Verilog expression (tokens separated by single spaces)."""
    tokens = []
    pos = 0
    text = function.strip()
    while pos < len(text):
        m = _FN_TOKEN.match(text, pos)
        if not m:
            raise LibertyError(f"cannot read Liberty function {function!r} at {text[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    out: list[str] = []
    prev_operand = False
    for tok in tokens:
        if (tok in ("(", "!") or _OPERAND.match(tok)) and prev_operand:
            out.append("&")  # juxtaposition is AND
        if tok == "'":
            out.insert(_operand_start(out), "~")  # postfix complement of the previous operand
            prev_operand = True
            continue
        out.append({"!": "~", "*": "&", "+": "|", "1": "1'b1", "0": "1'b0"}.get(tok, tok))
        prev_operand = tok == ")" or bool(_OPERAND.match(tok))
    return " ".join(out)


def _operand_start(out: list[str]) -> int:
    """Index where the last operand of ``out`` (an identifier or a parenthesised group) starts."""
    if not out or out[-1] != ")":
        return len(out) - 1
    depth, k = 0, len(out) - 1
    while k >= 0:
        depth += out[k] == ")"
        depth -= out[k] == "("
        if depth == 0:
            break
        k -= 1
    return k


@dataclass(frozen=True)
class CellModel:
    """What a cell's Verilog model is made of: pins in port order, a Liberty function per
    output, and for a flip-flop its Liberty ``ff`` group (``next_state``, ``clocked_on``,
    ``clear``/``preset``) with the name of its state (outputs' functions refer to it)."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    functions: dict[str, str]
    ff: dict[str, str] | None = None
    state: str = "IQ"
    state_inv: str = "IQN"


def verilog_models(cells: Iterable[CellModel], header: Iterable[str]) -> str:
    """One Verilog file: ``header`` comment lines, the timescale, then a module per cell."""
    out = [*header, "`timescale 1ns/1ps"]
    for c in cells:
        out.append(f"module {c.name} ({', '.join([*c.inputs, *c.outputs])});")
        out += [f"  input {p};" for p in c.inputs]
        out += _sequential_body(c) if c.ff is not None else _combinational_body(c)
        out.append("endmodule\n")
    return "\n".join(out)


def _expr(function: str) -> str:
    return liberty_function_to_verilog(function).replace(" ", "")


def _combinational_body(c: CellModel) -> list[str]:
    for p in c.outputs:
        if not c.functions.get(p):
            raise LibertyError(f"output {c.name}.{p} has no function")
    return [f"  output {p};" for p in c.outputs] + \
        [f"  assign {p} = {_expr(c.functions[p])};" for p in c.outputs]


def _edge(expr: str) -> tuple[str, str]:
    """(event, condition) of an asynchronous control pin (``!RN`` / ``RN'``: active low)."""
    expr = expr.strip()
    neg = expr.startswith("!") or expr.endswith("'")
    pin = expr.strip("!' ()")
    return f"{'negedge' if neg else 'posedge'} {pin}", f"{'!' if neg else ''}{pin}"


def _sequential_body(c: CellModel) -> list[str]:
    """A flip-flop: the output whose function is the state is the register; other outputs are
    assigned from it."""
    ff = c.ff or {}
    clk = _expr(ff.get("clocked_on", ""))
    if not re.fullmatch(r"\w+", clk):
        raise LibertyError(f"{c.name} clocked_on {ff.get('clocked_on')!r} is not a plain pin")
    reg = next((p for p in c.outputs if c.functions.get(p, "").strip() == c.state), c.state)
    body = [f"  output {'reg ' if p == reg else ''}{p};" for p in c.outputs]
    if reg not in c.outputs:
        body.append(f"  reg {reg};")
    events, conds = [f"posedge {clk}"], []
    for key, val in (("clear", "1'b0"), ("preset", "1'b1")):
        if key in ff:
            event, cond = _edge(ff[key])
            events.append(event)
            conds.append(f"{cond}) {reg} <= {val};")
    body.append(f"  always @({' or '.join(events)})")
    body += [f"    {'if' if k == 0 else 'else if'} ({cond}" for k, cond in enumerate(conds)]
    body.append(f"    {'else   ' if conds else ''}{reg} <= {_expr(ff['next_state'])};")
    for p in c.outputs:
        if p != reg:
            fn = re.sub(rf"\b{c.state_inv}\b", f"(!{reg})", c.functions[p])
            fn = re.sub(rf"\b{c.state}\b", reg, fn)
            body.append(f"  assign {p} = {_expr(fn)};")
    return body


def write_verilog_models(cells: list[CellNetlist], library: str) -> str:
    """Text of the library's ``_cells.v``: a module per pns45 cell."""
    models = [CellModel(c.name, c.inputs, c.outputs, dict(c.functions),
                        dict(DFF_PINS) if c.sequential else None) for c in cells]
    return verilog_models(models, [
        f"// {library}: functional models of the pns45 standard cells (zero delay).",
        "// Generated by `python -m hwmodel.cells build`; do not edit."])


def verilog_models_from_liberty(lib: Liberty) -> str:
    """Models of every cell of a Liberty, from its ``function`` and ``ff`` groups."""
    models = []
    for name, cell in sorted(lib.cells.items()):
        functions = {p: cell.pins[p].function for p in cell.outputs}
        for p, fn in functions.items():
            if not fn:
                raise LibertyError(f"{lib.path}: output {name}.{p} has no function")
        models.append(CellModel(name, tuple(cell.inputs), tuple(cell.outputs), functions,
                                cell.ff))
    return verilog_models(models, [f"// Cell models generated from {lib.path.name} "
                                   "(Liberty functions)"])
