"""Operand streams for per-op characterization, as raw bit patterns for a unit's ``a``/``b`` ports.

Switching energy depends on the data, so every op-cost number names the stream that produced it:

* ``uniform``  - independent uniform random operands (ints: all codes; floats: uniform sign and
  mantissa bits, the unbiased exponent uniform in [-h, h] with h chosen so that a product and a
  dot product of ``dot_length`` products stay finite: :func:`float_exponent_halfrange`);
* ``sparse``   - half the operands zero, the rest small in magnitude (ints below 2**(W/4); floats
  with |x| in [2**-8, 2**-4)), like post-ReLU activations and small gradients;
* ``constant`` - one random operand pair repeated (no data switching at all);
* ``tensor``   - values sampled from real network tensors recorded during training
  (``workload.trace_training`` operand samples), converted to the unit's number format; non-finite
  samples, or samples the format cannot hold (fp16 overflow), are refused.

MAC units also get ``acc_clr`` (:func:`acc_clr_schedule`): the accumulator starts a new sum every
``dot_length`` operations, as a dot product of that length does, so it never runs away to inf.
Every op-cost row reports ``nonfinite_pct``, the share of non-finite results
(:func:`nonfinite_pct`); a stream above :data:`MAX_NONFINITE_PCT` is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hwmodel.rtlsim import HANDSHAKE, UnitError

STREAM_KINDS = ("uniform", "sparse", "constant", "tensor")
#: Dot-product length of MAC streams when the workload does not give one (terms per sum).
DEFAULT_DOT_LENGTH = 64
#: Largest share of non-finite (inf/NaN) results an op-cost row may have (%).
MAX_NONFINITE_PCT = 1.0


@dataclass(frozen=True)
class NumberFormat:
    """A number format as the RTL sees it: ``kind`` 'int', 'uint' or 'float', width in bits."""

    name: str
    kind: str
    bits: int
    exp_bits: int = 0
    man_bits: int = 0

    @property
    def signed(self) -> bool:
        return self.kind != "uint"


FORMATS: dict[str, NumberFormat] = {
    "int8": NumberFormat("int8", "int", 8),
    "int16": NumberFormat("int16", "int", 16),
    "int32": NumberFormat("int32", "int", 32),
    "uint8": NumberFormat("uint8", "uint", 8),
    "uint16": NumberFormat("uint16", "uint", 16),
    "uint32": NumberFormat("uint32", "uint", 32),
    "fp16": NumberFormat("fp16", "float", 16, 5, 10),  # IEEE 754 binary16
    "bf16": NumberFormat("bf16", "float", 16, 8, 7),  # bfloat16
    "fp32": NumberFormat("fp32", "float", 32, 8, 23),  # IEEE 754 binary32
}


def get_format(name: str) -> NumberFormat:
    """Look up a number format by name (one-line error listing the known ones)."""
    try:
        return FORMATS[name]
    except KeyError:
        raise UnitError(f"unknown number format {name!r}; use one of: {', '.join(FORMATS)}") \
            from None


def float_to_bits(values: np.ndarray, fmt: NumberFormat) -> np.ndarray:
    """Round float values to ``fmt`` (one round-to-nearest-even from float64, gradual underflow,
    canonical quiet NaN) and return the bit patterns: the RTL's own reference rounding,
    :func:`rtl.model.fp_ref.round_to_format`."""
    if fmt.kind != "float":
        raise UnitError(f"format {fmt.name} is not a floating-point format")
    from rtl.model.fp_ref import round_to_format

    return round_to_format(np.asarray(values, dtype=np.float64), fmt.name)


def int_to_bits(values: np.ndarray, fmt: NumberFormat) -> np.ndarray:
    """Two's-complement (or unsigned) bit patterns of integers, masked to the format width."""
    mask = (1 << fmt.bits) - 1
    return (np.asarray(values, dtype=np.int64).astype(np.uint64) & np.uint64(mask))


def quantize(values: np.ndarray, fmt: NumberFormat) -> np.ndarray:
    """Symmetric linear quantization of real values to ``fmt`` integers (scale = max |x|)."""
    x = np.asarray(values, dtype=np.float64)
    top = (1 << (fmt.bits - 1)) - 1 if fmt.signed else (1 << fmt.bits) - 1
    lo = -top if fmt.signed else 0
    scale = float(np.max(np.abs(x))) if x.size else 0.0
    q = np.zeros_like(x) if scale == 0 else np.rint(x / scale * top)
    return np.clip(q, lo, top).astype(np.int64)


