"""Floating-point RTL units (``rtl/fp/``) simulated on Icarus, checked bit for bit against
``rtl.model.fp_ref``.

Per unit and format: the cross product of every special class, exact-tie pairs and random pairs
from ``rtl.model.fp_stimuli`` (>= 100,000 random pairs under ``make sim``; a light subset in CI).
FTZ = 1 and the LATENCY variants run on smaller sets. A deliberately broken reference (truncation
instead of round-to-nearest-even) must disagree with the same RTL outputs.

The long runs use LATENCY = 1 (fp_add, fp_mul) and 3 (fp_mac): the register between the front
half and the normalise/round back end stops the front half's zero-delay glitches from rippling
through the back end, which makes the event-driven simulation several times faster (fp32
multiplier: ~10 ms of Icarus CPU time per vector combinational, ~3 ms with the register).
LATENCY = 0 (pure combinational) and deeper pipelines are checked by ``test_latency_variants``.
"""

from __future__ import annotations

import shutil
import zlib
from dataclasses import dataclass

import numpy as np
import pytest

import rtl
from rtl.model import fp_ref as R
from rtl.model import fp_stimuli as S

pytestmark = [
    pytest.mark.sim,
    pytest.mark.skipif(shutil.which("iverilog") is None,
                       reason="Icarus Verilog (iverilog) not installed; run `make setup`"),
]

FORMATS = ("fp16", "bf16", "fp32")
UNITS = ("fp_add", "fp_mul")
OP = {"fp_add": "add", "fp_mul": "mul"}
MAIN_LATENCY = {"fp_add": 1, "fp_mul": 1, "fp_mac": 3}

FULL_RANDOM = 100_000
FULL_TIES = 5_000
FULL_FTZ = 20_000
CI_RANDOM = {"fp16": 1_500, "bf16": 1_500, "fp32": 1_000}
CI_TIES = 200
CI_FTZ = 400

# rounding_cases classes every add / mul run must contain
NEEDED = {
    "add": ("tie", "inexact", "overflow", "subnormal", "nan", "inf", "zero"),
    "mul": ("tie", "inexact", "overflow", "subnormal", "underflow_zero", "nan", "inf", "zero"),
}


@dataclass
class Run:
    """One simulation: operands, RTL outputs and the harness result."""

    a: np.ndarray
    b: np.ndarray
    clr: np.ndarray | None
    y: np.ndarray
    latency_cycles: int
    ii_cycles: int
    sim_wall_s: float


_RUNS: dict[tuple, Run] = {}


def _seed(*key) -> int:
    return zlib.crc32(repr(key).encode())


def _binop_vectors(fmt: str, op: str, n_random: int, n_ties: int, seed: int):
    rng = np.random.default_rng(seed)
    sa, sb = S.special_pairs(fmt)
    ta, tb = S.tie_pairs(fmt, op, n_ties, rng)
    ra, rb = S.random_pairs(fmt, op, n_random, rng)
    return np.concatenate([sa, ta, ra]), np.concatenate([sb, tb, rb])


def _mac_vectors(fmt: str, n_random: int, seed: int):
    rng = np.random.default_rng(seed)
    sa, sb = S.special_pairs(fmt)
    sclr = (rng.random(len(sa)) < 1 / 3).astype(np.uint64)
    ra, rb, rclr = S.mac_stream(fmt, n_random, rng)
    return np.concatenate([sa, ra]), np.concatenate([sb, rb]), np.concatenate([sclr, rclr])


def _simulate(unit: str, fmt: str, ftz: int, latency: int, n_random: int, n_ties: int,
              sim_log=None) -> Run:
    """Simulate (or reuse) one configuration; records it in ``sim_log`` when it really ran."""
    from hwmodel.rtlsim import load_unit, simulate

    key = (unit, fmt, ftz, latency, n_random, n_ties)
    if key in _RUNS:
        return _RUNS[key]
    f = R.get_format(fmt)
    if unit == "fp_mac":
        a, b, clr = _mac_vectors(fmt, n_random, _seed(*key))
        inputs = {"a": a, "b": b, "acc_clr": clr}
    else:
        a, b = _binop_vectors(fmt, OP[unit], n_random, n_ties, _seed(*key))
        clr = None
        inputs = {"a": a, "b": b}
    spec = load_unit(rtl.RTL_DIR / "fp" / f"{unit}.v")
    res = simulate(spec, inputs, params={**f.params, "FTZ": ftz, "LATENCY": latency})
    run = Run(a, b, clr, np.asarray(res.y, dtype=np.uint64), res.latency_cycles, res.ii_cycles,
              res.sim_wall_s)
    _RUNS[key] = run
    if sim_log is not None:
        label = f"{unit} {fmt}" + (" FTZ" if ftz else "") + f" L{latency}"
        sim_log(label, len(a), res.sim_wall_s)
    return run


def _reference(unit: str, run: Run, fmt: str, ftz: int, rounding: str = "rne") -> np.ndarray:
    if unit == "fp_add":
        return R.fp_add_ref(run.a, run.b, fmt, ftz=bool(ftz), rounding=rounding)
    if unit == "fp_mul":
        return R.fp_mul_ref(run.a, run.b, fmt, ftz=bool(ftz), rounding=rounding)
    return R.fp_mac_ref(run.a, run.b, run.clr, fmt, ftz=bool(ftz), rounding=rounding)


