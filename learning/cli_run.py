"""``python -m learning run``: incremental training with partial network sharing from a TOML
config (``--config NAME`` from ``learning/configs`` or a path), flags override config keys."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from learning.approaches import APPROACHES
from learning.config import available_configs, load_config
from learning.data import DATASETS
from learning.errors import LearningError
from learning.models import MODELS

PROG = "python -m learning run"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("--config", default="fast",
                   help=f"config name ({', '.join(available_configs())}) or .toml path "
                        "(default: fast)")
    p.add_argument("--list-configs", action="store_true", help="list the named configs and exit")
    p.add_argument("--dataset", help=f"{', '.join(DATASETS)}, or package.module:loader")
    p.add_argument("--data-root", help="folder with the optional datasets (default ../shared/data)")
    p.add_argument("--data-path", help="image-folder root (root/<class>/<image>)")
    p.add_argument("--splits", help="class split, e.g. 4+3+3")
    p.add_argument("--model", help=f"{', '.join(MODELS)}, or package.module:factory (a "
                   "function (num_classes, in_channels, image_size, width) -> BlockNet)")
    p.add_argument("--width", type=float, help="channel multiplier of the model")
    p.add_argument("--approach", help=", ".join(
        f"{n} ({a.number})" if a.number else n for n, a in APPROACHES.items()))
    p.add_argument("--new-maps", type=int, help="approach 1: new last-conv maps per task")
    p.add_argument("--clone-blocks", type=int, help="approach 2: final blocks cloned per task")
    p.add_argument("--sharing", type=float, dest="sharing_percent",
                   help="approach 3: share the sharing point nearest to this %% of parameters "
                   "(turns the sweep off)")
    p.add_argument("--tolerance", type=float, help="sweep: accuracy points allowed below no "
                   "sharing (default 1)")
    p.add_argument("--combiner", help="combination rule: max-softmax (paper), temperature, "
                   "energy, mahalanobis (default); every rule is also evaluated in a table")
    p.add_argument("--epochs", type=int)
    p.add_argument("--base-epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--train-per-class", type=int, help="cap training images per class")
    p.add_argument("--test-per-class", type=int, help="cap test images per class")
    p.add_argument("--seed", type=int)
    p.add_argument("--device", help="cpu, cuda or auto")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--workers", type=int, help="train the sharing sweep's points in N parallel "
                   "processes (threads // N torch threads each)")
    p.add_argument("--trunk-cache-mb", type=float, dest="trunk_cache_mb",
                   help="in-memory bound of the frozen-trunk output cache, MiB (default 2048; "
                   "larger caches go to a disk memmap)")
    p.add_argument("--output-dir", help="results and checkpoint folder "
                   "(default reports/learning/<config name>)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bars")
    p.add_argument("--json", action="store_true", help="print results as JSON instead of tables")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_configs:
        from learning.config import resolve_config_path

        for name in available_configs():
            first = resolve_config_path(name).read_text().splitlines()[0].lstrip("# ")
            print(f"{name:<20}{first}")
        return 0
    overrides = {
        k: getattr(args, k) for k in (
            "dataset", "data_root", "data_path", "splits", "model", "width", "approach",
            "new_maps", "clone_blocks", "sharing_percent", "tolerance", "combiner", "epochs",
            "base_epochs",
            "batch_size", "lr", "train_per_class", "test_per_class", "seed", "device", "threads",
            "workers", "trunk_cache_mb", "output_dir",
        )
    }
    if args.sharing_percent is not None:
        overrides["sweep"] = False
    try:
        cfg = load_config(args.config, overrides)
        from learning import distributed

        distributed.init_from_env(cfg.device)  # data-parallel when launched by torchrun
        from learning.incremental import default_output_dir, run_experiment
        from learning.results import format_results, results_json

        t0 = time.perf_counter()
        res = run_experiment(cfg, progress=not args.no_progress and distributed.is_main(),
                             resume=not args.fresh)
        elapsed = time.perf_counter() - t0
    except LearningError as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; rerun the same command to resume from the last checkpoint",
              file=sys.stderr)
        return 130
    out = Path(cfg.output_dir) if cfg.output_dir else default_output_dir(cfg)
    if not distributed.is_main():
        return 0  # rank 0 prints and writes
    if args.json:
        print(results_json(res), end="")
    else:
        print(format_results(res))
        resumed = f" (resumed {len(res.resumed_stages)} stages)" if res.resumed_stages else ""
        print(f"\nrun time {elapsed:.1f} s{resumed}; results in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
