"""Lower a training trace to the work of an accelerator: every conv / linear row becomes the
GEMMs of its forward, input-gradient and weight-gradient phases; the optimizer step, the
element-wise work and col2im's scatter-adds go to the vector unit.

Conv2d (batch B, Cin x H x W in, Cout x Ho x Wo out, kernel kh x kw, ``groups`` g; stride,
padding and dilation are in Ho, Wo), per group, as GEMMs ``C[M, N] = A[M, K] B[K, N]``:

- forward: ``M = B Ho Wo``, ``N = Cout/g``, ``K = Cin/g kh kw`` (im2col(X) x W);
- input gradient: ``M = B Ho Wo``, ``N = Cin/g kh kw``, ``K = Cout/g`` (dY x W^T, then col2im
  scatter-adds its ``M N`` results into dX: vector-unit adds);
- weight gradient: ``M = Cout/g``, ``N = Cin/g kh kw``, ``K = B Ho Wo`` (dY^T x im2col(X)).

Linear (``Bt`` = product of the input's leading dims): ``Bt x out x in``, ``Bt x in x out``,
``out x in x Bt``. The im2col operands (forward A, weight-gradient B, input-gradient C) are
raw tensors in DRAM (:func:`unroll_ratio`). Every phase's MACs equal the trace's
``fwd_macs``, ``bwd_input_macs`` and ``bwd_weight_macs`` of the row (checked); a phase the
trace does not run (no input gradient below the first trainable layer, no weight gradient of a
frozen layer) is not lowered. Shapes and geometry come from the trace's ``input_shape``,
``output_shape`` and geometry columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from hwmodel.accel.errors import AccelError

#: Training phases, in the order of an iteration.
PHASES = ("forward", "input_grad", "weight_grad", "update")
_MAC_COLUMN = {"forward": "fwd_macs", "input_grad": "bwd_input_macs",
               "weight_grad": "bwd_weight_macs"}
GEOMETRY = ("kernel_h", "kernel_w", "groups")
FIX = "make the trace with `python -m workload trace` (it records the geometry columns)"


@dataclass(frozen=True)
class Gemm:
    """One layer-phase: ``count`` independent GEMMs ``C[m, n] += A[m, k] B[k, n]`` (groups)."""

    layer: str
    branch: str
    phase: str
    m: int
    n: int
    k: int
    count: int = 1
    #: raw / unrolled elements in DRAM of A, B, C (< 1 for a conv's im2col operand)
    ratios: tuple[Fraction, Fraction, Fraction] = (Fraction(1), Fraction(1), Fraction(1))

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k * self.count


@dataclass(frozen=True)
class VectorWork:
    """Element-wise and optimizer work of one phase of one row (scalar ops)."""

    layer: str
    branch: str
    phase: str
    mults: int
    adds: int


def _dims(text: str, row: str) -> tuple[int, ...]:
    first = str(text).split(";")[0]
    try:
        return tuple(int(v) for v in first.split("x"))
    except ValueError:
        raise AccelError(f"trace row {row!r}: cannot read shape {text!r}; {FIX}") from None


def _conv(r: pd.Series) -> dict[str, tuple[int, int, int, int]]:
    b, cin, h, w = _dims(r["input_shape"], r["layer"])
    _, cout, ho, wo = _dims(r["output_shape"], r["layer"])
    g, kk = int(r["groups"]), int(r["kernel_h"]) * int(r["kernel_w"])
    if g < 1 or kk < 1 or cin % g or cout % g:
        raise AccelError(f"trace row {r['layer']!r}: conv geometry groups={g}, "
                         f"kernel={r['kernel_h']}x{r['kernel_w']} does not fit {cin}->{cout} "
                         f"channels; {FIX}")
    pix, ci, co = b * ho * wo, cin // g * kk, cout // g
    return {"forward": (pix, co, ci, g), "input_grad": (pix, ci, co, g),
            "weight_grad": (co, ci, pix, g)}


def unroll_ratio(r: pd.Series) -> Fraction:
    """Raw input elements over its im2col unrolling (<= 1) of a conv row; 1 otherwise."""
    if str(r["kind"]).lower() != "conv2d":
        return Fraction(1)
    _, _, h, w = _dims(r["input_shape"], r["layer"])
    _, _, ho, wo = _dims(r["output_shape"], r["layer"])
    return min(Fraction(1), Fraction(h * w, ho * wo * int(r["kernel_h"]) * int(r["kernel_w"])))


def _linear(r: pd.Series) -> dict[str, tuple[int, int, int, int]]:
    ins = _dims(r["input_shape"], r["layer"])
    out = _dims(r["output_shape"], r["layer"])
    bt, fi, fo = math.prod(ins[:-1]), ins[-1], out[-1]
    return {"forward": (bt, fo, fi, 1), "input_grad": (bt, fi, fo, 1),
            "weight_grad": (fo, fi, bt, 1)}


LOWERINGS = {"conv2d": _conv, "linear": _linear}


def _gemms(r: pd.Series) -> list[Gemm]:
    kind = str(r["kind"]).lower()
    if kind not in LOWERINGS:
        raise AccelError(f"trace row {r['layer']!r} ({kind}) has MACs but no GEMM lowering; "
                         f"supported: {', '.join(LOWERINGS)}")
    if kind == "conv2d" and any(c not in r.index for c in GEOMETRY):
        raise AccelError(f"trace lacks the conv geometry columns ({', '.join(GEOMETRY)}); {FIX}")
    out = []
    u, one = unroll_ratio(r), Fraction(1)
    unrolled = {"forward": (u, one, one), "input_grad": (one, one, u),
                "weight_grad": (one, u, one)}
    for phase, (m, n, k, g) in LOWERINGS[kind](r).items():
        want = int(r[_MAC_COLUMN[phase]])
        if want == 0:
            continue
        gm = Gemm(str(r["layer"]), str(r["branch"]), phase, m, n, k, g, unrolled[phase])
        if gm.macs != want:
            raise AccelError(f"trace row {r['layer']!r} {phase}: lowered GEMM {g}x({m}x{n}x{k})"
                             f" = {gm.macs} MACs, the trace counts {want}; {FIX}")
        out.append(gm)
    return out


def lower(trace: pd.DataFrame) -> tuple[list[Gemm], list[VectorWork]]:
    """The GEMMs (array work) and vector-unit work of one training iteration of ``trace``."""
    gemms: list[Gemm] = []
    vec: list[VectorWork] = []
    for _, r in trace.iterrows():
        layer, branch = str(r["layer"]), str(r["branch"])
        row = (_gemms(r) if int(r["fwd_macs"]) + int(r["bwd_input_macs"])
               + int(r["bwd_weight_macs"]) > 0 else [])
        gemms += row
        fwd_el = int(r.get("fwd_elementwise_ops", 0))
        bwd_el = int(r["elementwise_ops"]) - fwd_el
        col2im = (sum(g.m * g.n * g.count for g in row if g.phase == "input_grad")
                  if str(r["kind"]).lower() == "conv2d" else 0)
        if fwd_el:
            vec.append(VectorWork(layer, branch, "forward", 0, fwd_el))
        if bwd_el or col2im:
            vec.append(VectorWork(layer, branch, "input_grad", 0, bwd_el + col2im))
        if int(r["update_mults"]) or int(r["update_adds"]):
            vec.append(VectorWork(layer, branch, "update", int(r["update_mults"]),
                                  int(r["update_adds"])))
    return gemms, vec
