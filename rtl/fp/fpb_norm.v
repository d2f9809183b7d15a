// fpb_norm: leading-zero normaliser (combined leading-zero counter and left shifter).
//   Y = A << LZ with LZ = number of leading zeros of A, so Y[W-1] = 1 unless A == 0.
// Stage j tests whether the top 2^(LW-1-j) bits of the running value are all zero (rc_or2 tree +
// rc_inv); if so it shifts left by that amount (rc_mux2 per bit, rc_and2 where zeros enter) and
// sets the matching LZ bit. For A == 0, Y = 0 and LZ = 2^LW - 1 (callers detect zero from
// Y[W-1] = 0). Stage values are scalar per-bit nets (see fpb_shr_sticky for why).
// Parameters: W data width (>= 2), LW count width with 2^(LW-1) < W <= 2^LW.
`timescale 1ns/1ps
module fpb_norm #(parameter W = 16, parameter LW = 4) (
    input  wire [W-1:0]  A,
    output wire [W-1:0]  Y,
    output wire [LW-1:0] LZ
);
    genvar j, i;
    generate
        for (j = 0; j < LW; j = j + 1) begin : g_st
            wire [W-1:0] cur_bus;
            wire top_any, z, nz;
            for (i = 0; i < W; i = i + 1) begin : g_b
                wire cur, q;
                if (j == 0) begin : g_in
                    assign cur = A[i];
                end else begin : g_prev
                    assign cur = g_st[j-1].g_b[i].q;
                end
                assign cur_bus[i] = cur;
            end
            fpb_or_tree #(.W(1 << (LW-1-j))) u_top (.A(cur_bus[W-1:W-(1 << (LW-1-j))]),
                                                    .Y(top_any));
            rc_inv u_z (.A(top_any), .Y(z));
            assign nz = top_any;
            assign LZ[LW-1-j] = z;
            for (i = 0; i < W; i = i + 1) begin : g_m
                if (i >= (1 << (LW-1-j))) begin : g_mx
                    rc_mux2 u_mux (.A(g_b[i].cur), .B(g_b[i - (1 << (LW-1-j))].cur), .S(z),
                                   .Y(g_b[i].q));
                end else begin : g_z
                    rc_and2 u_and (.A(g_b[i].cur), .B(nz), .Y(g_b[i].q));
                end
            end
        end
        for (i = 0; i < W; i = i + 1) begin : g_out
            assign Y[i] = g_st[LW-1].g_b[i].q;
        end
    endgenerate
endmodule
