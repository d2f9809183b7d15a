"""Reading Liberty files (:func:`hwmodel.cells.liberty.read_liberty`): units, tables, wire load,
one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hwmodel.cells.liberty import LibertyError, read_liberty
from hwmodel.cells.nldm import NldmTable

from ..ops.test_synth import FIXTURE_LIB


def test_liberty_units_and_tables() -> None:
    lib = read_liberty(FIXTURE_LIB)
    assert lib.voltage_v == pytest.approx(1.1)
    inv = lib.cell("INV_X1")
    assert inv.area_um2 == pytest.approx(0.53)
    assert inv.leakage_nw == pytest.approx(15.0)
    assert inv.pins["A"].capacitance_ff == pytest.approx(0.7)
    arc = inv.pins["Y"].timing[0]
    assert arc.related_pin == "A" and arc.timing_sense == "negative_unate"
    rise = arc.tables["cell_rise"]
    # grid points are exact; the centre is the mean of the four corners (bilinear)
    assert rise.lookup(0.01, 1.0) == pytest.approx(0.019)
    assert rise.lookup(0.1, 10.0) == pytest.approx(0.1)
    assert rise.lookup(0.055, 5.5) == pytest.approx(np.mean(rise.values))
    # internal energy: fF*V^2 = fJ in the file, pJ in the reader
    power = inv.pins["Y"].power[0].tables["rise_power"]
    assert power.lookup(0.01, 1.0) == pytest.approx(0.00092e-3)
    dff = lib.cell("DFFR_X1")
    assert dff.ff == {"next_state": "D", "clocked_on": "CK", "clear": "R"}
    assert dff.clock_pin == "CK"
    # no wire_load group in the fixture: the default energy path's linear wire model is used
    assert "per fan-out" in lib.wire_load_name
    assert lib.wire_cap_ff(0) == 0.0
    assert lib.wire_cap_ff(1) > 0
    assert lib.wire_cap_ff(4) == pytest.approx(4 * lib.wire_cap_ff(1))


def test_table_extrapolates_linearly() -> None:
    t = NldmTable(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([[0.0, 1.0], [1.0, 2.0]]))
    assert t.lookup(2.0, 0.0) == pytest.approx(2.0)
    assert t.lookup(0.0, 3.0) == pytest.approx(3.0)


def test_not_a_liberty_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.lib"
    bad.write_text("module x; endmodule\n")
    with pytest.raises(LibertyError) as err:
        read_liberty(bad)
    assert "\n" not in str(err.value)


def test_malformed_table_is_one_line(tmp_path: Path) -> None:
    text = FIXTURE_LIB.read_text()
    assert 'index_1 ("0.01, 0.1")' in text
    bad = tmp_path / "bad_axis.lib"  # slews in decreasing order: not an NLDM axis
    bad.write_text(text.replace('index_1 ("0.01, 0.1")', 'index_1 ("0.1, 0.01")'))
    with pytest.raises(LibertyError, match="bad_axis.lib: table .* is malformed") as err:
        read_liberty(bad)
    assert "\n" not in str(err.value)
