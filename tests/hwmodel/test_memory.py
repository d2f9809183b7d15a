"""Training memory model: storage with/without sharing, access energy by level and type."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hwmodel import dram
from hwmodel.memory import (
    ACCESS_COLUMNS,
    DATA_TYPES,
    TRACE_COLUMNS,
    Buffer,
    Hierarchy,
    access_energy,
    energy_breakdown,
    model_storage,
    working_memory,
)
from hwmodel.sram import SramInputError, sram


def _row(layer: str, branch: str, trainable: bool, params: int, act: int, bpe: int = 2) -> dict:
    """One conv-like layer: act = input elements = output elements (synthetic counts)."""
    r = dict.fromkeys(TRACE_COLUMNS, 0)
    r.update(layer=layer, kind="conv2d", branch=branch, trainable=trainable, params=params,
             bytes_per_elem=bpe, fwd_macs=params * 10, weight_read_fwd_elems=params,
             ifmap_read_elems=act, ofmap_write_elems=act)
    if trainable:
        r.update(weight_read_bwd_elems=params, weight_write_elems=params,
                 optstate_read_elems=params, optstate_write_elems=params,
                 act_saved_elems=act, act_saved_read_elems=act,
                 actgrad_read_elems=act, actgrad_write_elems=act, wgrad_write_elems=params,
                 bwd_input_macs=params * 10, bwd_weight_macs=params * 10)
    return r


def toy_trace() -> pd.DataFrame:
    """Frozen 2-layer trunk (shared) + 2-layer trainable branch."""
    return pd.DataFrame([
        _row("c1", "shared", False, 1000, 4000),
        _row("c2", "shared", False, 3000, 2000),
        _row("c3", "task2", True, 500, 1000),
        _row("fc", "task2", True, 100, 10),
    ])


def test_model_storage_with_and_without_sharing() -> None:
    """The grown network after T tasks: the base once plus each later task's own branch, vs one
    whole network per task (a constant without sharing)."""
    ms = model_storage([(4600, 4600), (4600, 600), (4600, 600)], bytes_per_param=2)
    assert ms.tasks == 3
    assert ms.with_sharing_bytes == (4600 + 600 + 600) * 2
    assert ms.without_sharing_bytes == 3 * 4600 * 2
    assert ms.saving_pct == pytest.approx(100 * (1 - 5800 / 13800))
    none = model_storage([(4600, 4600), (4600, 4600)], 2)  # nothing shared: no saving
    assert none.with_sharing_bytes == none.without_sharing_bytes
    with pytest.raises(SramInputError, match="networks"):
        model_storage([(10, 5)], 4)  # the base network owns all its parameters
    with pytest.raises(SramInputError, match="networks\\[1\\]"):
        model_storage([(10, 10), (10, 11)], 4)


def test_working_memory() -> None:
    wm = working_memory(toy_trace())
    assert wm["weight"] == (1000 + 3000 + 500 + 100) * 2
    assert wm["optstate"] == (500 + 100) * 2  # only the branch being trained
    # saved activations of the branch + the largest layer output being produced
    assert wm["activation"] == (1000 + 10) * 2 + 4000 * 2
    assert wm["gradient"] == (500 + 100) * 2 + (1000 + 1000) * 2


def test_saved_activation_is_not_written_twice() -> None:
    """A layer output the forward wrote and autograd keeps is one write; only saved tensors the
    forward did not write (act_saved_write_elems, e.g. pooling indices) add writes."""
    tr = toy_trace()
    h = Hierarchy.global_buffer("1MiB", 64)
    w = access_energy(tr, h).query("data_type == 'activation' and access == 'write'")
    assert w["bytes"].sum() == pytest.approx(tr["ofmap_write_elems"].sum() * 2)
    tr2 = tr.assign(act_saved_write_elems=[0, 0, 7, 0])
    w2 = access_energy(tr2, h).query("data_type == 'activation' and access == 'write'")
    assert w2["bytes"].sum() == pytest.approx((tr["ofmap_write_elems"].sum() + 7) * 2)


def test_fills_and_spills_through_the_buffer() -> None:
    """Non-resident data is filled into the SRAM before it is read and spilled after it is
    written: the SRAM sees every access plus the fills/spills, DRAM only the non-resident share;
    the input batch is filled once."""
    tr = toy_trace()
    h = Hierarchy.global_buffer(4096, 64)
    need = sum(working_memory(tr).values())
    f = 4096 / need
    e = access_energy(tr, h, input_bytes=1000)
    reads = sum((tr[c] * 2).sum() for c, (_, a) in ACCESS_COLUMNS.items() if a == "read")
    writes = sum((tr[c] * 2).sum() for c, (_, a) in ACCESS_COLUMNS.items() if a == "write")
    by = e.groupby(["level", "movement"])["bytes"].sum()
    assert by["global", "access"] == pytest.approx(reads + writes)
    assert by["global", "fill"] == pytest.approx(reads * (1 - f) + 1000)
    assert by["global", "spill"] == pytest.approx(writes * (1 - f))
    assert by["dram", "fill"] == pytest.approx(reads * (1 - f) + 1000)
    assert by["dram", "spill"] == pytest.approx(writes * (1 - f))


def test_all_on_chip_energy_is_sram_energy() -> None:
    tr = toy_trace()
    h = Hierarchy.global_buffer("1MiB", 64)
    e = access_energy(tr, h)
    assert set(e.level) == {"global", "dram"}
    assert e[e.level == "dram"].bytes.sum() == 0
    cost = sram(2**20, 64)
    bytes_read = sum((tr[c] * tr.bytes_per_elem).sum() for c, (_, a) in ACCESS_COLUMNS.items()
                     if a == "read")
    got = e[(e.level == "global") & (e.access == "read")].energy_pj.sum()
    assert got == pytest.approx(bytes_read * 8 / 64 * cost.read_energy_pj)


def test_overflow_goes_to_dram() -> None:
    tr = toy_trace()
    total = sum((tr[c] * tr.bytes_per_elem).sum() for c in ACCESS_COLUMNS)
    small = Hierarchy.global_buffer(4096, 64)  # far smaller than the data
    e = access_energy(tr, small)
    assert e[e.movement == "access"].bytes.sum() == pytest.approx(total)
    assert e[e.level == "dram"].bytes.sum() > 0.5 * total
    big = access_energy(tr, Hierarchy.global_buffer("1MiB", 64))
    assert e.energy_pj.sum() > 5 * big.energy_pj.sum()
    per_byte = 8 * dram.dram_type("ddr3").energy_pj_per_bit
    d = e[e.level == "dram"]
    assert d.energy_pj.sum() == pytest.approx(d.bytes.sum() * per_byte)


def test_per_type_buffers_and_breakdown() -> None:
    h = Hierarchy.per_type({"weight": "16KiB", "activation": "32KiB", "gradient": "16KiB",
                            "optstate": "8KiB"}, word_bits=64)
    e = access_energy(toy_trace(), h)
    assert set(e.data_type) == set(DATA_TYPES)
    assert {"weight_buf", "activation_buf", "gradient_buf", "optstate_buf"} <= set(e.level)
    piv = energy_breakdown(e)
    assert piv.loc["total", "total"] == pytest.approx(e.energy_pj.sum())
    # a data type without a buffer goes to DRAM only
    h2 = Hierarchy(buffers=(Buffer("wbuf", 65536, 64, ("weight",)),))
    e2 = access_energy(toy_trace(), h2)
    assert set(e2[e2.data_type == "activation"].level) == {"dram"}


def test_sharing_saves_access_energy() -> None:
    """Training only the branch (frozen trunk) moves fewer bytes than training everything."""
    shared = toy_trace()
    full = pd.DataFrame([_row(r.layer, "task2", True, r.params, r.ifmap_read_elems)
                         for r in shared.itertuples()])
    h = Hierarchy.global_buffer("64KiB", 64)
    e_s = access_energy(shared, h).energy_pj.sum()
    e_f = access_energy(full, h).energy_pj.sum()
    assert e_s < e_f


def test_toml_hierarchy(tmp_path) -> None:
    p = tmp_path / "h.toml"
    p.write_text('dram = "hbm2"\nnode = 45\n[[buffer]]\nname = "wb"\ncapacity = "64KiB"\n'
                 'word_bits = 128\ndata_types = ["weight", "optstate"]\n'
                 '[[buffer]]\nname = "ab"\ncapacity = 131072\nword_bits = 64\n'
                 'data_types = ["activation", "gradient"]\n')
    h = Hierarchy.from_toml(p)
    assert h.dram == "hbm2" and h.buffer_for("optstate").name == "wb"
    assert h.sram_costs["wb"].read_energy_pj == pytest.approx(
        sram(65536, 128).read_energy_pj)
    assert np.isfinite(access_energy(toy_trace(), h).energy_pj).all()


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: Hierarchy(buffers=(Buffer("a", 4096, 64, ("weight",)),
                                    Buffer("b", 4096, 64, ("weight",)))), "data_types"),
        (lambda: Hierarchy(buffers=(Buffer("a", 4096, 64, ("weights",)),)), "data_types"),
        (lambda: Hierarchy(buffers=(), dram="ddr9"), "dram"),
        (lambda: Hierarchy.global_buffer(16, 64), "capacity"),
    ],
)
def test_bad_hierarchy(make, needle: str) -> None:
    with pytest.raises(SramInputError, match=needle):
        make()


def test_bad_trace() -> None:
    h = Hierarchy.global_buffer("64KiB")
    with pytest.raises(SramInputError, match="missing column"):
        access_energy(toy_trace().drop(columns=["wgrad_write_elems"]), h)
    bad = toy_trace()
    bad.loc[0, "ifmap_read_elems"] = -1
    with pytest.raises(SramInputError, match="ifmap_read_elems"):
        working_memory(bad)
    with pytest.raises(SramInputError, match="input_bytes"):
        access_energy(toy_trace(), h, input_bytes=-1)


@pytest.mark.slow
def test_resnet18_trace_from_learning_trace() -> None:
    """ResNet-18 (CIFAR) traced by workload: sharing saves storage and access energy."""
    torch = pytest.importorskip("torch")
    lt = pytest.importorskip("workload")
    lm = pytest.importorskip("learning.models")
    torch.set_num_threads(1)
    net = lm.resnet("resnet18", 10)
    k, _ = lm.sharing_point_for_percent(net, 60)
    lm.freeze_prefix(net, k)
    shared = lt.trace_training(net, (3, 32, 32), batch=2).df
    full = lt.trace_training(lm.resnet("resnet18", 10), (3, 32, 32), batch=2).df
    assert working_memory(shared)["gradient"] < working_memory(full)["gradient"]
    h = Hierarchy.global_buffer("2MiB", 64)
    assert access_energy(shared, h).energy_pj.sum() < access_energy(full, h).energy_pj.sum()
