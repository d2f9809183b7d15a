"""Per-operator work model of the workload trace: MACs and element-wise operations of one ATen
op (used by :mod:`workload.recorder`).

:func:`op_work` turns one ATen operator call, as dispatched during the forward pass, into the
work it causes in the forward pass *and* in its backward pass. Which backward products PyTorch
computes follows autograd exactly: the gradient with respect to an operand is computed iff that
operand ``requires_grad`` at forward time (that is what sets ``output_mask`` of
``convolution_backward`` and decides which ``mm`` calls ``addmm``'s backward dispatches).

MACs (multiply-accumulates) of convolution and matrix products are exact and agree with
``torch.utils.flop_counter.FlopCounterMode`` (FLOPs = 2 x MACs):

- convolution: ``B * prod(out_spatial) * C_out * (C_in / groups) * prod(kernel)`` forward; the
  input gradient and the weight gradient each cost the same number of MACs. (For grouped
  convolutions FlopCounterMode counts the weight gradient as if ungrouped; we count the true
  ``C_in / groups``.)
- ``mm``/``addmm``: ``M * K * N``; ``bmm``/``baddbmm``: ``b * M * K * N``; each operand gradient
  costs the same again.

Element-wise work (operations per element, a documented model; O(channels) work such as
BatchNorm's per-channel statistics and running-stat updates is not counted):

=====================  ===================================  ========================================
op                     forward (per output element)         backward
=====================  ===================================  ========================================
relu / threshold       1 (max)                              1 per element (mask) if input grad
tanh / sigmoid         1                                    3 per element if input grad
add / sub (tensors)    1                                    0 (gradient passes through)
mul / div (tensors)    1                                    1 per element per operand needing grad
batch norm, training   7 (mean 1, var 3, normalise+affine   9 per element if input grad (dbeta 1,
                       3)                                   dgamma 4, dx 4) else 5 if gamma/beta
batch norm, eval       2 (scale, shift)                     1 if input grad + 5 if gamma/beta grad
max pool k x k         k*k - 1 comparisons                  1 per output element if input grad
avg pool k x k         k*k                                  k*k per output element if input grad
adaptive avg pool/mean 1 per *input* element                1 per input element if input grad
dropout (training)     2 (mask, scale)                      1 per element if input grad
log_softmax / softmax  4 (max, sub, exp, sum)               3 per element if input grad
nll_loss               1 per sample                         1 per sample
conv/linear bias       1 (add) per output element           1 per output element (sum of dY)
anything else          1                                    1 if any operand needs grad
=====================  ===================================  ========================================

Ops that only move or view data (view, transpose, expand, detach, copy, allocation) cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import prod

import torch

aten = torch.ops.aten

# Ops that only view, move or allocate data: no arithmetic, no trace row of their own.
DATA_ONLY_OPS: frozenset[str] = frozenset(
    {
        "detach", "view", "_unsafe_view", "reshape", "t", "transpose", "permute", "unsqueeze",
        "squeeze", "expand", "alias", "as_strided", "slice", "select", "empty", "empty_like",
        "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like",
        "clone", "_to_copy", "copy_", "lift_fresh", "lift_fresh_copy", "split", "split_with_sizes",
        "cat", "stack", "_reshape_alias", "unbind", "new_empty", "new_zeros", "new_ones",
        "contiguous", "resize_", "fill_", "zero_", "scalar_tensor", "_local_scalar_dense",
        "randint", "random_", "set_", "flatten", "unflatten", "narrow", "item",
    }
)


@dataclass
class OpWork:
    """Work of one forward op and its backward. MACs and ops are counts for the whole batch."""

    kind: str
    fwd_macs: int = 0
    bwd_input_macs: int = 0
    bwd_weight_macs: int = 0
    fwd_elementwise_ops: int = 0
    bwd_elementwise_ops: int = 0
    # Weight operands (elements) the input-gradient computation reads in the backward pass.
    weight_read_bwd_elems: int = 0
    modeled: bool = True
    params: list[torch.Tensor] = field(default_factory=list)


def _rg(t: object) -> bool:
    return isinstance(t, torch.Tensor) and t.requires_grad


def _numel(t: object) -> int:
    if isinstance(t, torch.Tensor):
        return t.numel()
    if isinstance(t, list | tuple):
        return sum(_numel(x) for x in t)
    return 0


def _first_tensor(t: object) -> torch.Tensor | None:
    if isinstance(t, torch.Tensor):
        return t
    if isinstance(t, list | tuple):
        for x in t:
            if isinstance(x, torch.Tensor):
                return x
    return None


def conv_macs(x_shape: list[int], w_shape: list[int], out_shape: list[int], transposed: bool,
              groups: int) -> int:
    """MACs of one convolution call (whole batch). ``w_shape`` is PyTorch's weight layout."""
    if transposed:
        # Each input point scatters a C_in x (C_out/groups) x kernel product (w_shape[0] = C_in).
        return x_shape[0] * prod(x_shape[2:]) * prod(w_shape)
    return out_shape[0] * prod(out_shape[2:]) * prod(w_shape)


