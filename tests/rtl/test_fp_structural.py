"""The floating-point RTL (``rtl/fp/``) is strictly structural Verilog-2005.

Module bodies may only hold cell / module instances, wires, generate constructs and ``assign``
statements that connect, select, concatenate or tie constants: every gate must be an ``rc_*``
cell instance so the energy model sees it. These checks are text-level (comments stripped).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import rtl

FP_DIR = rtl.RTL_DIR / "fp"
FILES = sorted(FP_DIR.glob("*.v"))
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_ASSIGN = re.compile(r"\bassign\b(.*?);", re.DOTALL)
_FORBIDDEN_WORDS = re.compile(r"\b(always|initial|reg|function|task|logic|always_comb)\b")
_OPERATORS = re.compile(r"[&|^~+\-*/%?!<>]")


def _code(path: Path) -> str:
    return _COMMENT.sub("", path.read_text())


def _strip_constant_parts(expr: str) -> str:
    """Drop bit-select indices and replication counts (constant expressions over parameters)."""
    prev = None
    while prev != expr:
        prev = expr
        expr = re.sub(r"\[[^\[\]]*\]", "", expr)
        expr = re.sub(r"\{\s*\([^{}]*\)\s*\{", "{{", expr)
    return expr


def test_fp_files_present() -> None:
    names = {p.stem for p in FILES}
    assert {"fp_add", "fp_mul", "fp_mac"} <= names
    assert all(n.startswith(("fp_", "fpb_")) for n in names)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_one_module_per_file_and_structural(path: Path) -> None:
    code = _code(path)
    modules = re.findall(r"^\s*module\s+(\w+)", code, re.MULTILINE)
    assert modules == [path.stem], f"{path.name}: expected exactly module {path.stem}"
    assert not _FORBIDDEN_WORDS.search(code), f"{path.name}: behavioural construct"
    for rhs in _ASSIGN.findall(code):
        _, _, value = rhs.partition("=")
        assert not _OPERATORS.search(_strip_constant_parts(value)), (
            f"{path.name}: logic in 'assign {rhs.strip()}'; use rc_* cell instances")


def test_checker_catches_logic_in_assign(tmp_path: Path) -> None:
    bad = "module fpb_bad(input a, input b, output y);\n  assign y = a & b;\nendmodule\n"
    rhs = _ASSIGN.findall(bad)[0].partition("=")[2]
    assert _OPERATORS.search(_strip_constant_parts(rhs))
    ok = "assign s = {{(1 << k){1'b0}}, v[W-1:(1 << k)]};"
    rhs = _ASSIGN.findall(ok)[0].partition("=")[2]
    assert not _OPERATORS.search(_strip_constant_parts(rhs))


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="iverilog not installed")
@pytest.mark.parametrize("unit", ["fp_add", "fp_mul", "fp_mac"])
def test_compiles_as_verilog_2005(unit: str, tmp_path: Path) -> None:
    srcs = [*sorted((rtl.RTL_DIR / "cells").glob("*.v")), rtl.RTL_DIR / "common" / "rc_pipe.v",
            *FILES]
    for exp_w, man_w in ((5, 10), (8, 7), (8, 23)):
        out = subprocess.run(
            ["iverilog", "-g2005", "-o", str(tmp_path / "u.vvp"), "-s", unit,
             f"-P{unit}.EXP_W={exp_w}", f"-P{unit}.MAN_W={man_w}", f"-P{unit}.LATENCY=2",
             *map(str, srcs)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
