"""The workload contract: every column of a real trace is in the schema with a unit (and vice
versa), hwmodel takes its columns from it, and validate() refuses a broken table in one line."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from torch import nn

from workload import WorkloadError, schema, trace_training, validate

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def trace() -> pd.DataFrame:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(2 * 3 * 3, 3))
    return trace_training(net, (1, 8, 8), 2, optimizer="adam").df


def test_every_trace_column_is_in_the_schema_with_a_unit_and_vice_versa(trace) -> None:
    assert list(trace.columns) == list(schema.COLUMNS)
    for name in trace.columns:
        c = schema.column(name)
        assert c.unit and c.meaning and c.doc.startswith(c.meaning), name
        kind = trace[name].dtype.kind
        assert {"int64": kind == "i", "bool": kind == "b",
                "str": kind in "OU" or pd.api.types.is_string_dtype(trace[name])}[c.dtype], name
        if c.unit != "text":
            assert c.doc.endswith(f"({c.unit})"), name
        for part in c.sum_of:
            assert part in schema.BY_NAME
        if c.sum_of:
            assert (trace[list(c.sum_of)].sum(axis=1) == trace[name]).all(), name
    validate(trace)  # a real trace meets its own contract


def test_memory_columns_carry_data_type_and_access() -> None:
    for name in schema.MEMORY_COLUMNS:
        c, b = schema.column(name), schema.column(schema.bytes_column(name))
        assert c.data_type in schema.DATA_TYPES and c.access in schema.ACCESSES, name
        assert (b.data_type, b.access, b.unit) == (c.data_type, c.access, "bytes"), name
    assert schema.FOOTPRINT_COLUMNS == ("act_saved_elems",)
    assert set(schema.ACCESS_COLUMNS) == set(schema.MEMORY_COLUMNS) - {"act_saved_elems"}
    assert {t for t, _ in schema.ACCESS_COLUMNS.values()} == set(schema.DATA_TYPES)


def test_hwmodel_takes_its_columns_from_the_schema() -> None:
    from hwmodel import cost, memory

    assert memory.ACCESS_COLUMNS is schema.ACCESS_COLUMNS
    assert memory.TRACE_COLUMNS == schema.REQUIRED_COLUMNS
    assert memory.DATA_TYPES == schema.DATA_TYPES
    assert cost.COMPUTE_COLUMNS == ("fwd_macs", "bwd_input_macs", "bwd_weight_macs",
                                    "update_mults", "update_adds", "elementwise_ops")
    assert cost.UNCOSTED_COLUMNS == ("update_divs", "update_sqrts", "update_other_ops")


def _one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and "fix:" in msg
    return msg


def test_validate_missing_column(trace) -> None:
    with pytest.raises(WorkloadError, match="missing column 'wgrad_write_elems'") as e:
        validate(trace.drop(columns=["wgrad_write_elems", "modeled"]))
    assert "and 1 more (modeled)" in _one_line(e)
    validate(trace.drop(columns=["modeled"]), schema.REQUIRED_COLUMNS)  # not required


def test_validate_negative_count(trace) -> None:
    bad = trace.copy()
    bad.loc[bad.index[2], "ifmap_read_elems"] = -4
    bad.loc[bad.index[1], "optstate_read_elems"] = -1  # a later column: the first one is named
    with pytest.raises(WorkloadError, match="'optstate_read_elems' \\(elements\\) has a "
                                            "negative count -1 in row 1") as e:
        validate(bad)
    _one_line(e)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_validate_non_finite_value(trace, value: float) -> None:
    bad = trace.astype({"fwd_macs": float})
    bad.loc[bad.index[0], "fwd_macs"] = value
    with pytest.raises(WorkloadError, match="'fwd_macs' \\(MACs\\) has a non-finite count") as e:
        validate(bad)
    _one_line(e)


def test_validate_positive_element_size_and_unknown_column(trace) -> None:
    bad = trace.copy()
    bad["bytes_per_elem"] = 0
    with pytest.raises(WorkloadError, match="bytes_per_elem must be positive"):
        validate(bad)
    with pytest.raises(WorkloadError, match="unknown trace column 'flops'"):
        validate(trace, ["flops"])


def test_columns_help_lists_every_column_once() -> None:
    lines = schema.columns_help().splitlines()
    assert [ln.split()[0] for ln in lines] == list(schema.COLUMNS)
