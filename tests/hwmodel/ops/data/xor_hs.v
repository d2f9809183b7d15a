// xor_hs: test fixture, the smallest handshake unit: y = a XOR b (1 bit), registered once.
// Three cells: one rc_xor2 and two rc_dffr (the result and out_valid), so its energy per op can
// be summed by hand from the cell library.
`timescale 1ns/1ps
module xor_hs #(parameter LATENCY = 1) (
    input  wire       clk,
    input  wire       rst,
    input  wire       in_valid,
    input  wire [0:0] a,
    input  wire [0:0] b,
    output wire       out_valid,
    output wire [0:0] y
);
    wire s;
    rc_xor2 u_x (.A(a[0]), .B(b[0]), .Y(s));
    rc_dffr u_y (.D(s), .CK(clk), .R(rst), .Q(y[0]));
    rc_dffr u_v (.D(in_valid), .CK(clk), .R(rst), .Q(out_valid));
endmodule
