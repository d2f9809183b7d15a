// pe_ws: one processing element of the weight-stationary systolic array sa_ws.
// Holds one weight w in a register (the stationary operand); on every cycle it computes
//     ps_out <= round( ps_in + round(a_in * w) )
// i.e. the product rounded exactly as fp_mul, then added to the partial sum arriving from the PE
// above exactly as fp_add (two IEEE-754 round-to-nearest-even roundings, no fused rounding; the
// same two roundings and operand order as fp_mac, whose accumulator is replaced here by the
// partial sum of the column). The operand a_in (and its valid bit a_v_in) is registered and
// passed to the PE on the right (a_out, a_v_out); the partial sum is registered and passed down
// (ps_out) with the operand's valid bit (ps_v_out). The weight register w_out loads w_in (the
// weight register of the PE above, or the column input on row 0) on every cycle with
// w_load = 1 and holds otherwise, so the column's weights shift in from the top one row per cycle.
// Timing: combinational from a_in, ps_in and the weight register to the registered ps_out; one
// register stage per PE for the operand, the partial sum and the weight (PE latency 1).
// Arithmetic: fp_mul and fp_add with LATENCY = 0 (combinational) and the FTZ given (default 0:
// gradual underflow). Registers are rc_dffr cells reset by rst (asynchronous, active high).
`timescale 1ns/1ps
module pe_ws #(
    parameter EXP_W = 8,
    parameter MAN_W = 23,
    parameter FTZ   = 0
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 w_load,
    input  wire [EXP_W+MAN_W:0] w_in,
    output wire [EXP_W+MAN_W:0] w_out,
    input  wire [EXP_W+MAN_W:0] a_in,
    input  wire                 a_v_in,
    output wire [EXP_W+MAN_W:0] a_out,
    output wire                 a_v_out,
    input  wire [EXP_W+MAN_W:0] ps_in,
    output wire [EXP_W+MAN_W:0] ps_out,
    output wire                 ps_v_out
);
    localparam N = EXP_W + MAN_W + 1;

    // stationary weight: w <= w_load ? w_in : w
    wire [N-1:0] w_next;
    wire         wv_unused;
    fpb_mux2w #(.W(N)) u_wsel (.A(w_out), .B(w_in), .S(w_load), .Y(w_next));
    rc_pipe #(.W(N), .LATENCY(1)) u_w (.clk(clk), .rst(rst), .in_valid(1'b0), .d(w_next),
                                       .out_valid(wv_unused), .q(w_out));

    // product and partial sum (combinational), then the partial-sum register
    wire [N-1:0] p, s;
    wire         pv_unused, sv_unused;
    fp_mul #(.EXP_W(EXP_W), .MAN_W(MAN_W), .FTZ(FTZ), .LATENCY(0)) u_mul (
        .clk(clk), .rst(rst), .in_valid(a_v_in), .a(a_in), .b(w_out), .out_valid(pv_unused),
        .y(p));
    fp_add #(.EXP_W(EXP_W), .MAN_W(MAN_W), .FTZ(FTZ), .LATENCY(0)) u_add (
        .clk(clk), .rst(rst), .in_valid(a_v_in), .a(ps_in), .b(p), .out_valid(sv_unused), .y(s));
    rc_pipe #(.W(N), .LATENCY(1)) u_ps (.clk(clk), .rst(rst), .in_valid(a_v_in), .d(s),
                                        .out_valid(ps_v_out), .q(ps_out));

    // operand forwarding to the right
    rc_pipe #(.W(N), .LATENCY(1)) u_a (.clk(clk), .rst(rst), .in_valid(a_v_in), .d(a_in),
                                       .out_valid(a_v_out), .q(a_out));
endmodule
