"""Bit-exact reference models of the integer RTL units in ``rtl/int``.

Operands and results are raw bit patterns, as on the Verilog ports: two's complement for signed
units, masked to the port width. Results are ``uint64`` arrays when they fit in 64 bits, otherwise
object arrays of Python ints. All functions are pure and vectorised over the operand arrays.
"""

from __future__ import annotations

import numpy as np


def _mask(width: int) -> int:
    return (1 << width) - 1


def _check_width(w: int, *, max_w: int) -> None:
    if not 1 <= w <= max_w:
        raise ValueError(f"operand width W={w} is outside 1..{max_w}; use a supported width")


def to_signed(x: np.ndarray, width: int) -> np.ndarray:
    """Interpret ``width``-bit patterns (width <= 64) as two's-complement int64 values."""
    u = np.asarray(x, dtype=np.uint64) & np.uint64(_mask(width))
    if width == 64:
        return u.view(np.int64)
    s = u.astype(np.int64)
    return np.where(s >= (1 << (width - 1)), s - (1 << width), s)


def to_pattern(x: np.ndarray, width: int) -> np.ndarray:
    """Two's-complement ``width``-bit patterns (width <= 64) of int64 values, as uint64."""
    return np.asarray(x, dtype=np.int64).view(np.uint64) & np.uint64(_mask(width))


def _operand(x: np.ndarray, w: int, signed: bool) -> np.ndarray:
    return to_signed(x, w) if signed else np.asarray(x, dtype=np.uint64) & np.uint64(_mask(w))


def add_ref(a: np.ndarray, b: np.ndarray, w: int, signed: bool) -> np.ndarray:
    """``add_rca`` / ``add_ks``: (W+1)-bit full sum of W-bit operands, sign- or zero-extended."""
    _check_width(w, max_w=62)
    if signed:
        return to_pattern(_operand(a, w, True) + _operand(b, w, True), w + 1)
    return _operand(a, w, False) + _operand(b, w, False)


def mul_ref(a: np.ndarray, b: np.ndarray, w: int, signed: bool) -> np.ndarray:
    """``mul_array`` / ``mul_booth``: 2W-bit product of W-bit operands (W <= 32)."""
    _check_width(w, max_w=32)
    if signed:
        return to_pattern(_operand(a, w, True) * _operand(b, w, True), 2 * w)
    return _operand(a, w, False) * _operand(b, w, False)  # < 2^64 for W <= 32


def mac_ref(a: np.ndarray, b: np.ndarray, acc_clr: np.ndarray, w: int, signed: bool,
            acc_w: int) -> np.ndarray:
    """``mac_int``: accumulator value after each (valid) input vector, starting from reset (0).

    acc <= (acc_clr ? 0 : acc) + a*b modulo 2^acc_w, the product sign- or zero-extended.
    Returns uint64 patterns for acc_w <= 64, else an object array of Python ints.
    """
    _check_width(w, max_w=32)
    if acc_w < 2 * w:
        raise ValueError(f"ACC_W={acc_w} is narrower than the {2 * w}-bit product; use >= 2W")
    clr = np.asarray(acc_clr).astype(bool)
    n = clr.shape[0]
    # index of the last clear at or before each vector (-1: none since reset)
    start = np.maximum.accumulate(np.where(clr, np.arange(n), -1)) if n else np.zeros(0, int)
    if acc_w <= 64:
        # uint64 arithmetic wraps modulo 2^64, a multiple of 2^acc_w
        p = to_pattern(_operand(a, w, True) * _operand(b, w, True), 64) if signed \
            else _operand(a, w, False) * _operand(b, w, False)
        c = np.cumsum(p, dtype=np.uint64)
        base = np.where(start >= 0, c[np.maximum(start, 0)] - p[np.maximum(start, 0)],
                        np.uint64(0))
        return (c - base) & np.uint64(_mask(acc_w))
    p = (_operand(a, w, signed).astype(object) * _operand(b, w, signed).astype(object))
    c = np.cumsum(p)
    idx = np.maximum(start, 0)
    base = np.where(start >= 0, c[idx] - p[idx], 0)
    m = _mask(acc_w)
    return np.array([int(v) & m for v in (c - base)], dtype=object)
