"""Experiment configuration: a dataclass loaded from a named TOML file or a path, validated.

Named configs live in ``learning/configs/<name>.toml``. Every key of :class:`ExperimentConfig`
may appear in a file; unknown keys are an error (a typo must not silently fall back to a
default).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from learning.approaches import approach_class, approach_key
from learning.data import dataset_key, dataset_loader, parse_splits
from learning.errors import LearningError
from learning.models import model_factory, model_key

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
BASELINES = ("no-sharing", "joint")
WIDEN_KEYS = ("widen_cumulative", "widen_init")  # approach 1 only (not in others' fingerprint)
#: Training-recipe keys (learning.training.Recipe) left out of the fingerprint at their defaults.
RECIPE_KEYS = ("model_args", "translate", "lr_schedule", "warmup_fraction", "label_smoothing",
               "nesterov", "ema_decay", "precision", "channels_last", "tta", "trunk_views")


@dataclass
class ExperimentConfig:
    """One incremental-learning experiment. Percentages are 0..100, accuracy tolerance in points."""

    name: str = "fast"
    description: str = ""
    # data
    dataset: str = "fashion-mnist"
    data_root: str | None = None  # default: ../shared/data next to the repo, when present
    data_path: str | None = None  # imagefolder root, or a Fashion-MNIST IDX folder
    image_size: int = 32  # imagefolder only
    channels: int = 3  # imagefolder only
    splits: list[int] = field(default_factory=lambda: [4, 3, 3])
    class_order: str | list[int] = "natural"
    val_fraction: float = 0.1
    train_per_class: int | None = None
    test_per_class: int | None = None
    balance_tasks: bool = False  # cap every class of a task at the task's smallest class
    # model
    model: str = "lenet"
    width: float = 1.0
    # extra keyword arguments of the model's builder, e.g. {batch_norm = true, dropout = 0.0}
    model_args: dict[str, Any] = field(default_factory=dict)
    # method
    approach: str = "partial"
    new_maps: int = 4  # approach 1: new feature maps of the last conv layer per task
    # approach 1: each installment's branch also reads every earlier installment's maps
    # (frozen), and "without sharing" fine-tunes the previous no-sharing network widened
    # alike (the paper's Table 1); false: every task widens the base alone
    widen_cumulative: bool = False
    # approach 1: new kernels start from learning.widening.WIDEN_INITS: distribution (the
    # learned kernels' mean/std, the paper's), clone (learned kernels + 1 % noise), default
    widen_init: str = "distribution"
    clone_blocks: int = 1  # approach 2: number of final blocks cloned into each branch
    # approach 3 without a sweep: share this much (the nearest sharing point)
    sharing_percent: float | None = None
    sweep: bool = True  # approach 3: sweep sharing points on task 1 and pick one
    # targets (%): the sweep trains the nearest sharing point of each (and 0); None: every point
    sweep_percents: list[float] | None = None
    # the sweep also trains every later task's branch at every point and evaluates each point's
    # updated network on all classes (the paper's Fig. 2b); costs (tasks - 1) x the sweep
    sweep_updated: bool = False
    tolerance: float = 1.0  # accuracy points below the no-sharing baseline allowed
    combiner: str = "mahalanobis"  # learning.combine.RULES; "max-softmax" is the paper's rule
    baselines: list[str] = field(default_factory=lambda: ["no-sharing", "joint"])
    # training
    epochs: int = 3
    base_epochs: int | None = None  # epochs for the base network / baselines (default epochs)
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    augment: bool = False  # random crop (pad `translate`) + horizontal flip, natural images
    # training recipe (learning.training.Recipe; defaults = the plain recipe)
    translate: int = 4  # augmentation: random translation of up to this many pixels
    lr_schedule: str = "cosine"  # learning.training.LR_SCHEDULES: cosine, onecycle, triangular
    warmup_fraction: float = 0.2  # onecycle/triangular: share of the steps rising to lr
    label_smoothing: float = 0.0  # cross-entropy label smoothing, 0..1
    nesterov: bool = False  # SGD with Nesterov momentum
    ema_decay: float = 0.0  # exponential moving average of the weights per step; 0 = off
    precision: str = "fp32"  # fp32, or bf16 (autocast of the training forward)
    channels_last: bool = False  # NHWC memory format while training
    tta: bool = False  # evaluate on the mean of the logits of the image and its mirror
    # with augment and a frozen trunk: cache the trunk outputs of this many seeded augmented
    # views of every training image (each epoch picks one view per image); 0 = run the trunk
    trunk_views: int = 0
    seed: int = 0
    # running
    device: str = "cpu"
    threads: int | None = None
    # sweep points trained in parallel processes, threads // workers torch threads each
    workers: int = 1
    # in-memory bound (MiB) of the frozen-trunk output cache; larger caches go to a disk memmap
    # in the temp folder (TMPDIR)
    trunk_cache_mb: float = 2048.0
    output_dir: str | None = None  # default: reports/learning/<name>

    def training_dict(self) -> dict[str, Any]:
        """Fields that change what is trained (everything except where/how it runs and the
        combination rule, which only changes how trained branches are combined)."""
        d = dataclasses.asdict(self)
        # sweep_updated only adds stages (each seeded by its label): a run resumes either way
        for k in ("name", "description", "data_root", "data_path", "device", "threads",
                  "workers", "trunk_cache_mb", "output_dir", "combiner", "sweep_updated"):
            d.pop(k)
        if d["approach"] != "widen":  # approach 1's own keys change nothing else
            for k in WIDEN_KEYS:
                d.pop(k)
        dflt = dataclasses.asdict(ExperimentConfig())
        # keys at their defaults: the fingerprint of older checkpoints
        for k in (*RECIPE_KEYS, "balance_tasks"):
            if d[k] == dflt[k]:
                d.pop(k)
        return d

    def fingerprint(self) -> str:
        """sha256 of :meth:`training_dict` (checkpoints only resume under the same one)."""
        blob = json.dumps(self.training_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()

    @property
    def epochs_base(self) -> int:
        return self.base_epochs if self.base_epochs is not None else self.epochs


def resolve_config_path(name_or_path: str) -> Path:
    """A path to an existing .toml file, or the name of one in ``learning/configs``."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise LearningError(f"config file {name_or_path!r} not found")
        return p
    cand = CONFIG_DIR / f"{name_or_path}.toml"
    if not cand.is_file():
        names = ", ".join(sorted(q.stem for q in CONFIG_DIR.glob("*.toml")))
        raise LearningError(f"unknown config {name_or_path!r}; use a .toml path or one of: {names}")
    return cand


