// add_hs: test fixture for the ops tests, a handshake unit made of project RTL blocks:
// y = a + b (W-bit ripple-carry core, W+1-bit result) registered LATENCY times by rc_pipe.
`timescale 1ns/1ps
module add_hs #(parameter W = 8, parameter LATENCY = 1) (
    input  wire         clk,
    input  wire         rst,
    input  wire         in_valid,
    input  wire [W-1:0] a,
    input  wire [W-1:0] b,
    output wire         out_valid,
    output wire [W:0]   y
);
    wire [W:0] s;
    core_add_rca #(.W(W)) u_add (.a(a), .b(b), .cin(1'b0), .s(s[W-1:0]), .cout(s[W]));
    rc_pipe #(.W(W+1), .LATENCY(LATENCY)) u_p (.clk(clk), .rst(rst), .in_valid(in_valid),
                                               .d(s), .out_valid(out_valid), .q(y));
endmodule
