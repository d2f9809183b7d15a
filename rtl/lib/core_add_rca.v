// core_add_rca: W-bit ripple-carry adder core, {cout, s} = a + b + cin (unsigned, modulo 2^(W+1)).
// Pure combinational, no handshake: a shared building block of the pns-hwcost RTL units.
// Parameters: W (operand width, >= 1).
// Structure: a chain of W rc_fa full-adder cells, carry rippling from bit 0 to bit W-1
// (the textbook ripple-carry adder, e.g. N. Weste and D. Harris, CMOS VLSI Design, 4th ed.,
// Addison-Wesley 2010, sec. 11.2.2.1).
// Cells: W x rc_fa.
`timescale 1ns/1ps
module core_add_rca #(parameter W = 8) (
    input  wire [W-1:0] a,
    input  wire [W-1:0] b,
    input  wire         cin,
    output wire [W-1:0] s,
    output wire         cout
);
    wire c [0:W];
    assign c[0] = cin;
    genvar i;
    generate
        for (i = 0; i < W; i = i + 1) begin : g_bit
            rc_fa u_fa (.A(a[i]), .B(b[i]), .CI(c[i]), .S(s[i]), .CO(c[i+1]));
        end
    endgenerate
    assign cout = c[W];
endmodule
