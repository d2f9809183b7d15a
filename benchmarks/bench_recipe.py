"""The CPU training recipe for the paper's CIFAR-10 MlpConv network, trick by trick: training
speed per step (fp32, channels-last, bf16 autocast) and the accuracy of each trick on a short
budget, with accuracy and time side by side.

Usage: .venv/bin/python benchmarks/bench_recipe.py [--data-root ../shared/data] [--threads 2]
       [--classes 4] [--train-per-class 1000] [--epochs 6] [--batch 256] [--speed-steps 6]
       [--skip speed,ablation,views,curve] [--curve-epochs 0] [--json]

Every number is a real ``learning.training.train_model`` run on real CIFAR-10 (the JPEG-q75
copy under the data root; ``dataset = "cifar10"``) with the paper's ``mlpconv`` (Sarwar et al.,
IEEE Access 2019, approach 2; BatchNorm on unless a row says otherwise). Speed: seconds per
optimizer step at ``--batch`` over ``--speed-steps`` steps after a 2-step warm-up, 10 outputs.
Ablation: the first ``--classes`` classes, ``--train-per-class`` seeded training images per
class, all 1,000 test images per class, ``--epochs`` epochs; rows marked "+" add their trick to
every later row, rows marked "vs" change the row before them only. Test accuracy is shown
without and with test-time flips (TTA: the mean of the logits of the image and its mirror).
Views: a clone branch (the last MlpConv block and the output layer, approach 2) on the frozen
trunk of the last "+" row's network, trained on the next 3 classes with augmentation, the trunk
run every step vs the trunk outputs of ``trunk_views`` seeded augmented views cached. Curve:
the last "+" recipe on all training images of the ``--classes`` classes for ``--curve-epochs``
epochs, test accuracy after each epoch (mid-schedule, so below a run that ends there).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from learning.data import ImageDataset, load_dataset  # noqa: E402
from learning.incremental import forward_of  # noqa: E402
from learning.models import BlockNet, build_model, freeze  # noqa: E402
from learning.network import make_clone_branch  # noqa: E402
from learning.training import Recipe, accuracy_pct, batched, train_model  # noqa: E402

SGD = {"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4, "nesterov": False}
FAST = {"precision": "bf16", "channels_last": True}
# (label, recipe/optimizer/model overrides, cumulative)
ROWS: list[tuple[str, dict[str, Any], bool]] = [
    ("plain: fp32, cosine LR, no augmentation", {}, True),
    ("+ bf16 autocast + channels-last", FAST, True),
    ("+ flip + translate (4 px) augmentation", {"augment": True}, True),
    ("+ triangular LR (20 % warm-up)", {"lr_schedule": "triangular"}, True),
    ("vs one-cycle LR (20 % warm-up)", {"lr_schedule": "onecycle"}, False),
    ("+ label smoothing 0.2", {"label_smoothing": 0.2}, True),
    ("+ Nesterov momentum", {"nesterov": True}, True),
    ("vs EMA of the weights (decay 0.99/step)", {"ema_decay": 0.99}, False),
    ("vs no BatchNorm (lr 0.02)", {"batch_norm": False, "lr": 0.02}, False),
    ("vs dropout 0.3 after blocks 1-2", {"dropout": 0.3}, False),
    ("vs fp32 (no bf16, no channels-last)", {"precision": "fp32", "channels_last": False},
     False),
]
MODEL_KEYS = ("batch_norm", "dropout")
OPT_KEYS = tuple(SGD)


def subset(ds: ImageDataset, classes: list[int], per_class: int | None,
           seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training images of ``classes`` (``per_class`` seeded ones each, all when None), all
    their test images; labels renumbered 0..len(classes)-1."""
    rng = np.random.default_rng(seed)
    tr = np.concatenate([rng.permutation(np.flatnonzero(ds.y_train == c))[:per_class]
                         for c in classes])
    te = np.flatnonzero(np.isin(ds.y_test, classes))
    local = {c: i for i, c in enumerate(classes)}
    loc = np.vectorize(local.__getitem__)
    return ds.x_train[tr], loc(ds.y_train[tr]), ds.x_test[te], loc(ds.y_test[te])


