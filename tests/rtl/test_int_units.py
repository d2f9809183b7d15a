"""Integer RTL units (``rtl/int``) against the bit-exact reference models of ``rtl.model.int_ref``.

Every unit is streamed through Icarus by the cocotb harness (``hwmodel.rtlsim``). Under
``--sim-full`` (``make sim``): int8 units exhaustively (all 65,536 operand pairs, signed and
unsigned), 16/32-bit units with 100,000 random pairs plus all pairs of corner values. Without it a
light subset (2,000 random pairs plus corners) keeps the CI run short.
"""

from __future__ import annotations

import numpy as np
import pytest

import rtl
from hwmodel.rtlsim import load_unit, simulate
from rtl.model.int_ref import add_ref, mac_ref, mul_ref

INT_DIR = rtl.RTL_DIR / "int"
WIDTHS = (8, 16, 32)
FULL_RANDOM = 100_000
LIGHT_RANDOM = 1_000  # CI subset; `make sim` runs FULL_RANDOM (and int8 exhaustively)
UNITS = {"add_rca": add_ref, "add_ks": add_ref, "mul_array": mul_ref, "mul_booth": mul_ref}


def corner_values(w: int) -> np.ndarray:
    """0, +-1, 2, min, min+1, max (signed and unsigned) and alternating bit patterns, as W-bit
    raw patterns."""
    m = (1 << w) - 1
    alt = int("01" * (w // 2), 2) if w >= 2 else 1
    vals = {0, 1, 2, m, m - 1, 1 << (w - 1), (1 << (w - 1)) + 1, (1 << (w - 1)) - 1, alt,
            m ^ alt}
    return np.array(sorted(v & m for v in vals), dtype=np.uint64)


def operand_pairs(w: int, full: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Operand vectors: exhaustive for W = 8 in full mode, otherwise random pairs + corners."""
    if w == 8 and full:
        idx = np.arange(1 << 16, dtype=np.uint64)
        return idx >> np.uint64(8), idx & np.uint64(0xFF)
    c = corner_values(w)
    ca, cb = (x.ravel() for x in np.meshgrid(c, c))
    n = FULL_RANDOM if full else LIGHT_RANDOM
    rng = np.random.default_rng(seed)
    ra = rng.integers(0, 1 << w, n, dtype=np.uint64)
    rb = rng.integers(0, 1 << w, n, dtype=np.uint64)
    return np.concatenate([ca, ra]), np.concatenate([cb, rb])


def _first_mismatch(got: np.ndarray, want: np.ndarray, a: np.ndarray, b: np.ndarray) -> str:
    bad = np.flatnonzero(np.asarray(got != want, dtype=bool))
    if bad.size == 0:
        return ""
    i = int(bad[0])
    return (f"{bad.size} mismatches; first at vector {i}: a=0x{int(a[i]):x} b=0x{int(b[i]):x} "
            f"got 0x{int(got[i]):x} want 0x{int(want[i]):x}")


@pytest.mark.sim
@pytest.mark.parametrize("signed", (0, 1), ids=("u", "s"))
@pytest.mark.parametrize("w", WIDTHS)
@pytest.mark.parametrize("unit", sorted(UNITS))
def test_unit_matches_reference(unit: str, w: int, signed: int, sim_full: bool, sim_log) -> None:
    a, b = operand_pairs(w, sim_full, seed=1000 * w + 10 * signed + len(unit))
    spec = load_unit(INT_DIR / f"{unit}.v")
    res = simulate(spec, {"a": a, "b": b}, params={"W": w, "SIGNED": signed, "LATENCY": 1})
    want = UNITS[unit](a, b, w, bool(signed))
    assert res.vectors == len(a)
    assert res.latency_cycles == 1 and res.ii_cycles == 1
    msg = _first_mismatch(res.y, want, a, b)
    assert not msg, f"{unit} W={w} SIGNED={signed}: {msg}"
    sim_log(f"{unit} W={w} {'signed' if signed else 'unsigned'}", res.vectors, res.sim_wall_s)


def clear_pattern(n: int, seed: int) -> np.ndarray:
    """acc_clr: set on about one vector in 64 (so sums also run long enough to wrap int8
    accumulators), plus the first vector and a run of consecutive clears."""
    rng = np.random.default_rng(seed)
    clr = (rng.random(n) < 1 / 64).astype(np.uint64)
    clr[0] = 1
    clr[n // 2: n // 2 + 3] = 1
    return clr


@pytest.mark.sim
@pytest.mark.parametrize("signed", (0, 1), ids=("u", "s"))
@pytest.mark.parametrize("w", WIDTHS)
def test_mac_matches_reference(w: int, signed: int, sim_full: bool, sim_log) -> None:
    a, b = operand_pairs(w, sim_full, seed=7000 + 1000 * w + signed)
    clr = clear_pattern(len(a), seed=w + signed)
    spec = load_unit(INT_DIR / "mac_int.v")
    res = simulate(spec, {"a": a, "b": b, "acc_clr": clr},
                   params={"W": w, "SIGNED": signed, "LATENCY": 1})
    acc_w = spec.resolve_params({"W": w})["ACC_W"]
    want = mac_ref(a, b, clr, w, bool(signed), acc_w)
    assert res.vectors == len(a)
    msg = _first_mismatch(res.y, want, a, b)
    assert not msg, f"mac_int W={w} SIGNED={signed} ACC_W={acc_w}: {msg}"
    sim_log(f"mac_int W={w} {'signed' if signed else 'unsigned'}", res.vectors, res.sim_wall_s)


@pytest.mark.sim
@pytest.mark.parametrize("latency", (0, 1, 2))
@pytest.mark.parametrize("unit", sorted(UNITS))
def test_measured_latency_equals_parameter(unit: str, latency: int) -> None:
    a, b = operand_pairs(8, False, seed=latency)
    a, b = a[:300], b[:300]
    spec = load_unit(INT_DIR / f"{unit}.v")
    res = simulate(spec, {"a": a, "b": b}, params={"W": 8, "SIGNED": 1, "LATENCY": latency})
    assert (res.latency_cycles, res.ii_cycles) == (latency, 1)
    assert not _first_mismatch(res.y, UNITS[unit](a, b, 8, True), a, b)


@pytest.mark.sim
@pytest.mark.parametrize("latency", (1, 2, 3))
def test_mac_measured_latency_equals_parameter(latency: int) -> None:
    a, b = operand_pairs(8, False, seed=latency)
    a, b = a[:300], b[:300]
    clr = clear_pattern(len(a), seed=latency)
    spec = load_unit(INT_DIR / "mac_int.v")
    res = simulate(spec, {"a": a, "b": b, "acc_clr": clr},
                   params={"W": 8, "SIGNED": 1, "LATENCY": latency})
    assert (res.latency_cycles, res.ii_cycles) == (latency, 1)
    assert not _first_mismatch(res.y, mac_ref(a, b, clr, 8, True, 24), a, b)
