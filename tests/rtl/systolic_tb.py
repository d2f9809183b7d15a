"""cocotb testbench for the RTL systolic arrays: drives a whole GEMM schedule
(:mod:`hwmodel.accel.sa_drive`) cycle by cycle and records every result the array puts out.

Runs inside the simulator (loaded by the cocotb runner from ``tests/rtl/test_systolic.py``). The
schedule comes from the JSON file named by ``PNS_SA_IN``: per input port one value per cycle (hex),
and the feedback table (``ps_in`` of column j in cycle c carries the array's own earlier result
of event e: the testbench substitutes the value it captured, so the K folds of ``ws`` chain
through the array itself). Results go to ``PNS_SA_OUT``: ``[cycle, column, bits]`` for every
cycle and column with ``y_valid`` high, over the schedule plus ``PNS_SA_DRAIN`` idle cycles.

Timing convention (as :mod:`hwmodel.rtlsim._stream_tb`): cycle c runs from rising edge c to edge
c+1; inputs written right after edge c are seen during cycle c; values read at edge c+1, before
the flip-flops update, are the outputs during cycle c.
"""

from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge

from pnsutil import atomic_write


@cocotb.test()
async def drive_gemm(dut) -> None:
    """Drive every cycle of the schedule, collect every valid result, write them out."""
    with open(os.environ["PNS_SA_IN"]) as fh:
        spec = json.load(fh)
    drain = int(os.environ.get("PNS_SA_DRAIN", "0"))
    nb, cols = int(spec["nb"]), int(spec["cols"])
    ports = {name: [int(v, 16) for v in vals] for name, vals in spec["ports"].items()}
    feedback = {(int(c), int(j)): int(e) for c, j, e in spec["feedback"]}
    event_at = {(int(c), int(j)): i for i, (c, j) in enumerate(spec["events"])}
    length = len(next(iter(ports.values())))
    handles = {name: getattr(dut, name) for name in ports}
    y, y_valid = dut.y, dut.y_valid
    mask = (1 << nb) - 1

    cocotb.start_soon(Clock(dut.clk, 1, unit="ns").start())
    for h in handles.values():
        h.value = 0
    dut.rst.value = 1
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    edge = RisingEdge(dut.clk)
    await edge
    got: list[list[int]] = []
    captured: dict[int, int] = {}  # event index -> the array's value
    for cycle in range(length + drain):
        if cycle > 0:
            valid = y_valid.value
            if not valid.is_resolvable:
                raise AssertionError(f"y_valid is X/Z in cycle {cycle - 1}")
            v = int(valid)
            if v:
                word = y.value
                if not word.is_resolvable:
                    raise AssertionError(f"y is X/Z in cycle {cycle - 1}")
                word_int = word.to_unsigned()
                for j in range(cols):
                    if v >> j & 1:
                        bits = word_int >> (j * nb) & mask
                        got.append([cycle - 1, j, bits])
                        e = event_at.get((cycle - 1, j))
                        if e is not None:
                            captured[e] = bits
        for name, h in handles.items():
            val = ports[name][cycle] if cycle < length else 0
            if name == "ps_in" and cycle < length:
                for j in range(cols):
                    e = feedback.get((cycle, j))
                    if e is not None:
                        if e not in captured:
                            raise AssertionError(f"ps_in of column {j} in cycle {cycle} needs "
                                                 f"result {e}, which the array has not put out")
                        val = (val & ~(mask << (j * nb))) | (captured[e] << (j * nb))
            h.value = val
        await edge
    atomic_write(os.environ["PNS_SA_OUT"], json.dumps(got))
