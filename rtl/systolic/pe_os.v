// pe_os: one processing element of the output-stationary systolic array sa_os.
// An fp_mac with LATENCY = 1 (the characterized MAC datapath, unchanged) holds this PE's output:
// on every cycle with v_in = 1
//     acc <= round( (first_in ? +0 : acc) + round(a_in * w_in) )
// (fp_mul then fp_add rounding), and holds otherwise. The row operand a_in is registered and
// passed right (a_out); the column operand w_in and its flags (v_in valid, first_in: first term
// of a sum, last_in: last term) are registered and passed down (w_out, v_out, first_out,
// last_out). A shadow register, part of a chain down the column, unloads results while the next
// fold computes: with cap = 1 it loads the accumulator (sh_v_out <= 1), otherwise it takes the
// shadow register of the PE above (sh_in, sh_v_in; +0 and 0 above row 0).
// Timing: PE latency 1 (one register stage for the accumulator, the forwarded operands and the
// shadow register). Registers are rc_dffr cells reset by rst (asynchronous, active high).
`timescale 1ns/1ps
module pe_os #(
    parameter EXP_W = 8,
    parameter MAN_W = 23,
    parameter FTZ   = 0
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire [EXP_W+MAN_W:0] a_in,
    output wire [EXP_W+MAN_W:0] a_out,
    input  wire [EXP_W+MAN_W:0] w_in,
    input  wire                 v_in,
    input  wire                 first_in,
    input  wire                 last_in,
    output wire [EXP_W+MAN_W:0] w_out,
    output wire                 v_out,
    output wire                 first_out,
    output wire                 last_out,
    input  wire                 cap,
    input  wire [EXP_W+MAN_W:0] sh_in,
    input  wire                 sh_v_in,
    output wire [EXP_W+MAN_W:0] sh_out,
    output wire                 sh_v_out
);
    localparam NB = EXP_W + MAN_W + 1;

    // the MAC: accumulator = this PE's output element
    wire [NB-1:0] acc;
    wire          acc_v_unused;
    fp_mac #(.EXP_W(EXP_W), .MAN_W(MAN_W), .FTZ(FTZ), .LATENCY(1)) u_mac (
        .clk(clk), .rst(rst), .in_valid(v_in), .a(a_in), .b(w_in), .acc_clr(first_in),
        .out_valid(acc_v_unused), .y(acc));

    // operand forwarding: a to the right, w with its flags down
    wire av_unused;
    rc_pipe #(.W(NB), .LATENCY(1)) u_a (.clk(clk), .rst(rst), .in_valid(1'b0), .d(a_in),
                                        .out_valid(av_unused), .q(a_out));
    rc_pipe #(.W(NB+2), .LATENCY(1)) u_w (.clk(clk), .rst(rst), .in_valid(v_in),
                                          .d({last_in, first_in, w_in}), .out_valid(v_out),
                                          .q({last_out, first_out, w_out}));

    // shadow register: sh <= cap ? acc : sh_in; sh_v <= cap | sh_v_in
    wire [NB-1:0] sh_next;
    wire          shv_next;
    fpb_mux2w #(.W(NB)) u_shsel (.A(sh_in), .B(acc), .S(cap), .Y(sh_next));
    rc_or2 u_shv (.A(cap), .B(sh_v_in), .Y(shv_next));
    rc_pipe #(.W(NB), .LATENCY(1)) u_sh (.clk(clk), .rst(rst), .in_valid(shv_next),
                                         .d(sh_next), .out_valid(sh_v_out), .q(sh_out));
endmodule
