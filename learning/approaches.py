"""The paper's three ways to learn a new task on the frozen base network (Sarwar et al., IEEE
Access 2019), one strategy class each, chosen by ``cfg.approach`` from :data:`APPROACHES`:

- ``widen`` (1, :class:`Widen`): new maps of the last conv layer + new output neurons,
- ``clone`` (2, :class:`Clone`): the final ``clone_blocks`` blocks cloned as a branch,
- ``partial`` (3, :class:`Partial`): the first blocks holding ``sharing_percent`` of the
  parameters shared, or the deepest sharing point within ``tolerance`` of no sharing picked by
  a sweep on task 1 (its points trained in parallel worker processes with ``workers > 1``).

An approach trains one branch per task through its :class:`~learning.incremental.Experiment`
(``train_clone`` / ``train_widen``: checkpointed stages) and records the points it swept; the
experiment grows the ``sharing`` method from the branches it returns. To add one: subclass
:class:`Approach` and :func:`register_approach` it (or name it ``"package.module:Class"`` in a
config).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from learning import distributed
from learning.errors import LearningError
from learning.models import BlockNet, ConvStack, Head, sharing_point_for_percent, sharing_points
from learning.registry import is_import_spec, lookup
from learning.results import SweepPoint
from learning.training import accuracy_pct

if TYPE_CHECKING:
    from learning.config import ExperimentConfig
    from learning.incremental import Experiment


@dataclasses.dataclass
class NewBranch:
    """A task's trained branch as an approach hands it back: ``raw`` is the stage's info
    (temperature, validation accuracy, timings), ``share_k`` the base blocks it reads through."""

    branch: nn.Module
    raw: dict[str, Any]
    kind: str  # clone, widen
    label: str  # its training stage
    share_k: int


class Approach:
    """How tasks 1.. are learned on the frozen base network of ``exp``."""

    name: ClassVar[str] = ""
    number: ClassVar[int | None] = None  # the paper's approach number (a config alias)

    def __init__(self, exp: Experiment) -> None:
        self.exp = exp
        self.sweep: list[SweepPoint] = []  # points tried on task 1 before choosing (partial)
        self.share_k: int | None = None  # the sharing point every branch uses (None: widen)

    @classmethod
    def check_config(cls, cfg: ExperimentConfig) -> None:
        """Raise :class:`LearningError` on settings this approach cannot run with."""

    @classmethod
    def check_model(cls, cfg: ExperimentConfig, model: BlockNet) -> None:
        """Raise :class:`LearningError` when ``model`` (as configured) does not suit it; called
        before anything is trained or written."""

    def prepare(self) -> None:
        """Before task 1 is learned (and after the no-sharing baseline): e.g. choose the
        sharing point."""

    def train_task(self, t: int) -> NewBranch:
        """Train (or load from the checkpoint) task ``t``'s branch."""
        raise NotImplementedError


def base_epochs_at(cfg: ExperimentConfig, share_k: int) -> int:
    """Epochs of a clone at ``share_k``: a whole network (k = 0) trains as long as the base."""
    return cfg.epochs_base if share_k == 0 else cfg.epochs


class Widen(Approach):
    """Approach 1: ``new_maps`` new kernels in the last conv layer and new output neurons."""

    name = "widen"
    number = 1

    @classmethod
    def check_model(cls, cfg: ExperimentConfig, model: BlockNet) -> None:
        blocks = model.blocks
        if (len(blocks) < 2 or not isinstance(blocks[-2], ConvStack)
                or not isinstance(blocks[-1], Head)):
            raise LearningError(
                f"approach widen (1) needs lenet or mlpconv, not {cfg.model}; use clone or partial"
            )

    def train_task(self, t: int) -> NewBranch:
        exp = self.exp
        label = f"widen-t{t}-m{exp.cfg.new_maps}"
        br, raw = exp.train_widen(label, exp.tasks[t])
        assert exp.base is not None
        return NewBranch(br, raw, "widen", label, len(exp.base.blocks) - 2)


class _CloneAtPoint(Approach):
    """Every task's branch clones the base from one sharing point, chosen by :meth:`prepare`."""

    def train_task(self, t: int) -> NewBranch:
        exp, k = self.exp, self.share_k
        assert k is not None and exp.base is not None, "prepare() chooses the sharing point"
        label = clone_label(t, k)
        br, raw = exp.train_clone(label, exp.tasks[t], k, exp.base, base_epochs_at(exp.cfg, k))
        return NewBranch(br, raw, "clone", label, k)


def clone_label(t: int, share_k: int) -> str:
    return f"clone-t{t}-k{share_k}"


class Clone(_CloneAtPoint):
    """Approach 2: the final ``clone_blocks`` blocks cloned as each task's branch."""

    name = "clone"
    number = 2

    @classmethod
    def check_model(cls, cfg: ExperimentConfig, model: BlockNet) -> None:
        n_blocks = len(model.blocks)
        if cfg.clone_blocks > n_blocks:
            raise LearningError(
                f"clone_blocks {cfg.clone_blocks} exceeds the {n_blocks} blocks of {cfg.model}"
            )

    def prepare(self) -> None:
        assert self.exp.base is not None
        self.share_k = len(self.exp.base.blocks) - self.exp.cfg.clone_blocks


