"""``python -m workload trace``: layer-wise MACs and memory accesses of one training iteration.

Builds a model from :mod:`learning.models`, freezes the prefix of blocks for the requested
sharing percentage, runs real training iterations under :func:`workload.trace_training` and
prints (or writes) the per-layer trace. ``python -m learning trace`` is an alias.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

import torch

from learning.errors import LearningError
from learning.training import OptimizerSpec, to_float
from workload.api import OPTIMIZERS, TraceResult, optimizer_spec, trace_training
from workload.errors import TraceError, WorkloadError
from workload.io import FORMATS, check_output_folder, save_samples, write_table
from workload.schema import columns_help

PROG = "workload trace"
DTYPES = {"float32": torch.float32, "float64": torch.float64, "bfloat16": torch.bfloat16}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Layer-wise MACs, element-wise work, memory accesses and wall-clock time "
        "of one training iteration, recorded from real PyTorch execution.",
        epilog="Output columns (one row per executed layer call, per iteration of batch B):\n"
        + columns_help()
        + "\n\nExample: python -m workload trace --model resnet18 --share 80 --batch 64 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", required=True,
                   help="lenet, mlpconv (the paper's MlpConv), nin (Network-in-Network), resnet18, "
                   "resnet34, resnet50 or resnet101")
    p.add_argument("--share", type=float, default=0.0,
                   help="shared (frozen) share of the parameters in %% (0-100; the largest "
                   "sharing point not above it is used; default 0)")
    p.add_argument("--batch", type=int, default=64, help="batch size B (default 64)")
    p.add_argument("--classes", type=int, default=10, help="output classes (default 10)")
    p.add_argument("--image-size", type=int, default=None,
                   help="input height = width in pixels (default 28 for lenet, else 32)")
    p.add_argument("--in-channels", type=int, default=None,
                   help="input channels (default 1 for lenet, else 3)")
    p.add_argument("--width", type=float, default=1.0, help="channel-width multiplier")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd",
                   help="optimizer of the traced step (default sgd)")
    p.add_argument("--weight-decay", type=float, default=None,
                   help="L2 weight decay of the traced optimizer (default 0; the experiment "
                        "configs train with 5e-4)")
    p.add_argument("--dtype", choices=tuple(DTYPES), default="float32",
                   help="parameter/activation dtype (default float32)")
    p.add_argument("--iterations", type=int, default=3,
                   help="timed iterations after the traced one (default 3)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--seed", type=int, default=0, help="seed of weights and random batch")
    p.add_argument("--out", default=None,
                   help="write the per-layer table to this .csv, .parquet or .json file")
    p.add_argument("--samples", type=int, default=0,
                   help="operand values sampled per tensor (weights, activations, gradients)")
    p.add_argument("--samples-out", default=None, help=".npz file for the operand samples")
    p.add_argument("--dataset", default=None,
                   help="trace on a real batch of this dataset (learning.data names, e.g. "
                   "cifar10, fashion-mnist) instead of random inputs; sets the default input "
                   "size and channels")
    p.add_argument("--data-root", default=None,
                   help="data folder for --dataset (default ../shared/data when present)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON document (summary and rows) instead of a table")
    return p


def summary(result: TraceResult, meta: dict) -> dict:
    """JSON-ready summary: metadata, MACs by phase, totals, timing, storage, checks."""
    return {
        **meta,
        "batch": result.batch,
        "input_shape": list(result.input_shape),
        "optimizer": result.optimizer,
        "dtype": result.dtype,
        "macs_by_phase": result.phase_macs(),
        "totals": result.totals(),
        "timing_s": result.timing_s,
        "storage": result.storage.to_dict(orient="records"),
        "checks": result.checks,
        "unmodeled_ops": result.unmodeled_ops,
    }


def _validate(args: argparse.Namespace) -> None:
    if not 0.0 <= args.share <= 100.0:
        raise WorkloadError(f"--share {args.share:g} is outside 0-100; give a percentage")
    for name in ("batch", "classes", "iterations"):
        if getattr(args, name) < 1:
            raise WorkloadError(f"--{name} must be >= 1, got {getattr(args, name)}")
    if args.samples < 0:
        raise WorkloadError(f"--samples must be >= 0, got {args.samples}")
    if args.samples_out and not args.samples:
        raise WorkloadError("--samples-out needs --samples N (values per tensor) as well")
    if args.out and os.path.splitext(args.out)[1].lower() not in FORMATS:
        raise WorkloadError(f"--out {args.out!r} must end in .csv, .parquet or .json")
    for path in (args.out, args.samples_out):
        if path:
            check_output_folder(path)


def real_batch(name: str, data_root: str | None, batch: int,
               seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` random training images of a real dataset as float32 in [-1, 1] (normalized as
    training does, :func:`learning.training.to_float`) with their labels (int64)."""
    import numpy as np

    from learning.data import load_dataset

    ds = load_dataset(name, data_root=data_root)
    if batch > len(ds.x_train):
        raise WorkloadError(f"--batch {batch} exceeds the {len(ds.x_train)} training images")
    idx = np.random.default_rng(seed).choice(len(ds.x_train), size=batch, replace=False)
    x = to_float(ds.x_train[np.sort(idx)])  # the normalization training uses
    return x, torch.from_numpy(ds.y_train[np.sort(idx)].astype(np.int64))