def _assert_matches(unit: str, fmt: str, ftz: int, run: Run) -> np.ndarray:
    want = _reference(unit, run, fmt, ftz)
    bad = R.mismatches(run.y, want, fmt)
    if bad.any():
        f = R.get_format(fmt)
        w = (f.nbits + 3) // 4
        rows = [f"a={int(run.a[i]):0{w}x} b={int(run.b[i]):0{w}x}"
                + (f" clr={int(run.clr[i])}" if run.clr is not None else "")
                + f" rtl={int(run.y[i]):0{w}x} ref={int(want[i]):0{w}x}"
                for i in np.flatnonzero(bad)[:8]]
        pytest.fail(f"{unit} {fmt} FTZ={ftz}: {int(bad.sum())} of {len(bad)} outputs differ "
                    "from the reference:\n  " + "\n  ".join(rows))
    return want


def _sizes(sim_full: bool, fmt: str) -> tuple[int, int]:
    return (FULL_RANDOM, FULL_TIES) if sim_full else (CI_RANDOM[fmt], CI_TIES)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("unit", UNITS)
def test_unit_matches_ieee_reference(unit: str, fmt: str, sim_full: bool, sim_log) -> None:
    n_random, n_ties = _sizes(sim_full, fmt)
    lat = MAIN_LATENCY[unit]
    run = _simulate(unit, fmt, 0, lat, n_random, n_ties, sim_log)
    assert run.latency_cycles == lat and run.ii_cycles == 1
    assert len(run.y) >= n_random + n_ties + len(S.special_values(fmt)) ** 2
    _assert_matches(unit, fmt, 0, run)
    # the vectors really exercise every rounding / special class
    xa, xb = R.decode(run.a, fmt), R.decode(run.b, fmt)
    with np.errstate(invalid="ignore", over="ignore"):
        exact = xa + xb if unit == "fp_add" else xa * xb
    cases = R.rounding_cases(exact, fmt)
    missing = [c for c in NEEDED[OP[unit]] if not cases[c].any()]
    assert not missing, f"{unit} {fmt}: vectors never hit {missing}"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("unit", UNITS)
def test_unit_flush_to_zero(unit: str, fmt: str, sim_full: bool, sim_log) -> None:
    n_random = FULL_FTZ if sim_full else CI_FTZ
    run = _simulate(unit, fmt, 1, MAIN_LATENCY[unit], n_random, CI_TIES, sim_log)
    _assert_matches(unit, fmt, 1, run)
    f = R.get_format(fmt)
    exp_field = run.y & np.uint64(f.exp_mask)
    frac = run.y & np.uint64(f.man_mask)
    assert not ((exp_field == 0) & (frac != 0)).any(), "FTZ=1 produced a subnormal"


@pytest.mark.parametrize("fmt", FORMATS)
def test_mac_matches_unfused_reference(fmt: str, sim_full: bool, sim_log) -> None:
    n_random = FULL_RANDOM if sim_full else CI_RANDOM[fmt]
    lat = MAIN_LATENCY["fp_mac"]
    run = _simulate("fp_mac", fmt, 0, lat, n_random, 0, sim_log)
    assert run.latency_cycles == lat and run.ii_cycles == 1
    want = _assert_matches("fp_mac", fmt, 0, run)
    # accumulations really chain: many outputs are neither a bare product nor special
    f = R.get_format(fmt)
    prod = R.fp_mul_ref(run.a, run.b, fmt)
    chained = (run.clr == 0) & (want != prod) & ((want & np.uint64(f.exp_mask))
                                                 != np.uint64(f.exp_mask))
    assert chained.sum() > len(want) // 4


@pytest.mark.parametrize("fmt", FORMATS)
def test_mac_flush_to_zero(fmt: str, sim_full: bool, sim_log) -> None:
    n_random = FULL_FTZ if sim_full else CI_FTZ
    run = _simulate("fp_mac", fmt, 1, MAIN_LATENCY["fp_mac"], n_random, 0, sim_log)
    _assert_matches("fp_mac", fmt, 1, run)


@pytest.mark.parametrize(("unit", "latency", "fmt"), [
    ("fp_add", 0, "fp16"), ("fp_add", 3, "fp16"), ("fp_mul", 0, "fp16"), ("fp_mul", 2, "fp16"),
    ("fp_mul", 4, "fp16"), ("fp_mac", 1, "fp16"), ("fp_mac", 2, "fp16"), ("fp_mac", 5, "fp16"),
    ("fp_add", 0, "fp32"), ("fp_mul", 0, "fp32"), ("fp_mac", 1, "fp32"),
])
def test_latency_variants(unit: str, latency: int, fmt: str, sim_log) -> None:
    """Every LATENCY gives the same results, exactly LATENCY cycles late, one per cycle."""
    run = _simulate(unit, fmt, 0, latency, 300, 50, sim_log)
    assert run.latency_cycles == latency
    assert run.ii_cycles == 1
    _assert_matches(unit, fmt, 0, run)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("unit", [*UNITS, "fp_mac"])
def test_broken_reference_is_detected(unit: str, fmt: str, sim_full: bool, sim_log) -> None:
    """Against a truncating reference the very same RTL outputs mismatch: the comparison in
    these tests can fail, and the RTL really rounds to nearest even."""
    n_random, n_ties = _sizes(sim_full, fmt)
    if unit == "fp_mac":
        n_ties = 0
    run = _simulate(unit, fmt, 0, MAIN_LATENCY[unit], n_random, n_ties, sim_log)
    good = _reference(unit, run, fmt, 0, "rne")
    broken = _reference(unit, run, fmt, 0, "trunc")
    assert not R.mismatches(run.y, good, fmt).any()
    n_bad = int(R.mismatches(run.y, broken, fmt).sum())
    assert n_bad > len(run.y) // 20, f"truncating reference differs on only {n_bad} outputs"
