"""Bit-exact reference models of the floating-point RTL units (``rtl/fp/``).

All functions take and return raw bit patterns (``np.uint64`` arrays) of one binary format and
follow the RTL conventions:

* rounding: IEEE-754 round to nearest, ties to even (``rounding="rne"``). ``rounding="trunc"``
  is a deliberately broken variant (round toward zero) used to show that the RTL tests detect a
  wrong reference;
* every NaN result is the canonical quiet NaN: sign 0, exponent all ones, fraction MSB 1, the
  other fraction bits 0 (``FpFormat.qnan``);
* ``ftz=False``: full gradual underflow. ``ftz=True``: subnormal operands are read as zero of the
  same sign and results that are subnormal after rounding become zero of the same sign.

How the exact result is rounded once
------------------------------------
Operands are decoded exactly to float64, the operation is done in float64, then the float64
value is rounded to the target format.

* Products: a (p+1)-bit by (p+1)-bit significand product needs at most 2*24 = 48 bits for fp32,
  and every exponent of a product of fp16/bf16/fp32 numbers (down to 2^-298) is inside the
  float64 normal range, so the float64 product is exact and the final rounding is the only one.
* fp16 sums: both operands are multiples of 2^-24 below 2^16, so the sum fits in 40 bits: exact.
* fp32 and bf16 sums can be inexact in float64 (exponent gaps up to ~280), so there are two
  roundings (to 53 bits, then to p bits). Double rounding is innocuous for +, -, *, / and sqrt
  when the intermediate precision is at least 2p + 2 bits (S. A. Figueroa, "When is double
  rounding innocuous?", ACM SIGNUM Newsletter 30(3), 1995): 53 >= 2*24 + 2 = 50 (fp32) and
  53 >= 2*8 + 2 = 18 (bf16). Results in the target's subnormal range are exact sums (both
  operands are multiples of the smallest subnormal), so gradual underflow adds no error.
  ``tests/rtl/test_fp_ref.py`` checks all of this against exact rational arithmetic.

fp16 and fp32 use numpy's float64 -> float16 / float32 conversion (correctly rounded, RNE, with
subnormals); bf16 (and the broken variant for every format) use ``round_to_format``, a generic
RNE routine from the float64 value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class FpRefError(ValueError):
    """Bad argument to a reference model (unknown format or rounding mode, shape mismatch)."""


@dataclass(frozen=True)
class FpFormat:
    """A binary floating-point format: ``exp_w`` exponent bits, ``man_w`` fraction bits."""

    name: str
    exp_w: int
    man_w: int

    @property
    def nbits(self) -> int:
        return 1 + self.exp_w + self.man_w

    @property
    def bias(self) -> int:
        return (1 << (self.exp_w - 1)) - 1

    @property
    def emin(self) -> int:
        """Unbiased exponent of the smallest normal number."""
        return 1 - self.bias

    @property
    def emax(self) -> int:
        """Unbiased exponent of the largest finite number."""
        return (1 << self.exp_w) - 2 - self.bias

    @property
    def exp_mask(self) -> int:
        return ((1 << self.exp_w) - 1) << self.man_w

    @property
    def man_mask(self) -> int:
        return (1 << self.man_w) - 1

    @property
    def sign_bit(self) -> int:
        return 1 << (self.exp_w + self.man_w)

    @property
    def qnan(self) -> int:
        """Canonical quiet NaN produced by the RTL: sign 0, exponent all ones, fraction 10..0."""
        return self.exp_mask | (1 << (self.man_w - 1))

    @property
    def inf(self) -> int:
        return self.exp_mask

    @property
    def max_finite(self) -> int:
        return (((1 << self.exp_w) - 2) << self.man_w) | self.man_mask

    @property
    def params(self) -> dict[str, int]:
        """Verilog parameters selecting this format on ``fp_add`` / ``fp_mul`` / ``fp_mac``."""
        return {"EXP_W": self.exp_w, "MAN_W": self.man_w}


FP16 = FpFormat("fp16", 5, 10)
BF16 = FpFormat("bf16", 8, 7)
FP32 = FpFormat("fp32", 8, 23)
FORMATS: dict[str, FpFormat] = {f.name: f for f in (FP16, BF16, FP32)}

ROUNDINGS = ("rne", "trunc")


def get_format(fmt: str | FpFormat) -> FpFormat:
    """Look a format up by name (``fp16``, ``bf16``, ``fp32``)."""
    if isinstance(fmt, FpFormat):
        return fmt
    try:
        return FORMATS[fmt]
    except KeyError:
        raise FpRefError(f"unknown fp format {fmt!r}; use one of {sorted(FORMATS)}") from None


def _check_rounding(rounding: str) -> None:
    if rounding not in ROUNDINGS:
        raise FpRefError(f"unknown rounding {rounding!r}; use one of {ROUNDINGS}")


def _bits(x: np.ndarray | list[int] | int, f: FpFormat) -> np.ndarray:
    arr = np.asarray(x, dtype=np.uint64)
    return arr & np.uint64((1 << f.nbits) - 1)


def decode(bits: np.ndarray, fmt: str | FpFormat) -> np.ndarray:
    """Exact float64 values of raw bit patterns (NaN payloads are not kept)."""
    f = get_format(fmt)
    b = _bits(bits, f)
    with np.errstate(invalid="ignore"):
        if f == FP16:
            return b.astype(np.uint16).view(np.float16).astype(np.float64)
        if f == FP32:
            return b.astype(np.uint32).view(np.float32).astype(np.float64)
        if f == BF16:
            return (b.astype(np.uint32) << np.uint32(16)).view(np.float32).astype(np.float64)
    # generic decode for other formats
    sign = np.where(b & np.uint64(f.sign_bit), -1.0, 1.0)
    field = ((b & np.uint64(f.exp_mask)) >> np.uint64(f.man_w)).astype(np.int64)
    frac = (b & np.uint64(f.man_mask)).astype(np.float64)
    normal = np.ldexp(1.0 + frac / (1 << f.man_w), field - f.bias)
    sub = np.ldexp(frac, f.emin - f.man_w)
    val = np.where(field == 0, sub, normal)
    top = field == (1 << f.exp_w) - 1
    val = np.where(top, np.where(frac == 0, np.inf, np.nan), val)
    return sign * val


def flush_subnormals(bits: np.ndarray, fmt: str | FpFormat) -> np.ndarray:
    """Replace subnormal bit patterns by zero of the same sign (the FTZ=1 operand/result rule)."""
    f = get_format(fmt)
    b = _bits(bits, f)
    tiny = (b & np.uint64(f.exp_mask)) == 0
    return np.where(tiny, b & np.uint64(f.sign_bit), b)


def round_to_format(x: np.ndarray, fmt: str | FpFormat, rounding: str = "rne") -> np.ndarray:
    """Round float64 values to ``fmt`` and return bit patterns.

    ``rounding="rne"``: round to nearest, ties to even, overflow to infinity, gradual underflow.
    ``rounding="trunc"``: round toward zero (overflow gives the largest finite number).
    NaN becomes the canonical quiet NaN; signed zeros and infinities are kept.
    """
    _check_rounding(rounding)
    f = get_format(fmt)
    x = np.asarray(x, dtype=np.float64)
    neg = np.signbit(x)
    nan = np.isnan(x)
    inf = np.isinf(x)
    ax = np.where(np.isfinite(x), np.abs(x), 0.0)
    _, e = np.frexp(ax)                      # ax = m * 2^e, m in [0.5, 1)
    qexp = np.maximum(e - 1, f.emin) - f.man_w   # exponent of one unit in the last place
    scaled = np.ldexp(ax, -qexp)             # exact (power-of-two scaling), < 2^(man_w + 1)
    r = np.rint(scaled) if rounding == "rne" else np.trunc(scaled)
    carry = r >= float(1 << (f.man_w + 1))
    r = np.where(carry, r / 2, r)
    qexp = qexp + carry
    normal = r >= float(1 << f.man_w)
    field = np.where(normal, qexp + f.man_w + f.bias, 0).astype(np.int64)
    frac = np.where(normal, r - float(1 << f.man_w), r).astype(np.uint64)
    out = (field.astype(np.uint64) << np.uint64(f.man_w)) | frac
    ovf = field >= (1 << f.exp_w) - 1
    out = np.where(ovf, np.uint64(f.inf if rounding == "rne" else f.max_finite), out)
    out = np.where(inf, np.uint64(f.inf), out)
    out = out | np.where(neg, np.uint64(f.sign_bit), np.uint64(0))
    return np.where(nan, np.uint64(f.qnan), out).astype(np.uint64)


def rounding_cases(x: np.ndarray, fmt: str | FpFormat) -> dict[str, np.ndarray]:
    """Classify float64 results by what rounding them to ``fmt`` exercises (for test coverage).

    Masks: ``tie`` (exactly halfway between two neighbours), ``inexact``, ``overflow`` (rounds
    to infinity), ``subnormal`` (nonzero, rounds into the subnormal range), ``underflow_zero``
    (nonzero, rounds to zero), ``nan``, ``inf`` (infinite before rounding), ``zero`` (exact 0).
    """
    f = get_format(fmt)
    x = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(x)
    ax = np.where(finite, np.abs(x), 0.0)
    _, e = np.frexp(ax)
    qexp = np.maximum(e - 1, f.emin) - f.man_w
    scaled = np.ldexp(ax, -qexp)
    frac = scaled - np.floor(scaled)
    out = round_to_format(x, f, "rne")
    field = (out & np.uint64(f.exp_mask)) >> np.uint64(f.man_w)
    nonzero = finite & (ax > 0)
    rounded_zero = (out & np.uint64(f.exp_mask | f.man_mask)) == 0
    return {
        "tie": nonzero & (frac == 0.5),
        "inexact": nonzero & (frac != 0.0),
        "overflow": finite & (out & np.uint64(f.exp_mask | f.man_mask) == np.uint64(f.inf)),
        "subnormal": nonzero & (field == 0) & ~rounded_zero,
        "underflow_zero": nonzero & rounded_zero,
        "nan": np.isnan(x),
        "inf": np.isinf(x),
        "zero": finite & (ax == 0),
    }


def _round_result(x: np.ndarray, f: FpFormat, rounding: str, ftz: bool) -> np.ndarray:
    """One rounding of the float64 result, then NaN canonicalisation and optional flush."""
    if rounding == "rne" and f in (FP16, FP32):
        with np.errstate(over="ignore", invalid="ignore"):
            narrow = x.astype(np.float16 if f == FP16 else np.float32)
        utype = np.uint16 if f == FP16 else np.uint32
        out = narrow.view(utype).astype(np.uint64)
        out = np.where(np.isnan(x), np.uint64(f.qnan), out)
    else:
        out = round_to_format(x, f, rounding)
    if ftz:
        out = flush_subnormals(out, f)
    return out.astype(np.uint64)


def _operands(a, b, f: FpFormat, ftz: bool) -> tuple[np.ndarray, np.ndarray]:
    a = _bits(a, f)
    b = _bits(b, f)
    if a.shape != b.shape:
        raise FpRefError(f"operand shapes differ: a {a.shape} vs b {b.shape}; pass equal lengths")
    if ftz:
        a, b = flush_subnormals(a, f), flush_subnormals(b, f)
    return decode(a, f), decode(b, f)


def fp_add_ref(a, b, fmt: str | FpFormat, *, ftz: bool = False,
               rounding: str = "rne") -> np.ndarray:
    """Bit patterns of round(a + b) as computed by ``rtl/fp/fp_add.v``."""
    _check_rounding(rounding)
    f = get_format(fmt)
    xa, xb = _operands(a, b, f, ftz)
    with np.errstate(invalid="ignore", over="ignore"):
        s = xa + xb
    return _round_result(s, f, rounding, ftz)


def fp_mul_ref(a, b, fmt: str | FpFormat, *, ftz: bool = False,
               rounding: str = "rne") -> np.ndarray:
    """Bit patterns of round(a * b) as computed by ``rtl/fp/fp_mul.v``."""
    _check_rounding(rounding)
    f = get_format(fmt)
    xa, xb = _operands(a, b, f, ftz)
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        p = xa * xb
    return _round_result(p, f, rounding, ftz)


def _round_scalar(x: float, f: FpFormat, rounding: str, ftz: bool) -> float:
    """Scalar twin of ``round_to_format`` returning the rounded value as a float64."""
    if math.isnan(x) or math.isinf(x) or x == 0.0:
        return x
    ax = abs(x)
    _, e = math.frexp(ax)
    qexp = max(e - 1, f.emin) - f.man_w
    scaled = math.ldexp(ax, -qexp)
    r = round(scaled) if rounding == "rne" else math.trunc(scaled)   # round(): ties to even
    val = math.ldexp(r, qexp)
    max_val = math.ldexp((1 << (f.man_w + 1)) - 1, f.emax - f.man_w)
    if val > max_val:
        val = math.inf if rounding == "rne" else max_val
    if ftz and val < math.ldexp(1.0, f.emin):
        val = 0.0
    return math.copysign(val, x)


def fp_mac_ref(a, b, clr, fmt: str | FpFormat, *, ftz: bool = False,
               rounding: str = "rne") -> np.ndarray:
    """Accumulator values after each input of ``rtl/fp/fp_mac.v`` (unfused MAC).

    For input i: ``acc = round((0 if clr[i] else acc) + round(a[i] * b[i]))`` where the cleared
    accumulator is +0 (so a product of -0 after a clear gives +0). Returns acc after every input.
    """
    _check_rounding(rounding)
    f = get_format(fmt)
    p = fp_mul_ref(a, b, f, ftz=ftz, rounding=rounding)
    clr = np.asarray(clr).astype(bool)
    if clr.shape != p.shape:
        raise FpRefError(f"acc_clr has shape {clr.shape} but operands {p.shape}; pass one per pair")
    pv = decode(p, f).tolist()
    acc = 0.0
    out = np.empty(len(pv), dtype=np.float64)
    for i, (pi, ci) in enumerate(zip(pv, clr.tolist(), strict=True)):
        base = 0.0 if ci else acc
        s = base + pi
        acc = _round_scalar(s, f, rounding, ftz)
        out[i] = acc
    # values are exact in the format: this final conversion only encodes them
    return round_to_format(out, f, "rne")


def is_canonical_qnan(bits: np.ndarray, fmt: str | FpFormat) -> np.ndarray:
    """True where ``bits`` is exactly the canonical quiet NaN of ``fmt``."""
    f = get_format(fmt)
    return _bits(bits, f) == np.uint64(f.qnan)


def mismatches(got: np.ndarray, want: np.ndarray, fmt: str | FpFormat) -> np.ndarray:
    """Boolean mask of outputs that differ from the reference.

    Non-NaN results must match bit for bit (signed zeros included); where the reference is a NaN
    the RTL output must be the canonical quiet NaN.
    """
    f = get_format(fmt)
    got = _bits(got, f)
    want = _bits(want, f)
    want_nan = ((want & np.uint64(f.exp_mask)) == np.uint64(f.exp_mask)) & (
        (want & np.uint64(f.man_mask)) != 0)
    return np.where(want_nan, ~is_canonical_qnan(got, f), got != want)
