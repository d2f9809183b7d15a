"""The report's cost stage on a two-layer network, checked number by number by hand arithmetic.

The network: fc1 (4 -> 3, no bias, 12 weights) then fc2 (3 -> 2, no bias, 6 weights), batch 2,
fp32 (4 bytes). No sharing trains both layers; sharing freezes fc1. Three tasks of the same
shape. The op table, the hierarchy (one SRAM buffer, costed by the SRAM model) and the DRAM
(DDR3: 20 pJ/bit, 694.46 mW background) are fixed, so every figure below is arithmetic.
"""

from __future__ import annotations

import pandas as pd
import pytest

from hwmodel import dram
from hwmodel.cost import Accelerator, CostModelError, OpCosts
from hwmodel.memory import TRACE_COLUMNS, Hierarchy
from hwmodel.report.costing import SharingPoint, TracedPoint, cost_points, savings_table

B, BPE = 2, 4


def _layer(name: str, branch: str, trainable: bool, n_in: int, n_out: int,
           input_grad: bool) -> dict:
    """One bias-free linear layer of a batch-2 fp32 trace, SGD with momentum."""
    w = n_in * n_out
    r = dict.fromkeys(TRACE_COLUMNS, 0)
    r.update(layer=name, kind="linear", branch=branch, trainable=trainable, params=w,
             bytes_per_elem=BPE, fwd_macs=B * w, weight_read_fwd_elems=w,
             ifmap_read_elems=B * n_in, ofmap_write_elems=B * n_out)
    if trainable:  # momentum SGD with weight decay: 3 mults, 3 adds per weight
        r.update(bwd_weight_macs=B * w, update_mults=3 * w, update_adds=3 * w,
                 weight_read_update_elems=w, weight_write_elems=w, wgrad_write_elems=w,
                 wgrad_read_elems=w, optstate_read_elems=w, optstate_write_elems=w,
                 act_saved_elems=B * n_in, act_saved_read_elems=B * n_in,
                 actgrad_read_elems=B * n_out)
    if input_grad:
        r.update(bwd_input_macs=B * w, weight_read_bwd_elems=w, actgrad_write_elems=B * n_in)
    return r


def _trace(shared: bool) -> pd.DataFrame:
    return pd.DataFrame([
        _layer("fc1", "shared" if shared else "task1", not shared, 4, 3, False),
        _layer("fc2", "task1", True, 3, 2, not shared),
    ])


def _points() -> list[TracedPoint]:
    no = SharingPoint("clone-t1-k0", "no-sharing", 0, 0.0, 0.0, 90.0, 91.0, False)
    sh = SharingPoint("clone-t1-k1", "sharing", 1, 66.7, 66.7, 88.0, 89.0, True)
    return [TracedPoint(no, _trace(False), B * 4 * BPE, [(18, 18)] * 3),
            TracedPoint(sh, _trace(True), B * 4 * BPE, [(18, 18), (18, 6), (18, 6)])]


def _ops(cp_mac_ns: float = 2.0) -> OpCosts:
    rows = [("fp_mac", 3.0, 1.0, 1000.0, cp_mac_ns), ("fp_mul", 2.5, 0.5, 500.0, 1.0),
            ("fp_add", 0.75, 0.25, 200.0, 0.5)]
    table = pd.DataFrame([{"unit": u, "format": "fp32", "stream": "uniform", "path": "default",
                           "energy_logic_pj": lg, "energy_seq_pj": sq, "leakage_nw": lk,
                           "critical_path_ns": cp, "latency_cycles": 1}
                          for u, lg, sq, lk, cp in rows])
    return OpCosts.from_table(table, "fp32", "uniform", "default")


def _run(capacity: int, accel: Accelerator, cp_mac_ns: float = 2.0):
    h = Hierarchy.global_buffer(capacity, 32, temp_k=300.0)
    sweep, traffic = cost_points(_points(), _ops(cp_mac_ns), h, accel)
    return sweep.set_index("share_k"), traffic, h.sram_costs["global"]


def test_compute_energy_clock_and_time() -> None:
    sw, _, _ = _run(4096, Accelerator(mac_units=2, clock_mhz_max=1000.0, dram_gb_per_s=1.0))
    # no sharing: MACs fwd 24+12, bwd-weight 24+12, bwd-input of fc2 12 = 84; update 36+36
    assert sw.loc[0, "macs"] == 84 and sw.loc[0, "update_ops"] == 2 * 3 * 18
    assert sw.loc[0, "compute_energy_pj"] == pytest.approx(84 * 4.0 + 54 * 3.0 + 54 * 1.0)
    # sharing: fc1 forward only (24), fc2 fwd 12 + bwd-weight 12; update of fc2 only
    assert sw.loc[1, "macs"] == 48 and sw.loc[1, "update_ops"] == 36
    assert sw.loc[1, "compute_energy_pj"] == pytest.approx(48 * 4.0 + 18 * 3.0 + 18 * 1.0)
    # clock: the MAC's 2 ns critical path (500 MHz) is below the 1 GHz target
    assert sw.loc[0, "clock_mhz"] == pytest.approx(500.0)
    assert sw.loc[0, "clock_limit"] == "fp_mac fmax"
    assert sw.loc[0, "compute_time_s"] == pytest.approx((84 + 108) / 2 / 500e6)
    assert sw.loc[1, "compute_time_s"] == pytest.approx((48 + 36) / 2 / 500e6)


