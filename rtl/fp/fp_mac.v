// fp_mac: unfused floating-point multiply-accumulate unit (multiplier + adder + accumulator).
// On every cycle with in_valid = 1 (after the pipeline delay below):
//     acc <= round( (acc_clr ? +0 : acc) + round(a * b) )
// i.e. the product is rounded exactly as fp_mul does, then added to the accumulator exactly as
// fp_add does (two IEEE-754 round-to-nearest-even roundings, no fused rounding). y is the
// accumulator register; out_valid marks the cycle after each update, so every input pair yields
// one output: the running sum after that pair. acc_clr starts a new sum; because the cleared
// value is +0, a product of -0 right after a clear gives +0 (IEEE (+0) + (-0) = +0).
// Formats, rounding, special cases (canonical quiet NaN: sign 0, exponent all ones, fraction
// 10..0) and subnormal policy (FTZ = 0 default: full gradual underflow; FTZ = 1: subnormal
// operands read as zero and subnormal results flushed to zero, in both the product and the sum)
// are those of fp_mul and fp_add, which this unit instantiates.
// LATENCY = total register stages from the sampled inputs to y, including the accumulator
// register itself (minimum 1; LATENCY = 0 behaves as 1). LATENCY = 1: multiplier and adder are
// combinational and feed the accumulator. LATENCY = N >= 2: fp_mul is built with LATENCY = N-1
// (its stages sit after the significand product, after its normaliser, then at its output; see
// fp_mul) and acc_clr is delayed to match; the adder stays combinational inside the accumulator
// loop, so the initiation interval is 1.
// Registers are rc_dffr cells reset by rst (asynchronous, active high): reset clears acc to +0.
`timescale 1ns/1ps
module fp_mac #(
    parameter EXP_W   = 8,
    parameter MAN_W   = 23,
    parameter FTZ     = 0,
    parameter LATENCY = 1
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 in_valid,
    input  wire [EXP_W+MAN_W:0] a,
    input  wire [EXP_W+MAN_W:0] b,
    input  wire                 acc_clr,
    output wire                 out_valid,
    output wire [EXP_W+MAN_W:0] y
);
    localparam N  = EXP_W + MAN_W + 1;
    localparam LM = (LATENCY > 1) ? LATENCY - 1 : 0;

    // product (pipelined by LM stages) and the matching acc_clr
    wire [N-1:0] p;
    wire         v1, clr1, clr_v_unused;
    fp_mul #(.EXP_W(EXP_W), .MAN_W(MAN_W), .FTZ(FTZ), .LATENCY(LM)) u_mul (
        .clk(clk), .rst(rst), .in_valid(in_valid), .a(a), .b(b), .out_valid(v1), .y(p));
    rc_pipe #(.W(1), .LATENCY(LM)) u_clr (.clk(clk), .rst(rst), .in_valid(in_valid),
                                          .d(acc_clr), .out_valid(clr_v_unused), .q(clr1));

    // accumulator loop: acc_next = v1 ? (base + p) : acc, base = acc_clr ? +0 : acc
    wire [N-1:0] acc, base, s, acc_next;
    wire         nclr, s_v_unused;
    rc_inv u_nclr (.A(clr1), .Y(nclr));
    fpb_andw #(.W(N)) u_base (.A(acc), .EN(nclr), .Y(base));
    fp_add #(.EXP_W(EXP_W), .MAN_W(MAN_W), .FTZ(FTZ), .LATENCY(0)) u_add (
        .clk(clk), .rst(rst), .in_valid(v1), .a(base), .b(p), .out_valid(s_v_unused), .y(s));
    fpb_mux2w #(.W(N)) u_hold (.A(acc), .B(s), .S(v1), .Y(acc_next));
    genvar i;
    generate
        for (i = 0; i < N; i = i + 1) begin : g_acc
            rc_dffr u_ff (.D(acc_next[i]), .CK(clk), .R(rst), .Q(acc[i]));
        end
    endgenerate
    rc_dffr u_vff (.D(v1), .CK(clk), .R(rst), .Q(out_valid));
    assign y = acc;
endmodule
