// fpb_xorw: W-bit conditional inverter, Y[i] = A[i] ^ T, one rc_xor2 per bit.
`timescale 1ns/1ps
module fpb_xorw #(parameter W = 8) (
    input  wire [W-1:0] A,
    input  wire         T,
    output wire [W-1:0] Y
);
    genvar i;
    generate
        for (i = 0; i < W; i = i + 1) begin : g_bit
            rc_xor2 u_xor (.A(A[i]), .B(T), .Y(Y[i]));
        end
    endgenerate
endmodule