def test_clock_capped_by_target() -> None:
    sw, _, _ = _run(4096, Accelerator(mac_units=2, clock_mhz_max=250.0), cp_mac_ns=2.0)
    assert sw.loc[0, "clock_mhz"] == 250.0 and sw.loc[0, "clock_limit"] == "target"


def _expected_traffic(shared: bool, f: float) -> dict[tuple[str, str], float]:
    """(level, access) -> bytes, by hand: SRAM serves every access; the non-resident share
    (1 - f) is filled (DRAM read + SRAM write) before reads and spilled (SRAM read + DRAM
    write) after writes; the 32-byte input batch is filled once."""
    if shared:   # fc1 frozen, fc2 trained
        reads = {"weight": (12 + 6 + 6) * BPE, "optstate": 6 * BPE,
                 "activation": (8 + 6 + 6) * BPE, "gradient": (4 + 6) * BPE}
        writes = {"weight": 6 * BPE, "optstate": 6 * BPE, "activation": (6 + 4) * BPE,
                  "gradient": 6 * BPE}
    else:
        reads = {"weight": (12 + 12 + 6 + 6 + 6) * BPE, "optstate": 18 * BPE,
                 "activation": (8 + 8 + 6 + 6) * BPE, "gradient": (6 + 4 + 12 + 6) * BPE}
        writes = {"weight": 18 * BPE, "optstate": 18 * BPE, "activation": (6 + 4) * BPE,
                  "gradient": (12 + 6 + 6) * BPE}
    r, w, inp = sum(reads.values()), sum(writes.values()), B * 4 * BPE
    return {("global", "read"): r + w * (1 - f), ("global", "write"): w + r * (1 - f) + inp,
            ("dram", "read"): r * (1 - f) + inp, ("dram", "write"): w * (1 - f)}


@pytest.mark.parametrize("capacity", [4096, 256])
def test_memory_traffic_and_energy(capacity: int) -> None:
    sw, traffic, sram = _run(capacity, Accelerator(mac_units=2))
    for k, shared in ((0, False), (1, True)):
        # working memory (bytes): weights + optimizer state + activations + gradients
        if shared:
            need = 18 * BPE + 6 * BPE + (6 + 6) * BPE + (6 + (4 + 0)) * BPE
        else:
            need = 18 * BPE + 18 * BPE + (14 + 6) * BPE + (18 + (4 + 6)) * BPE
        f = min(1.0, capacity / need)
        exp = _expected_traffic(shared, f)
        t = traffic[traffic["share_k"] == k].groupby(["level", "access"])["bytes"].sum()
        for key, v in exp.items():
            assert t.get(key, 0.0) == pytest.approx(v), (k, key)
        e_pj = ((exp[("global", "read")] * sram.read_energy_pj
                 + exp[("global", "write")] * sram.write_energy_pj) * 8 / 32
                + (exp[("dram", "read")] + exp[("dram", "write")]) * 8 * 20.0)
        assert sw.loc[k, "memory_energy_pj"] == pytest.approx(e_pj)
        assert sw.loc[k, "memory_access_bytes"] == pytest.approx(sum(exp.values()))
        assert sw.loc[k, "dram_bytes"] == pytest.approx(exp[("dram", "read")]
                                                       + exp[("dram", "write")])
    if capacity == 4096:  # all resident: DRAM moves only the input batch
        assert sw.loc[0, "dram_bytes"] == B * 4 * BPE


def test_memory_bound_time_and_static_energy() -> None:
    accel = Accelerator(mac_units=2, clock_mhz_max=1000.0, dram_gb_per_s=1e-6)  # 1 kB/s
    sw, _, sram = _run(4096, accel)
    t = 32 / 1e3  # the 32-byte input batch at 1 kB/s
    assert not sw.loc[0, "compute_bound"] and sw.loc[0, "modeled_time_s"] == pytest.approx(t)
    # static: 2 lanes x (1000 + 500 + 200) nW, the SRAM's leakage, DDR3 background; mW*s = 1e9 pJ
    assert sw.loc[0, "static_logic_pj"] == pytest.approx(2 * 1700e-6 * t * 1e9)
    assert sw.loc[0, "static_sram_pj"] == pytest.approx(sram.leakage_mw * t * 1e9)
    assert sw.loc[0, "static_dram_pj"] == pytest.approx(dram.background_power_mw("ddr3") * t
                                                        * 1e9)
    assert sw.loc[0, "total_energy_pj"] == pytest.approx(
        sw.loc[0, "compute_energy_pj"] + sw.loc[0, "memory_energy_pj"]
        + sw.loc[0, "static_energy_pj"])


