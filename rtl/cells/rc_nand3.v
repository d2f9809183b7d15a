// rc_nand3: 3-input NAND, Y = ~(A & B & C)
// One of the pns-hwcost RTL cells. Every unit is built from these instances only, so each
// internal net is visible in simulation and each instance maps 1:1 onto the 45 nm library cell
// NAND3_X1 (hwmodel.cells) for switching-energy costing.
`timescale 1ns/1ps
module rc_nand3 (input wire A, input wire B, input wire C, output wire Y);
    assign Y = ~(A & B & C);
endmodule