def run(settings: dict[str, Any], data: tuple[np.ndarray, ...], num_classes: int, epochs: int,
        batch: int, seed: int, on_epoch: Any = None) -> tuple[BlockNet, Any]:
    """Train a fresh seeded ``mlpconv`` with ``settings``; returns the net and TrainStats."""
    torch.manual_seed(seed)
    net = build_model("mlpconv", num_classes, 3, 32, 1.0,
                      **{k: settings[k] for k in MODEL_KEYS if k in settings})
    recipe = Recipe.from_config(settings)
    x, y = data[0], data[1]
    stats = train_model(net, net, x, y, epochs=epochs, batch_size=batch, use_augment=bool(
        settings.get("augment", False)), seed=seed, progress=False, recipe=recipe,
        on_epoch=on_epoch(net) if on_epoch else None,
        **{k: settings.get(k, v) for k, v in SGD.items()})
    return net, stats


def test_acc(fn: Any, x: np.ndarray, y: np.ndarray, tta: bool) -> float:
    (lg,) = batched(fn, x, tta=tta)
    return accuracy_pct(lg.argmax(1), y)


def bench_speed(ds: ImageDataset, a: argparse.Namespace) -> list[dict[str, Any]]:
    n = a.batch * a.speed_steps
    data = (ds.x_train[:n], ds.y_train[:n])
    warm = (ds.x_train[: 2 * a.batch], ds.y_train[: 2 * a.batch])
    rows = []
    for label, s in [("fp32", {}), ("fp32 + channels-last", {"channels_last": True}),
                     ("bf16 autocast", {"precision": "bf16"}), ("bf16 + channels-last", FAST)]:
        run(s, warm, 10, 1, a.batch, 0)
        _, st = run(s, data, 10, 1, a.batch, 0)
        rows.append({"mode": label, "s_per_step": st.train_time_s / a.speed_steps})
    return rows


def bench_ablation(ds: ImageDataset, a: argparse.Namespace) -> tuple[list[dict[str, Any]],
                                                                      dict[str, Any]]:
    classes = list(range(a.classes))
    data = subset(ds, classes, a.train_per_class, a.seed)
    cur: dict[str, Any] = {}
    rows = []
    for label, over, cumulative in ROWS:
        s = {**cur, **over}
        net, st = run(s, data, len(classes), a.epochs, a.batch, a.seed)
        t0 = time.perf_counter()
        acc = test_acc(net, data[2], data[3], False)
        tta = test_acc(net, data[2], data[3], True)
        rows.append({"trick": label, "acc_pct": acc, "acc_tta_pct": tta,
                     "train_s": st.train_time_s, "s_per_epoch": st.train_time_s / a.epochs,
                     "eval_tta_s": time.perf_counter() - t0, "settings": s})
        print(f"  {label}: {acc:.2f} % ({tta:.2f} % TTA), {st.train_time_s:.0f} s",
              file=sys.stderr, flush=True)
        if cumulative:
            cur = s
    return rows, cur


def bench_views(ds: ImageDataset, a: argparse.Namespace, final: dict[str, Any]) -> list[dict]:
    """Clone branch (blocks 2.., approach 2) on a frozen base: trunk every step vs cached
    augmented views."""
    base_cls = list(range(a.classes))
    new_cls = list(range(a.classes, a.classes + 3))
    base, _ = run(final, subset(ds, base_cls, a.train_per_class, a.seed), len(base_cls),
                  a.epochs, a.batch, a.seed)
    freeze(base)
    x, y, xt, yt = subset(ds, new_cls, a.train_per_class, a.seed + 1)
    rows = []
    for views in (0, a.views):
        s = {**final, "trunk_views": views}
        br = make_clone_branch(base, base, 2, len(new_cls), seed=a.seed)
        trunk, head = forward_of(base, br, split=True)
        st = train_model(head, br, x, y, epochs=a.epochs, batch_size=a.batch, use_augment=True,
                         seed=a.seed, progress=False, trunk=trunk, recipe=Recipe.from_config(s),
                         **{k: s.get(k, v) for k, v in SGD.items()})
        br.eval()
        rows.append({"views": views, "acc_pct": test_acc(forward_of(base, br), xt, yt, False),
                     "train_s": st.train_time_s, "cache_s": st.trunk_cache_time_s,
                     "cache_mib": st.trunk_cache_bytes / 2**20, "train_images": len(y)})
    return rows


def bench_curve(ds: ImageDataset, a: argparse.Namespace, final: dict[str, Any]) -> list[dict]:
    data = subset(ds, list(range(a.classes)), None, a.seed)
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()

    def hook(net: BlockNet) -> Any:
        def on_epoch(state: dict[str, Any]) -> None:
            net.eval()
            rows.append({"epoch": state["epoch"], "acc_pct": test_acc(net, data[2], data[3],
                                                                      final.get("tta", True)),
                         "elapsed_s": time.perf_counter() - t0})
            net.train()
        return on_epoch

    net, st = run(final, data, a.classes, a.curve_epochs, a.batch, a.seed, on_epoch=hook)
    rows.append({"epoch": a.curve_epochs, "acc_pct": test_acc(net, data[2], data[3], True),
                 "elapsed_s": time.perf_counter() - t0, "train_images": len(data[1])})
    return rows


