// fpb_invw: W-bit bus inverter, Y = ~A, one rc_inv per bit.
`timescale 1ns/1ps
module fpb_invw #(parameter W = 8) (
    input  wire [W-1:0] A,
    output wire [W-1:0] Y
);
    genvar i;
    generate
        for (i = 0; i < W; i = i + 1) begin : g_bit
            rc_inv u_inv (.A(A[i]), .Y(Y[i]));
        end
    endgenerate
endmodule
