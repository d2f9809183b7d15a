"""Cell netlists: names/pins match the RTL cells, sizing and area rules, logic of the netlists."""

from __future__ import annotations

import re

import pytest

import rtl
from hwmodel.cells import CellLibraryError
from hwmodel.cells.netlists import (
    CELL_NAMES,
    CELLS,
    PN_RATIO,
    ROW_H_UM,
    SITE_W_UM,
    WN_UNIT_UM,
    get_cell,
)

REQUIRED = ["INV_X1", "INV_X2", "BUF_X1", "BUF_X2", "NAND2_X1", "NAND2_X2", "NOR2_X1",
            "NOR2_X2", "NAND3_X1", "NOR3_X1", "AND2_X1", "OR2_X1", "XOR2_X1", "XNOR2_X1",
            "AOI21_X1", "OAI21_X1", "MUX2_X1", "HA_X1", "FA_X1", "DFFR_X1"]


def test_cell_set_is_the_agreed_one():
    assert sorted(CELL_NAMES) == sorted(REQUIRED)


def _rtl_ports(path) -> list[str]:
    text = path.read_text()
    header = re.search(r"module\s+\w+\s*\((.*?)\);", text, re.S).group(1)
    return [re.split(r"\s+", p.strip())[-1] for p in header.split(",")]


@pytest.mark.parametrize("path", sorted((rtl.RTL_DIR / "cells").glob("rc_*.v")),
                         ids=lambda p: p.stem)
def test_rtl_cell_maps_one_to_one(path):
    name = path.stem[3:].upper() + "_X1"
    cell = get_cell(name)
    assert _rtl_ports(path) == [*cell.inputs, *cell.outputs]


def _widths(cell, kind):
    return sorted(round(m.w_um / WN_UNIT_UM, 6) for m in cell.devices if m.kind == kind)


def test_sizing_rules():
    pu = PN_RATIO
    assert _widths(CELLS["INV_X1"], "n") == [1.0] and _widths(CELLS["INV_X1"], "p") == [pu]
    assert _widths(CELLS["INV_X2"], "n") == [2.0]
    assert _widths(CELLS["NAND2_X1"], "n") == [2.0, 2.0]  # 2-stack up-sized
    assert _widths(CELLS["NAND2_X1"], "p") == [pu, pu]
    assert _widths(CELLS["NOR2_X1"], "p") == [2 * pu, 2 * pu]
    assert _widths(CELLS["NAND3_X1"], "n") == [3.0] * 3
    assert _widths(CELLS["NOR3_X1"], "p") == [3 * pu] * 3
    # AOI21: A,B series (2x) || C (1x); pull-up (A||B) in series with C: all 2x
    assert _widths(CELLS["AOI21_X1"], "n") == [1.0, 2.0, 2.0]
    assert _widths(CELLS["AOI21_X1"], "p") == [2 * pu] * 3
    assert _widths(CELLS["NAND2_X2"], "n") == [4.0, 4.0]


def test_transistor_counts():
    counts = {n: c.transistor_count for n, c in CELLS.items()}
    assert counts["INV_X1"] == 2 and counts["NAND2_X1"] == 4 and counts["AOI21_X1"] == 6
    assert counts["XOR2_X1"] == 12 and counts["MUX2_X1"] == 12 and counts["FA_X1"] == 28
    assert counts["DFFR_X1"] == 30


def test_area_rule():
    site = SITE_W_UM * ROW_H_UM
    assert CELLS["INV_X1"].area_um2 == pytest.approx(2 * site)
    assert CELLS["NAND2_X1"].area_um2 == pytest.approx(3 * site)
    assert CELLS["FA_X1"].area_um2 > CELLS["HA_X1"].area_um2 > CELLS["XOR2_X1"].area_um2


def _switch_level_eval(cell, values):
    """Solve the netlist as ideal switches (NMOS on at 1, PMOS on at 0) to a fixed point."""
    node = {"vdd": 1, "vss": 0, **values}
    for _ in range(50):
        changed = False
        for out in {m.drain for m in cell.devices} | {m.source for m in cell.devices}:
            if out in ("vdd", "vss") or out in values:
                continue
            up = down = False
            # reachability through conducting devices
            for target in ("vdd", "vss"):
                seen, stack = {out}, [out]
                while stack:
                    n = stack.pop()
                    for m in cell.devices:
                        on = node.get(m.gate) == (1 if m.kind == "n" else 0)
                        if not on:
                            continue
                        for a, b in ((m.drain, m.source), (m.source, m.drain)):
                            if a == n and b not in seen:
                                seen.add(b)
                                stack.append(b)
                if target in seen:
                    up, down = (True, down) if target == "vdd" else (up, True)
            new = 1 if up and not down else 0 if down and not up else node.get(out)
            if new != node.get(out):
                node[out] = new
                changed = True
        if not changed:
            break
    return node


@pytest.mark.parametrize("name", [n for n in REQUIRED if n != "DFFR_X1"])
def test_netlist_implements_function(name):
    import itertools

    cell = CELLS[name]
    for bits in itertools.product((0, 1), repeat=len(cell.inputs)):
        vals = dict(zip(cell.inputs, bits, strict=True))
        node = _switch_level_eval(cell, vals)
        assert {o: node[o] for o in cell.outputs} == cell.evaluate(vals), (name, vals)


def test_unknown_cell_is_named():
    with pytest.raises(CellLibraryError, match="unknown cell 'NAND9_X1'"):
        get_cell("NAND9_X1")
