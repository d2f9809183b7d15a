// fpb_addc: W-bit ripple-carry adder, {CO, S} = A + B + CI, one rc_fa per bit.
// Used for the exponent and significand additions inside the fp units. The carry chain uses one
// scalar net per bit (generate-local wires) rather than a carry vector: Icarus re-evaluates every
// reader of a vector when any of its bits changes, which made the vector form ~8x slower.
`timescale 1ns/1ps
module fpb_addc #(parameter W = 8) (
    input  wire [W-1:0] A,
    input  wire [W-1:0] B,
    input  wire         CI,
    output wire [W-1:0] S,
    output wire         CO
);
    genvar i;
    generate
        for (i = 0; i < W; i = i + 1) begin : g_bit
            wire co;
            if (i == 0) begin : g_first
                rc_fa u_fa (.A(A[i]), .B(B[i]), .CI(CI), .S(S[i]), .CO(co));
            end else begin : g_next
                rc_fa u_fa (.A(A[i]), .B(B[i]), .CI(g_bit[i-1].co), .S(S[i]), .CO(co));
            end
        end
    endgenerate
    assign CO = g_bit[W-1].co;
endmodule
