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
    # model
    model: str = "lenet"
    width: float = 1.0
    # method
    approach: str = "partial"
    new_maps: int = 4  # approach 1: new feature maps of the last conv layer per task
    clone_blocks: int = 1  # approach 2: number of final blocks cloned into each branch
    sharing_percent: float | None = None  # approach 3 without a sweep: share this much
    sweep: bool = True  # approach 3: sweep sharing points on task 1 and pick one
    sweep_percents: list[float] | None = None  # None: every sharing point of the model
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
    augment: bool = False  # random crop (pad 4) + horizontal flip, for natural images
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
        for k in ("name", "description", "data_root", "data_path", "device", "threads",
                  "workers", "trunk_cache_mb", "output_dir", "combiner"):
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
