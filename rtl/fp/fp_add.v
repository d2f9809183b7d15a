// fp_add: IEEE-754 binary floating-point adder, y = round(a + b).
// Formats: fp16 (EXP_W=5, MAN_W=10), bf16 (EXP_W=8, MAN_W=7), fp32 (EXP_W=8, MAN_W=23); any
// EXP_W >= 3, MAN_W >= 2 works.
// Rounding: round to nearest, ties to even, using guard/round/sticky bits below the aligned
// significands (exact for RNE: the sticky bit is the OR of every bit shifted out). Special cases:
//   NaN operand, or inf + (-inf)      -> canonical quiet NaN: sign 0, exponent all ones,
//                                        fraction MSB 1, other fraction bits 0
//   inf + finite, inf + inf (same)    -> that infinity
//   exact zero sum x + (-x)           -> +0;  (-0) + (-0) -> -0;  (+0) + (-0) -> +0
//   overflow (after rounding)         -> infinity with the sign of the larger operand
// Subnormals: FTZ = 0 (default) gives full gradual underflow (subnormal operands are exact, tiny
// results land on the subnormal grid). FTZ = 1 treats subnormal operands as zero of the same
// sign and flushes results that are subnormal after rounding to zero of the same sign. Default
// FTZ = 0 because the issue asks for IEEE arithmetic and numpy (the reference) has gradual
// underflow; FTZ = 1 is the mode many accelerators use (this
// implementation keeps the same datapath and only adds the flush gating).
// Datapath: fpb_unpack (x2) -> magnitude compare (fpb_addc on the {exponent, fraction} fields)
// and swap (fpb_mux2w) so |L| >= |S| -> exponent difference d = eL - eS -> align S right by d
// with sticky (fpb_shr_sticky) -> add or subtract (fpb_xorw + fpb_addc, never negative) ->
// [register 1] -> fpb_round: leading-zero normalise -> [register 2] -> RNE increment, overflow
// -> special-case override -> [output registers].
// Latency: LATENCY = 0 is purely combinational (out_valid = in_valid). LATENCY = N >= 1: register
// 1 (between the significand adder and the back end) for N >= 1, register 2 (after the
// normaliser) for N >= 2, and N - 2 further stages at the output (rc_pipe); results appear N
// clock edges after the inputs are sampled, initiation interval 1. Registers are rc_dffr cells
// reset by rst (asynchronous, active high).
`timescale 1ns/1ps
module fp_add #(
    parameter EXP_W   = 8,
    parameter MAN_W   = 23,
    parameter FTZ     = 0,
    parameter LATENCY = 0
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 in_valid,
    input  wire [EXP_W+MAN_W:0] a,
    input  wire [EXP_W+MAN_W:0] b,
    output wire                 out_valid,
    output wire [EXP_W+MAN_W:0] y
);
    localparam N  = EXP_W + MAN_W + 1;
    localparam XW = EXP_W + 2;
    localparam SW = MAN_W + 5;          // {carry, hidden, fraction, guard, round, sticky}
    localparam UW = 1 + EXP_W + MAN_W + 1 + 3;   // sign, eeff, sig, zero, inf, nan

    wire sa, sb, za, zb, ia, ib, na, nb;
    wire [EXP_W-1:0] ea, eb;
    wire [MAN_W:0]   ma, mb;
    fpb_unpack #(.EXP_W(EXP_W), .MAN_W(MAN_W), .FTZ(FTZ)) u_ua (
        .X(a), .SIGN(sa), .EEFF(ea), .SIG(ma), .ZERO(za), .INF(ia), .NAN(na));
    fpb_unpack #(.EXP_W(EXP_W), .MAN_W(MAN_W), .FTZ(FTZ)) u_ub (
        .X(b), .SIGN(sb), .EEFF(eb), .SIG(mb), .ZERO(zb), .INF(ib), .NAN(nb));

    // special classes: NaN = na | nb | (ia & ib & (sa ^ sb)); inf sign = ia ? sa : sb
    wire sub, nan_ab, ii, iis, nan, inf, inf_s;
    rc_xor2 u_sub (.A(sa), .B(sb), .Y(sub));
    rc_or2  u_nab (.A(na), .B(nb), .Y(nan_ab));
    rc_and2 u_ii  (.A(ia), .B(ib), .Y(ii));
    rc_and2 u_iis (.A(ii), .B(sub), .Y(iis));
    rc_or2  u_nan (.A(nan_ab), .B(iis), .Y(nan));
    rc_or2  u_inf (.A(ia), .B(ib), .Y(inf));
    rc_mux2 u_infs (.A(sb), .B(sa), .S(ia), .Y(inf_s));

    // magnitude compare on the raw {exponent, fraction} fields: swap = |b| > |a|
    wire [EXP_W+MAN_W-1:0] nmb;
    wire [EXP_W+MAN_W-1:0] cmp_s;
    wire                   a_ge_b, swap;
    fpb_invw #(.W(EXP_W+MAN_W)) u_nmb (.A(b[EXP_W+MAN_W-1:0]), .Y(nmb));
    fpb_addc #(.W(EXP_W+MAN_W)) u_cmp (.A(a[EXP_W+MAN_W-1:0]), .B(nmb), .CI(1'b1),
                                       .S(cmp_s), .CO(a_ge_b));
    rc_inv u_swap (.A(a_ge_b), .Y(swap));

    // L = larger magnitude operand, S = smaller
    wire [EXP_W-1:0] el, es;
    wire [MAN_W:0]   ml, ms;
    wire             sl, ss;
    fpb_mux2w #(.W(1 + EXP_W + MAN_W + 1)) u_muxl (
        .A({sa, ea, ma}), .B({sb, eb, mb}), .S(swap), .Y({sl, el, ml}));
    fpb_mux2w #(.W(1 + EXP_W + MAN_W + 1)) u_muxs (
        .A({sb, eb, mb}), .B({sa, ea, ma}), .S(swap), .Y({ss, es, ms}));

    // exponent difference d = el - es >= 0
    wire [EXP_W-1:0] nes, d;
    wire             d_c;
    fpb_invw #(.W(EXP_W)) u_nes (.A(es), .Y(nes));
    fpb_addc #(.W(EXP_W)) u_d (.A(el), .B(nes), .CI(1'b1), .S(d), .CO(d_c));

    // align S: {sig, guard, round} >> d, sticky = OR of the bits shifted out
    wire [MAN_W+2:0] ms_al;
    wire             st;
    fpb_shr_sticky #(.W(MAN_W+3), .SW(EXP_W)) u_align (.A({ms, 2'b00}), .SH(d), .Y(ms_al), .ST(st));

    // add or subtract: X = L +/- S (never negative since |L| >= |S|)
    wire [SW-1:0] xs, xsum;
    wire          xs_c;
    fpb_xorw #(.W(SW)) u_neg (.A({1'b0, ms_al, st}), .T(sub), .Y(xs));
    fpb_addc #(.W(SW)) u_add (.A({1'b0, ml, 3'b000}), .B(xs), .CI(sub), .S(xsum), .CO(xs_c));

    // exponent of X (binary point after the carry bit): el + 1
    wire [XW-1:0] ex;
    wire          ex_c;
    fpb_inc #(.W(XW)) u_ex (.A({2'b00, el}), .CI(1'b1), .S(ex), .CO(ex_c));

    // sign of an exact zero sum: -0 only for (-0) + (-0)
    wire zs;
    rc_and2 u_zs (.A(sa), .B(sb), .Y(zs));

    // pipeline cut 1: significand sum -> back end; cut 2 (LATENCY >= 2) inside fpb_round after
    // the normaliser; the remaining LATENCY - 2 stages at the output
    localparam L1 = (LATENCY > 0) ? 1 : 0;
    localparam LC = (LATENCY > 1) ? 1 : 0;
    localparam L2 = LATENCY - L1 - LC;
    localparam BW = SW + XW + 5;
    wire [BW-1:0] bun_d, bun_q;
    wire          v1;
    assign bun_d = {xsum, ex, sl, zs, nan, inf, inf_s};
    rc_pipe #(.W(BW), .LATENCY(L1)) u_p1 (.clk(clk), .rst(rst), .in_valid(in_valid), .d(bun_d),
                                          .out_valid(v1), .q(bun_q));
    wire [SW-1:0] xsum1;
    wire [XW-1:0] ex1;
    wire          sl1, zs1, nan1, inf1, inf_s1;
    assign {xsum1, ex1, sl1, zs1, nan1, inf1, inf_s1} = bun_q;

    // normalise and round
    wire [EXP_W+MAN_W-1:0] mag;
    wire                   xzero, v2, sl2, zs2, nan2, inf2, inf_s2;
    fpb_round #(.EXP_W(EXP_W), .MAN_W(MAN_W), .W(SW), .XW(XW), .FTZ(FTZ), .CUT(LC),
                .SW_SIDE(5)) u_rnd (
        .clk(clk), .rst(rst), .VI(v1), .X(xsum1), .EX(ex1), .STI(1'b0),
        .SIDE({sl1, zs1, nan1, inf1, inf_s1}), .VO(v2), .SIDE_Q({sl2, zs2, nan2, inf2, inf_s2}),
        .MAG(mag), .XZERO(xzero));

    // result sign: inf sign for infinities, zs for an exact zero, else the larger operand's
    wire s_fin, s_res;
    rc_mux2 u_sfin (.A(sl2), .B(zs2), .S(xzero), .Y(s_fin));
    rc_mux2 u_sres (.A(s_fin), .B(inf_s2), .S(inf2), .Y(s_res));

    wire [N-1:0] r;
    fpb_pack_special #(.EXP_W(EXP_W), .MAN_W(MAN_W)) u_pack (
        .S(s_res), .MAG(mag), .INF(inf2), .NAN(nan2), .Y(r));

    rc_pipe #(.W(N), .LATENCY(L2)) u_p2 (.clk(clk), .rst(rst), .in_valid(v2), .d(r),
                                         .out_valid(out_valid), .q(y));
endmodule
