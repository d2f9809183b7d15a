"""The one NLDM lookup shared by the library summary and the Liberty reader."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import RegularGridInterpolator

from hwmodel.cells.nldm import NldmTable

SLEW = np.array([0.005, 0.02, 0.08, 0.3])
LOAD = np.array([0.5, 2.0, 8.0])
VALS = np.array([[1.0, 2.0, 5.0], [1.5, 2.5, 6.0], [3.0, 4.5, 9.0], [7.0, 9.0, 15.0]])


def test_grid_points_are_exact():
    t = NldmTable(SLEW, LOAD, VALS)
    for i, s in enumerate(SLEW):
        for j, c in enumerate(LOAD):
            assert t.lookup(s, c) == pytest.approx(VALS[i, j])


def test_inside_matches_scipy_bilinear():
    t = NldmTable(SLEW, LOAD, VALS)
    ref = RegularGridInterpolator((SLEW, LOAD), VALS, method="linear")
    rng = np.random.default_rng(1)
    for s, c in zip(rng.uniform(SLEW[0], SLEW[-1], 200), rng.uniform(LOAD[0], LOAD[-1], 200),
                    strict=True):
        assert t.lookup(s, c) == pytest.approx(float(ref([s, c])[0]), rel=1e-12)


def test_outside_is_linear_extrapolation_of_the_edge_segment():
    t = NldmTable(SLEW, LOAD, VALS)
    # beyond the last load, along the first slew row: slope of the last segment
    slope = (VALS[0, 2] - VALS[0, 1]) / (LOAD[2] - LOAD[1])
    assert t.lookup(SLEW[0], 12.0) == pytest.approx(VALS[0, 2] + slope * 4.0)
    # below the first slew, on the first load column
    slope = (VALS[1, 0] - VALS[0, 0]) / (SLEW[1] - SLEW[0])
    assert t.lookup(0.0, LOAD[0]) == pytest.approx(VALS[0, 0] - slope * SLEW[0])


def test_single_point_axis_is_constant_along_it():
    t = NldmTable(SLEW, np.zeros(1), VALS[:, :1])
    assert t.lookup(0.02, 0.0) == pytest.approx(1.5)
    assert t.lookup(0.02, 100.0) == pytest.approx(1.5)
    assert t.lookup(0.05, 3.0) == pytest.approx(2.25)


def test_bad_tables_are_refused():
    with pytest.raises(ValueError, match="shape"):
        NldmTable(SLEW, LOAD, VALS[:, :2])
    with pytest.raises(ValueError, match="increasing"):
        NldmTable(SLEW[::-1], LOAD, VALS)
