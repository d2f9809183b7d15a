"""Reading back a written trace: every format, and bad files as one-line errors."""

from __future__ import annotations

import pytest


def test_read_table_round_trips_and_refuses_bad_files(tmp_path) -> None:
    import pandas as pd
    import torch

    from workload import trace_training
    from workload.errors import WorkloadError
    from workload.io import read_table, write_table

    torch.manual_seed(0)
    res = trace_training(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(),
                                             torch.nn.Linear(2 * 4 * 4, 3)), (1, 6, 6), 2)
    for ext in (".csv", ".parquet", ".json"):
        p = tmp_path / f"t{ext}"
        write_table(res, str(p))
        back = read_table(p)
        pd.testing.assert_series_equal(back["fwd_macs"], res.df["fwd_macs"],
                                       check_dtype=False)
        assert list(back["kernel_h"]) == list(res.df["kernel_h"])
    with pytest.raises(WorkloadError, match="not found"):
        read_table(tmp_path / "none.csv")
    with pytest.raises(WorkloadError, match="must end in"):
        read_table(tmp_path / "t.xlsx")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(WorkloadError, match="cannot read it as json"):
        read_table(tmp_path / "bad.json")