class Partial(_CloneAtPoint):
    """Approach 3: share a given percentage of the parameters, or sweep the sharing points on
    task 1 and keep the deepest within ``tolerance`` accuracy points of no sharing."""

    name = "partial"
    number = 3

    @classmethod
    def check_config(cls, cfg: ExperimentConfig) -> None:
        if not cfg.sweep and cfg.sharing_percent is None:
            raise LearningError("approach partial without sweep needs sharing_percent = 0..100")
        if cfg.sweep and "no-sharing" not in cfg.baselines:
            raise LearningError("the sharing sweep compares against the no-sharing baseline; "
                                "add 'no-sharing' to baselines or set sweep = false")

    def prepare(self) -> None:
        exp = self.exp
        assert exp.base is not None
        if exp.cfg.sweep:
            self.share_k = self.run_sweep()
        else:
            pct = float(exp.cfg.sharing_percent or 0.0)
            self.share_k = sharing_point_for_percent(exp.base, pct)[0]

    def sweep_points(self) -> list[int]:
        """Every sharing point of the base, or those of ``sweep_percents`` (with 0)."""
        base, percents = self.exp.base, self.exp.cfg.sweep_percents
        assert base is not None
        if percents is None:
            return [k for k, _ in sharing_points(base)]
        return sorted({0} | {sharing_point_for_percent(base, float(p))[0] for p in percents})

    def run_sweep(self) -> int:
        """Train task 1's branch at every sweep point; record them; return the chosen one."""
        exp, cfg = self.exp, self.exp.cfg
        assert exp.base is not None
        ks = self.sweep_points()
        todo = [k for k in ks if clone_label(1, k) not in exp.ckpt.infos]
        if cfg.workers > 1 and len(todo) > 1 and not distributed.active():
            self.train_in_workers(todo)
        task = exp.tasks[1]
        pts = {k: exp.train_clone(clone_label(1, k), task, k, exp.base, base_epochs_at(cfg, k))
               for k in ks}
        ref = pts[0][1]["val_acc_pct"]
        chosen = max(k for k in ks if pts[k][1]["val_acc_pct"] >= ref - cfg.tolerance)
        for k in ks:
            self.record_point(k, *pts[k], chosen=(k == chosen))
        return chosen

    def record_point(self, k: int, branch: nn.Module, raw: dict[str, Any], chosen: bool) -> None:
        """Note sweep point ``k`` for hardware costing and add it to :attr:`sweep`."""
        exp = self.exp
        bi = exp.branch_info("sharing", 1, "clone", clone_label(1, k), branch, k, raw)
        exp.note_point(bi, raw, chosen=chosen)
        task = exp.tasks[1]
        test_acc = accuracy_pct(exp.test_logits(branch, task).argmax(1), task.local(task.y_test))
        self.sweep.append(SweepPoint(
            share_k=k, sharing_point_pct=bi.sharing_point_pct, shared_pct=bi.shared_pct,
            trained_params=bi.trained_params, val_acc_pct=raw["val_acc_pct"],
            test_acc_pct=test_acc, train_time_s=raw["train_time_s"], chosen=chosen,
        ))

    def train_in_workers(self, todo: list[int]) -> None:
        """Train the missing sweep points in ``workers`` processes (``threads // workers`` torch
        threads each), checkpointing each as it arrives; :meth:`run_sweep` then loads them. The
        points are independent stages, each seeded from its label alone, so the results are
        those of a serial sweep. A worker gets the experiment's small
        :class:`~learning.incremental.StageTrainer` (config, device, frozen base) and its job
        (label, task 1, sharing point, epochs), never the experiment itself."""
        from tqdm import tqdm

        from learning import training

        exp, cfg = self.exp, self.exp.cfg
        worker = exp.trainer.for_worker()
        threads = max(1, (cfg.threads or torch.get_num_threads()) // cfg.workers)
        jobs = [(clone_label(1, k), exp.tasks[1], k, base_epochs_at(cfg, k)) for k in todo]
        with tqdm(total=len(jobs), desc=f"sweep, {cfg.workers} workers x {threads} threads",
                  unit="point", disable=not exp.progress) as bar:
            for i, (br, raw) in training.run_parallel(worker.train_clone, jobs, cfg.workers,
                                                      threads):
                exp.checkpoint_stage(jobs[i][0], br, raw)
                bar.update(1)


# ----------------------------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------------------------

#: Approach name -> strategy class (the paper's numbers 1, 2, 3 are aliases).
APPROACHES: dict[str, type[Approach]] = {a.name: a for a in (Widen, Clone, Partial)}


def register_approach(cls: type[Approach]) -> type[Approach]:
    """Make ``cls`` selectable as ``approach = cls.name`` (usable as a class decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Approach)) or not cls.name:
        raise LearningError(f"{cls!r} is not an Approach subclass with a name")
    APPROACHES[cls.name] = cls
    return cls


def approach_key(name: str | int) -> str:
    """A registered approach name (lower case; the paper's number -> its name); a
    ``package.module:Class`` name unchanged."""
    key = str(name)
    if is_import_spec(key):
        return key
    numbers = {str(a.number): n for n, a in APPROACHES.items() if a.number is not None}
    return numbers.get(key, key.lower())


def approach_class(name: str) -> type[Approach]:
    """The strategy class of a registered approach or of a ``"package.module:Class"`` name."""
    key = approach_key(name)
    if key not in APPROACHES and not is_import_spec(key):
        choices = ", ".join(f"{n} ({a.number})" if a.number else n for n, a in APPROACHES.items())
        raise LearningError(f"unknown approach {name!r}; use {choices}")
    cls = lookup(APPROACHES, key, "approach")
    if not (isinstance(cls, type) and issubclass(cls, Approach)):
        raise LearningError(f"approach {name!r} is not a subclass of "
                            "learning.approaches.Approach")
    return cls