def print_tables(out: dict[str, Any], a: argparse.Namespace) -> None:
    cmd = " ".join(["benchmarks/bench_recipe.py", *sys.argv[1:]])
    ld0, ld1 = out["load_avg_start"], out["load_avg_end"]
    print(f"Training recipe, CPU, `{cmd}`: torch {torch.__version__}, {out['threads']} threads "
          f"on {os.cpu_count()} cores, load average (1 min) {ld0[0]:.2f} at start, "
          f"{ld1[0]:.2f} at end; {out['wall_s']:.0f} s. Real CIFAR-10, paper mlpconv, SGD "
          f"momentum 0.9, lr {SGD['lr']}, weight decay {SGD['weight_decay']}, batch {a.batch}.\n")
    if out.get("speed"):
        print("| precision / memory format | s/step |\n|---|---|")
        for r in out["speed"]:
            print(f"| {r['mode']} | {r['s_per_step']:.3f} |")
    if out.get("ablation"):
        print(f"\nShort budget: classes 0-{a.classes - 1}, {a.train_per_class} training "
              f"images per class, {a.epochs} epochs, all test images.\n")
        print("| trick | accuracy % | with TTA % | train s | s/epoch |\n|---|---|---|---|---|")
        for r in out["ablation"]:
            print(f"| {r['trick']} | {r['acc_pct']:.2f} | {r['acc_tta_pct']:.2f} | "
                  f"{r['train_s']:.0f} | {r['s_per_epoch']:.1f} |")
    if out.get("views"):
        print("\nClone branch (last MlpConv block + output layer) with augmentation:\n")
        print("| trunk | accuracy % | train s | cache build s | cache MiB |\n|---|---|---|---|---|")
        for r in out["views"]:
            name = f"{r['views']} cached views" if r["views"] else "run every step"
            print(f"| {name} | {r['acc_pct']:.2f} | {r['train_s']:.0f} | {r['cache_s']:.0f} | "
                  f"{r['cache_mib']:.0f} |")
    if out.get("curve"):
        print("\nAccuracy curve, all training images (TTA):\n")
        print("| epoch | accuracy % | elapsed s |\n|---|---|---|")
        for r in out["curve"]:
            print(f"| {r['epoch']} | {r['acc_pct']:.2f} | {r['elapsed_s']:.0f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=str(Path(__file__).resolve().parents[2] / "shared"
                                               / "data"))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--classes", type=int, default=4)
    ap.add_argument("--train-per-class", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--speed-steps", type=int, default=6)
    ap.add_argument("--views", type=int, default=4, help="trunk_views of the views row")
    ap.add_argument("--curve-epochs", type=int, default=0, help="0: no curve")
    ap.add_argument("--skip", default="", help="comma-separated: speed,ablation,views,curve")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if not 1 <= a.classes <= 7 or a.epochs < 1 or a.batch < 1 or a.speed_steps < 1:
        print("bench_recipe: error: need 1 <= classes <= 7, epochs, batch, speed-steps >= 1",
              file=sys.stderr)
        return 2
    torch.set_num_threads(a.threads)
    ds = load_dataset("cifar10", a.data_root)
    skip = set(a.skip.split(","))
    out: dict[str, Any] = {"threads": torch.get_num_threads(), "load_avg_start": os.getloadavg()}
    t0 = time.perf_counter()
    final = {**FAST, "augment": True, "lr_schedule": "triangular", "label_smoothing": 0.2,
             "nesterov": True}
    if "speed" not in skip:
        out["speed"] = bench_speed(ds, a)
    if "ablation" not in skip:
        out["ablation"], final = bench_ablation(ds, a)
    if "views" not in skip:
        out["views"] = bench_views(ds, a, final)
    if "curve" not in skip and a.curve_epochs > 0:
        out["curve"] = bench_curve(ds, a, {**final, "tta": True})
    out["wall_s"] = time.perf_counter() - t0
    out["load_avg_end"] = os.getloadavg()
    if a.json:
        print(json.dumps(out, indent=1, default=str))
    else:
        print_tables(out, a)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
