"""Architectures as data: presets load; impossible ones are one-line errors naming the fix."""

from __future__ import annotations

import copy
import tomllib

import pytest

from hwmodel.accel import arch
from hwmodel.accel.errors import AccelError


def _ws() -> dict:
    return tomllib.loads(arch.presets()["ws"].read_text())


def test_presets_load_with_their_sources() -> None:
    names = set(arch.presets())
    assert {"ws", "os", "flex"} <= names
    for name in names:
        a = arch.load(name)
        assert a.source and a.array.pes > 0 and a.dram.bandwidth_gb_s > 0
    assert arch.load("flex").array.dataflows == ("ws", "os", "is")
    assert arch.load("ws").capacity_elems("ifmap") == 256 * 1024 // 2 // 4


def _edit(path: str, value) -> dict:
    cfg = copy.deepcopy(_ws())
    *parents, key = path.split(".")
    t = cfg
    for p in parents:
        t = t[p] if not p.isdigit() else t[int(p)]
    t[key] = value
    return cfg


@pytest.mark.parametrize(("path", "value", "names"), [
    ("array.rows", 0, "array.rows"),
    ("array.cols", -4, "array.cols"),
    ("array.rows", 2.5, "rows = 2.5 is not an integer"),
    ("dram.bandwidth_gb_s", "fast", "is not a number"),
    ("array.dataflow", "rs", "array.dataflow"),
    ("dram.bandwidth_gb_s", 0, "dram.bandwidth_gb_s"),
    ("dram.type", "sdram", "dram.type"),
    ("vector.lanes", 0, "vector.lanes"),
    ("buffer.0.capacity", "1KiB", "holds fewer"),
    ("buffer.1.banks", 1, "banks >="),
    ("buffer.2.operands", ["weight"], "operand 'weight'"),
    ("format", "fp64", "format"),
])
def test_impossible_architectures_are_one_line_errors(path, value, names) -> None:
    with pytest.raises(AccelError) as e:
        arch.from_dict(_edit(path, value), "my.toml")
    msg = str(e.value)
    assert "\n" not in msg and names in msg and "my.toml" in msg


def test_unknown_preset_and_missing_file(tmp_path) -> None:
    with pytest.raises(AccelError, match="no such preset; use one of"):
        arch.load("tpu9")
    with pytest.raises(AccelError, match="cannot read it"):
        arch.load(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[array\n")
    with pytest.raises(AccelError, match="not valid TOML"):
        arch.load(bad)


def test_dram_bandwidth_in_elements_per_cycle() -> None:
    a = arch.load("ws")  # 12.8 GB/s, fp32
    assert a.dram_words_per_cycle(100.0) == pytest.approx(12.8e9 / 100e6 / 4)
