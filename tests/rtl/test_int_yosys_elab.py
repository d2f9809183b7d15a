"""Every integer unit elaborates in Yosys the way the mapped-netlist path reads it.

``hwmodel.ops.synth`` reads the sources with ``read_verilog -defer`` and sets the unit's parameters
with ``hierarchy -chparam``. Yosys 0.23 aborts that elaboration (``Assert modules_.count(...)``)
when a cell output drives an element of a 1-bit net array (``wire x [0:N-1]``) declared in the top
module itself, so units keep such nets as wires local to their generate blocks (net arrays inside
the ``rtl/lib`` cores are fine). Elaboration only (no mapping), so this runs in seconds.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import rtl
from hwmodel.rtlsim import dependency_files

INT_DIR = rtl.RTL_DIR / "int"
UNITS = ("add_rca", "add_ks", "mul_array", "mul_booth", "mac_int")


def _elaborate(top: str, sources: list[Path],
               params: dict[str, int]) -> subprocess.CompletedProcess:
    exe = shutil.which("yosys")
    if exe is None:
        pytest.skip("yosys not on PATH (apt-get install yosys)")
    chparams = " ".join(f"-chparam {k} {v}" for k, v in params.items())
    script = (f"read_verilog -defer {' '.join(str(s) for s in sources)}; "
              f"hierarchy -check -top {top} {chparams}")
    return subprocess.run([exe, "-q", "-p", script], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("signed", (0, 1), ids=("u", "s"))
@pytest.mark.parametrize("unit", UNITS)
def test_unit_elaborates_with_chparam(unit: str, signed: int) -> None:
    path = INT_DIR / f"{unit}.v"
    proc = _elaborate(unit, dependency_files(path), {"W": 8, "SIGNED": signed, "LATENCY": 1})
    assert proc.returncode == 0, f"{unit}: {(proc.stderr + proc.stdout).strip()[-300:]}"


def test_net_array_driven_by_a_cell_in_the_top_is_detected(tmp_path: Path) -> None:
    """The Yosys limitation this file guards against still reproduces (the test can fail)."""
    src = tmp_path / "arr_top.v"
    src.write_text(
        "module arr_top #(parameter N = 4) (input wire [N-1:0] a, output wire [N-1:0] y);\n"
        "    wire t [0:N-1];\n"
        "    genvar i;\n"
        "    generate for (i = 0; i < N; i = i + 1) begin : g\n"
        "        rc_inv u (.A(a[i]), .Y(t[i]));\n"
        "        assign y[i] = t[i];\n"
        "    end endgenerate\n"
        "endmodule\n")
    proc = _elaborate("arr_top", [rtl.RTL_DIR / "cells" / "rc_inv.v", src], {"N": 4})
    assert proc.returncode != 0
