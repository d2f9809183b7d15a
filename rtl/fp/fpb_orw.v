// fpb_orw: W-bit bus forced high by one bit, Y[i] = A[i] | F, one rc_or2 per bit.
`timescale 1ns/1ps
module fpb_orw #(parameter W = 8) (
    input  wire [W-1:0] A,
    input  wire         F,
    output wire [W-1:0] Y
);
    genvar i;
    generate
        for (i = 0; i < W; i = i + 1) begin : g_bit
            rc_or2 u_or (.A(A[i]), .B(F), .Y(Y[i]));
        end
    endgenerate
endmodule
