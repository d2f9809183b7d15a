"""Operand streams for per-op characterization, as raw bit patterns for a unit's ``a``/``b`` ports.

Switching energy depends on the data, so every op-cost number names the stream that produced it:

* ``uniform``  - independent uniform random operands (ints: all codes; floats: finite values with
  uniform sign, exponent and mantissa bits);
* ``sparse``   - half the operands zero, the rest small in magnitude (ints below 2**(W/4); floats
  with |x| in [2**-8, 2**-4)), like post-ReLU activations and small gradients;
* ``constant`` - one random operand pair repeated (no data switching at all);
* ``tensor``   - values sampled from real network tensors recorded during training
  (``learning.trace`` operand samples), converted to the unit's number format.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwmodel.rtlsim import UnitError

STREAM_KINDS = ("uniform", "sparse", "constant", "tensor")


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


def _uniform(rng: np.random.Generator, fmt: NumberFormat, n: int) -> np.ndarray:
    if fmt.kind != "float":
        return rng.integers(0, 1 << fmt.bits, n, dtype=np.uint64)
    sign = rng.integers(0, 2, n, dtype=np.uint64)
    exp = rng.integers(0, (1 << fmt.exp_bits) - 1, n, dtype=np.uint64)  # no inf/NaN
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


def make_stream(kind: str, fmt: NumberFormat | str, n: int, seed: int = 0,
                tensors: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """``n`` operand pairs ``{"a": bits, "b": bits}`` of stream ``kind`` in format ``fmt``.

    ``tensors`` (for ``kind="tensor"``) are two real-valued samples, e.g. weights and activations
    of one layer; they are resampled with replacement to ``n`` values each.
    """
    fmt = get_format(fmt) if isinstance(fmt, str) else fmt
    if n < 1:
        raise UnitError(f"stream length must be at least 1 (got {n})")
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return {"a": _uniform(rng, fmt, n), "b": _uniform(rng, fmt, n)}
    if kind == "sparse":
        return {"a": _sparse(rng, fmt, n), "b": _sparse(rng, fmt, n)}
    if kind == "constant":
        a, b = _uniform(rng, fmt, 1), _uniform(rng, fmt, 1)
        return {"a": np.repeat(a, n), "b": np.repeat(b, n)}
    if kind == "tensor":
        if tensors is None or any(np.asarray(t).size == 0 for t in tensors):
            raise UnitError("stream 'tensor' needs two non-empty tensor samples "
                            "(record them with learning.trace sampling)")
        out = {}
        for port, t in zip(("a", "b"), tensors, strict=True):
            vals = rng.choice(np.asarray(t, dtype=np.float64).ravel(), n, replace=True)
            out[port] = (float_to_bits(vals, fmt) if fmt.kind == "float"
                         else int_to_bits(quantize(vals, fmt), fmt))
        return out
    raise UnitError(f"unknown stream kind {kind!r}; use one of: {', '.join(STREAM_KINDS)}")


def operand_pools(samples: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The two operand pools of a training iteration's MACs from ``learning.trace`` samples
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
                        "with `python -m learning trace --samples N --samples-out FILE.npz`")
    return a, b


def load_operand_pools(path: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`operand_pools` of an ``.npz`` written by ``python -m learning trace``."""
    try:
        with np.load(path) as z:
            samples = {k.replace("__", "/"): z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise UnitError(f"operand samples {path}: cannot read ({exc}); pass an .npz from "
                        "`python -m learning trace --samples-out`") from None
    return operand_pools(samples)