def run(args: argparse.Namespace) -> tuple[TraceResult, dict]:
    """Build, freeze and trace the model described by parsed CLI ``args``."""
    from learning.models import build_model, freeze_prefix, sharing_point_for_percent

    _validate(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    is_lenet = args.model.lower() == "lenet"
    x = y = None
    if args.dataset:
        x, y = real_batch(args.dataset, args.data_root, args.batch, args.seed)
        if int(y.max()) >= args.classes:
            raise WorkloadError(f"{args.dataset} has labels up to {int(y.max())}; pass "
                                f"--classes {int(y.max()) + 1} or more")
    size = args.image_size or (x.shape[-1] if x is not None else (28 if is_lenet else 32))
    chans = args.in_channels or (x.shape[1] if x is not None else (1 if is_lenet else 3))
    if x is not None and tuple(x.shape[1:]) != (chans, size, size):
        raise WorkloadError(f"{args.dataset} images are {'x'.join(map(str, x.shape[1:]))}; "
                            "drop --in-channels/--image-size or match them")
    torch.manual_seed(args.seed)
    net = build_model(args.model, args.classes, in_channels=chans, image_size=size,
                      width=args.width)
    k, pct = sharing_point_for_percent(net, args.share)
    freeze_prefix(net, k)
    result = trace_training(
        net, (chans, size, size), args.batch, optimizer=_optimizer(args),
        dtype=DTYPES[args.dtype], sample_operands=args.samples, iterations=args.iterations,
        seed=args.seed, progress=not args.json, inputs=x, targets=y,
    )
    meta = {"model": args.model.lower(), "share_requested_pct": args.share,
            "share_pct": pct, "blocks_frozen": k, "blocks": len(net.blocks),
            "classes": args.classes, "inputs": args.dataset or "random normal"}
    return result, meta


def _print_table(result: TraceResult, meta: dict) -> None:
    cols = ["layer", "kind", "branch", "params", "fwd_macs", "bwd_input_macs",
            "bwd_weight_macs", "elementwise_ops", "act_saved_write_elems"]
    print(result.df[cols].to_string(index=False))
    print()
    print(f"model {meta['model']}: {meta['blocks_frozen']} of {meta['blocks']} blocks shared "
          f"({meta['share_pct']:.1f} % of parameters), batch {result.batch}, "
          f"input {'x'.join(map(str, result.input_shape))}, {result.optimizer}, {result.dtype}")
    for phase, macs in result.phase_macs().items():
        print(f"  {phase + ' MACs':<24}{macs:>16,d}")
    for phase, sec in result.timing_s.items():
        print(f"  {phase + ' time (ms)':<24}{sec * 1e3:>16.3f}")
    for _, r in result.storage.iterrows():
        print(f"  {'params ' + r['branch']:<24}{int(r['params']):>16,d}")
    ok = result.checks["bwd_macs_dispatched"] == result.checks["bwd_macs_rows"]
    print(f"  backward MACs dispatched == rows: {'yes' if ok else 'NO'}")


def _optimizer(args: argparse.Namespace) -> str | OptimizerSpec:
    """The preset of ``--optimizer``, with ``--weight-decay`` when given."""
    if args.weight_decay is None:
        return args.optimizer
    if args.weight_decay < 0:
        raise TraceError(f"--weight-decay must be >= 0, got {args.weight_decay}")
    return dataclasses.replace(optimizer_spec(args.optimizer), weight_decay=args.weight_decay)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 on bad input)."""
    args = _parser().parse_args(argv)
    try:
        result, meta = run(args)
        if args.out:
            write_table(result, args.out)
        if args.samples_out:
            save_samples(result, args.samples_out)
    except (WorkloadError, LearningError) as exc:  # LearningError: unknown model or dataset
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        doc = summary(result, meta)
        doc["rows"] = json.loads(result.df.to_json(orient="records"))
        print(json.dumps(doc, indent=1))
    else:
        _print_table(result, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
