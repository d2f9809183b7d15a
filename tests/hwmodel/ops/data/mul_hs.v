// mul_hs: test fixture for the ops tests, a handshake unit made of project RTL blocks:
// y = a * b (unsigned W x W -> 2W, core_mul_array) registered LATENCY times by rc_pipe.
`timescale 1ns/1ps
module mul_hs #(parameter W = 8, parameter LATENCY = 1) (
    input  wire           clk,
    input  wire           rst,
    input  wire           in_valid,
    input  wire [W-1:0]   a,
    input  wire [W-1:0]   b,
    output wire           out_valid,
    output wire [2*W-1:0] y
);
    wire [2*W-1:0] p;
    core_mul_array #(.W(W)) u_mul (.a(a), .b(b), .p(p));
    rc_pipe #(.W(2*W), .LATENCY(LATENCY)) u_p (.clk(clk), .rst(rst), .in_valid(in_valid),
                                               .d(p), .out_valid(out_valid), .q(y));
endmodule
