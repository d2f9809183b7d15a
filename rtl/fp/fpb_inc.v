// fpb_inc: W-bit incrementer, {CO, S} = A + CI, a ripple chain of rc_ha half adders.
// Used for the round-up increment (carry into the exponent field) and exponent + 1. Scalar
// per-bit carry nets (see fpb_addc for why).
`timescale 1ns/1ps
module fpb_inc #(parameter W = 8) (
    input  wire [W-1:0] A,
    input  wire         CI,
    output wire [W-1:0] S,
    output wire         CO
);
    genvar i;
    generate
        for (i = 0; i < W; i = i + 1) begin : g_bit
            wire co;
            if (i == 0) begin : g_first
                rc_ha u_ha (.A(A[i]), .B(CI), .S(S[i]), .CO(co));
            end else begin : g_next
                rc_ha u_ha (.A(A[i]), .B(g_bit[i-1].co), .S(S[i]), .CO(co));
            end
        end
    endgenerate
    assign CO = g_bit[W-1].co;
endmodule