def mm_macs(a_shape: list[int], b_shape: list[int]) -> int:
    """MACs of ``a @ b`` for 2-D (``M*K*N``) or batched 3-D (``b*M*K*N``) operands."""
    if len(a_shape) == 3:
        return a_shape[0] * a_shape[1] * a_shape[2] * b_shape[2]
    return a_shape[0] * a_shape[1] * b_shape[1]


def op_name(func: torch._ops.OpOverload) -> str:
    """``aten.add_.Tensor`` -> ``add_``."""
    return func.overloadpacket.__name__


def _matmul_work(kind: str, a: torch.Tensor, b: torch.Tensor, is_param: Callable) -> OpWork:
    macs = mm_macs(list(a.shape), list(b.shape))
    w = OpWork(kind=kind, fwd_macs=macs)
    a_param, b_param = is_param(a), is_param(b)
    if b_param or a_param:
        weight, inp = (b, a) if b_param else (a, b)
        if _rg(inp):
            w.bwd_input_macs += macs
            w.weight_read_bwd_elems += weight.numel()
        if _rg(weight):
            w.bwd_weight_macs += macs
    else:  # both operands are activations: each gradient is an input gradient
        w.bwd_input_macs += macs * (int(_rg(a)) + int(_rg(b)))
    return w


def _conv_work(args: tuple, out_t: torch.Tensor) -> OpWork:
    """``aten.convolution``: MACs forward, input gradient iff the input needs one (reading
    the weight), weight gradient iff the weight needs one; a bias adds one op per output
    element forward and, if it needs a gradient, backward."""
    x, wt, bias = args[0], args[1], args[2]
    transposed, groups = bool(args[6]), int(args[8])
    macs = conv_macs(list(x.shape), list(wt.shape), list(out_t.shape), transposed, groups)
    n_out = out_t.numel()
    w = OpWork(kind="convolution", fwd_macs=macs)
    if _rg(x):
        w.bwd_input_macs = macs
        w.weight_read_bwd_elems = wt.numel()
    if _rg(wt):
        w.bwd_weight_macs = macs
    if isinstance(bias, torch.Tensor):
        w.fwd_elementwise_ops += n_out
        if _rg(bias):
            w.bwd_elementwise_ops += n_out
    return w


#: ATen batch-norm ops (training and eval forms).
BATCH_NORM_OPS = ("native_batch_norm", "_native_batch_norm_legit", "_batch_norm_with_update",
                  "_native_batch_norm_legit_no_training", "_batch_norm_no_update")


def _batch_norm_work(base: str, args: tuple) -> OpWork:
    """Batch norm (per element): training 7 ops forward, 9 backward with an input gradient
    (else 5 if gamma/beta need one); eval 2 forward, 1 + 5 backward likewise; the input
    gradient reads gamma."""
    x = args[0]
    gamma = args[1] if len(args) > 1 else None
    beta = args[2] if len(args) > 2 else None
    if base == "native_batch_norm" or base == "_native_batch_norm_legit":
        training = bool(args[5]) if len(args) > 5 else True
    else:
        training = base == "_batch_norm_with_update"
    n = x.numel()
    param_rg = _rg(gamma) or _rg(beta)
    w = OpWork(kind="batch_norm")
    if training:
        w.fwd_elementwise_ops = 7 * n
        w.bwd_elementwise_ops = 9 * n if _rg(x) else (5 * n if param_rg else 0)
    else:
        w.fwd_elementwise_ops = 2 * n
        w.bwd_elementwise_ops = (n if _rg(x) else 0) + (5 * n if param_rg else 0)
    if _rg(x) and isinstance(gamma, torch.Tensor):
        w.weight_read_bwd_elems = gamma.numel()
    return w


