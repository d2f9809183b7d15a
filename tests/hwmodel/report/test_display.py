"""Tables for reading: one unit per column, rounded numbers, even for a value far below the
column's typical size (a sweep's deepest sharing point trains a tiny head)."""

from __future__ import annotations

import re

import pandas as pd

from hwmodel.report.display import readable


def test_a_tiny_value_in_a_laddered_column_is_rounded() -> None:
    df = pd.DataFrame({"gradient_bytes": [5_520_000.0, 1_314_000.0, 821_000.0, 1_552.0]})
    col = readable(df)["gradient (MB)"].tolist()
    assert col[:3] == ["5.520", "1.314", "0.8210"]
    assert col[3] == "0.0016"
    assert not any(re.search(r"\d+\.\d{5,}", c) for c in col)
