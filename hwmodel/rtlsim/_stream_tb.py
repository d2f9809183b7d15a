"""cocotb testbench that streams operand vectors through a handshake unit, one per clock cycle.

Runs inside the simulator (loaded by the cocotb runner from :mod:`hwmodel.rtlsim.sim`). Inputs come
from the ``.npz`` named by ``PNS_STREAM_IN`` (one array per input port); outputs, the cycle at which
each vector entered and each result left, go to ``PNS_STREAM_OUT``.

Timing convention: cycle k runs from rising edge k to rising edge k+1. Inputs written right after
edge k are seen by the unit during cycle k; values read at edge k+1 (before the flip-flops update)
are the unit's outputs during cycle k. A combinational unit therefore shows latency 0, a unit
with N register stages latency N.
"""

from __future__ import annotations

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge
from cocotb.types import Logic

from hwmodel.rtlsim.handshake import HANDSHAKE
from pnsutil import atomic_path

CLOCK_PERIOD_NS = 1  # 1 GHz, the paper's clock; timing is zero-delay in this cycle-level sim


@cocotb.test()
async def stream(dut) -> None:
    """Drive every vector, collect every result, write them to PNS_STREAM_OUT."""
    data = np.load(os.environ["PNS_STREAM_IN"])
    drain_cycles = int(os.environ.get("PNS_STREAM_DRAIN", "1000"))
    out_chunks = int(os.environ["PNS_STREAM_Y_CHUNKS"])
    names = [n for n in data.files]
    columns = [data[n].tolist() for n in names]
    handles = [getattr(dut, n) for n in names]
    n = len(columns[0]) if columns else 0

    clk, rst, in_valid = (getattr(dut, name) for name in HANDSHAKE.control)
    out_valid, y = (getattr(dut, name) for name in HANDSHAKE.outputs)
    cocotb.start_soon(Clock(clk, CLOCK_PERIOD_NS, unit="ns").start())
    for h in handles:
        h.value = 0
    in_valid.value = 0
    rst.value = 1
    await RisingEdge(clk)
    await RisingEdge(clk)
    rst.value = 0

    results: list[int] = []
    unknown: list[bool] = []
    out_cycle: list[int] = []
    in_cycle: list[int] = []
    edge = RisingEdge(clk)
    cycle = 0  # the cycle that starts at the edge we just awaited
    await edge
    i = 0
    idle = 0
    while len(results) < n:
        # Outputs of the cycle that just ended (cycle - 1) are still visible at this edge.
        if cycle > 0 and out_valid.value == 1:
            val = y.value
            if val.is_resolvable:  # a 1-bit port reads as a Logic, wider ones as a LogicArray
                results.append(int(val) if isinstance(val, Logic) else val.to_unsigned())
                unknown.append(False)
            else:
                results.append(0)
                unknown.append(True)
            out_cycle.append(cycle - 1)
        if i < n:
            for h, col in zip(handles, columns, strict=True):
                h.value = col[i]
            in_valid.value = 1
            in_cycle.append(cycle)
            i += 1
        else:
            in_valid.value = 0
            idle += 1
            if idle > drain_cycles:
                break
        await edge
        cycle += 1

    mask = (1 << 64) - 1
    y_words = np.array(
        [[(v >> (64 * k)) & mask for k in range(out_chunks)] for v in results], dtype=np.uint64
    ).reshape(len(results), out_chunks)
    with atomic_path(os.environ["PNS_STREAM_OUT"], suffix=".npz") as tmp:
        np.savez(
            tmp,
            y=y_words,
            unknown=np.array(unknown, dtype=bool),
            in_cycle=np.array(in_cycle, dtype=np.int64),
            out_cycle=np.array(out_cycle, dtype=np.int64),
        )
