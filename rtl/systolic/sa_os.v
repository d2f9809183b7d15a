// sa_os: output-stationary systolic array of ROWS x COLS pe_os processing elements, computing
// one fold of a GEMM out[M, N] = sum_k a[M, K] * w[K, N] with rows <- M, columns <- N and the
// stream T = K (hwmodel/accel/timing.py, dataflow "os").
// PE (i, j) is an fp_mac (LATENCY 1): acc <= round((first ? +0 : acc) + round(a * w)), so each
// output element accumulates its dot product in k order from +0, exactly as fp_mac does.
// Ports (buses are flat; element i of a bus is bits [i*NB +: NB], NB = EXP_W + MAN_W + 1):
//   a_in[ROWS*NB]          row operand entering row i from the left (a[i, k]).
//   w_in[COLS*NB]          column operand entering the top of column j (w[k, j]), with per-column
//   w_valid, w_first,      flags that travel down with it: w_valid (accumulate), w_first (first
//   w_last [COLS]          term: start from +0), w_last (last term of the fold).
//   y[COLS*NB], y_valid    results unloaded at the bottom of column j through the shadow chain.
// Cycle-by-cycle timing of one fold starting at cycle 0 (cycle c: the inputs written after clock
// edge c, seen by the logic during cycle c and sampled at edge c+1; R = ROWS, C = COLS, T = K):
//   cycle k + i            a_in[i] = a[i, k]                          (k = 0 .. T-1)
//   cycle k + j            w_in[j] = w[k, j], w_valid[j] = 1, w_first[j] = (k == 0),
//                          w_last[j] = (k == T-1)
//   cycles i+j .. T-1+i+j  PE (i, j) accumulates term k in cycle k + i + j; its accumulator
//                          holds the result from cycle T + i + j until the PE's first term of the
//                          next fold (cycle F + i + j, F = T + R + C - 2).
//   cycle T + R - 1 + j    the last flag leaves the bottom PE of column j (its registered
//                          w_last), which is the column's capture strobe: every shadow register
//                          of the column loads its accumulator at the end of this cycle.
//   cycles T+R+j .. T+2R-1+j  y[j] shows the column's results bottom row first: row i during
//                          cycle T + 2R - 1 + j - i, with y_valid[j] = 1.
// The fold's last accumulation is in cycle T + R + C - 3, so the next fold's first operands enter
// at cycle F = T + R + C - 2 = fold_cycles("os", R, C, T) (folds back to back); its results
// leave while that fold computes (the unload takes R cycles, and the next capture of a column is
// F cycles after the previous one, F >= R), so only the last fold adds a tail: its last result
// (row 0, column C-1) is on y during cycle F + R, i.e. tail_cycles("os", R, C) = R.
// Rows beyond M get a_in = +0 and columns beyond N w_in = +0 (their results are ignored).
// Registers are rc_dffr cells reset by rst (asynchronous, active high); FTZ = 0: gradual
// underflow (the parameter is passed to fp_mac).
`timescale 1ns/1ps
module sa_os #(
    parameter ROWS  = 4,
    parameter COLS  = 4,
    parameter EXP_W = 8,
    parameter MAN_W = 23,
    parameter FTZ   = 0
) (
    input  wire                                clk,
    input  wire                                rst,
    input  wire [ROWS*(EXP_W+MAN_W+1)-1:0]     a_in,
    input  wire [COLS*(EXP_W+MAN_W+1)-1:0]     w_in,
    input  wire [COLS-1:0]                     w_valid,
    input  wire [COLS-1:0]                     w_first,
    input  wire [COLS-1:0]                     w_last,
    output wire [COLS*(EXP_W+MAN_W+1)-1:0]     y,
    output wire [COLS-1:0]                     y_valid
);
    localparam NB = EXP_W + MAN_W + 1;

    // Per PE (i, j), in generate block g_row[i].g_col[j]: its inputs (column operand, flags and
    // shadow chain from the PE above, or the column's inputs and +0 on row 0; row operand from
    // the PE on the left, or the row's input in column 0) and its registered outputs. The
    // capture strobe of column j is the last flag leaving its bottom PE. One whole-bus alias per
    // connection (no bus driven slice by slice).
    genvar i, j;
    generate
        for (i = 0; i < ROWS; i = i + 1) begin : g_row
            for (j = 0; j < COLS; j = j + 1) begin : g_col
                wire [NB-1:0] w_i, a_i, sh_i, w_o, a_o, sh_o;
                wire          v_i, f_i, l_i, shv_i, v_o, f_o, l_o, shv_o, cap;
                if (i == 0) begin : g_top
                    assign w_i   = w_in[j*NB +: NB];
                    assign v_i   = w_valid[j];
                    assign f_i   = w_first[j];
                    assign l_i   = w_last[j];
                    assign sh_i  = {NB{1'b0}};
                    assign shv_i = 1'b0;
                end else begin : g_mid
                    assign w_i   = g_row[i-1].g_col[j].w_o;
                    assign v_i   = g_row[i-1].g_col[j].v_o;
                    assign f_i   = g_row[i-1].g_col[j].f_o;
                    assign l_i   = g_row[i-1].g_col[j].l_o;
                    assign sh_i  = g_row[i-1].g_col[j].sh_o;
                    assign shv_i = g_row[i-1].g_col[j].shv_o;
                end
                if (j == 0) begin : g_left
                    assign a_i = a_in[i*NB +: NB];
                end else begin : g_inner
                    assign a_i = g_row[i].g_col[j-1].a_o;
                end
                assign cap = g_row[ROWS-1].g_col[j].l_o;
                pe_os #(.EXP_W(EXP_W), .MAN_W(MAN_W), .FTZ(FTZ)) u_pe (
                    .clk(clk), .rst(rst), .a_in(a_i), .a_out(a_o),
                    .w_in(w_i), .v_in(v_i), .first_in(f_i), .last_in(l_i),
                    .w_out(w_o), .v_out(v_o), .first_out(f_o), .last_out(l_o),
                    .cap(cap), .sh_in(sh_i), .sh_v_in(shv_i), .sh_out(sh_o), .sh_v_out(shv_o));
                if (i == ROWS - 1) begin : g_bottom
                    assign y[j*NB +: NB] = sh_o;
                    assign y_valid[j] = shv_o;
                end
            end
        end
    endgenerate
endmodule