def float_exponent_halfrange(fmt: NumberFormat, dot_length: int = DEFAULT_DOT_LENGTH) -> int:
    """Largest h such that operands with unbiased exponents in [-h, h] (significand < 2) give
    products and sums of ``dot_length`` products below the format's largest finite value:
    2h + 2 + ceil(log2 dot_length) <= emax + 1."""
    emax = (1 << (fmt.exp_bits - 1)) - 1
    h = (emax - 1 - math.ceil(math.log2(max(1, dot_length)))) // 2
    if h < 1:
        raise UnitError(f"dot length {dot_length} leaves no exponent range in {fmt.name}; "
                        "use a shorter dot product")
    return h


def _uniform(rng: np.random.Generator, fmt: NumberFormat, n: int,
             dot_length: int = DEFAULT_DOT_LENGTH) -> np.ndarray:
    if fmt.kind != "float":
        return rng.integers(0, 1 << fmt.bits, n, dtype=np.uint64)
    sign = rng.integers(0, 2, n, dtype=np.uint64)
    h = float_exponent_halfrange(fmt, dot_length)
    bias = (1 << (fmt.exp_bits - 1)) - 1
    exp = rng.integers(bias - h, bias + h + 1, n, dtype=np.uint64)
    man = rng.integers(0, 1 << fmt.man_bits, n, dtype=np.uint64)
    return (sign << np.uint64(fmt.bits - 1)) | (exp << np.uint64(fmt.man_bits)) | man


