// rc_pipe: LATENCY-stage register pipeline for a W-bit bus plus its valid bit, built from rc_dffr.
// LATENCY = 0 is a wire. Used by every unit to implement its LATENCY parameter (II = 1).
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
            wire [W:0] stage [0:LATENCY];
            assign stage[0] = {in_valid, d};
            for (s = 0; s < LATENCY; s = s + 1) begin : g_stage
                for (i = 0; i <= W; i = i + 1) begin : g_bit
                    rc_dffr u_ff (.D(stage[s][i]), .CK(clk), .R(rst), .Q(stage[s+1][i]));
                end
            end
            assign {out_valid, q} = stage[LATENCY];
        end
    endgenerate
endmodule
