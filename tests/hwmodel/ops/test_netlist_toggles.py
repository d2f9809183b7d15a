"""Yosys-elaborated cell netlist and FST toggle counting on a small user unit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hwmodel.ops.netlist import elaborate, rtl_cell_to_library
from hwmodel.ops.toggles import count_edges, count_toggles, stream_window
from hwmodel.rtlsim import UnitError, load_unit, simulate

from ..rtlsim.test_unit import GOOD, write

pytestmark = pytest.mark.sim


def test_netlist_has_cells_fanout_and_ports(tmp_path: Path) -> None:
    spec = load_unit(write(tmp_path, GOOD))
    net = elaborate(spec, {"W": 4, "LATENCY": 2})
    assert net.cell_counts() == {"rc_dffr": 10, "rc_xor2": 4}  # 2 stages x (4 data + valid)
    xor0 = next(i for i in net.instances if i.name == "g[0].u")
    # The XOR output feeds exactly one flip-flop D pin.
    assert net.fanout[xor0.outputs["Y"]] == [("rc_dffr", "D")]
    assert len(net.port_bits["y"]) == 4
    assert rtl_cell_to_library("rc_fa") == "FA_X1"


def test_non_structural_logic_is_rejected(tmp_path: Path) -> None:
    text = GOOD.replace("rc_xor2 u (.A(a[i]), .B(b[i]), .Y(x[i]));", "assign x[i] = a[i] ^ b[i];")
    spec = load_unit(write(tmp_path, text))
    with pytest.raises(UnitError, match="outside the rc_\\* cells"):
        elaborate(spec, {"W": 4})


def test_toggles_match_operand_hamming_distance(tmp_path: Path) -> None:
    spec = load_unit(write(tmp_path, GOOD))
    rng = np.random.default_rng(5)
    n, warm = 300, 2
    a = rng.integers(0, 256, n + warm, dtype=np.uint64)
    b = rng.integers(0, 256, n + warm, dtype=np.uint64)
    a[:warm], b[:warm] = a[warm], b[warm]
    wave = tmp_path / "w.fst"
    simulate(spec, {"a": a, "b": b}, {"W": 8, "LATENCY": 0}, wave_path=wave)
    window = stream_window(wave, "user_xor", warm, n)
    assert window.clock_period_ps == 1000 and window.end_ps - window.start_ps == n * 1000
    names = [f"user_xor.g[{i}].u.Y" for i in range(8)]
    counts = count_toggles(wave, names, window)
    x = a ^ b
    # Inside the window, output bit i toggles whenever x[k][i] != x[k-1][i].
    expected = [int(np.sum(((x[warm:] ^ x[warm - 1:-1]) >> np.uint64(i)) & np.uint64(1)))
                for i in range(8)]
    assert [counts[nm] for nm in names] == expected
    # the same counter split by edge (the gate-level path's view, strict about X/Z)
    for strict in (False, True):
        rise, fall = count_edges(wave, {i: nm for i, nm in enumerate(names)}, window,
                                 strict=strict)
        assert [rise[i] + fall[i] for i in range(8)] == expected
        assert all(abs(rise[i] - fall[i]) <= 1 for i in range(8))
    with pytest.raises(UnitError, match="has no signal"):
        count_toggles(wave, ["user_xor.nope"], window)
