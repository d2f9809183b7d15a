// fpb_and_tree: W-input AND reduction, Y = &A, as a balanced binary tree of rc_and2 cells
// (W-1 cells). Recursive generate: each level splits the bus in two halves.
// Parameters: W >= 1 (W = 1 is a wire).
`timescale 1ns/1ps
module fpb_and_tree #(parameter W = 8) (
    input  wire [W-1:0] A,
    output wire         Y
);
    generate
        if (W == 1) begin : g_one
            assign Y = A[0];
        end else if (W == 2) begin : g_two
            rc_and2 u_and (.A(A[0]), .B(A[1]), .Y(Y));
        end else begin : g_split
            wire lo, hi;
            fpb_and_tree #(.W(W / 2))     u_lo (.A(A[W/2-1:0]), .Y(lo));
            fpb_and_tree #(.W(W - W / 2)) u_hi (.A(A[W-1:W/2]), .Y(hi));
            rc_and2 u_and (.A(lo), .B(hi), .Y(Y));
        end
    endgenerate
endmodule
