// rc_mux2: 2:1 multiplexer, Y = S ? B : A
// One of the pns-hwcost RTL cells. Every unit is built from these instances only, so each
// internal net is visible in simulation and each instance maps 1:1 onto the 45 nm library cell
// MUX2_X1 (hwmodel.cells) for switching-energy costing.
`timescale 1ns/1ps
module rc_mux2 (input wire A, input wire B, input wire S, output wire Y);
    assign Y = S ? B : A;
endmodule
