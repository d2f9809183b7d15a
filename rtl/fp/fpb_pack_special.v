// fpb_pack_special: final result assembly with special-case override.
//   NAN = 1 -> canonical quiet NaN {0, all-ones exponent, fraction 100...0}
//   INF = 1 -> infinity {S, all-ones exponent, fraction 0}
//   else    -> {S, MAG}
// Built from rc_or2 / rc_and2 / rc_inv gates per bit (no multiplexers needed).
`timescale 1ns/1ps
module fpb_pack_special #(parameter EXP_W = 8, parameter MAN_W = 23) (
    input  wire                   S,
    input  wire [EXP_W+MAN_W-1:0] MAG,
    input  wire                   INF,
    input  wire                   NAN,
    output wire [EXP_W+MAN_W:0]   Y
);
    wire sp, nsp, nnan;
    rc_or2  u_sp (.A(INF), .B(NAN), .Y(sp));
    rc_inv  u_nsp (.A(sp), .Y(nsp));
    rc_inv  u_nnan (.A(NAN), .Y(nnan));
    rc_and2 u_sign (.A(S), .B(nnan), .Y(Y[EXP_W+MAN_W]));
    fpb_orw #(.W(EXP_W)) u_exp (.A(MAG[EXP_W+MAN_W-1:MAN_W]), .F(sp), .Y(Y[EXP_W+MAN_W-1:MAN_W]));
    wire mmsb;
    rc_and2 u_mmsb (.A(MAG[MAN_W-1]), .B(nsp), .Y(mmsb));
    rc_or2  u_qbit (.A(mmsb), .B(NAN), .Y(Y[MAN_W-1]));
    generate
        if (MAN_W > 1) begin : g_rest
            fpb_andw #(.W(MAN_W-1)) u_man (.A(MAG[MAN_W-2:0]), .EN(nsp), .Y(Y[MAN_W-2:0]));
        end
    endgenerate
endmodule
