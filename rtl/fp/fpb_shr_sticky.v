// fpb_shr_sticky: logarithmic right shifter with sticky bit.
//   Y = A >> SH (zeros shifted in), ST = OR of every bit shifted out (the IEEE sticky bit).
// Stage k (2^k < W) shifts by 2^k when SH[k] is set (rc_mux2 per bit, rc_and2 where zeros
// enter) and ORs the 2^k bits it drops into the sticky chain (rc_or2 tree + rc_and2 + rc_or2).
// The remaining high shift bits (2^k >= W) are ORed into one flag; a single final flush stage
// clears the bus when it is set (rc_and2 per bit) and moves every remaining bit into sticky, so
// any SH value is handled exactly (saturating shift).
// Each stage's value is a set of scalar per-bit nets (generate-local wires): Icarus re-evaluates
// every reader of a vector when any bit changes, which made the vector form ~8x slower.
// Parameters: W data width (>= 2), SW shift-amount width (>= 1).
`timescale 1ns/1ps
module fpb_shr_sticky #(parameter W = 16, parameter SW = 4) (
    input  wire [W-1:0]  A,
    input  wire [SW-1:0] SH,
    output wire [W-1:0]  Y,
    output wire          ST
);
    // KS = number of real shift stages (2^k < W)
    localparam KS = (W <= 1) ? 0 : (W <= 2) ? 1 : (W <= 4) ? 2 : (W <= 8) ? 3 : (W <= 16) ? 4 :
                    (W <= 32) ? 5 : (W <= 64) ? 6 : (W <= 128) ? 7 : 8;
    localparam NS = (KS < SW) ? KS : SW;
    genvar k, i;
    generate
        for (k = 0; k < NS; k = k + 1) begin : g_st
            // cur: this stage's input bits; q: its output bits
            wire [W-1:0] cur_bus;
            wire drop_any, drop_sel, st, nsh;
            for (i = 0; i < W; i = i + 1) begin : g_b
                wire cur, q;
                if (k == 0) begin : g_in
                    assign cur = A[i];
                end else begin : g_prev
                    assign cur = g_st[k-1].g_b[i].q;
                end
                assign cur_bus[i] = cur;
            end
            rc_inv u_inv (.A(SH[k]), .Y(nsh));
            for (i = 0; i < W; i = i + 1) begin : g_m
                if (i + (1 << k) < W) begin : g_mx
                    rc_mux2 u_mux (.A(g_b[i].cur), .B(g_b[i + (1 << k)].cur), .S(SH[k]),
                                   .Y(g_b[i].q));
                end else begin : g_z
                    rc_and2 u_and (.A(g_b[i].cur), .B(nsh), .Y(g_b[i].q));
                end
            end
            fpb_or_tree #(.W(1 << k)) u_drop (.A(cur_bus[(1 << k)-1:0]), .Y(drop_any));
            rc_and2 u_sel (.A(drop_any), .B(SH[k]), .Y(drop_sel));
            if (k == 0) begin : g_st0
                assign st = drop_sel;
            end else begin : g_stn
                rc_or2 u_acc (.A(g_st[k-1].st), .B(drop_sel), .Y(st));
            end
        end
        if (SW > NS) begin : g_flush
            // shift >= 2^NS >= W: everything goes to sticky
            wire [W-1:0] cur_bus;
            wire hi_any, nhi, all_any, drop_sel;
            fpb_or_tree #(.W(SW - NS)) u_hi (.A(SH[SW-1:NS]), .Y(hi_any));
            rc_inv u_nhi (.A(hi_any), .Y(nhi));
            for (i = 0; i < W; i = i + 1) begin : g_b
                assign cur_bus[i] = g_st[NS-1].g_b[i].q;
                rc_and2 u_clr (.A(cur_bus[i]), .B(nhi), .Y(Y[i]));
            end
            fpb_or_tree #(.W(W)) u_all (.A(cur_bus), .Y(all_any));
            rc_and2 u_sel (.A(all_any), .B(hi_any), .Y(drop_sel));
            rc_or2  u_acc (.A(g_st[NS-1].st), .B(drop_sel), .Y(ST));
        end else begin : g_noflush
            for (i = 0; i < W; i = i + 1) begin : g_out
                assign Y[i] = g_st[NS-1].g_b[i].q;
            end
            assign ST = g_st[NS-1].st;
        end
    endgenerate
endmodule
