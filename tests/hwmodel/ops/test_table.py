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


def test_cache_key_follows_rtl_library_stream_and_tensor_content(tmp_path: Path) -> None:
    import dataclasses

    import numpy as np

    (unit,) = select(default_op_library(), "add_rca", "int8")
    (job,) = make_jobs([unit], ["uniform"], ["default"], 50, 0)
    same = make_jobs([unit], ["uniform"], ["default"], 50, 0)[0]
    assert job.key() == same.key()
    # a changed RTL source (even a comment) is a different row
    rtl = tmp_path / unit.path.name
    rtl.write_text(unit.path.read_text() + "\n// edited\n")
    edited = dataclasses.replace(job, op_unit=dataclasses.replace(unit, path=rtl))
    assert edited.key() != job.key()
    # so is a changed cell library
    lib = tmp_path / job.library_file.name
    lib.write_bytes(job.library_file.read_bytes() + b" ")
    assert dataclasses.replace(job, library_file=lib).key() != job.key()
    # and a tensor stream built from different network samples
    a, b = np.linspace(-1, 1, 64), np.linspace(0, 2, 64)
    (t1,) = make_jobs([unit], ["tensor"], ["default"], 50, 0, (a, b))
    (t2,) = make_jobs([unit], ["tensor"], ["default"], 50, 0, (a, b * 1.5))
    (t3,) = make_jobs([unit], ["tensor"], ["default"], 50, 0, (a.copy(), b.copy()))
    assert t1.key() != t2.key() and t1.key() == t3.key()
    with pytest.raises(UnitError, match="needs operand samples"):
        make_jobs([unit], ["tensor"], ["default"], 50, 0)
