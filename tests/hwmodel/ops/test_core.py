"""The core both energy paths share: one netlist type, one load model, the path registry."""

from __future__ import annotations

import pytest

from hwmodel.cells.liberty import DEFAULT_WIRE_LOAD, WireLoad
from hwmodel.ops import compute
from hwmodel.ops.loads import OutputRegister, net_loads
from hwmodel.ops.netlist import netlist_from_yosys
from hwmodel.ops.paths import PATHS, EnergyPath, get_path
from hwmodel.rtlsim import UnitError

# a = 2, b = 3, clk = 4, rst = 5, in_valid = 6; x = a ^ b (7); q = DFF(x) (8); y = {q, q};
# out_valid = ~q (9); the inverter's extra pin E is tied to 1.
YOSYS_JSON = {"modules": {"t": {
    "ports": {"a": {"direction": "input", "bits": [2]}, "b": {"direction": "input", "bits": [3]},
              "clk": {"direction": "input", "bits": [4]}, "rst": {"direction": "input",
                                                                 "bits": [5]},
              "in_valid": {"direction": "input", "bits": [6]},
              "y": {"direction": "output", "bits": [8, 8, "0"]},
              "out_valid": {"direction": "output", "bits": [9]}},
    "cells": {"u_x": {"type": "XOR2", "connections": {"A": [2], "B": [3], "Y": [7]}},
              "u_q": {"type": "DFF", "connections": {"D": [7], "CK": [4], "R": [5], "Q": [8]}},
              "u_n": {"type": "INV", "connections": {"A": [8], "Y": [9], "E": ["1"]}}}}}}
OUTPUTS = {"XOR2": frozenset({"Y"}), "DFF": frozenset({"Q"}), "INV": frozenset({"Y"})}
CAPS = {"XOR2": 1.0, "DFF": 2.0, "INV": 0.5}


def netlist(rename: bool = False):
    return netlist_from_yosys(YOSYS_JSON, "t", {"W": 1}, OUTPUTS.__getitem__, where="t.json",
                              rename=rename)


def test_one_netlist_type_has_drivers_sinks_and_ports() -> None:
    net = netlist()
    assert [i.name for i in net.instances] == ["u_n", "u_q", "u_x"]  # sorted by name
    assert [i.name for i in netlist(rename=True).instances] == ["g0", "g1", "g2"]
    assert net.driver == {9: (0, "Y"), 8: (1, "Q"), 7: (2, "Y")}
    assert net.sinks[8] == [(0, "A")] and net.sinks[4] == [(1, "CK")]
    assert net.fanout[7] == [("DFF", "D")]
    assert net.instances[0].inputs == {"A": 8}  # the constant-tied pin E is not a net
    assert net.port_bits["y"] == [8, 8] and net.outputs["y"][2] == "0"
    assert net.nets == set(range(2, 10))
    assert net.port_labels(net.outputs) == {8: "y[1]", 9: "out_valid[0]"}
    assert net.cell_counts() == {"DFF": 1, "INV": 1, "XOR2": 1}
    bad = {"modules": {"t": {**YOSYS_JSON["modules"]["t"], "ports": {
        "p": {"direction": "inout", "bits": [2]}}}}}
    with pytest.raises(UnitError, match="t.json: port p is inout"):
        netlist_from_yosys(bad, "t", {}, OUTPUTS.__getitem__, where="t.json")


def test_load_model_parameters_of_the_two_paths() -> None:
    net = netlist()

    def pin(cell: str, _pin: str) -> float:
        return CAPS[cell]

    wire = WireLoad("0.5 fF per fan-out", 0.2, 2.5)
    # default path: each y bit (twice here) drives a 1.5 fF D pin on a wire of its own
    own = net_loads(net, pin, wire, OutputRegister(1.5, ("y",), own_wire=True)).load_ff
    assert own[8] == (0.5 + 0.5) + 2 * (1.5 + 0.5)
    assert own[9] == 0.0  # out_valid carries no register on the default path
    assert own[7] == 2.0 + 0.5 and own[4] == 2.0 + 0.5
    # yosys path: every output port net has one more fan-out, the D pin, in the wire model
    shared = net_loads(net, pin, wire, OutputRegister(1.5)).load_ff
    assert shared[8] == 0.5 + 1.5 + 1.0 and shared[9] == 1.5 + 0.5
    assert shared[7] == own[7]
    assert DEFAULT_WIRE_LOAD.cap_ff(3) == pytest.approx(3 * DEFAULT_WIRE_LOAD.cap_ff(1))


def test_paths_are_registered_by_name() -> None:
    assert list(PATHS) == ["default", "yosys"] and compute.PATHS is PATHS
    for name, path in PATHS.items():
        assert isinstance(path, EnergyPath) and path.name == name and path.needs
        assert get_path(name) is path
    assert PATHS["yosys"].work_weight > PATHS["default"].work_weight
    with pytest.raises(UnitError, match="no energy path 'spice'; paths: default, yosys"):
        get_path("spice")
