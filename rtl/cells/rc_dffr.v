// rc_dffr: positive-edge D flip-flop, asynchronous active-high reset R clears Q
// One of the pns-hwcost RTL cells. Every unit is built from these instances only, so each
// internal net is visible in simulation and each instance maps 1:1 onto the 45 nm library cell
// DFFR_X1 (hwmodel.cells) for switching-energy costing.
`timescale 1ns/1ps
module rc_dffr (input wire D, input wire CK, input wire R, output reg Q);
    always @(posedge CK or posedge R)
        if (R) Q <= 1'b0;
        else   Q <= D;
endmodule
