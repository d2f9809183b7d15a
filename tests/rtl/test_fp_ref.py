"""The floating-point reference models against exact rational arithmetic (no simulator needed).

``fp_ref`` computes in float64 and rounds once (twice for fp32/bf16 sums, argued innocuous in its
docstring); here every result is recomputed with ``fractions.Fraction`` and an integer
round-to-nearest-even, which has no float arithmetic at all.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from rtl.model import fp_ref as R
from rtl.model import fp_stimuli as S

FORMATS = ("fp16", "bf16", "fp32")


def _exact_value(bits: int, f: R.FpFormat) -> Fraction | None:
    """Exact value of a finite bit pattern (None for inf/NaN); -0 is returned as 0."""
    sign = -1 if bits & f.sign_bit else 1
    field = (bits & f.exp_mask) >> f.man_w
    frac = bits & f.man_mask
    if field == (1 << f.exp_w) - 1:
        return None
    if field == 0:
        return sign * Fraction(frac) * Fraction(2) ** (f.emin - f.man_w)
    return sign * Fraction((1 << f.man_w) | frac) * Fraction(2) ** (field - f.bias - f.man_w)


def _exact_round(q: Fraction, negative: bool, f: R.FpFormat) -> int:
    """Integer-only RNE of an exact rational to ``f`` (gradual underflow, overflow to inf)."""
    sign = f.sign_bit if negative else 0
    aq = abs(q)
    if aq == 0:
        return sign
    e = aq.numerator.bit_length() - aq.denominator.bit_length()
    if Fraction(2) ** e > aq:
        e -= 1
    qexp = max(e, f.emin) - f.man_w
    scaled = aq / Fraction(2) ** qexp
    n = scaled.numerator // scaled.denominator
    rem = scaled - n
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n % 2 == 1):
        n += 1
    if n == 1 << (f.man_w + 1):
        n >>= 1
        qexp += 1
    if n >= 1 << f.man_w:
        field = qexp + f.man_w + f.bias
        frac = n - (1 << f.man_w)
    else:
        field, frac = 0, n
    if field >= (1 << f.exp_w) - 1:
        return sign | f.inf
    return sign | (field << f.man_w) | frac


def _exact_op(a: int, b: int, op: str, f: R.FpFormat) -> int | None:
    """Exact reference for finite operands with a finite or overflowing result; None to skip."""
    qa, qb = _exact_value(a, f), _exact_value(b, f)
    if qa is None or qb is None:
        return None
    sa, sb = bool(a & f.sign_bit), bool(b & f.sign_bit)
    if op == "mul":
        return _exact_round(qa * qb, sa != sb, f)
    q = qa + qb
    negative = q < 0 if q != 0 else (sa and sb)   # exact zero sum: -0 only for (-0) + (-0)
    return _exact_round(q, negative, f)


def _vectors(fmt: str, op: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = S.random_pairs(fmt, op, n, rng)
    ta, tb = S.tie_pairs(fmt, op, n // 10, rng)
    sa, sb = S.special_pairs(fmt)
    return np.concatenate([a, ta, sa]), np.concatenate([b, tb, sb])


@pytest.mark.parametrize("op", ["add", "mul"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_reference_matches_exact_rational_rounding(fmt: str, op: str) -> None:
    f = R.get_format(fmt)
    a, b = _vectors(fmt, op, 4000, seed=11)
    got = (R.fp_add_ref if op == "add" else R.fp_mul_ref)(a, b, f)
    checked = 0
    for ai, bi, gi in zip(a.tolist(), b.tolist(), got.tolist(), strict=True):
        want = _exact_op(ai, bi, op, f)
        if want is None:
            continue
        checked += 1
        assert gi == want, f"{fmt} {op}: a={ai:#x} b={bi:#x} ref={gi:#x} exact={want:#x}"
    assert checked > 4000


@pytest.mark.parametrize("fmt", ["fp32", "bf16"])
def test_fp32_bf16_sums_with_large_exponent_gaps(fmt: str) -> None:
    """Sums that are inexact in float64 (double rounding) still round correctly."""
    f = R.get_format(fmt)
    rng = np.random.default_rng(3)
    n = 3000
    ea = rng.integers(60, 250, n)
    a = S.pack(f, rng.integers(0, 2, n), ea, rng.integers(0, 1 << f.man_w, n))
    b = S.pack(f, rng.integers(0, 2, n), ea - rng.integers(53 - f.man_w, 90 - f.man_w, n),
               rng.integers(0, 1 << f.man_w, n))
    xa, xb = R.decode(a, f), R.decode(b, f)
    assert np.count_nonzero((xa + xb) - xa != xb) > n // 2   # float64 sum really is inexact
    got = R.fp_add_ref(a, b, f)
    for ai, bi, gi in zip(a.tolist(), b.tolist(), got.tolist(), strict=True):
        assert gi == _exact_op(ai, bi, "add", f)


@pytest.mark.parametrize("fmt", ["fp16", "fp32"])
def test_generic_rounding_matches_numpy_casts(fmt: str) -> None:
    """``round_to_format`` (used for bf16) agrees with numpy's float16/float32 conversion."""
    f = R.get_format(fmt)
    rng = np.random.default_rng(5)
    x = np.ldexp(rng.random(200_000) * 2 - 1, rng.integers(-160, 140, 200_000))
    x = np.concatenate([x, [0.0, -0.0, np.inf, -np.inf, np.nan]])
    with np.errstate(over="ignore"):
        narrow = x.astype(np.float16 if fmt == "fp16" else np.float32)
    want = narrow.view(np.uint16 if fmt == "fp16" else np.uint32).astype(np.uint64)
    want = np.where(np.isnan(x), np.uint64(f.qnan), want)
    assert np.array_equal(R.round_to_format(x, f), want)