def _sparse(rng: np.random.Generator, fmt: NumberFormat, n: int) -> np.ndarray:
    zero = rng.random(n) < 0.5
    if fmt.kind == "float":
        mag = 2.0 ** rng.uniform(-8, -4, n)
        sign = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        return np.where(zero, np.uint64(0), float_to_bits(sign * mag, fmt))
    limit = 1 << max(1, fmt.bits // 4)
    lo = -limit + 1 if fmt.signed else 0
    vals = rng.integers(lo, limit, n)
    return int_to_bits(np.where(zero, 0, vals), fmt)


def _tensor_port(rng: np.random.Generator, fmt: NumberFormat, n: int, t: np.ndarray,
                 port: str) -> np.ndarray:
    """``n`` values resampled from a real tensor sample, in ``fmt``; non-finite refused."""
    x = np.asarray(t, dtype=np.float64).ravel()
    bad = int(np.count_nonzero(~np.isfinite(x)))
    if bad:
        raise UnitError(f"tensor samples for operand {port!r} hold {bad} non-finite values "
                        f"(inf/NaN) of {x.size}; fix: record the samples from a finite "
                        "training step (check the loss for divergence)")
    vals = rng.choice(x, n, replace=True)
    if fmt.kind != "float":
        return int_to_bits(quantize(vals, fmt), fmt)
    bits = float_to_bits(vals, fmt)
    over = int(np.count_nonzero(np.isinf(bits_to_float(bits, fmt))))
    if over:
        raise UnitError(f"{over} of {n} tensor samples for operand {port!r} overflow "
                        f"{fmt.name} (|x| up to {np.abs(x).max():.3g}); fix: scale the tensors "
                        "(loss scaling) or use a format with a wider range (bf16, fp32)")
    return bits


def make_stream(kind: str, fmt: NumberFormat | str, n: int, seed: int = 0,
                tensors: tuple[np.ndarray, np.ndarray] | None = None,
                dot_length: int = DEFAULT_DOT_LENGTH) -> dict[str, np.ndarray]:
    """``n`` operand pairs ``{"a": bits, "b": bits}`` of stream ``kind`` in format ``fmt``.

    ``tensors`` (for ``kind="tensor"``) are two real-valued samples, e.g. weights and activations
    of one layer; they are resampled with replacement to ``n`` values each. ``dot_length``
    sets the exponent range of uniform float operands (:func:`float_exponent_halfrange`).
    """
    fmt = get_format(fmt) if isinstance(fmt, str) else fmt
    if n < 1:
        raise UnitError(f"stream length must be at least 1 (got {n})")
    rng = np.random.default_rng(seed)
    a, b = HANDSHAKE.operands
    if kind == "uniform":
        return {a: _uniform(rng, fmt, n, dot_length), b: _uniform(rng, fmt, n, dot_length)}
    if kind == "sparse":
        return {a: _sparse(rng, fmt, n), b: _sparse(rng, fmt, n)}
    if kind == "constant":
        va, vb = _uniform(rng, fmt, 1, dot_length), _uniform(rng, fmt, 1, dot_length)
        return {a: np.repeat(va, n), b: np.repeat(vb, n)}
    if kind == "tensor":
        if tensors is None or any(np.asarray(t).size == 0 for t in tensors):
            raise UnitError("stream 'tensor' needs two non-empty tensor samples "
                            "(record them with workload.trace_training sampling)")
        return {port: _tensor_port(rng, fmt, n, t, port)
                for port, t in zip(HANDSHAKE.operands, tensors, strict=True)}
    raise UnitError(f"unknown stream kind {kind!r}; use one of: {', '.join(STREAM_KINDS)}")


def acc_clr_schedule(n: int, dot_length: int) -> np.ndarray:
    """``acc_clr`` bits for ``n`` MAC operations: 1 on the first term of every dot product of
    ``dot_length`` terms (operations 0, L, 2L, ...)."""
    if dot_length < 1:
        raise UnitError(f"dot length must be >= 1 term (got {dot_length})")
    return (np.arange(n) % int(dot_length) == 0).astype(np.uint64)


def bits_to_float(bits: np.ndarray, fmt: NumberFormat) -> np.ndarray:
    """Values (float64) of ``fmt`` bit patterns: NaN, +-inf, subnormals and signed zeros."""
    b = np.asarray(bits).astype(np.uint64)
    man = (b & np.uint64((1 << fmt.man_bits) - 1)).astype(np.float64)
    exp = ((b >> np.uint64(fmt.man_bits)) & np.uint64((1 << fmt.exp_bits) - 1)).astype(np.int64)
    sign = np.where((b >> np.uint64(fmt.bits - 1)) & np.uint64(1), -1.0, 1.0)
    bias = (1 << (fmt.exp_bits - 1)) - 1
    top = (1 << fmt.exp_bits) - 1
    frac = man / float(1 << fmt.man_bits)
    with np.errstate(over="ignore"):
        normal = np.ldexp(1.0 + frac, (exp - bias).astype(np.int32))
    sub = np.ldexp(frac, 1 - bias)
    val = np.where(exp == 0, sub, normal)
    val = np.where(exp == top, np.where(man == 0, np.inf, np.nan), val)
    return sign * val


def nonfinite_pct(y_bits: np.ndarray, fmt: NumberFormat | str) -> float:
    """Share (%) of results that are inf or NaN (0 for integer formats)."""
    fmt = get_format(fmt) if isinstance(fmt, str) else fmt
    y = np.asarray(y_bits)
    if fmt.kind != "float" or y.size == 0:
        return 0.0
    exp = (y.astype(np.uint64) >> np.uint64(fmt.man_bits)) & np.uint64((1 << fmt.exp_bits) - 1)
    return 100.0 * float(np.count_nonzero(exp == (1 << fmt.exp_bits) - 1)) / y.size


def operand_pools(samples: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The two operand pools of a training iteration's MACs from ``workload.trace_training`` samples
    (keys ``<layer>|<operand>``): forward ``weight x ifmap``, backward-data ``weight x grad_out``
    and weight-gradient ``ifmap x grad_out`` give pool ``a`` = weights and input activations,
    pool ``b`` = input activations and output gradients."""
    def pool(kinds: tuple[str, ...]) -> np.ndarray:
        parts = [np.asarray(v, dtype=np.float64).ravel() for k, v in sorted(samples.items())
                 if k.split("|", 1)[-1].split(":", 1)[0] in kinds]
        return np.concatenate(parts) if parts else np.zeros(0)

    a, b = pool(("weight", "ifmap")), pool(("ifmap", "grad_out"))
    if a.size == 0 or b.size == 0:
        raise UnitError("the operand samples hold no weight/ifmap/grad_out values; record them "
                        "with `python -m workload trace --samples N --samples-out FILE.npz`")
    return a, b


def load_operand_pools(path: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`operand_pools` of an ``.npz`` written by ``python -m workload trace``."""
    try:
        with np.load(path) as z:
            samples = {k.replace("__", "/"): z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise UnitError(f"operand samples {path}: cannot read ({exc}); pass an .npz from "
                        "`python -m workload trace --samples-out`") from None
    return operand_pools(samples)
