// fpb_mux2w: W-bit 2:1 bus multiplexer, Y = S ? B : A, one rc_mux2 per bit.
`timescale 1ns/1ps
module fpb_mux2w #(parameter W = 8) (
    input  wire [W-1:0] A,
    input  wire [W-1:0] B,
    input  wire         S,
    output wire [W-1:0] Y
);
    genvar i;
    generate
        for (i = 0; i < W; i = i + 1) begin : g_bit
            rc_mux2 u_mux (.A(A[i]), .B(B[i]), .S(S), .Y(Y[i]));
        end
    endgenerate
endmodule
