// fp_mul: IEEE-754 binary floating-point multiplier, y = round(a * b).
// Formats: fp16 (EXP_W=5, MAN_W=10), bf16 (EXP_W=8, MAN_W=7), fp32 (EXP_W=8, MAN_W=23); any
// EXP_W >= 3, MAN_W >= 2 with 2*MAN_W + 2 < 2^(EXP_W+1) works.
// Rounding: round to nearest, ties to even (the only mode). Special cases:
//   NaN operand, or inf * 0           -> canonical quiet NaN: sign 0, exponent all ones,
//                                        fraction MSB 1, other fraction bits 0
//   inf * finite nonzero, inf * inf   -> infinity with sign a ^ b
//   zero operand                      -> zero with sign a ^ b
//   overflow (after rounding)         -> infinity with sign a ^ b
// Subnormals: FTZ = 0 (default) gives full gradual underflow: subnormal operands are used
// exactly and tiny results are rounded to the subnormal grid. FTZ = 1 treats subnormal operands
// as zero of the same sign and flushes results that are subnormal after rounding to zero of the
// same sign. Default FTZ = 0 because the issue asks for IEEE arithmetic and the reference model
// (numpy) implements gradual underflow; FTZ = 1 is the mode many accelerators use (this
// implementation keeps the same datapath and only adds the flush gating).
// Datapath: fpb_unpack (x2) -> fpb_mul_u significand product (MAN_W+1)^2 and fpb_addc exponent
// sum ea + eb - bias + 1 -> [register 1] -> fpb_round: leading-zero normalise -> [register 2]
// -> subnormal shift, RNE increment, overflow -> special-case override -> [output registers].
// Latency: LATENCY = 0 is purely combinational (out_valid = in_valid). LATENCY = N >= 1: register
// 1 (between the significand product and the back end) for N >= 1, register 2 (after the
// normaliser) for N >= 2, and N - 2 further stages at the output (rc_pipe); results appear N
// clock edges after the inputs are sampled, initiation interval 1.
// Registers are rc_dffr cells reset by rst (asynchronous, active high). No stall input.
`timescale 1ns/1ps
module fp_mul #(
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
    localparam PW = 2 * MAN_W + 2;
    // ea + eb - (bias - 1), bias = 2^(EXP_W-1) - 1
    localparam [XW-1:0] CADJ = (1 << XW) - ((1 << (EXP_W - 1)) - 2);

    wire sa, sb, za, zb, ia, ib, na, nb;
    wire [EXP_W-1:0] ea, eb;
    wire [MAN_W:0]   ma, mb;
    fpb_unpack #(.EXP_W(EXP_W), .MAN_W(MAN_W), .FTZ(FTZ)) u_ua (
        .X(a), .SIGN(sa), .EEFF(ea), .SIG(ma), .ZERO(za), .INF(ia), .NAN(na));
    fpb_unpack #(.EXP_W(EXP_W), .MAN_W(MAN_W), .FTZ(FTZ)) u_ub (
        .X(b), .SIGN(sb), .EEFF(eb), .SIG(mb), .ZERO(zb), .INF(ib), .NAN(nb));

    // sign and special classes
    wire s, nan_ab, iz_a, iz_b, iz, nan, inf;
    rc_xor2 u_sign (.A(sa), .B(sb), .Y(s));
    rc_or2  u_nab (.A(na), .B(nb), .Y(nan_ab));
    rc_and2 u_iza (.A(ia), .B(zb), .Y(iz_a));
    rc_and2 u_izb (.A(ib), .B(za), .Y(iz_b));
    rc_or2  u_iz  (.A(iz_a), .B(iz_b), .Y(iz));
    rc_or2  u_nan (.A(nan_ab), .B(iz), .Y(nan));
    rc_or2  u_inf (.A(ia), .B(ib), .Y(inf));

    // significand product and exponent
    wire [PW-1:0] p;
    wire [XW-1:0] esum, ex;
    wire          esum_c, ex_c;
    fpb_mul_u #(.W(MAN_W+1)) u_mul (.A(ma), .B(mb), .P(p));
    fpb_addc #(.W(XW)) u_esum (.A({2'b00, ea}), .B({2'b00, eb}), .CI(1'b0), .S(esum), .CO(esum_c));
    fpb_addc #(.W(XW)) u_ex (.A(esum), .B(CADJ), .CI(1'b0), .S(ex), .CO(ex_c));

    // pipeline cut 1: product -> back end; cut 2 (LATENCY >= 2) inside fpb_round after the
    // normaliser; the remaining LATENCY - 2 stages at the output
    localparam L1 = (LATENCY > 0) ? 1 : 0;
    localparam LC = (LATENCY > 1) ? 1 : 0;
    localparam L2 = LATENCY - L1 - LC;
    localparam BW = PW + XW + 3;
    wire [BW-1:0] bun_d, bun_q;
    wire          v1;
    assign bun_d = {p, ex, s, nan, inf};
    rc_pipe #(.W(BW), .LATENCY(L1)) u_p1 (.clk(clk), .rst(rst), .in_valid(in_valid), .d(bun_d),
                                          .out_valid(v1), .q(bun_q));
    wire [PW-1:0] p1;
    wire [XW-1:0] ex1;
    wire          s1, nan1, inf1;
    assign {p1, ex1, s1, nan1, inf1} = bun_q;

    // normalise and round
    wire [EXP_W+MAN_W-1:0] mag;
    wire                   xzero, v2, s2, nan2, inf2;
    fpb_round #(.EXP_W(EXP_W), .MAN_W(MAN_W), .W(PW), .XW(XW), .FTZ(FTZ), .CUT(LC),
                .SW_SIDE(3)) u_rnd (
        .clk(clk), .rst(rst), .VI(v1), .X(p1), .EX(ex1), .STI(1'b0), .SIDE({s1, nan1, inf1}),
        .VO(v2), .SIDE_Q({s2, nan2, inf2}), .MAG(mag), .XZERO(xzero));

    // special-case override: inf -> {all-ones, 0}; NaN -> canonical quiet NaN
    wire [N-1:0] r;
    fpb_pack_special #(.EXP_W(EXP_W), .MAN_W(MAN_W)) u_pack (
        .S(s2), .MAG(mag), .INF(inf2), .NAN(nan2), .Y(r));

    rc_pipe #(.W(N), .LATENCY(L2)) u_p2 (.clk(clk), .rst(rst), .in_valid(v2), .d(r),
                                         .out_valid(out_valid), .q(y));
endmodule
