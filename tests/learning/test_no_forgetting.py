"""No forgetting, proven on the hard cases (issue #17, deliverable 6).

A tiny network with BatchNorm and dropout in its frozen trunk and in every branch learns real
Fashion-MNIST subsets (4+3+3 classes, one epoch per stage) by approaches 1 (widen), 2 (clone)
and 3 (partial). Independently of the experiment's own checks, every stage's logits on every
task's test images are recorded right after it trained and compared bit for bit
(``torch.equal``) after every later stage and at the end; the frozen trunk's parameters and
BatchNorm running statistics must not move and its BatchNorm/dropout must run in eval mode
while branches train. Tampering with an old branch's BatchNorm buffer (or the base's) between
increments must stop the run with a one-line :class:`LearningError` naming what changed. A
clone branch must start from the base's weights and running statistics.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

from learning import data as D
from learning.config import config_from_dict
from learning.errors import LearningError
from learning.incremental import Experiment, StageTrainer
from learning.models import BlockNet, ConvStack, Head
from learning.network import UpdatedNetwork, base_branch, output_linear, trunk_acts
from learning.training import to_float

from .fmnist import needs_fmnist, tiny_fmnist

torch.set_num_threads(1)

pytestmark = needs_fmnist

MODEL = "tests.learning.test_no_forgetting:tiny_bn_net"
NORM_TYPES = (nn.BatchNorm2d, nn.Dropout)


def tiny_bn_net(num_classes: int, in_channels: int = 1, image_size: int = 28,
                width: float = 1.0) -> BlockNet:
    """Three blocks, BatchNorm after every conv and dropout (p = 0.3) after every conv block:
    ``[3x3 4 conv, BN, ReLU, 2x2 max pool, dropout]``, ``[3x3 6 conv, BN, ReLU; 3x3 6 conv,
    BN, ReLU; 2x2 avg pool, dropout]``, global-average-pool head. Two conv units in the last
    conv block, so a widen branch (approach 1) re-runs a frozen BatchNorm unit of the base."""
    c1, c2 = max(1, round(4 * width)), max(1, round(6 * width))
    b0 = ConvStack(in_channels, [(c1, 3, 1, 1)], pool=nn.MaxPool2d(2), dropout=0.3,
                   batch_norm=True)
    b1 = ConvStack(c1, [(c2, 3, 1, 1), (c2, 3, 1, 1)], pool=nn.AvgPool2d(2), dropout=0.3,
                   batch_norm=True)
    return BlockNet([b0, b1, Head(c2, num_classes, pool="gap")], name="tiny-bn",
                    input_shape=(in_channels, image_size, image_size))


WIDEN = {"approach": 1, "new_maps": 2}
CLONE = {"approach": 2, "clone_blocks": 2}
PARTIAL_FIXED = {"approach": 3, "sweep": False, "sharing_percent": 50.0}
PARTIAL_SWEEP = {"approach": 3, "sweep": True, "sweep_percents": [50.0], "tolerance": 100.0}


@pytest.fixture(scope="module")
def fmnist() -> D.ImageDataset:
    return D.load_dataset("fashion-mnist")


def _cfg(**kw: Any) -> Any:
    return config_from_dict(tiny_fmnist(model=MODEL, train_per_class=30, test_per_class=10,
                                        **kw))


def _has(module: nn.Module, kind: type[nn.Module]) -> bool:
    return any(isinstance(m, kind) for m in module.modules())


def _logits(exp: Experiment, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A stage's logits by a plain forward pass: a branch on the frozen trunk, or a whole
    network (base, joint)."""
    with torch.no_grad():
        if hasattr(module, "needs"):
            assert exp.base is not None
            return module(trunk_acts(exp.base, x, module.needs()))
        return module(x)


