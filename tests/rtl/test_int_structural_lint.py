"""The integer RTL (``rtl/int``) and its shared cores (``rtl/lib``) are strictly structural.

Checked on the pyverilog AST: a module body holds only wire/parameter/genvar declarations,
instances of ``rc_*`` cells or other project modules, ``generate`` if/for blocks, and ``assign``
statements whose right-hand side only connects, selects, concatenates, replicates or ties constants
(indices and replication counts are elaboration-time constants and are not inspected). Constant
functions are allowed only as elaboration-time helpers: they may be called from parameter and
localparam declarations, never from an ``assign``. Every gate is thus an ``rc_*`` instance that the
energy model can count.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import rtl
from hwmodel.rtlsim.unit import parse_file

FILES = sorted([*(rtl.RTL_DIR / "int").glob("*.v"), *(rtl.RTL_DIR / "lib").glob("*.v")])
PROJECT_MODULES = {p.stem for p in rtl.verilog_files()}
EXPECTED_UNITS = {"add_rca", "add_ks", "mul_array", "mul_booth", "mac_int"}
EXPECTED_CORES = {"core_add_rca", "core_add_ks", "core_mul_array", "core_mul_booth"}

_DECL_OK = {"Wire", "Input", "Output", "Parameter", "Localparam", "Genvar"}
_RVALUE_OK = {"Identifier", "IntConst", "Concat", "Repeat", "Pointer", "Partselect", "Rvalue",
              "Lvalue"}


def _walk_rvalue(node, errors: list[str], where: str) -> None:
    kind = type(node).__name__
    if kind not in _RVALUE_OK:
        errors.append(f"{where}: '{kind}' in an assign; use rc_* cell instances")
        return
    if kind == "Pointer":
        _walk_rvalue(node.var, errors, where)
    elif kind == "Partselect":
        _walk_rvalue(node.var, errors, where)
    elif kind == "Repeat":
        _walk_rvalue(node.value, errors, where)
    else:
        for child in node.children():
            _walk_rvalue(child, errors, where)


def _check_items(items, errors: list[str], where: str) -> None:
    for item in items:
        kind = type(item).__name__
        if kind == "Decl":
            for d in item.list:
                if type(d).__name__ not in _DECL_OK:
                    errors.append(f"{where}: declaration of a {type(d).__name__} "
                                  f"'{getattr(d, 'name', '?')}' (only wires allowed)")
        elif kind == "InstanceList":
            if item.module not in PROJECT_MODULES:
                errors.append(f"{where}: instance of unknown module '{item.module}'")
        elif kind == "Assign":
            _walk_rvalue(item.left, errors, where)
            _walk_rvalue(item.right, errors, where)
        elif kind == "GenerateStatement":
            _check_items(item.items, errors, where)
        elif kind == "Block":
            _check_items(item.statements, errors, where)
        elif kind == "IfStatement":
            _check_items([s for s in (item.true_statement, item.false_statement) if s], errors,
                         where)
        elif kind == "ForStatement":
            _check_items([item.statement], errors, where)
        elif kind == "Function":
            pass  # elaboration-time constant function; calls are checked in assigns above
        else:
            errors.append(f"{where}: '{kind}' is not structural (no always/initial/reg/logic)")


def structural_errors(path: Path) -> list[str]:
    """Violations of the structural rules in one Verilog file (empty list: clean)."""
    ast = parse_file(path)
    defs = ast.description.definitions
    errors: list[str] = []
    if [d.name for d in defs] != [path.stem]:
        errors.append(f"{path.name}: must hold exactly one module named {path.stem}")
    for mod in defs:
        _check_items(mod.items, errors, f"{path.name}:{mod.name}")
    return errors


def test_all_units_and_cores_present() -> None:
    names = {p.stem for p in FILES}
    assert EXPECTED_UNITS | EXPECTED_CORES <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_structural(path: Path) -> None:
    assert structural_errors(path) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_header_comment_names_algorithm_and_latency(path: Path) -> None:
    text = path.read_text()
    header = "".join(re.findall(r"^//.*\n", text.split("`timescale")[0], re.MULTILINE))
    assert header.startswith(f"// {path.stem}:"), f"{path.name}: header comment missing"
    assert re.search(r"19[4-9]\d|20\d\d", header), f"{path.name}: header cites no source"
    if path.parent.name == "int":
        assert "LATENCY" in header, f"{path.name}: header does not document LATENCY"
        assert "Register placement" in header or "Latency:" in header, (
            f"{path.name}: header does not say where the registers are")


@pytest.mark.parametrize("body,needle", [
    ("assign y = a & b;", "And"),
    ("assign y = c ? a : b;", "Cond"),
    ("assign y = a + b;", "Plus"),
    ("reg r;", "Reg"),
    ("reg r2;\n  always @(a) r2 = a;", "Always"),
    ("foo u (.A(a));", "unknown module"),
])
def test_checker_rejects_behavioural_code(tmp_path: Path, body: str, needle: str) -> None:
    src = tmp_path / "bad_unit.v"
    src.write_text("module bad_unit(input wire a, input wire b, input wire c, output wire y);\n"
                   f"  {body}\nendmodule\n")
    errors = structural_errors(src)
    assert any(needle in e for e in errors), errors


def test_checker_accepts_wiring(tmp_path: Path) -> None:
    src = tmp_path / "ok_unit.v"
    src.write_text("module ok_unit #(parameter W = 4) (input wire [W-1:0] a,"
                   " output wire [2*W-1:0] y, output wire z);\n"
                   "  assign y = {{(W-1){a[W-1]}}, a[W-1:1], 1'b0};\n"
                   "  rc_inv u_i (.A(a[0]), .Y(z));\nendmodule\n")
    assert structural_errors(src) == []
