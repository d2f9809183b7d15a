"""Published 45 nm per-op energies and compare()."""

from __future__ import annotations

import pandas as pd
import pytest

from hwmodel.ops.published import (
    HOROWITZ_45NM,
    PublishedCompareError,
    VddNotCharacterizedError,
    compare,
)


def _table() -> pd.DataFrame:
    rows = [  # unit, op, format, energy_logic_pj, vdd_v
        ("add_rca", "add", "int8", 0.05, 0.9),       # 0.05 / 0.03 = 1.67x
        ("add_ks", "add", "int8", 0.07, 0.9),        # 2.33x
        ("mul_array", "mul", "fp32", 1.85, 0.9),     # 1.85 / 3.7 = 0.5x (edge: within)
        ("add_rca", "add", "int16", 0.06, 0.9),      # no published int16 figure
        ("add_rca", "add", "int8", 0.09, 1.1),       # other supply: ignored at 0.9 V
        ("fp_mac", "mac", "fp16", 2.0, 0.9),         # no published mac figure
    ]
    return pd.DataFrame([{"unit": u, "op": o, "format": f, "stream": "uniform", "path": "default",
                          "energy_pj": e + 0.1, "energy_logic_pj": e, "energy_seq_pj": 0.1,
                          "vdd_v": v} for u, o, f, e, v in rows])


def test_published_figures() -> None:
    got = {(p.op, p.format): p.energy_pj for p in HOROWITZ_45NM}
    assert got == {("add", "int8"): 0.03, ("add", "int32"): 0.1, ("mul", "int8"): 0.2,
                   ("mul", "int32"): 3.1, ("add", "fp16"): 0.4, ("mul", "fp16"): 1.1,
                   ("add", "fp32"): 0.9, ("mul", "fp32"): 3.7}
    assert all(p.vdd_v == 0.9 and p.node_nm == 45 and "ISSCC 2014" in p.source
               for p in HOROWITZ_45NM)


def test_compare_rows_and_ratios() -> None:
    out = compare(_table(), 0.9)
    assert list(zip(out["unit"], out["format"], strict=True)) == [
        ("add_ks", "int8"), ("add_rca", "int8"), ("mul_array", "fp32")]
    assert out["ours_logic_pj"].tolist() == [0.07, 0.05, 1.85]      # logic, not energy_pj
    assert out["ratio"].tolist() == pytest.approx([0.07 / 0.03, 0.05 / 0.03, 0.5])
    assert out["within_2x"].tolist() == [False, True, True]
    assert out["published_pj"].tolist() == [0.03, 0.03, 3.7]
    assert set(out["stream"]) == {"uniform"} and set(out["path"]) == {"default"}


def test_compare_other_voltage_and_empty_match() -> None:
    out = compare(_table(), 1.1)
    assert out["ours_logic_pj"].tolist() == [0.09] and out["ratio"].iloc[0] == pytest.approx(3.0)
    t = _table()
    none = compare(t[t["format"] == "int16"], 0.9)
    assert none.empty and "within_2x" in none.columns


def test_no_row_at_voltage() -> None:
    with pytest.raises(VddNotCharacterizedError,
                       match=r"no row at vdd 0\.8 V.*hwmodel\.cells build --vdd 0\.8"):
        compare(_table(), 0.8)
    with pytest.raises(ValueError):   # a ValueError subclass
        compare(_table().iloc[0:0], 0.9)


def test_missing_column() -> None:
    with pytest.raises(PublishedCompareError, match="vdd_v"):
        compare(_table().drop(columns=["vdd_v"]), 0.9)
