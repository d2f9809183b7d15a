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
    compare_sharing,
    energy_breakdown,
    storage,
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
                 act_saved_write_elems=act, act_saved_read_elems=act,
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


def test_storage_with_and_without_sharing() -> None:
    st = storage(toy_trace()).set_index(["sharing", "data_type"])["bytes"]
    trunk_w, branch_w = (1000 + 3000) * 2, (500 + 100) * 2
    assert st["with_sharing", "weight"] == trunk_w + branch_w
    assert st["without_sharing", "weight"] == trunk_w + branch_w  # one task: nothing shared
    st2 = storage(toy_trace(), extra_tasks=1).set_index(["sharing", "data_type"])["bytes"]
    assert st2["with_sharing", "weight"] == trunk_w + 2 * branch_w
    assert st2["without_sharing", "weight"] == 2 * (trunk_w + branch_w)
    assert st2["with_sharing", "optstate"] == branch_w  # only the task being trained
    # working memory of the network being trained does not multiply with tasks
    assert st2["with_sharing", "activation"] == st2["without_sharing", "activation"]
    assert st2["with_sharing", "activation"] == (1000 + 10) * 2 + 4000 * 2


def test_two_branches_in_one_trace() -> None:
    tr = pd.concat([toy_trace(), toy_trace().iloc[2:].assign(branch="task3")])
    st = storage(tr).set_index(["sharing", "data_type"])["bytes"]
    assert st["with_sharing", "weight"] == 8000 + 2 * 1200
    assert st["without_sharing", "weight"] == 2 * (8000 + 1200)


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


def test_bytes_are_conserved_and_overflow_goes_to_dram() -> None:
    tr = toy_trace()
    total = sum((tr[c] * tr.bytes_per_elem).sum() for c in ACCESS_COLUMNS)
    small = Hierarchy.global_buffer(4096, 64)  # far smaller than the data
    e = access_energy(tr, small)
    assert e.bytes.sum() == pytest.approx(total)
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
        storage(bad)
    with pytest.raises(SramInputError, match="extra_tasks"):
        storage(toy_trace(), extra_tasks=-1)


@pytest.mark.slow
def test_resnet18_trace_from_learning_trace() -> None:
    """ResNet-18 (CIFAR) traced by learning.trace: sharing saves storage and access energy."""
    torch = pytest.importorskip("torch")
    lt = pytest.importorskip("learning.trace")
    lm = pytest.importorskip("learning.models")
    torch.set_num_threads(1)
    net = lm.resnet("resnet18", 10)
    k, _ = lm.sharing_point_for_percent(net, 60)
    lm.freeze_prefix(net, k)
    shared = lt.trace_training(net, (3, 32, 32), batch=2).df
    full = lt.trace_training(lm.resnet("resnet18", 10), (3, 32, 32), batch=2).df
    st = storage(shared, extra_tasks=1).set_index(["sharing", "data_type"])["bytes"]
    assert st["with_sharing", "weight"] < st["without_sharing", "weight"]
    h = Hierarchy.global_buffer("2MiB", 64)
    assert access_energy(shared, h).energy_pj.sum() < access_energy(full, h).energy_pj.sum()


def test_compare_sharing() -> None:
    shared = toy_trace()
    full = pd.DataFrame([_row(r.layer, "task2", True, r.params, r.ifmap_read_elems)
                         for r in shared.itertuples()])
    out = compare_sharing(shared, full, Hierarchy.global_buffer("64KiB", 64), extra_tasks=1)
    st = out["storage"].set_index("data_type")
    assert st.loc["weight", "with_sharing"] == 8000 + 2 * 1200
    assert st.loc["weight", "without_sharing"] == 2 * (8000 + 1200)
    assert st.loc["optstate", "with_sharing"] < st.loc["optstate", "without_sharing"]
    en = out["energy"]
    assert set(en.columns) == {"level", "data_type", "with_sharing", "without_sharing"}
    assert en.with_sharing.sum() < en.without_sharing.sum()
