// rc_fa: full adder, S = A ^ B ^ CI, CO = majority(A, B, CI)
// One of the pns-hwcost RTL cells. Every unit is built from these instances only, so each
// internal net is visible in simulation and each instance maps 1:1 onto the 45 nm library cell
// FA_X1 (hwmodel.cells) for switching-energy costing.
`timescale 1ns/1ps
module rc_fa (input wire A, input wire B, input wire CI, output wire S, output wire CO);
    assign S = A ^ B ^ CI;
    assign CO = (A & B) | (CI & (A ^ B));
endmodule
