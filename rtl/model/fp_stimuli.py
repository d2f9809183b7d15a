"""Operand generators for verifying the floating-point RTL units against ``fp_ref``.

Uniform random bit patterns alone almost never hit the hard cases, so ``random_pairs`` mixes in
operand pairs built to exercise them: close exponents (massive cancellation in the adder), short
significands (exact halfway ties), exponent sums at the overflow and underflow edges of the
multiplier, and subnormal operands. ``special_pairs`` is the full cross product of every special
class (signed zeros, infinities, quiet/signalling NaNs, subnormals, smallest/largest normal, ...).
All values are raw bit patterns (``np.uint64``).
"""

from __future__ import annotations

import numpy as np

from rtl.model.fp_ref import FpFormat, FpRefError, get_format

OPS = ("add", "mul")


def pack(f: FpFormat, sign, field, frac) -> np.ndarray:
    """Bit patterns from sign (0/1), biased exponent field and fraction arrays."""
    sign = np.asarray(sign, dtype=np.uint64)
    field = np.asarray(field, dtype=np.int64).clip(0, (1 << f.exp_w) - 1).astype(np.uint64)
    frac = np.asarray(frac, dtype=np.uint64) & np.uint64(f.man_mask)
    return ((sign << np.uint64(f.nbits - 1)) | (field << np.uint64(f.man_w)) | frac).astype(
        np.uint64)


