"""The integer reference models against plain Python integer arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from rtl.model.int_ref import add_ref, mac_ref, mul_ref, to_signed


def _py_signed(x: int, w: int) -> int:
    return x - (1 << w) if x >> (w - 1) else x


@pytest.mark.parametrize("w", (8, 16, 32))
@pytest.mark.parametrize("signed", (False, True))
def test_add_and_mul_match_python_ints(w: int, signed: bool) -> None:
    rng = np.random.default_rng(w)
    a = rng.integers(0, 1 << w, 500, dtype=np.uint64)
    b = rng.integers(0, 1 << w, 500, dtype=np.uint64)
    a[:2], b[:2] = (1 << w) - 1, 1 << (w - 1)
    conv = (lambda x: _py_signed(int(x), w)) if signed else int
    add, mul = add_ref(a, b, w, signed), mul_ref(a, b, w, signed)
    for i in range(len(a)):
        assert int(add[i]) == (conv(a[i]) + conv(b[i])) % (1 << (w + 1))
        assert int(mul[i]) == (conv(a[i]) * conv(b[i])) % (1 << (2 * w))


def test_signed_int8_examples() -> None:
    a = np.array([0x80, 0xFF, 0x7F], dtype=np.uint64)
    b = np.array([0x80, 0x01, 0x7F], dtype=np.uint64)
    assert to_signed(a, 8).tolist() == [-128, -1, 127]
    assert mul_ref(a, b, 8, True).tolist() == [0x4000, 0xFFFF, 0x3F01]
    assert add_ref(a, b, 8, True).tolist() == [0x100, 0x000, 0x0FE]


@pytest.mark.parametrize("w,acc_w", ((8, 24), (16, 40), (32, 72)))
@pytest.mark.parametrize("signed", (False, True))
def test_mac_matches_python_loop(w: int, acc_w: int, signed: bool) -> None:
    rng = np.random.default_rng(acc_w)
    n = 400
    a = rng.integers(0, 1 << w, n, dtype=np.uint64)
    b = rng.integers(0, 1 << w, n, dtype=np.uint64)
    clr = (rng.random(n) < 0.05).astype(np.uint64)
    got = mac_ref(a, b, clr, w, signed, acc_w)
    conv = (lambda x: _py_signed(int(x), w)) if signed else int
    acc = 0
    for i in range(n):
        acc = ((0 if clr[i] else acc) + conv(a[i]) * conv(b[i])) % (1 << acc_w)
        assert int(got[i]) == acc, i


def test_mac_wraps_in_acc_w_bits() -> None:
    a = np.full(300, 0xFF, dtype=np.uint64)
    got = mac_ref(a, a, np.zeros(300, dtype=np.uint64), 8, False, 16)
    assert int(got[-1]) == (300 * 255 * 255) % (1 << 16)


def test_rejects_narrow_accumulator() -> None:
    with pytest.raises(ValueError, match="ACC_W"):
        mac_ref(np.zeros(1), np.zeros(1), np.zeros(1), 8, False, 12)
