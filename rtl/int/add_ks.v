// add_ks: W-bit integer adder unit with the pns-hwcost handshake, y = a + b as a (W+1)-bit full sum.
// Parameters: W (operand width, >= 2); SIGNED (0: operands zero-extended to W+1 bits, 1: sign-
//   extended, i.e. y is the two's-complement sum); LATENCY (0: combinational, y = f(a, b) and
//   out_valid = in_valid; N >= 1: y/out_valid appear N cycles after a/b/in_valid are sampled,
//   initiation interval 1).
// Algorithm: Kogge-Stone parallel-prefix adder (P. M. Kogge and H. S. Stone, IEEE Trans.
//   Computers C-22(8), 1973), see rtl/lib/core_add_ks.v.
// Structure: bit 0 is an rc_ha whose carry is the carry-in of core_add_ks #(W-1) on bits 1..W-1;
//   the top bit y[W] is the carry-out (unsigned) or a[W-1] ^ b[W-1] ^ carry-out (signed, two
//   rc_xor2).
// Register placement: all LATENCY stages at the output (rc_pipe on {out_valid, y}, rc_dffr cells
//   reset asynchronously by rst).
`timescale 1ns/1ps
module add_ks #(parameter W = 8, parameter SIGNED = 0, parameter LATENCY = 0) (
    input  wire         clk,
    input  wire         rst,
    input  wire         in_valid,
    input  wire [W-1:0] a,
    input  wire [W-1:0] b,
    output wire         out_valid,
    output wire [W:0]   y
);
    wire [W:0] sum;
    wire c0, cout;
    rc_ha u_ha0 (.A(a[0]), .B(b[0]), .S(sum[0]), .CO(c0));
    core_add_ks #(.W(W-1)) u_add (.a(a[W-1:1]), .b(b[W-1:1]), .cin(c0), .s(sum[W-1:1]), .cout(cout));
    generate
        if (SIGNED != 0) begin : g_sx
            wire t;
            rc_xor2 u_x1 (.A(a[W-1]), .B(b[W-1]), .Y(t));
            rc_xor2 u_x2 (.A(t), .B(cout), .Y(sum[W]));
        end else begin : g_zx
            assign sum[W] = cout;
        end
    endgenerate
    rc_pipe #(.W(W+1), .LATENCY(LATENCY)) u_pipe (.clk(clk), .rst(rst), .in_valid(in_valid),
                                                 .d(sum), .out_valid(out_valid), .q(y));
endmodule
