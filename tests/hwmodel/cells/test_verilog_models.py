"""Verilog cell models: Liberty functions as Verilog, and the one generator reproducing the
committed ``_cells.v`` of every library."""

from __future__ import annotations

import json

import pytest

from hwmodel.cells.liberty import read_liberty
from hwmodel.cells.library import LIB_DIR
from hwmodel.cells.netlists import CELLS
from hwmodel.cells.verilog_models import (
    liberty_function_to_verilog,
    verilog_models_from_liberty,
    write_verilog_models,
)

from ..ops.test_synth import FIXTURE_LIB


def test_liberty_functions_become_verilog() -> None:
    assert liberty_function_to_verilog("(!(A&B))") == "( ~ ( A & B ) )"
    assert liberty_function_to_verilog("A B") == "A & B"
    assert liberty_function_to_verilog("A'+B") == "~ A | B"
    assert liberty_function_to_verilog("(A*B)'") == "~ ( A & B )"


@pytest.mark.parametrize("models", sorted(LIB_DIR.glob("*_cells.v")), ids=lambda p: p.name)
def test_generator_reproduces_the_committed_models(models) -> None:
    library = models.name[:-len("_cells.v")]
    cells = json.loads((LIB_DIR / f"{library}.json").read_text())["cells"]
    assert write_verilog_models([CELLS[name] for name in cells], library) == models.read_text()


def test_models_from_a_liberty_match_the_library_style() -> None:
    text = verilog_models_from_liberty(read_liberty(FIXTURE_LIB))
    assert "module DFFR_X1 (D, CK, R, Q);" in text
    assert "  output reg Q;\n  always @(posedge CK or posedge R)\n    if (R) Q <= 1'b0;\n" \
           "    else   Q <= D;\n" in text
    assert "  assign Y = (~(A&B));" in text  # NAND2 "(!(A&B))"
