"""The paper's three ways to learn a new task on the frozen base network (Sarwar et al., IEEE
Access 2019), one strategy class each, chosen by ``cfg.approach`` from :data:`APPROACHES`:

- ``widen`` (1, :class:`Widen`): new maps of the last conv layer + new output neurons,
- ``clone`` (2, :class:`Clone`): the final ``clone_blocks`` blocks cloned as a branch,
- ``partial`` (3, :class:`Partial`): the first blocks holding ``sharing_percent`` of the
  parameters shared (the nearest sharing point), or the deepest sharing point within
  ``tolerance`` of no sharing picked by a sweep on task 1 over every sharing point or the
  nearest ones to ``sweep_percents`` (its points trained in parallel worker processes with
  ``workers > 1``; with ``sweep_updated`` every task's branch at every point, and each point's
  updated network evaluated).

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
from learning.models import BlockNet, ConvStack, Head, nearest_sharing_point, sharing_points
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

    def train_no_sharing(self, t: int, source: BlockNet | nn.Module) -> NewBranch:
        """Task ``t``'s no-sharing baseline: the whole previous network ``source`` (the base,
        or task ``t - 1``'s no-sharing branch) cloned, every parameter fine-tuned."""
        exp = self.exp
        label = clone_label(1, 0) if t == 1 else f"noshare-t{t}"
        br, raw = exp.train_clone(label, exp.tasks[t], 0, source, exp.cfg.epochs_base)
        return NewBranch(br, raw, "clone", label, 0)


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

    def __init__(self, exp: Experiment) -> None:
        super().__init__(exp)
        self.installments: list[nn.Module] = []  # trained widen branches, task order

    def train_task(self, t: int) -> NewBranch:
        """Task ``t``'s new maps; with ``widen_cumulative`` they read every earlier
        installment's maps (frozen) too."""
        exp = self.exp
        label = f"widen-t{t}-m{exp.cfg.new_maps}"
        earlier = ([b.new_maps for b in self.installments] if exp.cfg.widen_cumulative
                   else [])
        br, raw = exp.train_widen(label, exp.tasks[t], earlier)
        self.installments.append(br)
        assert exp.base is not None
        return NewBranch(br, raw, "widen", label, len(exp.base.blocks) - 2)

    def train_no_sharing(self, t: int, source: BlockNet | nn.Module) -> NewBranch:
        """With ``widen_cumulative`` (the paper's "without sharing" of approach 1): the previous
        no-sharing network widened like the sharing one at task ``t``, all of it fine-tuned;
        else the plain clone of :meth:`Approach.train_no_sharing`."""
        exp = self.exp
        if not exp.cfg.widen_cumulative:
            return super().train_no_sharing(t, source)
        label = f"noshare-widen-t{t}-m{exp.cfg.new_maps}"
        br, raw = exp.train_widened_clone(label, exp.tasks[t], source)
        return NewBranch(br, raw, "clone", label, 0)


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
        if cfg.sweep_updated and not cfg.sweep:
            raise LearningError("sweep_updated evaluates the sweep's points; set sweep = true "
                                "or sweep_updated = false")

    def prepare(self) -> None:
        exp = self.exp
        assert exp.base is not None
        if exp.cfg.sweep:
            self.share_k = self.run_sweep()
        else:
            pct = float(exp.cfg.sharing_percent or 0.0)
            self.share_k = nearest_sharing_point(exp.base, pct)[0]

    def sweep_targets(self) -> dict[int, list[float]]:
        """Sweep point ``k`` -> the ``sweep_percents`` targets (%) it is the nearest sharing
        point of, in ascending ``k``: every point of the base (no targets) without
        ``sweep_percents``; ``k = 0``, the no-sharing reference, always."""
        base, percents = self.exp.base, self.exp.cfg.sweep_percents
        assert base is not None
        if percents is None:
            return {k: [] for k, _ in sharing_points(base)}
        out: dict[int, list[float]] = {0: []}
        for p in percents:
            out.setdefault(nearest_sharing_point(base, float(p))[0], []).append(float(p))
        return dict(sorted(out.items()))

    def sweep_points(self) -> list[int]:
        """The sharing points the sweep trains (see :meth:`sweep_targets`)."""
        return list(self.sweep_targets())

    def sweep_jobs(self, ks: list[int]) -> list[tuple[int, int]]:
        """``(task, k)`` of every branch the sweep trains: task 1 at every point ``k`` of
        ``ks``; with ``sweep_updated`` every later task's branch too."""
        last = len(self.exp.tasks) if self.exp.cfg.sweep_updated else 2
        return [(t, k) for k in ks for t in range(1, last)]

    def train_at(self, t: int, k: int) -> tuple[nn.Module, dict[str, Any]]:
        """Task ``t``'s branch cloned from the base at ``k`` (the stage a chosen ``k`` reuses)."""
        exp = self.exp
        assert exp.base is not None
        return exp.train_clone(clone_label(t, k), exp.tasks[t], k, exp.base,
                               base_epochs_at(exp.cfg, k))

    def run_sweep(self) -> int:
        """Train task 1's branch at every sweep point (with ``sweep_updated`` every task's,
        and evaluate each point's updated network); record them; return the chosen one."""
        exp, cfg = self.exp, self.exp.cfg
        targets = self.sweep_targets()
        ks = list(targets)
        todo = [j for j in self.sweep_jobs(ks) if clone_label(*j) not in exp.ckpt.infos]
        if cfg.workers > 1 and len(todo) > 1 and not distributed.active():
            self.train_in_workers(todo)
        pts = {k: self.train_at(1, k) for k in ks}
        ref = pts[0][1]["val_acc_pct"]
        chosen = max(k for k in ks if pts[k][1]["val_acc_pct"] >= ref - cfg.tolerance)
        for k in ks:
            point = self.record_point(k, *pts[k], chosen=(k == chosen))
            point.target_pcts = targets[k]
            if cfg.sweep_updated:
                self.record_updated(point, [pts[k]] + [self.train_at(t, k)
                                                       for t in range(2, len(exp.tasks))])
        return chosen

    def record_updated(self, point: SweepPoint,
                       branches: list[tuple[nn.Module, dict[str, Any]]]) -> None:
        """``point``'s updated network (base + ``branches``, tasks 1..): its all-class top-1
        after the last task by the experiment's rule and by the paper's max-softmax rule."""
        top1 = self.exp.updated_top1(f"sweep-k{point.share_k}", point.share_k, branches)
        point.updated_rule = self.exp.cfg.combiner
        point.updated_top1_pct = top1[self.exp.cfg.combiner]
        point.updated_max_softmax_top1_pct = top1["max-softmax"]

    def record_point(self, k: int, branch: nn.Module, raw: dict[str, Any],
                     chosen: bool) -> SweepPoint:
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
        return self.sweep[-1]

    def train_in_workers(self, todo: list[tuple[int, int]]) -> None:
        """Train the missing sweep branches ``(task, k)`` in ``workers`` processes
        (``threads // workers`` torch threads each), checkpointing each as it arrives;
        :meth:`run_sweep` then loads them. The branches are independent stages, each seeded
        from its label alone, so the results are those of a serial sweep. A worker gets the
        experiment's small :class:`~learning.incremental.StageTrainer` (config, device, frozen
        base) and its job (label, task, sharing point, epochs), never the experiment itself."""
        from tqdm import tqdm

        from learning import training

        exp, cfg = self.exp, self.exp.cfg
        worker = exp.trainer.for_worker()
        threads = max(1, (cfg.threads or torch.get_num_threads()) // cfg.workers)
        jobs = [(clone_label(t, k), exp.tasks[t], k, base_epochs_at(cfg, k)) for t, k in todo]
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
