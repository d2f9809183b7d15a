// mul_booth: W x W integer radix-4 Booth multiplier unit with the pns-hwcost handshake,
// y = a * b (2W bits).
// Parameters: W (operand width, >= 3); SIGNED (0: unsigned, 1: two's complement operands and
//   product); LATENCY (0: combinational, y = f(a, b) and out_valid = in_valid; N >= 1: y/out_valid
//   appear N cycles after a/b/in_valid are sampled, initiation interval 1).
// Algorithm: radix-4 Booth recoding (A. D. Booth 1951; O. L. MacSorley, Proc. IRE 1961), Dadda
//   reduction tree (L. Dadda, Alta Frequenza 1965), Kogge-Stone final adder (Kogge & Stone
//   1973); see rtl/lib/core_booth_tree.v and rtl/lib/core_add_ks.v.
// Register placement: for LATENCY >= 1 the first stage sits after the Dadda tree, before the
//   final adder (rc_pipe on the two 2W-bit carry-save rows and in_valid); the remaining
//   LATENCY-1 stages sit at the output (rc_pipe on {out_valid, y}). Constant-0 bits of the
//   carry-save rows (columns holding fewer than two bits) are registered too.
`timescale 1ns/1ps
module mul_booth #(parameter W = 8, parameter SIGNED = 0, parameter LATENCY = 0) (
    input  wire           clk,
    input  wire           rst,
    input  wire           in_valid,
    input  wire [W-1:0]   a,
    input  wire [W-1:0]   b,
    output wire           out_valid,
    output wire [2*W-1:0] y
);
    localparam L1 = (LATENCY > 0) ? 1 : 0;       // stage between tree and final adder
    localparam L2 = (LATENCY > 0) ? LATENCY - 1 : 0;  // stages at the output
    wire [2*W-1:0] x, z, xr, zr, p;
    wire v1, c0, cout_unused;
    core_booth_tree #(.W(W), .SIGNED(SIGNED)) u_tree (.a(a), .b(b), .x(x), .y(z));
    rc_pipe #(.W(4*W), .LATENCY(L1)) u_pipe1 (.clk(clk), .rst(rst), .in_valid(in_valid),
                                            .d({x, z}), .out_valid(v1), .q({xr, zr}));
    rc_ha u_ha0 (.A(xr[0]), .B(zr[0]), .S(p[0]), .CO(c0));
    core_add_ks #(.W(2*W-1)) u_add (.a(xr[2*W-1:1]), .b(zr[2*W-1:1]), .cin(c0),
                                   .s(p[2*W-1:1]), .cout(cout_unused));
    rc_pipe #(.W(2*W), .LATENCY(L2)) u_pipe2 (.clk(clk), .rst(rst), .in_valid(v1),
                                            .d(p), .out_valid(out_valid), .q(y));
endmodule
