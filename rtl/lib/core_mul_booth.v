// core_mul_booth: W x W radix-4 Booth multiplier core with a Dadda reduction tree,
// p = a * b (2W-bit product). Pure combinational, no handshake.
// Parameters: W (operand width, >= 3); SIGNED (0: unsigned operands, 1: two's complement).
// Structure: core_booth_tree (Booth 1951 / MacSorley 1961 radix-4 recoding, Dadda 1965
// reduction; see that file) followed by a Kogge-Stone final adder (Kogge & Stone 1973):
// rc_ha on column 0 and core_add_ks #(2W-1) on columns 1..2W-1.
`timescale 1ns/1ps
module core_mul_booth #(parameter W = 8, parameter SIGNED = 0) (
    input  wire [W-1:0]   a,
    input  wire [W-1:0]   b,
    output wire [2*W-1:0] p
);
    wire [2*W-1:0] x, y;
    wire c0, cout_unused;
    core_booth_tree #(.W(W), .SIGNED(SIGNED)) u_tree (.a(a), .b(b), .x(x), .y(y));
    rc_ha u_ha0 (.A(x[0]), .B(y[0]), .S(p[0]), .CO(c0));
    core_add_ks #(.W(2*W-1)) u_add (.a(x[2*W-1:1]), .b(y[2*W-1:1]), .cin(c0),
                                   .s(p[2*W-1:1]), .cout(cout_unused));
endmodule