def available_configs() -> list[str]:
    return sorted(q.stem for q in CONFIG_DIR.glob("*.toml"))


def load_config(name_or_path: str, overrides: dict[str, Any] | None = None) -> ExperimentConfig:
    """Read a TOML config, apply ``overrides`` (``None`` values are ignored), validate."""
    path = resolve_config_path(name_or_path)
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise LearningError(f"config {path} is not valid TOML: {e}") from None
    data.setdefault("name", path.stem)
    for k, v in (overrides or {}).items():
        if v is not None:
            data[k] = v
    return config_from_dict(data)


def config_from_dict(data: dict[str, Any]) -> ExperimentConfig:
    """Build and validate a config from plain values."""
    known = {f.name for f in dataclasses.fields(ExperimentConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise LearningError(
            f"unknown config key {unknown[0]!r}; valid keys: {', '.join(sorted(known))}"
        )
    cfg = ExperimentConfig(**data)
    validate(cfg)
    return cfg


def validate(cfg: ExperimentConfig) -> None:
    """Raise :class:`LearningError` on the first bad field (one line naming it and the fix)."""
    cfg.dataset = dataset_key(cfg.dataset)
    dataset_loader(cfg.dataset)  # a registered dataset, or package.module:loader importable
    cfg.model = model_key(cfg.model)
    model_factory(cfg.model)
    cfg.splits = parse_splits(cfg.splits)
    cfg.approach = approach_key(cfg.approach)
    approach = approach_class(cfg.approach)
    if cfg.sharing_percent is not None and not 0.0 <= float(cfg.sharing_percent) <= 100.0:
        raise LearningError(
            f"sharing {cfg.sharing_percent} % is outside 0-100 %; give a percentage in 0..100"
        )
    for p in cfg.sweep_percents or []:
        if not 0.0 <= float(p) <= 100.0:
            raise LearningError(f"sweep sharing {p} % is outside 0-100 %; use values in 0..100")
    if cfg.tolerance < 0:
        raise LearningError(f"tolerance must be >= 0 accuracy points, got {cfg.tolerance}")
    for b in cfg.baselines:
        if b not in BASELINES:
            raise LearningError(f"unknown baseline {b!r}; use any of: {', '.join(BASELINES)}")
    approach.check_config(cfg)
    from learning.combine import RULES

    if cfg.combiner not in RULES:
        raise LearningError(
            f"unknown combiner {cfg.combiner!r}; use one of: {', '.join(RULES)}"
        )
    from learning.widening import check_widen_init

    check_widen_init(cfg.widen_init)
    if not isinstance(cfg.balance_tasks, bool):
        raise LearningError(f"balance_tasks must be true or false, got {cfg.balance_tasks!r}")
    if not isinstance(cfg.widen_cumulative, bool):
        raise LearningError(f"widen_cumulative must be true or false, got "
                            f"{cfg.widen_cumulative!r}")
    positive = {"epochs": cfg.epochs, "batch_size": cfg.batch_size, "new_maps": cfg.new_maps,
                "clone_blocks": cfg.clone_blocks}
    for k, v in positive.items():
        if int(v) < 1:
            raise LearningError(f"{k} must be >= 1, got {v}")
    if cfg.base_epochs is not None and cfg.base_epochs < 1:
        raise LearningError(f"base_epochs must be >= 1, got {cfg.base_epochs}")
    for k in ("train_per_class", "test_per_class"):
        v = getattr(cfg, k)
        if v is not None and v < 2:
            raise LearningError(f"{k} must be >= 2 images per class, got {v}")
    if cfg.lr <= 0 or cfg.width <= 0:
        raise LearningError("lr and width must be > 0")
    if cfg.optimizer not in ("sgd", "adam"):
        raise LearningError(f"unknown optimizer {cfg.optimizer!r}; use sgd or adam")
    validate_recipe(cfg)
    if not 0.0 < cfg.val_fraction < 1.0:
        raise LearningError(f"val_fraction must be in (0, 1), got {cfg.val_fraction}")
    if cfg.device not in ("cpu", "cuda", "auto"):
        raise LearningError(f"unknown device {cfg.device!r}; use cpu, cuda or auto")
    if cfg.threads is not None and cfg.threads < 1:
        raise LearningError(f"threads must be >= 1, got {cfg.threads}")
    if isinstance(cfg.workers, bool) or not isinstance(cfg.workers, int) or cfg.workers < 1:
        raise LearningError(f"workers must be an integer >= 1 (processes), got {cfg.workers!r}")
    if (isinstance(cfg.trunk_cache_mb, bool) or not isinstance(cfg.trunk_cache_mb, int | float)
            or not cfg.trunk_cache_mb >= 0):
        raise LearningError(f"trunk_cache_mb must be a number >= 0 (MiB), got "
                            f"{cfg.trunk_cache_mb!r}")
    if cfg.data_root is not None and not Path(cfg.data_root).is_dir():
        raise LearningError(
            f"data root {cfg.data_root!r} does not exist; pass an existing --data-root"
        )


def validate_recipe(cfg: ExperimentConfig) -> None:
    """The training-recipe keys (:data:`RECIPE_KEYS`): one :class:`LearningError` line each."""
    from learning.training import Recipe

    if not isinstance(cfg.model_args, dict):
        raise LearningError(f"model_args must be a table of builder arguments, e.g. "
                            f"{{batch_norm = true}}, got {cfg.model_args!r}")
    _check_model_args(cfg.model, cfg.model_args)
    if cfg.nesterov and (cfg.optimizer != "sgd" or cfg.momentum <= 0):
        raise LearningError("nesterov needs optimizer = \"sgd\" with momentum > 0")
    Recipe.from_config(cfg)  # validates its own fields


def _check_model_args(model: str, args: dict[str, Any]) -> None:
    """``args`` must be keyword arguments of model ``model``'s builder (after the four
    positional ones)."""
    import inspect

    factory = model_factory(model)
    try:
        inspect.signature(factory).bind(1, 1, 1, 1.0, **args)
    except TypeError as e:
        raise LearningError(f"model_args {sorted(args)} do not fit model {model!r} ({e}); "
                            "use its builder's keyword arguments") from None
    except ValueError:  # no inspectable signature
        pass
