// rc_inv: inverter, Y = ~A
// One of the pns-hwcost RTL cells. Every unit is built from these instances only, so each
// internal net is visible in simulation and each instance maps 1:1 onto the 45 nm library cell
// INV_X1 (hwmodel.cells) for switching-energy costing.
`timescale 1ns/1ps
module rc_inv (input wire A, output wire Y);
    assign Y = ~A;
endmodule
