"""Analytical SRAM model: physics sanity, trends, organization, vectorisation, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwmodel.sram import SramInputError, parse_size, sram, sweep, tech
from hwmodel.sram.__main__ import main

CAPS = 2 ** np.arange(12, 23)  # 4 KiB .. 4 MiB


@pytest.mark.parametrize("word", [32, 64, 256])
def test_scaling_trends_with_capacity(word: int) -> None:
    df = sweep(CAPS, word)
    for col in ("read_energy_pj", "access_time_ns", "leakage_mw", "area_mm2"):
        v = df[col].to_numpy()
        assert np.all(np.diff(v) > 0), f"{col} must grow with capacity: {v}"
    # area per bit falls towards the cell area as arrays grow (periphery amortised)
    per_bit = df["area_mm2"].to_numpy() * 1e6 / (CAPS * 8)
    d = tech.derive(45, "hp", 360.0)
    assert per_bit.min() > d.cell_w_um * d.cell_h_um
    assert per_bit[-1] < 1.5 * d.cell_w_um * d.cell_h_um


def test_wider_word_costs_more_energy_per_access() -> None:
    e = sweep(65536, [32, 64, 128, 256])["read_energy_pj"].to_numpy()
    assert np.all(np.diff(e) > 0)


def test_leakage_is_dominated_by_cells_and_follows_itrs_off_current() -> None:
    """Leakage of a large array / bits ~ Vdd * Ioff * (pull-down + pull-up + access widths)."""
    r = sram(4 * 2**20, 64)
    d = tech.derive(45, "hp", 360.0)
    f = d.f_um
    w = (tech.CELL_W_NMOS_F + tech.CELL_W_PMOS_F + tech.CELL_W_ACCESS_F) * f
    per_cell_w = d.vdd * (d.ioff_a_per_um * w + d.igate_a_per_um * (w - tech.CELL_W_ACCESS_F * f))
    cells_mw = per_cell_w * 4 * 2**20 * 8 * 1e3
    assert cells_mw < r.leakage_mw < 1.15 * cells_mw


def test_organization_holds_the_capacity() -> None:
    df = sweep(CAPS, 64)
    bits = df.mats * 4 * df.subarray_rows * df.subarray_cols
    assert (bits >= CAPS * 8).all()
    assert (df.subarray_cols == df.col_mux * 16).all()  # cols = mux x word/4
    assert (df.col_mux >= 2).all()


def test_sweep_matches_single_points() -> None:
    df = sweep([4096, 65536, 2**20], [64, 256, 128])
    for _, row in df.iterrows():
        r = sram(int(row.capacity_bytes), int(row.word_bits))
        assert r.read_energy_pj == pytest.approx(row.read_energy_pj)
        assert r.area_mm2 == pytest.approx(row.area_mm2)
        assert r.organization.subarray_rows == row.subarray_rows


def test_nodes_flavours_temperature_ports_banks() -> None:
    base = sram("64KiB", 64)
    areas = [sram("64KiB", 64, node=n).area_mm2 for n in (32, 45, 65, 90)]
    assert np.all(np.diff(areas) > 0), areas  # area scales with F^2
    lp = sram("64KiB", 64, flavour="lp")
    assert lp.leakage_mw < base.leakage_mw / 100  # ITRS LSTP off current ~1000x lower
    assert lp.access_time_ns > base.access_time_ns
    assert sram("64KiB", 64, temp_k=300).leakage_mw < base.leakage_mw
    two = sram("64KiB", 64, rw_ports=2)
    assert two.area_mm2 > base.area_mm2 and two.leakage_mw > base.leakage_mw
    banked = sram("1MiB", 64, banks=4)
    single = sram("1MiB", 64)
    assert banked.read_energy_pj < single.read_energy_pj  # one small bank is accessed
    assert banked.area_mm2 > 0.9 * single.area_mm2


def test_parse_size() -> None:
    assert parse_size("64KiB") == 65536
    assert parse_size("4MiB") == 4 * 2**20
    assert parse_size("1kB") == 1000
    assert parse_size(4096) == 4096
    assert parse_size("4096") == 4096


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        (dict(capacity_bytes=-4096, word_bits=64), "capacity"),
        (dict(capacity_bytes=0, word_bits=64), "capacity"),
        (dict(capacity_bytes=4096.5, word_bits=64), "capacity"),
        (dict(capacity_bytes=4096, word_bits=0), "word_bits"),
        (dict(capacity_bytes=4096, word_bits=12.5), "word_bits"),
        (dict(capacity_bytes=4, word_bits=64), "word_bits"),
        (dict(capacity_bytes=100, word_bits=64), "capacity"),
        (dict(capacity_bytes=16, word_bits=64), "no feasible organization"),
        (dict(capacity_bytes=4096, word_bits=64, node=22), "node"),
        (dict(capacity_bytes=4096, word_bits=64, flavour="ulp"), "flavour"),
        (dict(capacity_bytes=4096, word_bits=64, temp_k=250), "temperature"),
        (dict(capacity_bytes=4096, word_bits=64, banks=3), "banks"),
        (dict(capacity_bytes=4096, word_bits=64, rw_ports=0), "ports"),
    ],
)
def test_bad_input_names_the_parameter(kwargs: dict, needle: str) -> None:
    cap = kwargs.pop("capacity_bytes")
    word = kwargs.pop("word_bits")
    with pytest.raises(SramInputError, match=needle) as ei:
        sram(cap, word, **kwargs)
    assert "\n" not in str(ei.value)


def test_bad_size_strings() -> None:
    for text in ("-5", "1.5B", "lots", "64XB"):
        with pytest.raises(SramInputError, match="capacity"):
            parse_size(text)


def test_cli_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--capacity", "64KiB", "--word-bits", "64", "--node", "45"]) == 0
    out = capsys.readouterr().out
    assert "read energy" in out and "organization" in out
    assert main(["--capacity", "64KiB", "--word-bits", "64", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    r = sram(65536, 64)
    assert data["model"]["read_energy_pj"] == pytest.approx(r.read_energy_pj)
    assert data["model"]["subarray_rows"] == r.organization.subarray_rows


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--capacity", "0", "--word-bits", "64"], "capacity"),
        (["--capacity", "64KiB", "--word-bits", "64", "--node", "28"], "node"),
        (["--capacity", "8", "--word-bits", "128"], "word_bits"),
    ],
)
def test_cli_errors_are_one_line(argv: list[str], needle: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        main(argv)
    assert ei.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("python -m hwmodel.sram: error: ") and needle in err