@dataclasses.dataclass
class Watch:
    """Hooks into a run (through public methods of :class:`Experiment` and
    :class:`StageTrainer`): records every stage's logits right after it trained and re-checks
    every earlier stage after each new one; watches the frozen base's state and modes."""

    x: torch.Tensor  # every task's test images, as training normalizes them
    logits: dict[str, torch.Tensor] = dataclasses.field(default_factory=dict)
    modules: dict[str, nn.Module] = dataclasses.field(default_factory=dict)
    base_state: dict[str, torch.Tensor] = dataclasses.field(default_factory=dict)
    frozen_modes: list[bool] = dataclasses.field(default_factory=list)  # base BN/dropout calls
    branch_modes: list[bool] = dataclasses.field(default_factory=list)  # a branch's own, in fit
    initial: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    compared: int = 0

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch, exp_x: torch.Tensor) -> Watch:
        w = cls(exp_x)
        keep, fit = Experiment.checkpoint_stage, StageTrainer.fit_branch

        def checkpoint_stage(exp: Experiment, label: str, module: nn.Module,
                             info: dict[str, Any]) -> None:
            keep(exp, label, module, info)
            w.after_stage(exp, label, module)

        def fit_branch(tr: StageTrainer, label: str, task: Any, branch: nn.Module,
                       epochs: int) -> dict[str, Any]:
            w.note_initial(label, branch)
            hooks = [m.register_forward_pre_hook(lambda m, _: w.branch_modes.append(m.training))
                     for m in branch.modules() if isinstance(m, NORM_TYPES)]
            try:
                return fit(tr, label, task, branch, epochs)
            finally:
                for h in hooks:
                    h.remove()

        monkeypatch.setattr(Experiment, "checkpoint_stage", checkpoint_stage)
        monkeypatch.setattr(StageTrainer, "fit_branch", fit_branch)
        return w

    def after_stage(self, exp: Experiment, label: str, module: nn.Module) -> None:
        self.check(exp)
        if label == "base":
            self.base_state = {k: v.clone() for k, v in module.state_dict().items()}
            ids = {id(m) for m in module.modules()}
            for m in module.modules():
                if isinstance(m, NORM_TYPES):  # clones carry the hook too: count base's only
                    m.register_forward_pre_hook(
                        lambda m, _: self.frozen_modes.append(m.training) if id(m) in ids
                        else None)
        self.modules[label] = module
        self.logits[label] = _logits(exp, module, self.x)

    def check(self, exp: Experiment) -> None:
        """Every stage recorded so far: logits bit-identical; the base's whole state too."""
        for label, module in self.modules.items():
            now = _logits(exp, module, self.x)
            assert torch.equal(now, self.logits[label]), f"stage {label}'s logits changed"
            self.compared += 1
        if exp.base is not None:
            for k, v in exp.base.state_dict().items():
                assert torch.equal(v, self.base_state[k]), f"base {k} changed"

    def note_initial(self, label: str, branch: nn.Module) -> None:
        out = output_linear(branch)
        state = branch.state_dict(keep_vars=True)
        self.initial[label] = {
            "state": {k: v.detach().clone() for k, v in state.items()},
            "output": {k for k, v in state.items() if v is out.weight or v is out.bias},
            "ptrs": {v.data_ptr() for v in state.values()},
        }


def _run(monkeypatch: pytest.MonkeyPatch, fmnist: D.ImageDataset, **kw: Any,
         ) -> tuple[Experiment, Watch]:
    exp = Experiment(_cfg(**kw), progress=False, checkpoint=False, dataset=fmnist)
    x = torch.cat([to_float(t.x_test) for t in exp.tasks])
    w = Watch.install(monkeypatch, x)
    exp.run()
    return exp, w


def _chosen(exp: Experiment, t: int) -> str:
    (label,) = [k for k, e in exp.sharing_labels(t).items() if e["chosen"]]
    return label


@pytest.mark.parametrize("approach", [WIDEN, CLONE, PARTIAL_SWEEP],
                         ids=["approach1-widen", "approach2-clone", "approach3-partial-sweep"])
def test_old_logits_bit_identical_after_every_increment_with_batchnorm_and_dropout(
        fmnist, monkeypatch, approach):
    exp, w = _run(monkeypatch, fmnist, baselines=["no-sharing", "joint"], **approach)
    w.check(exp)  # after the whole run (combination, joint) too
    n = len(w.logits)
    assert list(w.logits)[0] == "base" and n >= 5  # base, no-sharing x2, approach x2, joint
    assert w.compared == n * (n - 1) // 2 + n  # each stage after every later one, and at the end
    # the hard parts are really there: BN + dropout in the frozen trunk and in every branch
    base = exp.base
    assert base is not None and _has(base.blocks[0], nn.BatchNorm2d)
    assert _has(base.blocks[0], nn.Dropout)
    labels = [_chosen(exp, t) for t in (1, 2)]
    for label in labels:
        assert _has(exp.branches[label], nn.BatchNorm2d), label
        assert _has(exp.branches[label], nn.Dropout), label
    # frozen BN/dropout ran in eval mode while branches trained; the branches' own did train
    assert w.frozen_modes and not any(w.frozen_modes)
    assert any(w.branch_modes)
    # the updated network (trunk once + branches kept, reloaded where a sweep point was
    # reused) reproduces every branch's logits recorded right after it trained
    net = UpdatedNetwork(base)
    for t, label in enumerate(["base", *labels]):
        br = base_branch(base) if t == 0 else exp.branches[label]
        net.add_branch(br, exp.tasks[t].classes, exp.fit_stats(br, exp.tasks[t], 1.0))
    for got, label in zip(net.branch_logits(w.x), ["base", *labels], strict=True):
        assert torch.equal(got, w.logits[label]), label


