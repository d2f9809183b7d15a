// rc_buf: buffer, Y = A
// One of the pns-hwcost RTL cells. Every unit is built from these instances only, so each
// internal net is visible in simulation and each instance maps 1:1 onto the 45 nm library cell
// BUF_X1 (hwmodel.cells) for switching-energy costing.
`timescale 1ns/1ps
module rc_buf (input wire A, output wire Y);
    assign Y = A;
endmodule