def test_model_storage_and_savings_table() -> None:
    sw, _, _ = _run(4096, Accelerator(mac_units=2))
    # three tasks: with sharing the base (18) + two branches of 6; without, three networks of 18
    assert sw.loc[1, "model_storage_with_sharing_bytes"] == (18 + 6 + 6) * BPE
    assert sw.loc[1, "model_storage_without_sharing_bytes"] == 3 * 18 * BPE
    assert sw.loc[0, "model_storage_with_sharing_bytes"] == 3 * 18 * BPE  # no sharing
    sav = savings_table(sw.reset_index()).set_index("sharing_point_pct")
    assert sav.loc[66.7, "model_storage_saving_pct"] == pytest.approx(100 * (1 - 30 / 54))
    ce0 = 84 * 4.0 + 54 * 3.0 + 54 * 1.0
    ce1 = 48 * 4.0 + 18 * 3.0 + 18 * 1.0
    assert sav.loc[66.7, "compute_energy_saving_pct"] == pytest.approx(100 * (1 - ce1 / ce0))
    t0, t1 = (84 + 108) / 2 / 500e6, (84 / 2) / 500e6
    assert sav.loc[66.7, "modeled_time_saving_pct"] == pytest.approx(100 * (1 - t1 / t0))
    assert sav.loc[66.7, "acc_loss_pct_points"] == pytest.approx(2.0)
    assert sav.loc[0.0, "total_energy_saving_pct"] == 0.0


def test_op_rows_without_timing_are_refused() -> None:
    table = pd.DataFrame([{"unit": u, "format": "fp32", "stream": "uniform", "path": "default",
                           "energy_logic_pj": 1.0, "energy_seq_pj": 0.0, "leakage_nw": 1.0,
                           "critical_path_ns": float("nan")}
                          for u in ("fp_mac", "fp_mul", "fp_add")])
    with pytest.raises(CostModelError, match="no critical_path_ns.*fix: python -m hwmodel.ops"):
        OpCosts.from_table(table, "fp32")


def test_beside_the_paper_in_the_papers_form() -> None:
    from hwmodel.report.paper import PACKAGED, beside_the_paper, claims, load_tables

    sw, _, _ = _run(4096, Accelerator(mac_units=2))
    tab = beside_the_paper(savings_table(sw.reset_index()))
    assert len(tab) == len(claims(load_tables(PACKAGED))) == 7
    ours = tab.set_index(["paper: setting", "quantity"]).iloc[:, -1]
    ce0, ce1 = 84 * 4.0 + 54 * 3.0 + 54 * 1.0, 48 * 4.0 + 18 * 3.0 + 18 * 1.0
    assert ours["ResNet-101, CIFAR-100, 80 % sharing", "computation energy"] == \
        f"{ce0 / ce1:.2f}×"
    assert ours["ResNet-101, CIFAR-100, all sharing points", "storage"] == \
        f"{100 * (1 - 30 / 54):.1f} %"


def test_merge_models_puts_the_chosen_models_figures_first() -> None:
    from hwmodel.report.costing import MODEL_COLUMNS, merge_models, models_table

    sweep = pd.DataFrame({"share_k": [0, 1], "sharing_point_pct": [0.0, 50.0],
                          "chosen": [False, True],
                          **{c: [10.0, 5.0] for c in MODEL_COLUMNS}})
    accel = pd.DataFrame({**{c: [20.0, 8.0] for c in MODEL_COLUMNS}, "cycles": [100, 40],
                          "stall_cycles": [3, 1], "utilization_pct": [50.0, 60.0]})
    a = merge_models(sweep, accel, "accel")
    assert list(a["compute_energy_pj"]) == [20.0, 8.0] and list(a["mac_compute_energy_pj"]) == [
        10.0, 5.0]
    assert list(a["compute_energy_norm"]) == [1.0, 0.4]
    assert list(a["mac_compute_energy_norm"]) == [1.0, 0.5]
    m = merge_models(sweep, accel, "mac")
    assert list(m["compute_energy_norm"]) == [1.0, 0.5] and (m["cost_model"] == "mac").all()
    t = models_table(a)
    assert list(t["compute_energy_saving_mac_pct"]) == [0.0, 50.0]
    assert list(t["compute_energy_saving_accel_pct"]) == pytest.approx([0.0, 60.0])
    with pytest.raises(ValueError, match="cost model 'x' is unknown"):
        merge_models(sweep, accel, "x")
