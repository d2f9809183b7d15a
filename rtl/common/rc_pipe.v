// rc_pipe: LATENCY-stage register pipeline for a W-bit bus plus its valid bit, built from rc_dffr.
// LATENCY = 0 is a wire. Used by every unit to implement its LATENCY parameter (II = 1).
// Internal nets are a 1-bit wire array (not a wide bus driven bit by bit), which Icarus simulates
// much faster.
`timescale 1ns/1ps
module rc_pipe #(parameter W = 8, parameter LATENCY = 1) (
    input  wire         clk,
    input  wire         rst,
    input  wire         in_valid,
    input  wire [W-1:0] d,
    output wire         out_valid,
    output wire [W-1:0] q
);
    genvar s, i;
    generate
        if (LATENCY == 0) begin : g_wire
            assign out_valid = in_valid;
            assign q = d;
        end else begin : g_regs
            // st[s*(W+1) + i]: bit i of stage s (bit W is the valid bit).
            wire st [0:(LATENCY+1)*(W+1)-1];
            for (i = 0; i < W; i = i + 1) begin : g_in
                assign st[i] = d[i];
                assign q[i] = st[LATENCY*(W+1) + i];
            end
            assign st[W] = in_valid;
            assign out_valid = st[LATENCY*(W+1) + W];
            for (s = 0; s < LATENCY; s = s + 1) begin : g_stage
                for (i = 0; i <= W; i = i + 1) begin : g_bit
                    rc_dffr u_ff (.D(st[s*(W+1) + i]), .CK(clk), .R(rst), .Q(st[(s+1)*(W+1) + i]));
                end
            end
        end
    endgenerate
endmodule
