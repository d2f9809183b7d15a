// core_add_ks: W-bit Kogge-Stone parallel-prefix adder core, {cout, s} = a + b + cin.
// Pure combinational, no handshake: a shared building block of the pns-hwcost RTL units.
// Parameters: W (operand width, >= 1).
// Algorithm: P. M. Kogge and H. S. Stone, "A Parallel Algorithm for the Efficient Solution of a
// General Class of Recurrence Equations", IEEE Trans. Computers C-22(8), 1973.
// Structure:
//   bit 0      : rc_fa(a0, b0, cin) gives s0 and the group generate G[0:0] (cin folded in);
//   bits 1..W-1: rc_ha(ai, bi) gives propagate pi = ai^bi and generate gi = ai&bi;
//   prefix     : ceil(log2 W) levels; at level l (distance d = 2^(l-1)) every bit i >= d combines
//                (G, P)_i o (G, P)_(i-d): G = G_i | P_i & G_(i-d) as rc_aoi21 + rc_inv and, only
//                where a later level still needs it (i >= 2d), P = P_i & P_(i-d) as rc_and2;
//   sum        : si = pi ^ G[i-1:0] (rc_xor2), cout = G[W-1:0].
`timescale 1ns/1ps
module core_add_ks #(parameter W = 8) (
    input  wire [W-1:0] a,
    input  wire [W-1:0] b,
    input  wire         cin,
    output wire [W-1:0] s,
    output wire         cout
);
    // number of prefix levels: smallest L with 2^L >= W
    function integer ks_levels;
        input [31:0] n;
        integer l;
        begin
            l = 0;
            while ((1 << l) < n) l = l + 1;
            ks_levels = l;
        end
    endfunction
    localparam L = ks_levels(W);

    wire p [0:W-1];                 // bit propagate a^b (p[0] unused)
    wire gg [0:(L+1)*W-1];          // group generate, level l bit i at gg[l*W+i]
    wire pp [0:(L+1)*W-1];          // group propagate, level l bit i at pp[l*W+i]
    genvar i, l;
    generate
        rc_fa u_fa0 (.A(a[0]), .B(b[0]), .CI(cin), .S(s[0]), .CO(gg[0]));
        for (i = 1; i < W; i = i + 1) begin : g_pg
            rc_ha u_ha (.A(a[i]), .B(b[i]), .S(p[i]), .CO(gg[i]));
            assign pp[i] = p[i];
        end
        for (l = 1; l <= L; l = l + 1) begin : g_lvl
            for (i = 0; i < W; i = i + 1) begin : g_node
                if (i < (1 << (l - 1))) begin : g_pass
                    assign gg[l*W+i] = gg[(l-1)*W+i];
                end else begin : g_op
                    wire gn;
                    rc_aoi21 u_aoi (.A(pp[(l-1)*W+i]), .B(gg[(l-1)*W+i-(1<<(l-1))]),
                                    .C(gg[(l-1)*W+i]), .Y(gn));
                    rc_inv u_inv (.A(gn), .Y(gg[l*W+i]));
                    if (i >= (1 << l)) begin : g_p
                        rc_and2 u_and (.A(pp[(l-1)*W+i]), .B(pp[(l-1)*W+i-(1<<(l-1))]),
                                       .Y(pp[l*W+i]));
                    end
                end
            end
        end
        for (i = 1; i < W; i = i + 1) begin : g_sum
            rc_xor2 u_xor (.A(p[i]), .B(gg[L*W+i-1]), .Y(s[i]));
        end
    endgenerate
    assign cout = gg[L*W+W-1];
endmodule
