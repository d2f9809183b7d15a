// mul_array: W x W integer array multiplier unit with the pns-hwcost handshake, y = a * b (2W bits).
// Parameters: W (operand width, >= 3); SIGNED (0: unsigned, 1: two's complement operands and
//   product); LATENCY (0: combinational, y = f(a, b) and out_valid = in_valid; N >= 1: y/out_valid
//   appear N cycles after a/b/in_valid are sampled, initiation interval 1).
// Algorithm: Braun carry-save array (E. L. Braun, Digital Computer Design, 1963), Baugh-Wooley
//   (IEEE Trans. Computers C-22(12), 1973) for signed operands, ripple-carry final adder; see
//   rtl/lib/core_mul_array.v.
// Register placement: all LATENCY stages at the output (rc_pipe on {out_valid, y}).
// Simulation speed: the core's product is driven bit by bit (one multi-driver net in Icarus), so
//   it reaches rc_pipe, which reads it bit by bit, through one whole-vector alias (pq = p): each
//   glitch on a product bit then costs one copy instead of 2W bit-select re-reads of the whole
//   vector. No cell is added.
`timescale 1ns/1ps
module mul_array #(parameter W = 8, parameter SIGNED = 0, parameter LATENCY = 0) (
    input  wire           clk,
    input  wire           rst,
    input  wire           in_valid,
    input  wire [W-1:0]   a,
    input  wire [W-1:0]   b,
    output wire           out_valid,
    output wire [2*W-1:0] y
);
    wire [2*W-1:0] p, pq;
    core_mul_array #(.W(W), .SIGNED(SIGNED)) u_mul (.a(a), .b(b), .p(p));
    assign pq = p;
    rc_pipe #(.W(2*W), .LATENCY(LATENCY)) u_pipe (.clk(clk), .rst(rst), .in_valid(in_valid),
                                                 .d(pq), .out_valid(out_valid), .q(y));
endmodule
