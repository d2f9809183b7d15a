"""The generic harness reads any handshake unit with pyverilog and rejects bad files in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwmodel.rtlsim import UnitError, check_handshake, eval_expr, load_unit

GOOD = """
module user_xor #(parameter W = 8, parameter LATENCY = 0) (
    input wire clk, input wire rst, input wire in_valid,
    input wire [W-1:0] a, input wire [W-1:0] b,
    output wire out_valid, output wire [W-1:0] y);
    wire [W-1:0] x;
    genvar i;
    generate for (i = 0; i < W; i = i + 1) begin : g
        rc_xor2 u (.A(a[i]), .B(b[i]), .Y(x[i]));
    end endgenerate
    rc_pipe #(.W(W), .LATENCY(LATENCY)) u_p (.clk(clk), .rst(rst), .in_valid(in_valid),
        .d(x), .out_valid(out_valid), .q(y));
endmodule
"""


def write(tmp_path: Path, text: str, name: str = "unit.v") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_name_ports_widths_and_params(tmp_path: Path) -> None:
    spec = load_unit(write(tmp_path, GOOD))
    assert spec.name == "user_xor"
    assert list(spec.params) == ["W", "LATENCY"]
    assert spec.widths() == {"clk": 1, "rst": 1, "in_valid": 1, "a": 8, "b": 8,
                             "out_valid": 1, "y": 8}
    assert spec.widths({"W": 32})["y"] == 32
    assert spec.extra_inputs == []


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("output wire out_valid,", "output wire out_valid"))
    with pytest.raises(UnitError) as info:
        load_unit(path)
    msg = str(info.value)
    assert str(path) in msg and "syntax error" in msg and "\n" not in msg


def test_missing_port_is_named(tmp_path: Path) -> None:
    text = GOOD.replace("input wire [W-1:0] b,", "").replace(".B(b[i])", ".B(a[i])")
    with pytest.raises(UnitError, match=r"unit\.v: module user_xor has no port 'b'"):
        load_unit(write(tmp_path, text))


def test_control_port_wider_than_one_bit(tmp_path: Path) -> None:
    text = GOOD.replace("input wire in_valid", "input wire [1:0] in_valid")
    with pytest.raises(UnitError, match=r"port 'in_valid' of user_xor is 2 bits wide"):
        load_unit(write(tmp_path, text))


def test_wrong_operand_width_against_expectation(tmp_path: Path) -> None:
    spec = load_unit(write(tmp_path, GOOD))
    with pytest.raises(UnitError, match=r"port 'y' of user_xor is 8 bits wide; expected 16"):
        check_handshake(spec, {"W": 8}, expect_widths={"y": 16})


def test_unknown_parameter_and_missing_file(tmp_path: Path) -> None:
    spec = load_unit(write(tmp_path, GOOD))
    with pytest.raises(UnitError, match="has no parameter 'WIDTH'"):
        spec.widths({"WIDTH": 4})
    with pytest.raises(UnitError, match="no such Verilog file"):
        load_unit(tmp_path / "absent.v")


def test_eval_expr_handles_verilog_arithmetic() -> None:
    p = {"W": 16, "E": 5}
    assert eval_expr("(2 * W) - 1", p) == 31
    assert eval_expr("W / 2 + E % 3", p) == 10
    assert eval_expr("(W > 8) ? W : 8", p) == 16
    assert eval_expr("4'd3 + 8'hff", p) == 258
