// core_mul_array: W x W structural array multiplier core, p = a * b (2W-bit product).
// Pure combinational, no handshake: a shared building block of the pns-hwcost RTL units.
// Parameters: W (operand width, >= 3); SIGNED (0: unsigned operands, 1: two's complement).
// Algorithm: carry-save array multiplier of E. L. Braun, Digital Computer Design, Academic Press,
// 1963 (unsigned); signed operands use the Baugh-Wooley partial-product form (C. R. Baugh and
// B. A. Wooley, "A Two's Complement Parallel Array Multiplication Algorithm", IEEE Trans.
// Computers C-22(12), 1973): partial products with exactly one sign bit are complemented
// (rc_nand2 instead of rc_and2) and the constant 2^W + 2^(2W-1) is added (a carry-in of 1 into
// the final adder and an inverted final carry).
// Structure:
//   partial products  : W*W rc_and2 / rc_nand2, pp[i][j] = a[j] & b[i] (weight i+j);
//   array rows 1..W-1 : row i adds pp[i][j] to the previous row's sum (shifted by one) and carry,
//                       rc_ha in row 1, rc_fa in rows 2..W-1 (W-1 cells per row, the top bit of
//                       each row passes through); product bit i = sum bit 0 of row i;
//   final adder       : ripple-carry vector-merging adder over weights W..2W-1 (rc_ha then rc_fa
//                       for unsigned, rc_fa with carry-in 1 for signed; signed inverts the carry).
`timescale 1ns/1ps
module core_mul_array #(parameter W = 8, parameter SIGNED = 0) (
    input  wire [W-1:0]   a,
    input  wire [W-1:0]   b,
    output wire [2*W-1:0] p
);
    wire pp [0:W*W-1];      // pp[i*W+j] = a[j] & b[i] (complemented per Baugh-Wooley)
    wire sm [0:W*W-1];      // row sums:   sm[i*W+j], weight i+j
    wire cy [0:W*W-1];      // row carries: cy[i*W+j], weight i+j+1 (j <= W-2, rows >= 1)
    wire fc [0:W-1];        // final-adder carries, fc[k] into weight W+k
    wire           one;
    assign one = 1'b1;
    genvar i, j;
    generate
        for (i = 0; i < W; i = i + 1) begin : g_ppr
            for (j = 0; j < W; j = j + 1) begin : g_ppc
                if (SIGNED != 0 && ((i == W-1) != (j == W-1))) begin : g_bw
                    rc_nand2 u_pp (.A(a[j]), .B(b[i]), .Y(pp[i*W+j]));
                end else begin : g_and
                    rc_and2 u_pp (.A(a[j]), .B(b[i]), .Y(pp[i*W+j]));
                end
            end
        end
        // row 0 is the first partial product
        for (j = 0; j < W; j = j + 1) begin : g_r0
            assign sm[j] = pp[j];
        end
        for (i = 1; i < W; i = i + 1) begin : g_row
            for (j = 0; j < W - 1; j = j + 1) begin : g_cell
                if (i == 1) begin : g_h
                    rc_ha u_ha (.A(pp[i*W+j]), .B(sm[(i-1)*W+j+1]),
                                .S(sm[i*W+j]), .CO(cy[i*W+j]));
                end else begin : g_f
                    rc_fa u_fa (.A(pp[i*W+j]), .B(sm[(i-1)*W+j+1]), .CI(cy[(i-1)*W+j]),
                                .S(sm[i*W+j]), .CO(cy[i*W+j]));
                end
            end
            assign sm[i*W+W-1] = pp[i*W+W-1];
        end
        for (i = 0; i < W; i = i + 1) begin : g_plo
            assign p[i] = sm[i*W];
        end
        // final ripple adder: weight W+k adds sm[(W-1)*W+k+1] and cy[(W-1)*W+k], k = 0..W-2
        for (j = 0; j < W - 1; j = j + 1) begin : g_fin
            if (j == 0 && SIGNED == 0) begin : g_h
                rc_ha u_ha (.A(sm[(W-1)*W+1]), .B(cy[(W-1)*W]), .S(p[W]), .CO(fc[1]));
            end else if (j == 0) begin : g_f1
                rc_fa u_fa (.A(sm[(W-1)*W+1]), .B(cy[(W-1)*W]), .CI(one),
                            .S(p[W]), .CO(fc[1]));
            end else begin : g_f
                rc_fa u_fa (.A(sm[(W-1)*W+j+1]), .B(cy[(W-1)*W+j]), .CI(fc[j]),
                            .S(p[W+j]), .CO(fc[j+1]));
            end
        end
        if (SIGNED != 0) begin : g_top_s
            rc_inv u_inv (.A(fc[W-1]), .Y(p[2*W-1]));
        end else begin : g_top_u
            assign p[2*W-1] = fc[W-1];
        end
    endgenerate
endmodule
