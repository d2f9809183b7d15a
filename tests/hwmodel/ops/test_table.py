"""The op table: cached rows are reused, a failing row is reported and left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from hwmodel.ops.compute import make_jobs
from hwmodel.ops.oplib import default_op_library, select
from hwmodel.ops.table import build_table
from hwmodel.rtlsim import UnitError

CALLS: list[str] = []


def fake_compute(job) -> dict:
    CALLS.append(job.op_unit.label)
    if job.op_unit.fmt == "int16":
        raise UnitError("synthetic failure")
    return {"unit": job.op_unit.unit, "format": job.op_unit.fmt, "energy_pj": 1.0}


def test_cache_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PNS_CACHE_DIR", str(tmp_path))
    units = select(default_op_library(), "add_rca")
    jobs = make_jobs(units, ["uniform"], ["default"], 50, 0)
    errors: list[str] = []
    df = build_table(jobs, fake_compute, workers=1, progress=False, errors=errors)
    assert list(df["format"]) == ["int8", "int32"]
    assert len(errors) == 1 and "add_rca/int16" in errors[0] and "synthetic failure" in errors[0]
    CALLS.clear()
    build_table(jobs, fake_compute, workers=1, progress=False, errors=[])
    assert CALLS == ["add_rca/int16"]  # the two good rows came from the cache
    with pytest.raises(UnitError, match="synthetic failure"):
        build_table(jobs, fake_compute, workers=1, progress=False)


def test_unknown_unit_is_one_line() -> None:
    with pytest.raises(UnitError, match="no op unit matches unit='adder'"):
        select(default_op_library(), "adder")
