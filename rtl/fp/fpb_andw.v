// fpb_andw: W-bit bus gated by one enable bit, Y[i] = A[i] & EN, one rc_and2 per bit.
`timescale 1ns/1ps
module fpb_andw #(parameter W = 8) (
    input  wire [W-1:0] A,
    input  wire         EN,
    output wire [W-1:0] Y
);
    genvar i;
    generate
        for (i = 0; i < W; i = i + 1) begin : g_bit
            rc_and2 u_and (.A(A[i]), .B(EN), .Y(Y[i]));
        end
    endgenerate
endmodule
