"""Read a Verilog unit's interface with pyverilog: module name, ports, widths and parameters.

Any Verilog-2005 module with the project's handshake (:data:`hwmodel.rtlsim.handshake.HANDSHAKE`:
``clk``, ``rst``, ``in_valid``, ``a``, ``b``, ``out_valid``, ``y``; extra 1-bit or bus inputs
allowed) can be simulated and characterized by the same harness. Widths are kept as pyverilog
expressions and evaluated for a given parameter set.
"""

from __future__ import annotations

import argparse
import functools
import operator
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hwmodel.errors import HwmodelError
from hwmodel.rtlsim.handshake import HANDSHAKE


class UnitError(HwmodelError):
    """A unit's Verilog cannot be used; the message is one line naming the file and the problem."""


@dataclass(frozen=True)
class Port:
    """One port: direction ('input'/'output'), and MSB/LSB as Verilog expressions (None = 1 bit)."""

    name: str
    direction: str
    msb: str | None = None
    lsb: str | None = None

    def width(self, params: dict[str, int]) -> int:
        """Width in bits for the given parameter values."""
        if self.msb is None:
            return 1
        return abs(eval_expr(self.msb, params) - eval_expr(self.lsb or "0", params)) + 1


@dataclass(frozen=True)
class UnitSpec:
    """Interface of one Verilog unit, as read by pyverilog."""

    name: str
    path: Path
    ports: dict[str, Port]
    params: dict[str, str] = field(default_factory=dict)  # name -> default expression

    def resolve_params(self, overrides: dict[str, int] | None = None) -> dict[str, int]:
        """Parameter values: defaults (evaluated in order) with ``overrides`` applied."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(self.params))
        if unknown:
            raise UnitError(
                f"{self.path}: module {self.name} has no parameter {unknown[0]!r}; "
                f"it has: {', '.join(self.params) or 'none'}"
            )
        values: dict[str, int] = {}
        for name, expr in self.params.items():
            values[name] = int(overrides[name]) if name in overrides else eval_expr(expr, values)
        return values

    def widths(self, overrides: dict[str, int] | None = None) -> dict[str, int]:
        """Port widths in bits for the given parameter overrides."""
        values = self.resolve_params(overrides)
        return {name: port.width(values) for name, port in self.ports.items()}

    @property
    def extra_inputs(self) -> list[str]:
        """Inputs beyond the common handshake (e.g. ``acc_clr`` of a MAC)."""
        return [
            n for n, p in self.ports.items()
            if p.direction == "input" and n not in HANDSHAKE.inputs
        ]


_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>\d*'[sS]?[dDhHbBoO][0-9a-fA-F_xXzZ]+|\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_$]*)"
    r"|(?P<op>\*\*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%<>()?:!]))"
)
# Binary operators: precedence (higher binds tighter), per IEEE 1364-2005 Table 5-4.
_BINARY = {
    "||": (1, lambda x, y: int(bool(x) or bool(y))),
    "&&": (2, lambda x, y: int(bool(x) and bool(y))),
    "==": (3, lambda x, y: int(x == y)), "!=": (3, lambda x, y: int(x != y)),
    "<": (4, lambda x, y: int(x < y)), ">": (4, lambda x, y: int(x > y)),
    "<=": (4, lambda x, y: int(x <= y)), ">=": (4, lambda x, y: int(x >= y)),
    "<<": (5, operator.lshift), ">>": (5, operator.rshift),
    "+": (6, operator.add), "-": (6, operator.sub),
    "*": (7, operator.mul), "/": (7, lambda x, y: int(x / y)), "%": (7, operator.mod),
    "**": (8, operator.pow),
}


def _number(tok: str) -> int:
    if "'" not in tok:
        return int(tok)
    base = tok.split("'")[1].lstrip("sS")
    radix = {"d": 10, "h": 16, "b": 2, "o": 8}[base[0].lower()]
    return int(base[1:].replace("_", ""), radix)


def eval_expr(expr: str, params: dict[str, int]) -> int:
    """Evaluate an integer Verilog constant expression: numbers (also sized like 8'hff), parameter
    names, parentheses, ``?:``, ``! -``, and ``** * / % + - << >> < <= > >= == != && ||``."""
    text = expr.strip()
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise UnitError(f"cannot evaluate width expression {expr!r} (at {text[pos:]!r})")
        kind = m.lastgroup or "op"
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    idx = 0

    def peek() -> str | None:
        return tokens[idx][1] if idx < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal idx
        if idx >= len(tokens):
            raise UnitError(f"cannot evaluate width expression {expr!r} (ends early)")
        idx += 1
        return tokens[idx - 1]

    def primary() -> int:
        kind, tok = take()
        if kind == "num":
            return _number(tok)
        if kind == "name":
            if tok not in params:
                raise UnitError(f"width expression {expr!r} uses unknown parameter {tok!r}")
            return params[tok]
        if tok == "(":
            value = ternary()
            if take()[1] != ")":
                raise UnitError(f"cannot evaluate width expression {expr!r} (unbalanced)")
            return value
        if tok == "-":
            return -primary()
        if tok == "+":
            return primary()
        if tok == "!":
            return int(not primary())
        raise UnitError(f"cannot evaluate width expression {expr!r} (unexpected {tok!r})")

    def binary(min_prec: int) -> int:
        left = primary()
        while (op := peek()) in _BINARY and _BINARY[op][0] >= min_prec:
            take()
            prec, fn = _BINARY[op]
            right = binary(prec if op == "**" else prec + 1)
            left = fn(left, right)
        return left

    def ternary() -> int:
        cond = binary(1)
        if peek() == "?":
            take()
            yes = ternary()
            if take()[1] != ":":
                raise UnitError(f"cannot evaluate width expression {expr!r} (?: without :)")
            no = ternary()
            return yes if cond else no
        return cond

    value = ternary()
    if idx != len(tokens):
        raise UnitError(f"cannot evaluate width expression {expr!r} (trailing {peek()!r})")
    return int(value)


def parse_param(text: str) -> tuple[str, int]:
    """A command-line parameter override ``NAME=INTEGER`` (argparse ``type``; any base)."""
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"parameter {text!r} must look like NAME=INTEGER")
    try:
        return name.strip(), int(value, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"parameter {text!r}: value is not an integer") from None


@functools.lru_cache(maxsize=1)
def _parser_dir() -> str:
    return tempfile.mkdtemp(prefix="pns-pyverilog-")


def parse_file(path: Path):
    """pyverilog AST of one file; syntax errors become UnitError naming the file and line."""
    if shutil.which("iverilog") is None:
        raise UnitError("iverilog not found on PATH (pyverilog preprocesses with it); "
                        "install it: apt-get install iverilog")
    from pyverilog.vparser.parser import ParseError, VerilogCodeParser

    work = Path(_parser_dir())
    pre = work / f"pre-{path.stem}.v"
    try:
        parser = VerilogCodeParser([str(path)], preprocess_output=str(pre), outputdir=str(work),
                                   debug=False)
        return parser.parse()
    except ParseError as exc:
        raise UnitError(f"{path}: Verilog syntax error: {str(exc).splitlines()[0]}") from None
    except (OSError, RuntimeError) as exc:
        raise UnitError(f"{path}: cannot be parsed: {exc}") from None
    finally:
        pre.unlink(missing_ok=True)


def _expr(node) -> str | None:
    if node is None:
        return None
    from pyverilog.ast_code_generator.codegen import ASTCodeGenerator

    return ASTCodeGenerator().visit(node)


def load_unit(path: str | Path, top: str | None = None) -> UnitSpec:
    """Read the module ``top`` (default: the last module in the file) and check its handshake.

    Raises UnitError (one line: file and problem) for a missing file, a syntax error, a missing
    handshake port, a port with the wrong direction, or a control port that is not 1 bit wide.
    """
    from pyverilog.vparser import ast as vast

    path = Path(path).resolve()
    if not path.is_file():
        raise UnitError(f"{path}: no such Verilog file")
    tree = parse_file(path)
    modules = [d for d in tree.description.definitions if isinstance(d, vast.ModuleDef)]
    if not modules:
        raise UnitError(f"{path}: no module found")
    if top is None:
        mod = modules[-1]
    else:
        found = [m for m in modules if m.name == top]
        if not found:
            names = ", ".join(m.name for m in modules)
            raise UnitError(f"{path}: no module named {top!r} (found: {names})")
        mod = found[0]

    params: dict[str, str] = {}
    for plist in [mod.paramlist.params if mod.paramlist else []]:
        for decl in plist:
            for p in getattr(decl, "list", [decl]):
                if isinstance(p, vast.Parameter):
                    params[p.name] = _expr(p.value.var)
    for item in mod.items:
        for p in getattr(item, "list", []) or []:
            if isinstance(p, vast.Parameter) and not isinstance(p, vast.Localparam):
                params.setdefault(p.name, _expr(p.value.var))

    ports: dict[str, Port] = {}
    for port in mod.portlist.ports:
        first = getattr(port, "first", None)
        if isinstance(first, (vast.Input, vast.Output, vast.Inout)):
            width = first.width
            ports[first.name] = Port(
                first.name,
                {vast.Input: "input", vast.Output: "output", vast.Inout: "inout"}[type(first)],
                _expr(width.msb) if width else None,
                _expr(width.lsb) if width else None,
            )
    if not ports:  # Verilog-1995 style: directions declared in the body
        for item in mod.items:
            for decl in getattr(item, "list", []) or []:
                if isinstance(decl, (vast.Input, vast.Output, vast.Inout)):
                    width = decl.width
                    ports[decl.name] = Port(
                        decl.name,
                        {vast.Input: "input", vast.Output: "output", vast.Inout: "inout"}[
                            type(decl)
                        ],
                        _expr(width.msb) if width else None,
                        _expr(width.lsb) if width else None,
                    )

    spec = UnitSpec(mod.name, path, ports, params)
    check_handshake(spec)
    return spec


def check_handshake(spec: UnitSpec, params: dict[str, int] | None = None,
                    expect_widths: dict[str, int] | None = None) -> None:
    """Raise UnitError unless ``spec`` has the common handshake with sensible widths."""
    for name in HANDSHAKE.inputs + HANDSHAKE.outputs:
        if name not in spec.ports:
            raise UnitError(f"{spec.path}: module {spec.name} has no port {name!r} "
                            f"(the handshake needs {HANDSHAKE.describe()})")
        want = "input" if name in HANDSHAKE.inputs else "output"
        if spec.ports[name].direction != want:
            raise UnitError(f"{spec.path}: port {name!r} of {spec.name} must be an {want}")
    widths = spec.widths(params)
    for name in HANDSHAKE.one_bit:
        if widths[name] != 1:
            raise UnitError(f"{spec.path}: port {name!r} of {spec.name} is {widths[name]} bits "
                            f"wide; it must be 1 bit")
    for name, want in (expect_widths or {}).items():
        if name not in widths:
            raise UnitError(f"{spec.path}: module {spec.name} has no port {name!r}")
        if widths[name] != want:
            raise UnitError(f"{spec.path}: port {name!r} of {spec.name} is {widths[name]} bits "
                            f"wide; expected {want}")
