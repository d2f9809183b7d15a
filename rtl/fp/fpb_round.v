// fpb_round: shared normalise-and-round back end of fp_add and fp_mul.
// Input: an exact (up to the sticky bit STI) non-negative significand X with the binary point
// after its MSB and a signed biased exponent EX (two's complement, XW bits), i.e. the value
//     X / 2^(W-1) * 2^(EX - bias),   plus STI = 1 when nonzero bits lie below X[0].
// Output: MAG = the magnitude field {exponent, fraction} (EXP_W+MAN_W bits) of that value
// rounded to nearest, ties to even, with gradual underflow and overflow to infinity; XZERO = 1
// when X == 0 (MAG is then +0 magnitude; the caller picks the sign).
// Steps (all structural):
//   1. fpb_norm: shift out the leading zeros, exp_n = EX - lz.
//   2. exp_n <= 0 (subnormal or underflow): shift right by 1 - exp_n with sticky
//      (fpb_shr_sticky saturates, so very small values go entirely to the sticky bit) and use
//      exponent field 0; otherwise keep the normalised value and exponent field exp_n.
//   3. round to nearest even: guard bit g, sticky s, lsb l; increment the packed
//      {exponent, fraction} field by g & (s | l). A carry out of the fraction moves into the
//      exponent field, which turns a subnormal into the smallest normal, a full binade into the
//      next one, and the largest finite value into infinity exactly as IEEE-754 requires.
//   4. exp_n >= 2^EXP_W - 1 before rounding: overflow, MAG = infinity.
//   5. FTZ = 1: a result that is subnormal after rounding is flushed to zero (fraction cleared).
// Optional pipeline register (CUT = 1): one rc_dffr stage right after the normaliser (step 1),
// carrying the normalised significand, the leading-zero count, EX, STI, the valid bit VI and
// SIDE (SW_SIDE bits of the caller's side information, e.g. sign and special-case flags, which
// come out as SIDE_Q aligned with MAG). With CUT = 0 the block is combinational and
// VO = VI, SIDE_Q = SIDE.
// Parameters: EXP_W, MAN_W format; W significand width (>= MAN_W + 2); XW exponent width
// (>= EXP_W + 2, and wide enough that EX - W cannot wrap); FTZ flush-to-zero; CUT; SW_SIDE.
`timescale 1ns/1ps
module fpb_round #(
    parameter EXP_W = 8,
    parameter MAN_W = 23,
    parameter W     = 28,
    parameter XW    = 10,
    parameter FTZ   = 0,
    parameter CUT   = 0,
    parameter SW_SIDE = 1
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire                   VI,
    input  wire [W-1:0]           X,
    input  wire [XW-1:0]          EX,
    input  wire                   STI,
    input  wire [SW_SIDE-1:0]     SIDE,
    output wire                   VO,
    output wire [SW_SIDE-1:0]     SIDE_Q,
    output wire [EXP_W+MAN_W-1:0] MAG,
    output wire                   XZERO
);
    localparam LW = (W <= 2) ? 1 : (W <= 4) ? 2 : (W <= 8) ? 3 : (W <= 16) ? 4 :
                    (W <= 32) ? 5 : (W <= 64) ? 6 : (W <= 128) ? 7 : 8;
    localparam [XW-1:0] ONE = 1;

    // 1. normalise, then the optional pipeline cut
    wire [W-1:0]  xn0, xn;
    wire [LW-1:0] lz0, lz, nlz;
    wire [XW-1:0] ex, exp_n;
    wire          sti, xnz, exp_n_c;
    fpb_norm #(.W(W), .LW(LW)) u_norm (.A(X), .Y(xn0), .LZ(lz0));
    localparam BW = W + LW + XW + 1 + SW_SIDE;
    wire [BW-1:0] bun_q;
    rc_pipe #(.W(BW), .LATENCY(CUT)) u_cut (.clk(clk), .rst(rst), .in_valid(VI),
        .d({xn0, lz0, EX, STI, SIDE}), .out_valid(VO), .q(bun_q));
    assign {xn, lz, ex, sti, SIDE_Q} = bun_q;
    assign xnz = xn[W-1];
    rc_inv u_xz (.A(xnz), .Y(XZERO));
    fpb_invw #(.W(LW)) u_nlz (.A(lz), .Y(nlz));
    fpb_addc #(.W(XW)) u_expn (.A(ex), .B({{(XW-LW){1'b1}}, nlz}), .CI(1'b1),
                               .S(exp_n), .CO(exp_n_c));

    // 2. subnormal alignment: rs = (exp_n >= 1) ? 0 : 1 - exp_n = ~exp_n + 2
    wire exp_lo_any, exp_nneg, pos, npos, en_norm;
    wire [XW-1:0] nexp, rs, rs_eff;
    wire          rs_c;
    fpb_or_tree #(.W(XW-1)) u_eany (.A(exp_n[XW-2:0]), .Y(exp_lo_any));
    rc_inv  u_sgn (.A(exp_n[XW-1]), .Y(exp_nneg));
    rc_and2 u_pos (.A(exp_nneg), .B(exp_lo_any), .Y(pos));
    rc_inv  u_npos (.A(pos), .Y(npos));
    rc_and2 u_en (.A(pos), .B(xnz), .Y(en_norm));
    fpb_invw #(.W(XW)) u_nexp (.A(exp_n), .Y(nexp));
    fpb_addc #(.W(XW)) u_rs (.A(nexp), .B(ONE), .CI(1'b1), .S(rs), .CO(rs_c));
    fpb_andw #(.W(XW)) u_rse (.A(rs), .EN(npos), .Y(rs_eff));
    wire [W-1:0] r;
    wire         st_sh;
    fpb_shr_sticky #(.W(W), .SW(XW)) u_shr (.A(xn), .SH(rs_eff), .Y(r), .ST(st_sh));

    // 3. round to nearest, ties to even
    wire g, st_lo, st_a, st, lsb_or_st, rnd;
    assign g = r[W-2-MAN_W];
    generate
        if (W - 2 - MAN_W > 0) begin : g_lo
            fpb_or_tree #(.W(W-2-MAN_W)) u_stlo (.A(r[W-3-MAN_W:0]), .Y(st_lo));
        end else begin : g_nolo
            assign st_lo = 1'b0;
        end
    endgenerate
    rc_or2  u_st1 (.A(st_lo), .B(st_sh), .Y(st_a));
    rc_or2  u_st2 (.A(st_a), .B(sti), .Y(st));
    rc_or2  u_ls  (.A(st), .B(r[W-1-MAN_W]), .Y(lsb_or_st));
    rc_and2 u_rnd (.A(g), .B(lsb_or_st), .Y(rnd));
    wire [EXP_W-1:0]       e_field;
    wire [EXP_W+MAN_W-1:0] pr;
    wire                   pr_c;
    fpb_andw #(.W(EXP_W)) u_ef (.A(exp_n[EXP_W-1:0]), .EN(en_norm), .Y(e_field));
    fpb_inc #(.W(EXP_W+MAN_W)) u_inc (.A({e_field, r[W-2:W-1-MAN_W]}), .CI(rnd),
                                      .S(pr), .CO(pr_c));

    // 4. overflow (exp_n >= 2^EXP_W - 1 with a nonzero normal value)
    wire hi_any, e_all, big, ovf, novf;
    fpb_or_tree  #(.W(XW-1-EXP_W)) u_hi (.A(exp_n[XW-2:EXP_W]), .Y(hi_any));
    fpb_and_tree #(.W(EXP_W)) u_eall (.A(exp_n[EXP_W-1:0]), .Y(e_all));
    rc_or2  u_big (.A(hi_any), .B(e_all), .Y(big));
    rc_and2 u_ovf (.A(big), .B(en_norm), .Y(ovf));
    rc_inv  u_novf (.A(ovf), .Y(novf));

    // 5. optional flush of subnormal results, then the overflow override
    wire [MAN_W-1:0] mant_f;
    generate
        if (FTZ != 0) begin : g_ftz
            wire er_any;
            fpb_or_tree #(.W(EXP_W)) u_erany (.A(pr[EXP_W+MAN_W-1:MAN_W]), .Y(er_any));
            fpb_andw #(.W(MAN_W)) u_flush (.A(pr[MAN_W-1:0]), .EN(er_any), .Y(mant_f));
        end else begin : g_sub
            assign mant_f = pr[MAN_W-1:0];
        end
    endgenerate
    fpb_orw  #(.W(EXP_W)) u_mexp (.A(pr[EXP_W+MAN_W-1:MAN_W]), .F(ovf),
                                  .Y(MAG[EXP_W+MAN_W-1:MAN_W]));
    fpb_andw #(.W(MAN_W)) u_mman (.A(mant_f), .EN(novf), .Y(MAG[MAN_W-1:0]));
endmodule