def op_work(
    func: torch._ops.OpOverload,
    args: tuple,
    kwargs: dict,
    out: object,
    is_param: Callable[[torch.Tensor], bool],
) -> OpWork | None:
    """Work of one dispatched forward op and of its backward; ``None`` for data-only ops.

    ``is_param(t)`` says whether tensor ``t`` is (a view of) a model parameter.
    """
    name = op_name(func)
    base = name.rstrip("_")
    if name in DATA_ONLY_OPS or base in DATA_ONLY_OPS:
        return None
    out_t = _first_tensor(out)
    n_out = out_t.numel() if out_t is not None else 0
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    any_rg = any(_rg(t) for t in tensors)

    if func in (aten.convolution.default, aten._convolution.default):
        return _conv_work(args, out_t)
    if base in ("mm", "bmm"):
        return _matmul_work(base, args[0], args[1], is_param)
    if base in ("addmm", "baddbmm"):
        bias, a, b = args[0], args[1], args[2]
        w = _matmul_work(base, a, b, is_param)
        w.fwd_elementwise_ops += n_out
        if _rg(bias):
            w.bwd_elementwise_ops += n_out
        return w
    if base in BATCH_NORM_OPS:
        return _batch_norm_work(base, args)
    if base in ("relu", "threshold", "hardtanh", "leaky_relu", "relu6", "elu", "gelu", "silu"):
        return OpWork(kind=base, fwd_elementwise_ops=n_out,
                      bwd_elementwise_ops=n_out if _rg(args[0]) else 0)
    if base in ("tanh", "sigmoid"):
        return OpWork(kind=base, fwd_elementwise_ops=n_out,
                      bwd_elementwise_ops=3 * n_out if _rg(args[0]) else 0)
    if base in ("add", "sub"):
        return OpWork(kind=base, fwd_elementwise_ops=n_out)
    if base in ("mul", "div"):
        k = sum(int(_rg(a)) for a in args[:2])
        return OpWork(kind=base, fwd_elementwise_ops=n_out, bwd_elementwise_ops=k * n_out)
    if base in ("max_pool2d_with_indices", "max_pool2d", "max_pool1d", "max_pool3d",
                "max_pool3d_with_indices"):
        window = prod(args[1]) if len(args) > 1 else 1
        if len(args[1]) == 1:
            window = args[1][0] ** (len(args[0].shape) - 2)
        return OpWork(kind="max_pool", fwd_elementwise_ops=n_out * (window - 1),
                      bwd_elementwise_ops=n_out if _rg(args[0]) else 0)
    if base in ("avg_pool2d", "avg_pool1d", "avg_pool3d"):
        window = prod(args[1])
        if len(args[1]) == 1:
            window = args[1][0] ** (len(args[0].shape) - 2)
        return OpWork(kind="avg_pool", fwd_elementwise_ops=n_out * window,
                      bwd_elementwise_ops=n_out * window if _rg(args[0]) else 0)
    if base in ("_adaptive_avg_pool2d", "adaptive_avg_pool2d", "mean", "sum"):
        n_in = args[0].numel()
        bwd = n_in if (_rg(args[0]) and base != "sum") else 0
        return OpWork(kind="mean" if base == "mean" else base.lstrip("_"),
                      fwd_elementwise_ops=n_in, bwd_elementwise_ops=bwd)
    if base in ("native_dropout", "dropout", "bernoulli"):
        return OpWork(kind="dropout", fwd_elementwise_ops=2 * args[0].numel(),
                      bwd_elementwise_ops=args[0].numel() if _rg(args[0]) else 0)
    if base in ("_log_softmax", "_softmax", "log_softmax", "softmax"):
        return OpWork(kind=base.lstrip("_"), fwd_elementwise_ops=4 * n_out,
                      bwd_elementwise_ops=3 * n_out if _rg(args[0]) else 0)
    if base in ("nll_loss_forward", "nll_loss", "nll_loss2d_forward"):
        b = args[0].shape[0] if args[0].dim() > 1 else 1
        return OpWork(kind="nll_loss", fwd_elementwise_ops=b,
                      bwd_elementwise_ops=b if _rg(args[0]) else 0)
    if out_t is None or not (out_t.is_floating_point() or out_t.is_complex()):
        # Integer/bool bookkeeping (BatchNorm's batch counter, indices): not datapath work.
        return OpWork(kind=base)
    return OpWork(kind=base, fwd_elementwise_ops=n_out,
                  bwd_elementwise_ops=n_out if any_rg else 0, modeled=False)


# ----------------------------------------------------------------------------------------------
# Optimizer step: arithmetic of the dispatched update ops, per element of the op's output
# ----------------------------------------------------------------------------------------------

#: (mults, adds, divs, sqrts) per output element; scaling arguments (alpha/value) add one mult.
UPDATE_OPS: dict[str, tuple[int, int, int, int]] = {
    "add": (0, 1, 0, 0), "sub": (0, 1, 0, 0), "mul": (1, 0, 0, 0), "div": (0, 0, 1, 0),
    "lerp": (1, 2, 0, 0), "addcmul": (1, 1, 0, 0), "addcdiv": (0, 1, 1, 0),
    "sqrt": (0, 0, 0, 1), "rsqrt": (0, 0, 1, 1), "maximum": (0, 1, 0, 0), "neg": (0, 0, 0, 0),
    "reciprocal": (0, 0, 1, 0),
}


def update_op_counts(func: torch._ops.OpOverload, args: tuple, kwargs: dict,
                     out: object) -> tuple[int, int, int, int, int] | None:
    """``(mults, adds, divs, sqrts, other)`` of one optimizer-step op for all its elements.

    ``None`` for data-only ops. Ops outside :data:`UPDATE_OPS` count one ``other`` op/element.
    """
    name = op_name(func)
    base = name.rstrip("_")
    if name in DATA_ONLY_OPS or base in DATA_ONLY_OPS:
        return None
    out_t = _first_tensor(out)
    if out_t is None:
        return None
    n = out_t.numel()
    if base not in UPDATE_OPS:
        return (0, 0, 0, 0, n)
    m, a, d, s = UPDATE_OPS[base]
    scale = kwargs.get("alpha", kwargs.get("value"))
    if scale is None and base in ("add", "sub", "addcmul", "addcdiv") and len(args) > 3:
        scale = args[3]
    if scale is None and base in ("add", "sub") and len(args) > 2:
        scale = args[2]
    if scale is not None and not isinstance(scale, torch.Tensor) and scale != 1:
        m += 1
    return (m * n, a * n, d * n, s * n, 0)