def _first_bn(module: nn.Module) -> tuple[str, nn.BatchNorm2d]:
    return next((n, m) for n, m in module.named_modules() if isinstance(m, nn.BatchNorm2d))


def _bump(buffer: str) -> Callable[[nn.Module], str]:
    def edit(module: nn.Module) -> str:
        name, bn = _first_bn(module)
        with torch.no_grad():
            getattr(bn, buffer).add_(0.25)
        return f"{name}.{buffer}"

    return edit


def _train_mode(module: nn.Module) -> str:
    module.train()  # no state changes until it runs: only its logits can tell
    return "logits"


TAMPER = [
    (WIDEN, 1, _bump("running_var")),
    (CLONE, 1, _bump("running_mean")),
    (PARTIAL_FIXED, 1, _bump("running_var")),
    (CLONE, 0, _bump("running_mean")),
    (PARTIAL_FIXED, 1, _train_mode),
]


@pytest.mark.parametrize("approach,task,edit", TAMPER, ids=[
    "approach1-branch-running_var", "approach2-branch-running_mean",
    "approach3-branch-running_var", "approach2-base-trunk-running_mean",
    "approach3-branch-left-in-train-mode"])
def test_tampering_with_an_old_batchnorm_stops_the_run_naming_it(
        fmnist, monkeypatch, approach, task, edit):
    keep = Experiment.checkpoint_stage
    done: dict[str, str] = {}

    def checkpoint_stage(exp: Experiment, label: str, module: nn.Module,
                         info: dict[str, Any]) -> None:
        keep(exp, label, module, info)
        old = [k for k, t in exp.branch_task.items() if t == 1]
        if old and not done:  # the stage after task 1's branch was kept: task 2's
            done["label"] = "base" if task == 0 else old[0]
            done["what"] = edit(exp.base if task == 0 else exp.branches[old[0]])

    monkeypatch.setattr(Experiment, "checkpoint_stage", checkpoint_stage)
    exp = Experiment(_cfg(baselines=[], **approach), progress=False, checkpoint=False,
                     dataset=fmnist)
    with pytest.raises(LearningError) as err:
        exp.run()
    msg = str(err.value)
    assert done and "\n" not in msg
    assert f"task {task}" in msg and done["label"] in msg and done["what"] in msg, msg


@pytest.mark.parametrize("approach", [CLONE, PARTIAL_FIXED],
                         ids=["approach2-clone", "approach3-partial"])
def test_clone_branch_starts_from_the_base_weights_and_running_stats(
        fmnist, monkeypatch, approach):
    exp, w = _run(monkeypatch, fmnist, baselines=[], **approach)
    base = exp.base
    assert base is not None and len(w.initial) == 2  # tasks 1 and 2, both cloned from base
    out = output_linear(base)
    tail = [(k, v) for k, v in base.state_dict(keep_vars=True).items()
            if v is not out.weight and v is not out.bias]
    for label, init in w.initial.items():
        cloned = [(k, v) for k, v in init["state"].items() if k not in init["output"]]
        assert cloned and any(k.endswith("running_var") for k, _ in cloned), label
        for (k, v), (bk, bv) in zip(cloned, tail[len(tail) - len(cloned):], strict=True):
            assert torch.equal(v, bv.detach()), f"{label}: {k} differs from the base's {bk}"
        # copies, not the base's own tensors (training them must not touch the base)
        assert not init["ptrs"] & {v.data_ptr() for v in base.state_dict().values()}
        classes = len(exp.tasks[exp.branch_task[label]].classes)
        assert output_linear(exp.branches[label]).out_features == classes
        assert init["output"] and all(init["state"][k].shape[0] == classes
                                      for k in init["output"])
