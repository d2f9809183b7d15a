"""The yosys energy path: the unit mapped onto the Liberty, gate-level energy zero-delay and timed.

Yosys maps the unit (:func:`hwmodel.ops.synth.synthesize`, done once per row for the static
timing every row carries); :func:`hwmodel.ops.gatelevel.gate_level_energy` simulates the mapped
netlist twice: zero-delay (``energy_logic_pj``, ``energy_seq_pj``) and timed with the Liberty's
NLDM delays, glitches included (``energy_timed_logic_pj``, ``energy_timed_seq_pj``). Leakage per
op is the netlist's leakage power over the unit's own clock period; the two simulations must
give the same results.
"""

from __future__ import annotations

import numpy as np

from hwmodel.ops.gatelevel import gate_level_energy
from hwmodel.ops.paths.base import EnergyPath, PathJob, register
from hwmodel.rtlsim import UnitError


@register
class YosysPath(EnergyPath):
    """Mapped netlist, zero-delay and timed gate-level energy, Liberty tables at actual
    slew/load."""

    name = "yosys"
    needs = ("yosys (mapping)", "iverilog", "Liberty")
    work_weight = 2  # synthesis plus two gate-level simulations

    def characterize(self, job: PathJob) -> dict:
        synth, liberty, stream = job.synth, job.liberty, job.stream
        zero = gate_level_energy(synth, liberty, stream, job.params)
        timed = gate_level_energy(synth, liberty, stream, job.params, mode="timed")
        if not np.array_equal(zero.y, timed.y):
            raise UnitError(f"{synth.top}: timed gate-level results differ from zero-delay ones")
        leak_nw = zero.energy_leakage_pj / (zero.clock_period_ns * zero.ii_cycles) * 1e6
        leak_pj = leak_nw * job.period_ns * 1e-6  # nW * ns = 1e-6 pJ
        return {
            "energy_logic_pj": zero.energy_logic_pj, "energy_seq_pj": zero.energy_seq_pj,
            "energy_leakage_pj": leak_pj, "leakage_nw": leak_nw,
            "energy_pj": zero.energy_logic_pj + zero.energy_seq_pj + leak_pj,
            "energy_timed_logic_pj": timed.energy_logic_pj,
            "energy_timed_seq_pj": timed.energy_seq_pj,
            "energy_timed_pj": timed.energy_logic_pj + timed.energy_seq_pj + leak_pj,
            "toggles_per_op": zero.toggles_per_op, "toggles_timed_per_op": timed.toggles_per_op,
            "latency_cycles": zero.latency_cycles, "ii_cycles": zero.ii_cycles,
            "vectors": zero.vectors, "area_um2": synth.area_um2, "cells": synth.cells,
            "mode": f"yosys: mapped netlist, {zero.mode} and {timed.mode}, Liberty tables at "
                    f"actual slew/load; STA {job.timing.mode}",
            "nonfinite_pct": job.nonfinite_pct(zero.y),
        }