@pytest.mark.parametrize("fmt", FORMATS)
def test_special_rules(fmt: str) -> None:
    f = R.get_format(fmt)
    one = f.bias << f.man_w
    pz, nz, inf, ninf = 0, f.sign_bit, f.inf, f.sign_bit | f.inf

    def add(x, y, **kw):
        return int(R.fp_add_ref([x], [y], f, **kw)[0])

    def mul(x, y, **kw):
        return int(R.fp_mul_ref([x], [y], f, **kw)[0])

    assert add(pz, nz) == pz and add(nz, nz) == nz and add(one, one | f.sign_bit) == pz
    assert add(inf, ninf) == f.qnan and mul(inf, pz) == f.qnan and mul(nz, ninf) == f.qnan
    assert add(f.exp_mask | 1, one) == f.qnan          # signalling NaN in, canonical qNaN out
    assert mul(f.sign_bit | f.qnan | 3, one) == f.qnan
    assert mul(nz, one) == nz and mul(ninf, ninf) == inf
    assert add(f.max_finite, f.max_finite) == inf
    assert mul(1, one) == 1                              # subnormal kept (FTZ=0) ...
    assert mul(1, one, ftz=True) == pz                   # ... flushed with FTZ=1
    assert mul(f.sign_bit | 1, one, ftz=True) == nz      # flushed zero keeps its sign
    # smallest normal / 2 is subnormal: kept, or flushed with FTZ
    half = one - (1 << f.man_w)
    assert mul(1 << f.man_w, half) == 1 << (f.man_w - 1)
    assert mul(1 << f.man_w, half, ftz=True) == pz


def test_mac_reference_sequence() -> None:
    f = R.FP16
    one = f.bias << f.man_w
    two = one + (1 << f.man_w)
    a = np.array([one, one, two, f.sign_bit, one], dtype=np.uint64)
    b = np.array([one, one, two, one, f.inf], dtype=np.uint64)
    clr = np.array([1, 0, 0, 1, 0])
    got = R.fp_mac_ref(a, b, clr, f)
    three = one + (1 << f.man_w) + (1 << (f.man_w - 1))      # 1 + 1 = 2, 2 + 4 = 6
    six = three + (1 << f.man_w)
    assert got.tolist() == [one, two, six, 0, f.inf]          # clear with -0 product gives +0


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncating_reference_differs(fmt: str) -> None:
    """The broken (truncating) reference really differs from RNE on the test vectors."""
    f = R.get_format(fmt)
    a, b = _vectors(fmt, "mul", 2000, seed=2)
    good = R.fp_mul_ref(a, b, f)
    bad = R.fp_mul_ref(a, b, f, rounding="trunc")
    assert R.mismatches(bad, good, f).sum() > 100


def test_bad_arguments() -> None:
    with pytest.raises(R.FpRefError, match="unknown fp format"):
        R.get_format("fp8")
    with pytest.raises(R.FpRefError, match="unknown rounding"):
        R.fp_add_ref([0], [0], "fp16", rounding="up")
    with pytest.raises(R.FpRefError, match="shapes differ"):
        R.fp_mul_ref([0, 1], [0], "fp16")
    with pytest.raises(R.FpRefError, match="unknown operation"):
        S.random_pairs("fp16", "div", 10, np.random.default_rng(0))
    assert math.isinf(R.decode(np.array([R.FP16.inf]), "fp16")[0])
