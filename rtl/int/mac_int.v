// mac_int: integer multiply-accumulate unit with the pns-hwcost handshake plus acc_clr.
// On every valid input: acc <= (acc_clr ? 0 : acc) + a * b, wrapping modulo 2^ACC_W (the
// product is sign-extended when SIGNED = 1, zero-extended otherwise); y = acc.
// Parameters: W (operand width, >= 3); SIGNED (0: unsigned, 1: two's complement); ACC_W
//   (accumulator width, >= 2W; default 2W+8, i.e. 256 full-scale products of headroom, enough
//   for a 3x3x16 or 256-term dot product without wrap); LATENCY (>= 1).
// Latency: LATENCY counts every register stage from the inputs to y, the accumulator register
//   included, so the minimum is 1: y/out_valid show the updated accumulator LATENCY cycles after
//   a/b/acc_clr/in_valid are sampled; initiation interval 1 (back-to-back accumulation).
//   out_valid is registered. Cycles with in_valid = 0 leave acc unchanged.
// Structure: core_mul_booth (radix-4 Booth 1951/MacSorley 1961, Dadda 1965 tree, Kogge-Stone
//   final adder) -> LATENCY-1 rc_pipe stages on {in_valid, acc_clr, product} -> clear gating
//   (rc_inv + ACC_W rc_and2) -> rc_ha + core_add_ks #(ACC_W-1) (Kogge & Stone 1973) -> hold mux
//   (ACC_W rc_mux2, selects the new sum only on a valid input) -> ACC_W + 1 rc_dffr (accumulator
//   and out_valid, asynchronous reset by rst).
// Simulation speed: a vector driven bit by bit by separate cells (here the adder's sum and the
//   accumulator) is one multi-driver net in Icarus, and every bit-select reader re-reads the
//   whole vector on each bit event (ACC_W x ACC_W work per glitch). The accumulator and hold-mux
//   outputs are therefore 1-bit wires local to each g_bit block, and the adder's sum is read
//   through one whole-vector alias (sum = sum_d), so each bit event costs one copy. Neither adds
//   a cell: the netlist is unchanged. (Local wires rather than a net array: Yosys 0.23 asserts
//   when a cell output drives a net-array element in a top module elaborated with -chparam.)
`timescale 1ns/1ps
module mac_int #(parameter W = 8, parameter SIGNED = 0, parameter ACC_W = 2*W+8,
                 parameter LATENCY = 1) (
    input  wire             clk,
    input  wire             rst,
    input  wire             in_valid,
    input  wire [W-1:0]     a,
    input  wire [W-1:0]     b,
    input  wire             acc_clr,
    output wire             out_valid,
    output wire [ACC_W-1:0] y
);
    wire [2*W-1:0]   p, pr;
    wire             vr, clr_r, clr_n, c0, cout_unused;
    wire [ACC_W-1:0] pe, ag, sum_d, sum;
    core_mul_booth #(.W(W), .SIGNED(SIGNED)) u_mul (.a(a), .b(b), .p(p));
    rc_pipe #(.W(2*W+1), .LATENCY(LATENCY-1)) u_pipe (.clk(clk), .rst(rst), .in_valid(in_valid),
                                                     .d({acc_clr, p}), .out_valid(vr),
                                                     .q({clr_r, pr}));
    genvar i;
    generate
        if (ACC_W == 2 * W) begin : g_noext
            assign pe = pr;
        end else if (SIGNED != 0) begin : g_sx
            assign pe = {{(ACC_W-2*W){pr[2*W-1]}}, pr};
        end else begin : g_zx
            assign pe = {{(ACC_W-2*W){1'b0}}, pr};
        end
        rc_inv u_clrn (.A(clr_r), .Y(clr_n));
        for (i = 0; i < ACC_W; i = i + 1) begin : g_bit
            wire acc, nxt;   // accumulator bit i and its next value
            rc_and2 u_g   (.A(acc), .B(clr_n), .Y(ag[i]));
            rc_mux2 u_hold (.A(acc), .B(sum[i]), .S(vr), .Y(nxt));
            rc_dffr u_acc (.D(nxt), .CK(clk), .R(rst), .Q(acc));
            assign y[i] = acc;
        end
    endgenerate
    rc_ha u_ha0 (.A(ag[0]), .B(pe[0]), .S(sum_d[0]), .CO(c0));
    core_add_ks #(.W(ACC_W-1)) u_add (.a(ag[ACC_W-1:1]), .b(pe[ACC_W-1:1]), .cin(c0),
                                     .s(sum_d[ACC_W-1:1]), .cout(cout_unused));
    assign sum = sum_d;
    rc_dffr u_vld (.D(vr), .CK(clk), .R(rst), .Q(out_valid));
endmodule
