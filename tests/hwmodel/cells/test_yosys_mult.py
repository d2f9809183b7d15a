"""The committed Liberty maps a 16-bit multiplier with Yosys; the gate-level netlist, simulated in
Icarus with the committed cell models, matches numpy on 10,000 random vectors."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from hwmodel.cells import default_liberty_path, default_verilog_models_path
from hwmodel.cells.netlists import CELL_NAMES

N_VECTORS = 10_000

MULT16 = """
module mult16 (input wire clk, input wire rst, input wire [15:0] a, input wire [15:0] b,
               output reg [31:0] y);
    always @(posedge clk or posedge rst)
        if (rst) y <= 32'd0;
        else     y <= a * b;
endmodule
"""

TB = """
`timescale 1ns/1ps
module tb;
    reg clk = 0, rst = 0;
    reg [15:0] a = 0, b = 0;
    wire [31:0] y;
    reg [31:0] vec [0:%(n)d-1];
    integer i, f;
    mult16 dut (.clk(clk), .rst(rst), .a(a), .b(b), .y(y));
    initial begin
        $readmemh("vectors.hex", vec);
        f = $fopen("out.txt", "w");
        #1 rst = 1;
        #1 if (y !== 32'd0) $fwrite(f, "RESETFAIL\\n");
        rst = 0;
        for (i = 0; i < %(n)d; i = i + 1) begin
            {a, b} = vec[i];
            #1 clk = 1;
            #1 $fwrite(f, "%%h\\n", y);
            clk = 0;
        end
        $fclose(f);
        $finish;
    end
endmodule
"""


def _need(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} not installed (apt-get install {tool})")
    return exe


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    _need("yosys")
    d = tmp_path_factory.mktemp("mult16")
    (d / "mult16.v").write_text(MULT16)
    lib = default_liberty_path()
    script = (f"read_verilog mult16.v; synth -top mult16; dfflibmap -liberty {lib}; "
              f"abc -liberty {lib}; opt_clean; stat -liberty {lib}; "
              "write_verilog -noattr mult16_gates.v")
    p = subprocess.run(["yosys", "-q", "-l", "yosys.log", "-p", script], cwd=d,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    return d, (d / "yosys.log").read_text(), (d / "mult16_gates.v").read_text()


def test_netlist_uses_only_library_cells(mapped):
    _, log, gates = mapped
    insts = re.findall(r"^\s*(\w+)\s+(?:\\\S+|\w+)\s*\(", gates, re.M)
    used = {c for c in insts if c != "module"}
    assert used, "no cell instances in the mapped netlist"
    assert used <= set(CELL_NAMES), used - set(CELL_NAMES)
    assert "DFFR_X1" in used  # the async-reset register went through dfflibmap
    n_dff = sum(1 for c in insts if c == "DFFR_X1")
    assert n_dff == 32
    assert re.search(r"Chip area for module '\\?mult16':\s*([0-9.]+)", log)


def test_gate_level_matches_numpy(mapped):
    _need("iverilog")
    d, _, _ = mapped
    rng = np.random.default_rng(2019)
    a = rng.integers(0, 1 << 16, N_VECTORS, dtype=np.uint64)
    b = rng.integers(0, 1 << 16, N_VECTORS, dtype=np.uint64)
    a[:4] = [0, 0xFFFF, 0xFFFF, 1]
    b[:4] = [0xFFFF, 0xFFFF, 0, 1]
    (d / "vectors.hex").write_text("".join(f"{(int(x) << 16) | int(y):08x}\n"
                                           for x, y in zip(a, b, strict=True)))
    (d / "tb.v").write_text(TB % {"n": N_VECTORS})
    p = subprocess.run(["iverilog", "-g2012", "-o", "sim", "tb.v", "mult16_gates.v",
                        str(default_verilog_models_path())], cwd=d, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    p = subprocess.run(["vvp", "-n", "sim"], cwd=d, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = (d / "out.txt").read_text().split()
    assert "RESETFAIL" not in lines
    got = np.array([int(x, 16) for x in lines], dtype=np.uint64)
    assert got.shape == (N_VECTORS,)
    want = a * b
    assert np.array_equal(got, want), f"{int((got != want).sum())} mismatches"
