"""Incremental learning with partial network sharing (Sarwar, Ankit, Roy, IEEE Access 2019).

:func:`run_experiment` learns a task sequence (class splits of one dataset) and evaluates:

- the chosen approach (:mod:`learning.approaches`; 1 ``widen``: new last-conv maps + output
  neurons; 2 ``clone``: clone the final block(s) as a branch on a frozen trunk; 3 ``partial``:
  share the first blocks holding a given share of the parameters, optionally picked by a sweep
  on task 1),
- the no-sharing baseline (clone the whole previous network, fine-tune all of it),
- joint training on all classes at once.

Work is split into stages (base network, one branch per task and method, sweep points, joint);
after each stage an atomic checkpoint is written, and a rerun resumes from it with identical
results (each stage is seeded from the experiment seed and its label alone).

After :meth:`Experiment.run`, the trained networks stay reachable for hardware costing:
:attr:`Experiment.branches` (stage label -> trained branch), :meth:`Experiment.training_network`
(a copy of what a stage trained, to trace), :meth:`Experiment.sharing_labels` (the traced points
of a task), :meth:`Experiment.sample_batch` (real training images, normalized as in training)
and :meth:`Experiment.param_split` (shared / branch parameter counts at a sharing point).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from learning import distributed
from learning.approaches import Approach, NewBranch, approach_class, clone_label
from learning.combine import RULES, BranchOutput, BranchStats, fit_branch_stats, fit_temperature
from learning.config import ExperimentConfig
from learning.data import ImageDataset, TaskData, load_dataset, make_tasks
from learning.errors import LearningError
from learning.models import (
    BlockNet,
    WidenedMaps,
    act_tensors,
    boundary_arity,
    build_model,
    count_params,
    freeze,
    sharing_points,
    split_counts,
)
from learning.network import (
    CloneBranch,
    TrainingNetwork,
    UpdatedNetwork,
    WidenBranch,
    base_branch,
    branch_output,
    build_training_network,
    make_clone_branch,
    make_widen_branch,
    make_widened_clone,
    network_notation,
    own_params,
    trunk_acts,
)
from learning.results import (
    BranchInfo,
    CombinationResult,
    MethodResult,
    Results,
    installment_rows,
    write_results,
)
from learning.training import (
    OptimizerSpec,
    Recipe,
    accuracy_pct,
    batched,
    module_digest,
    stage_seed,
    tensor_digest,
    to_float,
    topk_pct,
    train_model,
)
from pnsutil import atomic_path

CHECKPOINT_FORMAT = "pns-hwcost-incremental-v1"
SHARING = "sharing"
NO_SHARING = "no-sharing"
JOINT = "joint"


# ----------------------------------------------------------------------------------------------
# Checkpoint
# ----------------------------------------------------------------------------------------------


class Checkpoint:
    """Stage states and infos in one file, rewritten atomically after every stage; a stage
    still training also leaves its state after every finished epoch (``epochs``: label ->
    :func:`learning.training.epoch_state`), dropped once the stage is done."""

    def __init__(self, path: Path | None, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.states: dict[str, dict[str, torch.Tensor]] = {}
        self.infos: dict[str, dict[str, Any]] = {}
        self.epochs: dict[str, dict[str, Any]] = {}

    def load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            blob = torch.load(self.path, map_location="cpu", weights_only=True)
            if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
                raise ValueError("not a pns-hwcost incremental checkpoint")
            stages = blob["stages"]
            states = {k: dict(v["state"]) for k, v in stages.items()}
            infos = {k: json.loads(v["info"]) for k, v in stages.items()}
            epochs = dict(blob.get("epochs", {}))
            fp = blob["fingerprint"]
        except Exception as e:  # noqa: BLE001 - any failure to read means a bad file
            raise LearningError(
                f"checkpoint {self.path} is corrupted ({type(e).__name__}); delete it or rerun "
                "with --fresh"
            ) from None
        if fp != self.fingerprint:
            raise LearningError(
                f"checkpoint {self.path} was made with a different config; rerun with --fresh "
                "or another --output-dir"
            )
        self.states, self.infos, self.epochs = states, infos, epochs

    def put_epoch(self, label: str, state: dict[str, Any]) -> None:
        """Keep stage ``label``'s state after a finished epoch and rewrite the file."""
        self.epochs[label] = state
        self.save()

    def put(self, label: str, module: nn.Module, info: dict[str, Any]) -> None:
        """Add trained stage ``label`` (a CPU copy of ``module``'s state) and rewrite the file."""
        self.states[label] = {k: v.detach().cpu().clone() for k, v in
                              module.state_dict().items()}
        self.infos[label] = info
        self.epochs.pop(label, None)
        self.save()

    def save(self) -> None:
        if self.path is None or not distributed.is_main():  # rank 0 writes under torchrun
            return
        blob = {
            "format": CHECKPOINT_FORMAT,
            "fingerprint": self.fingerprint,
            "stages": {
                k: {"state": self.states[k], "info": json.dumps(self.infos[k])}
                for k in self.infos
            },
            "epochs": self.epochs,
        }
        with atomic_path(self.path) as tmp:
            torch.save(blob, tmp)


