// sa_ws: weight-stationary systolic array of ROWS x COLS pe_ws processing elements, computing
// one fold of a GEMM out[M, N] = sum_k a[M, K] * w[K, N] with rows <- K, columns <- N and the
// stream T = M (hwmodel/accel/timing.py, dataflow "ws").
// Each PE: ps <= round(ps_above + round(a * w)) (fp_mul then fp_add rounding, see pe_ws), so a
// column accumulates its dot product down the rows in row (k) order, starting from the value on
// ps_in at the top of the column.
// Ports (buses are flat; element i of a bus is bits [i*NB +: NB], NB = EXP_W + MAN_W + 1):
//   w_load                 shift the weights: every PE's weight register takes the weight of the PE
//                          above, row 0 takes w_in[j] (one row per cycle).
//   w_in[COLS*NB]          weight entering the top of column j.
//   a_in[ROWS*NB]          operand entering row i from the left; a_valid[ROWS] its valid bit.
//   ps_in[COLS*NB]         partial sum entering the top of column j (+0 for a fresh sum; the
//                          previous K fold's partial sum to continue one).
//   y[COLS*NB], y_valid    the registered partial sum leaving the bottom of column j.
// Cycle-by-cycle timing of one fold starting at cycle 0 (cycle c: the inputs written after clock
// edge c, seen by the logic during cycle c and sampled at edge c+1; R = ROWS, C = COLS):
//   cycles 0 .. R-1        w_load = 1, w_in[j] = w[R-1-c, j]: after R cycles PE (i, j) holds
//                          w[i, j] (a full column chain of R shifts whatever the fold's K; rows
//                          beyond K load +0).
//   cycle R + m + i        a_in[i] = a[m, i], a_valid[i] = 1 (vector m enters row i, skewed); it
//                          reaches PE (i, j) at cycle R + m + i + j.
//   cycle R + m + j        ps_in[j] = the partial sum for (m, j) to continue (PE (0, j) adds it).
//   cycle 2R + m + j - 1   PE (R-1, j) computes the final sum of vector m: it leaves the bottom of
//                          column j (timing.py's figure) into the output register, and y[j] holds
//                          it with y_valid[j] = 1 during cycle 2R + m + j.
// The last result of a fold of T vectors is on y during cycle 2R + C + T - 2 = fold_cycles("ws",
// R, C, T) after its first weight, the cycle in which the next fold's first weight can enter:
// folds run back to back with no tail (a new weight load does not disturb results in flight,
// which have all left the array by then). y_valid[j] is row R-1's a_valid delayed by j + 1
// cycles, so a_valid must be driven on every row of a vector (rows beyond K with a_in = +0).
// Registers are rc_dffr cells reset by rst (asynchronous, active high); FTZ = 0: gradual
// underflow (the parameter is passed to fp_mul and fp_add).
`timescale 1ns/1ps
module sa_ws #(
    parameter ROWS  = 4,
    parameter COLS  = 4,
    parameter EXP_W = 8,
    parameter MAN_W = 23,
    parameter FTZ   = 0
) (
    input  wire                                clk,
    input  wire                                rst,
    input  wire                                w_load,
    input  wire [COLS*(EXP_W+MAN_W+1)-1:0]     w_in,
    input  wire [ROWS*(EXP_W+MAN_W+1)-1:0]     a_in,
    input  wire [ROWS-1:0]                     a_valid,
    input  wire [COLS*(EXP_W+MAN_W+1)-1:0]     ps_in,
    output wire [COLS*(EXP_W+MAN_W+1)-1:0]     y,
    output wire [COLS-1:0]                     y_valid
);
    localparam NB = EXP_W + MAN_W + 1;

    // Per PE (i, j), in generate block g_row[i].g_col[j]: its inputs w_i, ps_i (from the PE above,
    // or the column's inputs on row 0), a_i, av_i (from the PE on the left, or the row's inputs
    // in column 0), and its registered outputs w_o, ps_o, psv_o, a_o, av_o. One whole-bus alias
    // per connection (no bus driven slice by slice).
    genvar i, j;
    generate
        for (i = 0; i < ROWS; i = i + 1) begin : g_row
            for (j = 0; j < COLS; j = j + 1) begin : g_col
                wire [NB-1:0] w_i, ps_i, a_i, w_o, ps_o, a_o;
                wire          av_i, psv_o, av_o;
                if (i == 0) begin : g_top
                    assign w_i  = w_in[j*NB +: NB];
                    assign ps_i = ps_in[j*NB +: NB];
                end else begin : g_mid
                    assign w_i  = g_row[i-1].g_col[j].w_o;
                    assign ps_i = g_row[i-1].g_col[j].ps_o;
                end
                if (j == 0) begin : g_left
                    assign a_i  = a_in[i*NB +: NB];
                    assign av_i = a_valid[i];
                end else begin : g_inner
                    assign a_i  = g_row[i].g_col[j-1].a_o;
                    assign av_i = g_row[i].g_col[j-1].av_o;
                end
                pe_ws #(.EXP_W(EXP_W), .MAN_W(MAN_W), .FTZ(FTZ)) u_pe (
                    .clk(clk), .rst(rst), .w_load(w_load), .w_in(w_i), .w_out(w_o),
                    .a_in(a_i), .a_v_in(av_i), .a_out(a_o), .a_v_out(av_o),
                    .ps_in(ps_i), .ps_out(ps_o), .ps_v_out(psv_o));
                if (i == ROWS - 1) begin : g_bottom
                    assign y[j*NB +: NB] = ps_o;
                    assign y_valid[j] = psv_o;
                end
            end
        end
    endgenerate
endmodule
