"""Operand streams: formats, kinds, and conversion of real tensors."""

from __future__ import annotations

import numpy as np
import pytest

from hwmodel.ops.streams import (
    FORMATS,
    acc_clr_schedule,
    bits_to_float,
    float_exponent_halfrange,
    float_to_bits,
    make_stream,
    nonfinite_pct,
    quantize,
)
from hwmodel.rtlsim import UnitError


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("kind", ["uniform", "sparse", "constant"])
def test_streams_fit_the_format(fmt: str, kind: str) -> None:
    s = make_stream(kind, fmt, 500, seed=3)
    bits = FORMATS[fmt].bits
    for port in ("a", "b"):
        assert s[port].dtype == np.uint64 and s[port].shape == (500,)
        assert int(s[port].max()) < (1 << bits)
    if kind == "constant":
        assert len(np.unique(s["a"])) == 1 and len(np.unique(s["b"])) == 1


def test_float_streams_have_no_inf_or_nan() -> None:
    for fmt in ("fp16", "bf16", "fp32"):
        f = FORMATS[fmt]
        s = make_stream("uniform", fmt, 5000, seed=1)
        exp = (s["a"] >> np.uint64(f.man_bits)) & np.uint64((1 << f.exp_bits) - 1)
        assert int(exp.max()) < (1 << f.exp_bits) - 1


def test_sparse_is_half_zero_and_small() -> None:
    s = make_stream("sparse", "int16", 20000, seed=2)
    signed = s["a"].astype(np.int64)
    signed = np.where(signed >= 1 << 15, signed - (1 << 16), signed)
    assert 0.45 < np.mean(signed == 0) < 0.55
    assert np.abs(signed).max() < 16


def test_bf16_rounds_to_nearest_even() -> None:
    # 1 + 2**-8 is exactly halfway between bf16 1.0 and 1 + 2**-7: ties to even (1.0).
    assert int(float_to_bits(np.array([1 + 2**-8]), FORMATS["bf16"])[0]) == 0x3F80
    # 1 + 3 * 2**-8 is halfway between 1 + 2**-7 (odd) and 1 + 2**-6 (even): rounds up.
    assert int(float_to_bits(np.array([1 + 3 * 2**-8]), FORMATS["bf16"])[0]) == 0x3F82


def test_tensor_stream_quantizes_real_values() -> None:
    w = np.linspace(-0.5, 0.5, 101)
    q = quantize(w, FORMATS["int8"])
    assert q.min() == -127 and q.max() == 127
    s = make_stream("tensor", "int8", 300, seed=0, tensors=(w, np.abs(w)))
    assert s["a"].shape == (300,)
    with pytest.raises(UnitError, match="needs two non-empty tensor samples"):
        make_stream("tensor", "int8", 10)


def test_bad_stream_requests() -> None:
    with pytest.raises(UnitError, match="unknown number format 'int7'"):
        make_stream("uniform", "int7", 10)
    with pytest.raises(UnitError, match="unknown stream kind 'gaussian'"):
        make_stream("gaussian", "int8", 10)


def test_operand_pools_from_trace_samples(tmp_path) -> None:
    from hwmodel.ops.streams import load_operand_pools, operand_pools

    samples = {"blocks.0/conv|weight:weight": np.full(4, 1.0),
               "blocks.0/conv|ifmap": np.full(3, 2.0),
               "blocks.0/conv|grad_out": np.full(2, 3.0), "blocks.0/conv|ofmap": np.full(5, 9.0)}
    a, b = operand_pools(samples)
    assert sorted(a.tolist()) == [1.0] * 4 + [2.0] * 3  # weights and input activations
    assert sorted(b.tolist()) == [2.0] * 3 + [3.0] * 2  # input activations and output gradients
    np.savez(tmp_path / "s.npz", **{k.replace("/", "__"): v for k, v in samples.items()})
    a2, b2 = load_operand_pools(str(tmp_path / "s.npz"))
    assert sorted(a2.tolist()) == sorted(a.tolist()) and sorted(b2.tolist()) == sorted(b.tolist())
    with pytest.raises(UnitError, match="no weight/ifmap/grad_out"):
        operand_pools({"x|ofmap": np.ones(3)})
    with pytest.raises(UnitError, match="cannot read"):
        load_operand_pools(str(tmp_path / "missing.npz"))


@pytest.mark.parametrize("fmt", ["fp16", "bf16", "fp32"])
def test_uniform_float_products_and_dot_products_stay_finite(fmt: str) -> None:
    """The old uniform stream drew exponents over the whole range: 12 % of the fp32 products
    overflowed, and a MAC's accumulator went to inf then NaN within a few operations."""
    f = FORMATS[fmt]
    s = make_stream("uniform", fmt, 20000, seed=0, dot_length=64)
    a, b = bits_to_float(s["a"], f), bits_to_float(s["b"], f)
    prod = a * b
    assert np.isfinite(prod).all()
    sums = np.abs(prod[: 64 * (prod.size // 64)]).reshape(-1, 64).sum(axis=1)
    top = (2.0 - 2.0 ** -f.man_bits) * 2.0 ** ((1 << (f.exp_bits - 1)) - 1)
    assert sums.max() < top  # a 64-term dot product of the largest operands stays finite
    h = float_exponent_halfrange(f, 64)
    exps = np.unique(((s["a"] >> np.uint64(f.man_bits)) & np.uint64((1 << f.exp_bits) - 1))
                     .astype(int) - ((1 << (f.exp_bits - 1)) - 1))
    assert exps.min() == -h and exps.max() == h  # the whole stated range is used


def test_acc_clr_schedule_and_nonfinite_share() -> None:
    assert acc_clr_schedule(7, 3).tolist() == [1, 0, 0, 1, 0, 0, 1]
    with pytest.raises(UnitError, match="dot length"):
        acc_clr_schedule(5, 0)
    f = FORMATS["fp32"]
    y = float_to_bits(np.array([1.0, np.inf, np.nan, -2.0]), f)
    assert nonfinite_pct(y, "fp32") == 50.0
    assert nonfinite_pct(np.array([3, 4], dtype=np.uint64), "int16") == 0.0


def test_tensor_samples_with_inf_or_nan_are_refused() -> None:
    """quantize() once turned every finite value into 0 beside an inf, and float samples with
    NaN went into the stream silently."""
    w = np.array([0.1, -0.2, np.inf, 0.3])
    for fmt in ("int8", "fp32"):
        with pytest.raises(UnitError, match="1 non-finite values"):
            make_stream("tensor", fmt, 50, tensors=(w, np.ones(3)))
    with pytest.raises(UnitError, match="overflow fp16"):
        make_stream("tensor", "fp16", 50, tensors=(np.array([1e5, 2.0]), np.ones(3)))
    ok = make_stream("tensor", "fp16", 50, tensors=(np.array([1e3, 2.0]), np.ones(3)))
    assert nonfinite_pct(ok["a"], "fp16") == 0.0