def special_values(fmt: str | FpFormat) -> np.ndarray:
    """One bit pattern per special class of ``fmt`` (both signs where it matters)."""
    f = get_format(fmt)
    one = f.bias << f.man_w
    ulp1 = one | 1
    vals = [
        0, f.sign_bit,                                   # +0, -0
        f.inf, f.sign_bit | f.inf,                       # +inf, -inf
        f.qnan, f.qnan | 1, f.sign_bit | f.qnan,         # quiet NaNs (canonical, payload, -)
        f.exp_mask | 1,                                  # signalling NaN
        1, f.sign_bit | 1,                               # smallest subnormal
        f.man_mask, f.sign_bit | f.man_mask,             # largest subnormal
        1 << (f.man_w - 1),                              # mid subnormal (0.5 * 2^emin)
        1 << f.man_w, f.sign_bit | (1 << f.man_w),       # smallest normal
        f.max_finite, f.sign_bit | f.max_finite,         # largest normal
        f.max_finite - 1,
        one, f.sign_bit | one, ulp1,                     # 1, -1, 1 + ulp
        one + (1 << f.man_w),                            # 2
        one - (1 << f.man_w),                            # 0.5
        one | (1 << (f.man_w - 1)),                      # 1.5
        (f.bias + f.emax // 2) << f.man_w,               # ~sqrt(max)
        (f.bias - f.bias // 2 - f.man_w // 2) << f.man_w,  # ~sqrt(min subnormal)
    ]
    return np.array(vals, dtype=np.uint64)


def special_pairs(fmt: str | FpFormat) -> tuple[np.ndarray, np.ndarray]:
    """Every ordered pair of ``special_values`` (cross product)."""
    v = special_values(fmt)
    a, b = np.meshgrid(v, v, indexing="ij")
    return a.ravel().copy(), b.ravel().copy()


def tie_pairs(fmt: str | FpFormat, op: str, n: int, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs whose exact result lies (mostly) exactly halfway between two neighbours."""
    f = get_format(fmt)
    _check_op(op)
    if op == "add":
        # b = half an ulp of a (or 3 halves): the sum is a tie for most a
        ea = rng.integers(f.man_w + 3, (1 << f.exp_w) - 2, n)
        a = pack(f, rng.integers(0, 2, n), ea, rng.integers(0, 1 << f.man_w, n))
        eb = ea - f.man_w - 1
        frac_b = np.where(rng.random(n) < 0.5, 0, 1 << (f.man_w - 1))
        b = pack(f, rng.integers(0, 2, n), eb, frac_b)
        return a, b
    # mul: short significands whose product has exactly man_w + 2 significant bits
    k = (f.man_w + 2) // 2
    fa = rng.integers(0, 1 << k, n) << (f.man_w - k)
    fb = (rng.integers(0, 1 << k, n) | 1) << (f.man_w - k)
    ea = f.bias + rng.integers(-3, 4, n)
    eb = f.bias + rng.integers(-3, 4, n)
    return (pack(f, rng.integers(0, 2, n), ea, fa), pack(f, rng.integers(0, 2, n), eb, fb))


def random_pairs(fmt: str | FpFormat, op: str, n: int, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` operand pairs: 35 % uniform bit patterns, 65 % targeted at the hard cases."""
    f = get_format(fmt)
    _check_op(op)
    top = (1 << f.exp_w) - 1
    counts = np.array([0.35, 0.20, 0.15, 0.15, 0.15]) * n
    n_uni, n_close, n_short, n_edge = (int(c) for c in counts[:4])
    n_sub = n - n_uni - n_close - n_short - n_edge
    parts_a, parts_b = [], []

    def sgn(m):
        return rng.integers(0, 2, m)

    def frac(m):
        return rng.integers(0, 1 << f.man_w, m)

    # uniform bit patterns (includes NaN/inf/subnormal at their natural rates)
    parts_a.append(rng.integers(0, 1 << f.nbits, n_uni, dtype=np.uint64))
    parts_b.append(rng.integers(0, 1 << f.nbits, n_uni, dtype=np.uint64))
    # close exponents, random signs: cancellation in the adder
    ea = rng.integers(0, top, n_close)
    eb = (ea + rng.integers(-3, 4, n_close)).clip(0, top - 1)
    parts_a.append(pack(f, sgn(n_close), ea, frac(n_close)))
    parts_b.append(pack(f, sgn(n_close), eb, frac(n_close)))
    # short significands: exact results and halfway ties
    ka = rng.integers(1, f.man_w + 1, n_short)
    kb = rng.integers(1, f.man_w + 1, n_short)
    fa = (frac(n_short) >> (f.man_w - ka)) << (f.man_w - ka)
    fb = (frac(n_short) >> (f.man_w - kb)) << (f.man_w - kb)
    ea = rng.integers(1, top, n_short)
    if op == "add":
        eb = (ea - rng.integers(0, f.man_w + 4, n_short)).clip(1, top - 1)
    else:
        eb = (2 * f.bias - ea + rng.integers(-f.bias // 2, f.bias // 2 + 1, n_short)).clip(
            1, top - 1)
    parts_a.append(pack(f, sgn(n_short), ea, fa))
    parts_b.append(pack(f, sgn(n_short), eb, fb))
    # exponent edges: overflow / underflow boundaries
    half = n_edge // 2
    if op == "add":
        ea = rng.integers(top - 3, top, half)            # near the largest binade, same sign
        s = sgn(half)
        parts_a.append(pack(f, s, ea, frac(half)))
        parts_b.append(pack(f, s, rng.integers(top - 3, top, half), frac(half)))
        m = n_edge - half                                # smallest binades, any sign
        parts_a.append(pack(f, sgn(m), rng.integers(0, 3, m), frac(m)))
        parts_b.append(pack(f, sgn(m), rng.integers(0, 3, m), frac(m)))
    else:
        # product exponent near emax (overflow) ...
        target = f.emax + f.bias + rng.integers(-2, 3, half)
        ea = rng.integers(f.bias, top, half)
        eb = (target - ea + f.bias).clip(1, top - 1)
        parts_a.append(pack(f, sgn(half), ea, frac(half)))
        parts_b.append(pack(f, sgn(half), eb, frac(half)))
        # ... and near / below emin (gradual underflow, underflow to zero)
        m = n_edge - half
        target = f.emin + f.bias + rng.integers(-f.man_w - 3, 3, m)
        ea = rng.integers(1, f.bias + 1, m)
        eb = (target - ea + f.bias).clip(0, top - 1)
        parts_a.append(pack(f, sgn(m), ea, frac(m)))
        parts_b.append(pack(f, sgn(m), eb, frac(m)))
    # subnormal operands (one or both)
    both = rng.random(n_sub) < 0.5
    ea = np.where(both, 0, rng.integers(0, top, n_sub) if op == "mul"
                  else rng.integers(0, 4, n_sub))
    parts_a.append(pack(f, sgn(n_sub), ea, frac(n_sub)))
    parts_b.append(pack(f, sgn(n_sub), np.zeros(n_sub, dtype=np.int64), frac(n_sub)))
    a = np.concatenate(parts_a)
    b = np.concatenate(parts_b)
    swap = rng.random(n) < 0.5
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    order = rng.permutation(n)
    return a[order].astype(np.uint64), b[order].astype(np.uint64)


def mac_stream(fmt: str | FpFormat, n: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Operands and ``acc_clr`` for the MAC: mostly moderate values so sums stay finite and
    accumulate over several steps (clear with probability 1/8), plus the hard-case mixture."""
    f = get_format(fmt)
    n_mod = int(0.6 * n)
    n_mix = n - n_mod
    a_mod = pack(f, rng.integers(0, 2, n_mod), f.bias + rng.integers(-6, 7, n_mod),
                 rng.integers(0, 1 << f.man_w, n_mod))
    b_mod = pack(f, rng.integers(0, 2, n_mod), f.bias + rng.integers(-6, 7, n_mod),
                 rng.integers(0, 1 << f.man_w, n_mod))
    a_mix, b_mix = random_pairs(f, "mul", n_mix, rng)
    a = np.concatenate([a_mod, a_mix])
    b = np.concatenate([b_mod, b_mix])
    order = rng.permutation(n)
    clr = (rng.random(n) < 0.125).astype(np.uint64)
    clr[0] = 1
    return a[order], b[order], clr


def _check_op(op: str) -> None:
    if op not in OPS:
        raise FpRefError(f"unknown operation {op!r}; use one of {OPS}")
