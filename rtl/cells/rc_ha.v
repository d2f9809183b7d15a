// rc_ha: half adder, S = A ^ B, CO = A & B
// One of the pns-hwcost RTL cells. Every unit is built from these instances only, so each
// internal net is visible in simulation and each instance maps 1:1 onto the 45 nm library cell
// HA_X1 (hwmodel.cells) for switching-energy costing.
`timescale 1ns/1ps
module rc_ha (input wire A, input wire B, output wire S, output wire CO);
    assign S = A ^ B;
    assign CO = A & B;
endmodule
