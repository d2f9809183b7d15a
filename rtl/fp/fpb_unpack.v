// fpb_unpack: IEEE-754 operand decoder for a binary format with EXP_W exponent bits and MAN_W
// fraction bits.
//   SIG   = significand with the hidden bit: {exp != 0, fraction} (MAN_W+1 bits)
//   EEFF  = effective biased exponent: the exponent field, or 1 for zero/subnormal operands
//   ZERO, INF, NAN = operand class (NAN covers quiet and signalling NaNs)
// FTZ = 1 treats subnormal operands as zero of the same sign (fraction gated off, ZERO set);
// FTZ = 0 keeps them (full gradual-underflow support).
`timescale 1ns/1ps
module fpb_unpack #(parameter EXP_W = 8, parameter MAN_W = 23, parameter FTZ = 0) (
    input  wire [EXP_W+MAN_W:0] X,
    output wire                 SIGN,
    output wire [EXP_W-1:0]     EEFF,
    output wire [MAN_W:0]       SIG,
    output wire                 ZERO,
    output wire                 INF,
    output wire                 NAN
);
    wire [EXP_W-1:0] e;
    wire [MAN_W-1:0] f;
    wire e_any, e_all, f_any, e_zero, f_zero;
    assign SIGN = X[EXP_W+MAN_W];
    assign e = X[EXP_W+MAN_W-1:MAN_W];
    assign f = X[MAN_W-1:0];
    fpb_or_tree  #(.W(EXP_W)) u_eany (.A(e), .Y(e_any));
    fpb_and_tree #(.W(EXP_W)) u_eall (.A(e), .Y(e_all));
    fpb_or_tree  #(.W(MAN_W)) u_fany (.A(f), .Y(f_any));
    rc_inv u_ez (.A(e_any), .Y(e_zero));
    rc_inv u_fz (.A(f_any), .Y(f_zero));
    // effective exponent: field with bit 0 forced to 1 when the field is zero
    generate
        if (EXP_W > 1) begin : g_ehi
            assign EEFF[EXP_W-1:1] = e[EXP_W-1:1];
        end
    endgenerate
    rc_or2 u_e0 (.A(e[0]), .B(e_zero), .Y(EEFF[0]));
    rc_and2 u_inf (.A(e_all), .B(f_zero), .Y(INF));
    rc_and2 u_nan (.A(e_all), .B(f_any), .Y(NAN));
    assign SIG[MAN_W] = e_any;
    generate
        if (FTZ != 0) begin : g_ftz
            fpb_andw #(.W(MAN_W)) u_gate (.A(f), .EN(e_any), .Y(SIG[MAN_W-1:0]));
            assign ZERO = e_zero;
        end else begin : g_sub
            assign SIG[MAN_W-1:0] = f;
            rc_nor2 u_zero (.A(e_any), .B(f_any), .Y(ZERO));
        end
    endgenerate
endmodule