# ----------------------------------------------------------------------------------------------
# Stage training
# ----------------------------------------------------------------------------------------------


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return distributed.local_device(
            torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    if name == "cuda" and not torch.cuda.is_available():
        raise LearningError("device cuda requested but no CUDA GPU is visible; use --device cpu")
    return distributed.local_device(torch.device(name))


def default_output_dir(cfg: ExperimentConfig) -> Path:
    return Path("reports") / "learning" / cfg.name


def forward_of(base: BlockNet, branch: nn.Module, split: bool = False) -> Any:
    """Images -> ``branch`` logits on the frozen ``base``. With ``split``: ``(trunk, head)``
    where ``trunk`` maps images to the frozen trunk activations the branch reads (a flat list
    of tensors: both tensors of a ``(main, skip)`` boundary inside a residual block; ``None``
    when it reads only the input image) and ``head`` maps that list to logits."""

    def fwd(x: torch.Tensor) -> torch.Tensor:
        return branch(trunk_acts(base, x, branch.needs()))

    if not split:
        return fwd
    # A clone branch reads acts[share_k]; a widen branch acts[n-2] and acts[n-1].
    reads = [branch.needs()]
    if getattr(branch, "kind", "") == "widen":
        reads = [branch.num_blocks - 2, branch.num_blocks - 1]
    if reads == [0]:  # no trunk (no-sharing clone): the head reads the images
        return None, lambda x: branch([x])

    arity = [boundary_arity(base, i) for i in reads]

    def trunk(x: torch.Tensor) -> list[torch.Tensor]:
        acts = trunk_acts(base, x, reads[-1])
        return [t for i in reads for t in act_tensors(acts[i])]

    def head(feats: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
        feats = [feats] if isinstance(feats, torch.Tensor) else list(feats)
        acts: list[Any] = [None] * (reads[-1] + 1)
        for i, n in zip(reads, arity, strict=True):
            acts[i] = feats[0] if n == 1 else tuple(feats[:n])
            feats = feats[n:]
        return branch(acts)

    return trunk, head


def eval_format(cfg: ExperimentConfig) -> torch.memory_format:
    """Image layout of every evaluation: NHWC with ``channels_last`` (fp32 throughout)."""
    return torch.channels_last if cfg.channels_last else torch.contiguous_format


@dataclasses.dataclass
class StageTrainer:
    """What training one stage needs, and nothing else: the config (hyper-parameters and the
    seed every stage's seeds derive from, with its label), the device and the frozen ``base``
    network (set once it is trained). The experiment trains through one; a parallel sweep
    worker gets a copy (:meth:`for_worker`) instead of the whole experiment."""

    cfg: ExperimentConfig
    device: torch.device
    base: BlockNet | None = None
    progress: bool = True
    ckpt: Checkpoint | None = None  # where a stage leaves its state after every epoch

    def for_worker(self) -> StageTrainer:
        """This trainer for a worker process: the same config, device and base; no progress
        bars, no epoch checkpoints."""
        assert self.base is not None, "train the base network first"
        return dataclasses.replace(self, progress=False, ckpt=None)

    def fit(
        self, label: str, task: TaskData, modules: nn.Module,
        forward: Callable[[Any], torch.Tensor], epochs: int,
        trunk: Callable[[torch.Tensor], list[torch.Tensor]] | None = None,
    ) -> dict[str, Any]:
        """Train on ``task`` (only its data is reachable), calibrate on its validation split.
        With a frozen ``trunk`` (images -> activations), ``forward`` maps its outputs to logits
        and the trunk outputs are cached when there is no augmentation (or with
        ``trunk_views``). With :attr:`ckpt`, the state after every epoch is checkpointed and
        an interrupted stage resumes from its last finished epoch."""
        cfg = self.cfg
        ids = task.member_ids if isinstance(task, _JointTask) else [task.index]
        ck = self.ckpt
        with task.guard.learning(ids):
            x, y = task.train()
            assert set(np.unique(y).tolist()) <= set(task.classes), "foreign labels in task data"
            opt = OptimizerSpec.from_config(cfg)
            recipe = Recipe.from_config(cfg)
            stats = train_model(
                forward, modules, x, task.local(y), epochs=epochs, batch_size=cfg.batch_size,
                lr=opt.lr, momentum=opt.momentum, weight_decay=opt.weight_decay,
                optimizer=opt.name, nesterov=opt.nesterov, use_augment=cfg.augment,
                seed=stage_seed(cfg.seed, label), device=self.device,
                desc=label, progress=self.progress, trunk=trunk,
                cache_limit_bytes=int(cfg.trunk_cache_mb * 2**20), recipe=recipe,
                resume=ck.epochs.get(label) if ck is not None else None,
                on_epoch=(lambda st: ck.put_epoch(label, st)) if ck is not None else None,
            )
            xv, yv = task.val()
            full = forward if trunk is None else (lambda xb: forward(trunk(xb)))
            (val_logits,) = batched(full, xv, device=self.device, tta=recipe.tta,
                                    memory_format=eval_format(self.cfg))
        yl = torch.as_tensor(task.local(yv))
        return {
            "temperature": fit_temperature(val_logits, yl),
            "val_acc_pct": accuracy_pct(val_logits.argmax(1), yl),
            "train_time_s": stats.train_time_s,
            "epochs": stats.epochs,
            "train_images": int(task.num_train),
            "final_loss": stats.final_loss,
            "trunk_cache": stats.trunk_cache,
            "trunk_cache_reason": stats.trunk_cache_reason,
            "trunk_cache_bytes": stats.trunk_cache_bytes,
            "trunk_cache_time_s": stats.trunk_cache_time_s,
            "trunk_views": stats.trunk_views,
            "threads": torch.get_num_threads(),
        }

    def fit_branch(self, label: str, task: TaskData, branch: nn.Module,
                   epochs: int) -> dict[str, Any]:
        """:meth:`fit` a new branch on the frozen base (its trunk outputs cached)."""
        assert self.base is not None
        trunk, head = forward_of(self.base, branch, split=True)
        return self.fit(label, task, branch, head, epochs, trunk=trunk)

    def new_clone(self, label: str, share_k: int, num_classes: int,
                  source: BlockNet | CloneBranch) -> CloneBranch:
        """Stage ``label``'s untrained clone of ``source`` from sharing point ``share_k``."""
        assert self.base is not None
        return make_clone_branch(source, self.base, share_k, num_classes,
                                 seed=stage_seed(self.cfg.seed, label + "/init")).to(self.device)

    def new_widen(self, label: str, num_classes: int,
                  earlier: Sequence[WidenedMaps] = ()) -> WidenBranch:
        """Stage ``label``'s untrained widen branch (``cfg.new_maps`` new maps, started by
        ``cfg.widen_init``; reading the frozen maps ``earlier`` too)."""
        assert self.base is not None
        return make_widen_branch(self.base, self.cfg.new_maps, num_classes,
                                 seed=stage_seed(self.cfg.seed, label + "/init"),
                                 earlier=earlier, init=self.cfg.widen_init).to(self.device)

    def new_widened_clone(self, label: str, num_classes: int,
                          source: BlockNet | CloneBranch) -> CloneBranch:
        """Stage ``label``'s untrained no-sharing network of approach 1: ``source`` widened by
        ``cfg.new_maps`` maps (see :func:`learning.network.make_widened_clone`)."""
        assert self.base is not None
        return make_widened_clone(source, self.base, self.cfg.new_maps, num_classes,
                                  seed=stage_seed(self.cfg.seed, label + "/init"),
                                  init=self.cfg.widen_init).to(self.device)

    def train_clone(self, label: str, task: TaskData, share_k: int,
                    epochs: int) -> tuple[CloneBranch, dict[str, Any]]:
        """A sweep worker's job: clone the base at ``share_k`` and train it on ``task``; no
        checkpoint (the experiment keeps what comes back). Returns the frozen branch and the
        stage's info."""
        assert self.base is not None
        br = self.new_clone(label, share_k, len(task.classes), self.base)
        info = self.fit_branch(label, task, br, epochs)
        br.eval()
        return freeze(br), info


# ----------------------------------------------------------------------------------------------
# Experiment
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ParamSplit:
    """Parameter storage of the model built for ``num_classes`` outputs, split at sharing
    point ``share_k`` (elements; x 4 for float32 bytes): ``shared_params`` in blocks
    ``< share_k``, ``branch_params`` in the rest (output layer included); ``shared_stats`` /
    ``branch_stats``: persistent BatchNorm running means and variances (elements; 0 without
    BatchNorm). ``task_classes``: classes per task. The grown network after T tasks: with
    sharing, ``shared_params`` once + one branch per task (each built for its task's class
    count); without sharing, one whole network (shared + branch) per task. Widen (approach 1)
    branches are no split of the model: use ``sharing_labels()[label]["trained_params"]``."""

    share_k: int
    num_classes: int
    shared_params: int
    branch_params: int
    shared_stats: int
    branch_stats: int
    task_classes: tuple[int, ...]


@dataclasses.dataclass
class Lineage:
    """One method's branches in task order (task 0: the base network), with their records,
    the combination statistics fitted when each was learned and its parameter digest then."""

    method: str
    branches: list[nn.Module]
    infos: list[BranchInfo]
    stats: list[BranchStats]
    digests: list[str]


class ForgettingError(LearningError, RuntimeError):
    """An old branch or the frozen base changed after a later task (no forgetting broken): one
    line naming the method, the task, its stage and what changed. A :class:`LearningError`
    (the CLI prints one line) and, as before, a ``RuntimeError``."""


def state_digests(module: nn.Module) -> dict[str, str]:
    """sha256 of every state-dict entry of ``module`` by name: parameters and persistent
    buffers (BatchNorm running means and variances and their batch counters)."""
    return {k: tensor_digest(v) for k, v in module.state_dict().items()}


def changed_state(module: nn.Module, before: dict[str, str], now: dict[str, str]) -> str:
    """The entries that differ between two :func:`state_digests` of ``module`` (changed, added
    or gone), e.g. ``buffer blocks.0.units.0.1.running_var``; at most three named; ``""``
    when none does."""
    params = {k for k, _ in module.named_parameters()}
    names = [k for k in {**before, **now} if before.get(k) != now.get(k)]
    told = [f"{'parameter' if k in params else 'buffer'} {k}" for k in names[:3]]
    return ", ".join(told) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


class Experiment:
    """State of one run: data, base network, trained stages, checkpoint."""

    def __init__(
        self, cfg: ExperimentConfig, *, progress: bool = True, resume: bool = True,
        checkpoint: bool = True, on_stage: Callable[[str], None] | None = None,
        dataset: ImageDataset | None = None,
    ) -> None:
        self.cfg = cfg
        self.progress = progress
        self.on_stage = on_stage
        self.device = resolve_device(cfg.device)
        self.trainer = StageTrainer(cfg, self.device, progress=progress)
        self.ds = dataset if dataset is not None else load_dataset(
            cfg.dataset, cfg.data_root, cfg.data_path, cfg.image_size, cfg.channels
        )
        self.tasks, self.guard = make_tasks(
            self.ds, cfg.splits, cfg.class_order, cfg.val_fraction, cfg.train_per_class,
            cfg.test_per_class, cfg.seed, cfg.balance_tasks,
        )
        self.out_dir = Path(cfg.output_dir) if cfg.output_dir else default_output_dir(cfg)
        ck_path = self.out_dir / "checkpoint.pt" if checkpoint else None
        self.ckpt = Checkpoint(ck_path, cfg.fingerprint())
        self.trainer.ckpt = self.ckpt  # epoch checkpoints (learning.training.epoch_state)
        # Validate model-dependent settings before anything is trained or written.
        self.approach_cls = approach_class(cfg.approach)
        self.approach_cls.check_model(cfg, build_model(
            cfg.model, cfg.splits[0], self.ds.in_channels, self.ds.image_size, cfg.width,
            **cfg.model_args))
        if resume:
            self.ckpt.load()
        self.from_disk = set(self.ckpt.infos)
        self.resumed: list[str] = []
        self.base: BlockNet | None = None
        self.sharing_pct: dict[int, float] = {}  # sharing point k -> % of base parameters
        # (branch index -> {task j -> digest}) recorded when each branch of a method was made
        self.logit_digests: dict[str, dict[int, dict[int, str]]] = {}
        # (branch index -> state_digests) recorded with those; method "base": the base
        self.state_records: dict[str, dict[int, dict[str, str]]] = {}
        #: Stage label -> trained (frozen) branch, for every stage of train_clone/train_widen.
        self.branches: dict[str, nn.Module] = {}
        self.branch_task: dict[str, int] = {}  # stage label -> task index
        self.points: dict[int, dict[str, dict[str, Any]]] = {}  # task -> label -> point

    # -- helpers ---------------------------------------------------------------------------

    def new_model(self, num_classes: int, label: str) -> BlockNet:
        torch.manual_seed(stage_seed(self.cfg.seed, label + "/init"))
        return build_model(
            self.cfg.model, num_classes, self.ds.in_channels, self.ds.image_size, self.cfg.width,
            **self.cfg.model_args,
        ).to(self.device)

    def _run_stage(
        self, label: str, module: nn.Module, train: Callable[[nn.Module], dict[str, Any]]
    ) -> dict[str, Any]:
        """Load ``label`` from the checkpoint into ``module``, or train it and checkpoint."""
        if label in self.ckpt.infos:
            state = {k: v.to(self.device) for k, v in self.ckpt.states[label].items()}
            module.load_state_dict(state)
            module.eval()
            if label in self.from_disk and label not in self.resumed:
                self.resumed.append(label)
            return self.ckpt.infos[label]
        info = train(module)
        module.eval()
        self.checkpoint_stage(label, module, info)
        return info

    def checkpoint_stage(self, label: str, module: nn.Module, info: dict[str, Any]) -> None:
        """Keep newly trained stage ``label``: the checkpoint file is rewritten at once, then
        ``on_stage(label)`` is told."""
        self.ckpt.put(label, module, info)
        if self.on_stage is not None:
            self.on_stage(label)

    def branch_forward(self, branch: nn.Module, split: bool = False) -> Any:
        """Images -> ``branch`` logits on :attr:`base` (see :func:`forward_of`; only
        ``self.base`` is read)."""
        assert self.base is not None
        return forward_of(self.base, branch, split)

    def test_logits(self, branch: nn.Module, task: TaskData) -> torch.Tensor:
        (lg,) = batched(self.branch_forward(branch), task.x_test, device=self.device,
                        tta=self.cfg.tta, memory_format=eval_format(self.cfg))
        return lg

    # -- stages ----------------------------------------------------------------------------

    def train_base(self) -> dict[str, Any]:
        t0 = self.tasks[0]
        base = self.new_model(len(t0.classes), "base")
        info = self._run_stage(
            "base", base, lambda m: self.trainer.fit("base", t0, m, m, self.cfg.epochs_base)
        )
        self.base = self.trainer.base = freeze(base)
        self.base_digest = module_digest(base)
        self.sharing_pct = dict(sharing_points(base))
        return info

    def train_clone(
        self, label: str, task: TaskData, share_k: int, source: BlockNet | CloneBranch,
        epochs: int,
    ) -> tuple[CloneBranch, dict[str, Any]]:
        br = self.trainer.new_clone(label, share_k, len(task.classes), source)
        info = self._run_stage(label, br,
                               lambda m: self.trainer.fit_branch(label, task, m, epochs))
        return self._keep(label, task, br), info

    def train_widen(self, label: str, task: TaskData,
                    earlier: Sequence[WidenedMaps] = ()) -> tuple[nn.Module, dict[str, Any]]:
        """Approach 1's branch of ``task`` (over the frozen maps ``earlier`` too)."""
        br = self.trainer.new_widen(label, len(task.classes), earlier)
        info = self._run_stage(
            label, br, lambda m: self.trainer.fit_branch(label, task, m, self.cfg.epochs))
        return self._keep(label, task, br), info

    def train_widened_clone(self, label: str, task: TaskData,
                            source: BlockNet | CloneBranch) -> tuple[nn.Module, dict[str, Any]]:
        """Approach 1 without sharing: ``source`` widened, every parameter trained on ``task``
        for ``epochs_base`` epochs (as the other no-sharing networks)."""
        br = self.trainer.new_widened_clone(label, len(task.classes), source)
        info = self._run_stage(
            label, br, lambda m: self.trainer.fit_branch(label, task, m, self.cfg.epochs_base))
        return self._keep(label, task, br), info

    def _keep(self, label: str, task: TaskData, branch: nn.Module) -> nn.Module:
        """Keep a trained branch reachable (:attr:`branches`); returns it frozen."""
        self.branches[label] = branch
        self.branch_task[label] = int(task.index)
        return freeze(branch)

    def train_joint(self) -> tuple[BlockNet, dict[str, Any]]:
        classes = [c for t in self.tasks for c in t.classes]
        net = self.new_model(len(classes), "joint")
        joint_task = _JointTask(self.tasks, classes)

        info = self._run_stage(
            "joint", net,
            lambda m: self.trainer.fit("joint", joint_task, m, m, self.cfg.epochs_base),
        )
        return freeze(net), info

    # -- methods: the branches of each task ------------------------------------------------

    def branch_info(self, method: str, t: int, kind: str, label: str, br: nn.Module | None,
                    share_k: int, raw: dict[str, Any]) -> BranchInfo:
        """The record of task ``t``'s branch ``br`` (``None``: the base network itself) trained
        by stage ``label`` (``raw``: its info)."""
        base = self.base
        assert base is not None
        if br is None:
            trained = network = count_params(base)
            shared_params = 0
            digest = module_digest(base)
        else:
            trained = own_params(br)
            # a widen branch reads every base block but the head
            n_shared = len(base.blocks) - 1 if kind == "widen" else share_k
            shared_params = sum(count_params(b) for b in base.blocks[:n_shared])
            if isinstance(br, WidenBranch):  # earlier installments' frozen maps
                shared_params += br.reused_params()
            network = shared_params + trained
            digest = module_digest(br)
        return BranchInfo(
            method=method, task=t, classes=list(self.tasks[t].classes), kind=kind, label=label,
            share_k=share_k, sharing_point_pct=self.sharing_pct.get(share_k, 0.0),
            shared_pct=100.0 * shared_params / network, trained_params=trained,
            network_params=network, temperature=raw["temperature"],
            val_acc_pct=raw["val_acc_pct"], test_acc_task_aware_pct=float("nan"),
            train_time_s=raw["train_time_s"], epochs=raw["epochs"],
            train_images=raw["train_images"], param_digest=digest,
            network=network_notation(base, br),
        )

    def _start(self, method: str, branch: nn.Module, base_info: dict[str, Any],
               base_stats: BranchStats) -> Lineage:
        """A method's lineage with the base network as task 0's ``branch``."""
        info = self.branch_info(method, 0, "base", "base", None, 0, base_info)
        lin = Lineage(method, [branch], [info], [base_stats], [module_digest(branch)])
        self.record_and_check(method, lin.branches, lin.digests)
        return lin

    def _grow(self, lin: Lineage, t: int, new: NewBranch, chosen: bool) -> None:
        """Append task ``t``'s new branch: record its point, fit its combination statistics
        from task ``t`` alone, and check that no older branch changed."""
        bi = self.branch_info(lin.method, t, new.kind, new.label, new.branch, new.share_k,
                              new.raw)
        lin.branches.append(new.branch)
        lin.infos.append(bi)
        self.note_point(bi, new.raw, chosen=chosen)
        lin.stats.append(self.fit_stats(new.branch, self.tasks[t], new.raw["temperature"]))
        self.record_and_check(lin.method, lin.branches, lin.digests)
        lin.digests.append(module_digest(new.branch))

    def learn_no_sharing(self, base_info: dict[str, Any], base_stats: BranchStats) -> Lineage:
        """The no-sharing baseline: each task clones the whole previous network and fine-tunes
        all of it (task 1's branch is also a sharing sweep's 0 % point); the approach defines
        the clone (:meth:`Approach.train_no_sharing`: approach 1 with ``widen_cumulative``
        widens it as its sharing branch grows)."""
        base = self.base
        assert base is not None
        lin = self._start(NO_SHARING, CloneBranch(0, list(base.blocks)), base_info, base_stats)
        strategy = self.approach_cls(self)  # how this approach defines "without sharing"
        for t in range(1, len(self.tasks)):
            src: BlockNet | nn.Module = base if t == 1 else lin.branches[-1]
            self._grow(lin, t, strategy.train_no_sharing(t, src), chosen=False)
        return lin

    def learn_with(self, approach: Approach, base_info: dict[str, Any],
                   base_stats: BranchStats) -> Lineage:
        """The ``sharing`` method: ``approach`` prepared (e.g. its sweep), then one branch per
        task."""
        assert self.base is not None
        lin = self._start(SHARING, base_branch(self.base), base_info, base_stats)
        approach.prepare()
        for t in range(1, len(self.tasks)):
            self._grow(lin, t, approach.train_task(t), chosen=True)
        return lin

    # -- facade for hardware costing: what trained, on which data -------------------------

    def note_point(self, bi: BranchInfo, raw: dict[str, Any], chosen: bool) -> None:
        """Record a task's traced point (see :meth:`sharing_labels`)."""
        pts = self.points.setdefault(bi.task, {})
        if bi.label not in pts:
            pts[bi.label] = {
                "label": bi.label, "task": bi.task,
                "method": NO_SHARING if bi.kind == "clone" and bi.share_k == 0 else SHARING,
                "kind": bi.kind, "share_k": bi.share_k,
                "sharing_point_pct": bi.sharing_point_pct, "shared_pct": bi.shared_pct,
                "trained_params": bi.trained_params, "network_params": bi.network_params,
                "chosen": False, "epochs": raw["epochs"], "train_images": raw["train_images"],
                "trunk_cache": raw.get("trunk_cache", "none"),
            }
        pts[bi.label]["chosen"] = pts[bi.label]["chosen"] or chosen

    def sharing_labels(self, task: int = 1) -> dict[str, dict[str, Any]]:
        """Every traced point of ``task`` after :meth:`run`, keyed by stage label, no-sharing
        first, then by ``share_k``: for approach partial with a sweep (task 1) every swept
        ``clone-t1-k{k}``; else the no-sharing branch (if that baseline ran) and the approach's
        own branch. Each value: ``label``, ``task``, ``method`` (``no-sharing`` for a clone at
        k = 0, else ``sharing``), ``kind`` (clone / widen), ``share_k`` (blocks shared; widen:
        n_blocks - 2, as in the results), ``sharing_point_pct`` and ``shared_pct`` (0..100 %),
        ``trained_params`` / ``network_params`` (elements), ``chosen`` (the approach's own
        branch), ``epochs``, ``train_images`` and ``trunk_cache`` (``memory``/``disk``: the
        frozen trunk ran once per image, not once per epoch; ``off``/``none``: every step)."""
        if task not in self.points:
            raise LearningError(f"no trained branch for task {task}; run() the experiment first "
                                f"(tasks with branches: {sorted(self.points)})")
        pts = sorted(self.points[task].values(),
                     key=lambda e: (e["method"] != NO_SHARING, e["share_k"], e["label"]))
        return {e["label"]: dict(e) for e in pts}

    def training_network(self, label: str,
                         device: torch.device | str = "cpu") -> TrainingNetwork:
        """A fresh copy, on ``device``, of what stage ``label`` trained (``base`` or any label
        in :attr:`branches`): images -> that branch's logits on the frozen trunk, with the
        stage's ``requires_grad`` flags (trunk frozen, BatchNorm in eval mode; every branch
        parameter trainable), in train mode. Trace it with ``frozen=None`` and
        ``branch_of=net.branch_name`` (see :class:`learning.network.TrainingNetwork`)."""
        if self.base is None:
            raise LearningError("no trained network yet; run() the experiment first")
        if label == "base":
            branch: nn.Module = CloneBranch(0, list(self.base.blocks))
            task = 0
        elif label in self.branches:
            branch, task = self.branches[label], self.branch_task[label]
        else:
            raise LearningError(f"no trained branch {label!r}; use base or one of: "
                                f"{', '.join(sorted(self.branches))}")
        return build_training_network(self.base, branch, task, label).to(device)

    def sample_batch(self, task_index: int, n: int,
                     seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` real training images of task ``task_index`` (float32 on the CPU, in [-1, 1],
        normalized by :func:`learning.training.to_float` exactly as training does; shape
        ``(n, C, H, W)``) and their local labels (int64, 0..classes-1), read under the task's
        data guard. Images: the first ``n`` of a permutation drawn by
        ``numpy.random.default_rng(seed)``, in ascending index order."""
        if not 0 <= task_index < len(self.tasks):
            raise LearningError(f"task {task_index} is outside 0..{len(self.tasks) - 1}")
        task = self.tasks[task_index]
        with self.guard.learning([task.index]):
            x, y = task.train()
            if not 1 <= n <= len(y):
                raise LearningError(f"task {task_index} has {len(y)} training images; ask for "
                                    f"1..{len(y)}")
            idx = np.sort(np.random.default_rng(seed).permutation(len(y))[:n])
            xb, yb = to_float(x[idx]), task.local(y[idx])
        return xb, torch.as_tensor(yb, dtype=torch.long)

    @property
    def task_classes(self) -> tuple[int, ...]:
        """Classes of every task, in task order."""
        return tuple(len(t.classes) for t in self.tasks)

    def param_split(self, share_k: int, num_classes: int) -> ParamSplit:
        """Parameter counts (elements) of the configured model built for ``num_classes``
        outputs, split at sharing point ``share_k`` (see :class:`ParamSplit`)."""
        net = build_model(self.cfg.model, num_classes, self.ds.in_channels, self.ds.image_size,
                          self.cfg.width, **self.cfg.model_args)
        sp, bp, ss, bs = split_counts(net, share_k)
        return ParamSplit(share_k=share_k, num_classes=num_classes, shared_params=sp,
                          branch_params=bp, shared_stats=ss, branch_stats=bs,
                          task_classes=self.task_classes)

    # -- checks ----------------------------------------------------------------------------

    def record_and_check(self, method: str, branches: list[nn.Module], digests: list[str]) -> None:
        """After a new branch: the frozen base and every older branch (its state: parameters
        and BatchNorm running statistics; its logits on its old tasks' test data) must be
        bit-identical to when it was made (recorded when a branch is first seen here), else a
        one-line :class:`ForgettingError` naming the task, its stage and what changed."""
        assert self.base is not None
        was = self.state_records.setdefault("base", {}).setdefault(0, state_digests(self.base))
        if module_digest(self.base) != self.base_digest:
            what = changed_state(self.base, was, state_digests(self.base)) or "its state"
            raise ForgettingError(
                f"{method}: the frozen base network (task 0, stage base) changed while learning: "
                f"{what} differs from when it was trained; the trunk must stay frozen")
        rec = self.logit_digests.setdefault(method, {})
        for b, br in enumerate(branches):
            self._check_state(method, b, br, digests[b] if b < len(digests) else None)
            for j in range(b + 1):
                d = tensor_digest(self.test_logits(br, self.tasks[j]))
                if rec.setdefault(b, {}).setdefault(j, d) != d:
                    raise ForgettingError(
                        f"{method}: task {b}'s branch (stage {self._stage_of(br)}) changed after "
                        f"a later task: its logits on task {j}'s test images differ from when it "
                        "was trained with the same state; it must stay frozen in eval mode")

    def _check_state(self, method: str, b: int, br: nn.Module, digest: str | None) -> None:
        """Branch ``b``'s state against :attr:`state_records` and its lineage ``digest``."""
        now = state_digests(br)
        was = self.state_records.setdefault(method, {}).setdefault(b, now)
        what = changed_state(br, was, now)
        if not what and digest is not None and digest != module_digest(br):
            what = "its state"
        if what:
            raise ForgettingError(
                f"{method}: task {b}'s branch (stage {self._stage_of(br)}) changed after a "
                f"later task: {what} differs from when it was trained; old branches must "
                "never be modified")

    def _stage_of(self, branch: nn.Module) -> str:
        """The stage label that trained ``branch`` (``base`` for the base network's)."""
        return next((k for k, m in self.branches.items() if m is branch), "base")

    # -- evaluation ------------------------------------------------------------------------

    def fit_stats(self, branch: nn.Module, task: TaskData, temperature: float) -> BranchStats:
        """Summary statistics of a just-learned ``branch`` from its own task's training and
        validation images (the only data reachable now); kept by the combination rules instead
        of any sample."""
        base = self.base
        assert base is not None

        def features(x: torch.Tensor) -> torch.Tensor:
            return branch_output(branch, trunk_acts(base, x, branch.needs())).features

        with self.guard.learning([task.index]):
            x, y = task.train()
            (feats,) = batched(features, x, device=self.device, tta=self.cfg.tta,
                               memory_format=eval_format(self.cfg))
            xv, _ = task.val()
            (val_feats,) = batched(features, xv, device=self.device, tta=self.cfg.tta,
                                   memory_format=eval_format(self.cfg))
        return fit_branch_stats(feats, torch.as_tensor(task.local(y)), len(task.classes),
                                temperature, val_feats)

    def _combine(
        self, method: str, rule_name: str, net: UpdatedNetwork, outs: list[list[BranchOutput]]
    ) -> tuple[CombinationResult, torch.Tensor, torch.Tensor]:
        """Apply one rule after every increment; returns its result and the final scores and
        labels over all tasks' test data."""
        rule = RULES[rule_name]()
        n = len(self.tasks)
        matrix: list[list[float | None]] = []
        all_class, task_id = [], []
        scores = y = torch.empty(0)
        for t in range(n):
            k = t + 1
            num = max(max(c) for c in net.classes[:k]) + 1
            row: list[float | None] = []
            ss, ys, hits = [], [], 0
            for j in range(n):
                if j > t:
                    row.append(None)
                    continue
                sj = rule(outs[j][:k], net.stats[:k], net.classes[:k], num)
                pred = sj.argmax(1)
                row.append(accuracy_pct(pred, self.tasks[j].y_test))
                hits += int(np.isin(pred.numpy(), self.tasks[j].classes).sum())
                ss.append(sj)
                ys.append(torch.as_tensor(self.tasks[j].y_test))
            scores, y = torch.cat(ss), torch.cat(ys)
            matrix.append(row)
            all_class.append(accuracy_pct(scores.argmax(1), y))
            task_id.append(100.0 * hits / max(int(y.numel()), 1))
        present = int((scores >= 0).any(0).sum())
        res = CombinationResult(
            method=method, rule=rule_name, accuracy_matrix_pct=matrix, all_class_pct=all_class,
            task_id_pct=task_id, top1_pct=all_class[-1],
            top5_pct=topk_pct(scores, y, 5) if present >= 10 else None, gap_to_joint_pts=None,
            storage_bytes=sum(rule.storage_bytes(st) for st in net.stats),
            macs_per_inference=sum(rule.macs_per_inference(st) for st in net.stats),
        )
        return res, scores, y

    def evaluate_updated(
        self, method: str, net: UpdatedNetwork, infos: list[BranchInfo]
    ) -> tuple[MethodResult, list[CombinationResult]]:
        """Every combination rule on ``net``; the configured rule gives the method's result."""
        n = len(self.tasks)

        def fwd(x: torch.Tensor) -> list[torch.Tensor]:
            return [v for o in net.branch_outputs(x) for v in (o.features, o.logits)]

        outs: list[list[BranchOutput]] = []  # outs[j][b]: branch b on task j test data
        for t in self.tasks:
            r = batched(fwd, t.x_test, device=self.device, tta=self.cfg.tta,
                        memory_format=eval_format(self.cfg))
            outs.append([BranchOutput(r[2 * b], r[2 * b + 1]) for b in range(n)])
        identical = True
        rec = self.logit_digests.get(method, {})
        for b in range(n):
            for j in range(b + 1):
                if rec.get(b, {}).get(j) not in (None, tensor_digest(outs[j][b].logits)):
                    identical = False
        combos, chosen = [], None
        for name in RULES:
            c, scores, y = self._combine(method, name, net, outs)
            combos.append(c)
            if name == net.combiner.name:
                chosen = (c, scores, y)
        assert chosen is not None
        c, scores, y = chosen
        for b, info in enumerate(infos):
            lt = outs[b][b].logits
            info.test_acc_task_aware_pct = accuracy_pct(
                lt.argmax(1), torch.as_tensor(self.tasks[b].local(self.tasks[b].y_test))
            )
        aware = [b.test_acc_task_aware_pct for b in infos]
        res = _method_result(method, c.accuracy_matrix_pct, scores, y, infos, identical, aware)
        res.combiner = c.rule
        return res, combos

    def evaluate_joint(self, net: BlockNet, info: BranchInfo) -> MethodResult:
        classes = [c for t in self.tasks for c in t.classes]
        per_task, all_s, all_y = [], [], []
        for t in self.tasks:
            (lg,) = batched(net, t.x_test, device=self.device, tta=self.cfg.tta,
                            memory_format=eval_format(self.cfg))
            s = torch.full((lg.shape[0], max(classes) + 1), -1.0, dtype=torch.float64)
            s[:, classes] = torch.softmax(lg.double(), 1)
            per_task.append(accuracy_pct(s.argmax(1), t.y_test))
            all_s.append(s)
            all_y.append(torch.as_tensor(t.y_test))
        scores, y = torch.cat(all_s), torch.cat(all_y)
        info.test_acc_task_aware_pct = accuracy_pct(scores.argmax(1), y)
        n = len(self.tasks)
        matrix: list[list[float | None]] = [[None] * n for _ in range(n - 1)] + [per_task]
        aware = []
        for j, t in enumerate(self.tasks):
            lg = all_s[j][:, t.classes]
            aware.append(accuracy_pct(lg.argmax(1), torch.as_tensor(t.local(t.y_test))))
        return _method_result(JOINT, matrix, scores, y, [info], None, aware)


    def evaluate_lineage(self, lin: Lineage) -> tuple[MethodResult, list[CombinationResult]]:
        """The updated network of ``lin``'s branches, evaluated by :meth:`evaluate_updated`."""
        assert self.base is not None
        net = UpdatedNetwork(self.base, self.cfg.combiner)
        for br, bi, st in zip(lin.branches, lin.infos, lin.stats, strict=True):
            net.add_branch(br, self.tasks[bi.task].classes, st)
        return self.evaluate_updated(lin.method, net, lin.infos)

    @functools.cached_property
    def sweep_base_stats(self) -> tuple[CloneBranch, BranchStats]:
        """The base network as task 0's branch and its combination statistics, fitted once
        for every sweep point's updated network."""
        assert self.base is not None
        head = base_branch(self.base)
        return head, self.fit_stats(head, self.tasks[0], self.ckpt.infos["base"]["temperature"])

    def updated_top1(self, method: str, share_k: int,
                     branches: list[tuple[nn.Module, dict[str, Any]]]) -> dict[str, float]:
        """A sweep point's updated network: the base and ``branches`` (task ``t``'s clone at
        ``share_k`` and its stage info, ``t = 1..``), each with its combination statistics
        fitted on its own task; returns its all-class top-1 (%) after the last task by every
        rule of :data:`~learning.combine.RULES` (rule name -> %)."""
        assert self.base is not None
        base_raw = self.ckpt.infos["base"]
        head, stats = self.sweep_base_stats
        lin = Lineage(method, [head], [self.branch_info(method, 0, "base", "base", None, 0,
                                                        base_raw)], [stats], [])
        for t, (br, raw) in enumerate(branches, start=1):
            lin.branches.append(br)
            lin.infos.append(self.branch_info(method, t, "clone", clone_label(t, share_k), br,
                                              share_k, raw))
            lin.stats.append(self.fit_stats(br, self.tasks[t], raw["temperature"]))
        _, combos = self.evaluate_lineage(lin)
        return {c.rule: c.top1_pct for c in combos}

    def learn_joint(self) -> MethodResult:
        """The joint-training baseline: one network trained on all tasks at once."""
        net, raw = self.train_joint()
        n = count_params(net)
        info = BranchInfo(
            method=JOINT, task=0, classes=[c for t in self.tasks for c in t.classes],
            kind="joint", label="joint", share_k=0, sharing_point_pct=0.0, shared_pct=0.0,
            trained_params=n, network_params=n, temperature=raw["temperature"],
            val_acc_pct=raw["val_acc_pct"], test_acc_task_aware_pct=float("nan"),
            train_time_s=raw["train_time_s"], epochs=raw["epochs"],
            train_images=raw["train_images"], param_digest=module_digest(net),
        )
        return self.evaluate_joint(net, info)

    # -- whole run -------------------------------------------------------------------------

    def run(self) -> Results:
        """Base network -> baselines -> the approach -> combination -> joint -> results."""
        t_start = time.perf_counter()
        base_info = self.train_base()
        assert self.base is not None
        # The base network is task 0's branch of every method: its statistics are fitted once.
        base_stats = self.fit_stats(base_branch(self.base), self.tasks[0],
                                    base_info["temperature"])
        baselines = []
        if NO_SHARING in self.cfg.baselines:
            baselines.append(self.learn_no_sharing(base_info, base_stats))
        approach = self.approach_cls(self)
        lineages = [self.learn_with(approach, base_info, base_stats), *baselines]
        methods: list[MethodResult] = []
        combinations: list[CombinationResult] = []
        for lin in lineages:
            method, combos = self.evaluate_lineage(lin)
            methods.append(method)
            combinations += combos
        if JOINT in self.cfg.baselines:
            joint = self.learn_joint()
            methods.append(joint)
            for c in combinations:
                c.gap_to_joint_pts = joint.top1_pct - c.top1_pct
        return self.results(approach, methods, combinations, time.perf_counter() - t_start)

    def results(self, approach: Approach, methods: list[MethodResult],
                combinations: list[CombinationResult], wall_time_s: float) -> Results:
        cfg, k = self.cfg, approach.share_k
        return Results(
            name=cfg.name,
            config=dataclasses.asdict(cfg),
            dataset={
                "name": self.ds.name, "source": self.ds.source,
                "num_classes": self.ds.num_classes,
                "image_shape": list(self.ds.x_train.shape[1:]),
                "train_images_per_task": [t.num_train for t in self.tasks],
                "val_images_per_task": [t.num_val for t in self.tasks],
                "test_images_per_task": [int(t.y_test.size) for t in self.tasks],
            },
            tasks=[list(t.classes) for t in self.tasks],
            methods=methods,
            sweep=approach.sweep,
            combinations=combinations,
            chosen_share_k=k,
            chosen_sharing_point_pct=self.sharing_pct.get(k) if k is not None else None,
            tolerance_pct=cfg.tolerance,
            wall_time_s=wall_time_s,
            resumed_stages=list(self.resumed),
            installments=installment_rows(methods, self.ds.class_names),
            environment={
                "torch": torch.__version__, "device": str(self.device),
                "threads": torch.get_num_threads(),
                "world_size": distributed.world_size(),
            },
        )


class _JointTask(TaskData):
    """All tasks' training data at once (joint-training baseline only)."""

    def __init__(self, tasks: list[TaskData], classes: list[int]) -> None:
        self._tasks = tasks
        self.member_ids = [t.index for t in tasks]
        self.index = -1
        self.classes = classes
        self.guard = tasks[0].guard
        self.x_test = np.concatenate([t.x_test for t in tasks])
        self.y_test = np.concatenate([t.y_test for t in tasks])

    def train(self) -> tuple[np.ndarray, np.ndarray]:
        parts = [t.train() for t in self._tasks]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def val(self) -> tuple[np.ndarray, np.ndarray]:
        parts = [t.val() for t in self._tasks]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    @property
    def num_train(self) -> int:
        return sum(t.num_train for t in self._tasks)

    @property
    def num_val(self) -> int:
        return sum(t.num_val for t in self._tasks)


def _method_result(
    method: str, matrix: list[list[float | None]], scores: torch.Tensor, y: torch.Tensor,
    infos: list[BranchInfo], identical: bool | None, aware: list[float],
) -> MethodResult:
    n = len(matrix)
    final = [float(a) for a in matrix[-1]]  # type: ignore[arg-type]
    forgetting = []
    for j in range(n - 1):
        earlier = [matrix[t][j] for t in range(j, n - 1) if matrix[t][j] is not None]
        forgetting.append(max(earlier) - final[j] if earlier else 0.0)  # type: ignore[type-var]
    num_classes = int((scores >= 0).any(0).sum())
    return MethodResult(
        method=method, accuracy_matrix_pct=matrix, final_task_acc_pct=final,
        task_aware_acc_pct=aware, top1_pct=accuracy_pct(scores.argmax(1), y),
        top5_pct=topk_pct(scores, y, 5) if num_classes >= 10 else None,
        forgetting_pct=forgetting,
        avg_forgetting_pct=float(np.mean(forgetting)) if forgetting else 0.0,
        trained_params=sum(b.trained_params for b in infos if b.task > 0 or method == JOINT),
        train_time_s=sum(b.train_time_s for b in infos),
        branches=infos, old_logits_identical=identical,
    )


def run_and_keep(
    cfg: ExperimentConfig, *, progress: bool = True, resume: bool = True,
    write: bool = True, on_stage: Callable[[str], None] | None = None,
    dataset: ImageDataset | None = None,
) -> tuple[Results, Experiment]:
    """:func:`run_experiment`, also returning the finished :class:`Experiment` (its trained
    networks and task data, e.g. to sample operands from the trained network)."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    exp = Experiment(cfg, progress=progress, resume=resume, checkpoint=write, on_stage=on_stage,
                     dataset=dataset)
    res = exp.run()
    if write and distributed.is_main():
        write_results(res, exp.out_dir)
    return res, exp


def run_experiment(
    cfg: ExperimentConfig, *, progress: bool = True, resume: bool = True,
    write: bool = True, on_stage: Callable[[str], None] | None = None,
    dataset: ImageDataset | None = None,
) -> Results:
    """Run (or resume) one experiment; with ``write`` keep a checkpoint and write results
    (JSON + CSV) to the output folder. ``on_stage(label)`` is called after each new stage."""
    return run_and_keep(cfg, progress=progress, resume=resume, write=write, on_stage=on_stage,
                        dataset=dataset)[0]
