"""The sharing points of a finished experiment, through learning's public facade only
(``Experiment.sharing_labels``, ``training_network``, ``sample_batch``, ``param_split``,
``task_classes`` and the
:class:`learning.results.Results`): which points to cost, their traces of one training
iteration, their grown-network sizes, and the operand samples of the ``tensor`` stream."""

from __future__ import annotations

from collections.abc import Callable

from hwmodel.report.config import ReportConfig, ReportError
from hwmodel.report.costing import SharingPoint, TracedPoint


def learn(cfg: ReportConfig, data_root: str | None, progress: bool,
          log: Callable[[str], None]) -> tuple:
    """Train (or resume) the learning config; returns (Results, Experiment)."""
    from learning.config import load_config
    from learning.errors import LearningError
    from learning.incremental import run_and_keep

    try:
        overrides = dict(cfg.learning_overrides)
        if data_root:
            overrides["data_root"] = data_root
        lcfg = load_config(cfg.learning, overrides or None)
        if "no-sharing" not in lcfg.baselines:
            raise ReportError(f"learning config {cfg.learning!r}: the report compares against "
                              "the no-sharing baseline; add 'no-sharing' to baselines")
        log(f"      {lcfg.name} ({lcfg.dataset}, {lcfg.model})")
        return run_and_keep(lcfg, progress=progress)
    except LearningError as exc:
        raise ReportError(f"learning config {cfg.learning!r}: {exc}") from None


def sharing_points(res, exp) -> list[SharingPoint]:
    """The task-1 points to cost: every swept point, or no sharing and the approach's own
    branch, with the new task's test accuracy from the results."""
    swept = {p.share_k: p for p in res.sweep}
    branch = {b.label: b for m in res.methods for b in m.branches if b.task == 1}
    out = []
    for label, e in exp.sharing_labels(1).items():
        if e["kind"] == "clone" and swept:  # a swept point
            src = swept[e["share_k"]]
            test = src.test_acc_pct
        else:  # no sharing or the approach's own branch
            src = branch[label]
            test = src.test_acc_task_aware_pct
        share_k = 0 if e["method"] == "no-sharing" else int(e["share_k"])
        out.append(SharingPoint(label, e["method"], share_k, float(e["sharing_point_pct"]),
                                float(e["shared_pct"]), float(test), float(src.val_acc_pct),
                                bool(e["chosen"])))
    return out


def grown_networks(exp, point: SharingPoint, kind: str) -> list[tuple[int, int]]:
    """(network params, own params) of every task of the grown network at ``point``: clone
    branches split the model at ``share_k`` (each task's head for its own classes); widen
    branches are the base network plus each installment's trained kernels and head (a
    cumulative one's network also holds the earlier installments' kernels). The no-sharing
    point of approach 1 is each task's whole network as trained (widened per installment)."""
    classes = exp.task_classes
    if kind == "widen" or (point.method == "no-sharing" and _widen_run(exp)):
        base = exp.param_split(0, classes[0]).branch_params
        own = []
        for t in range(1, len(classes)):
            e = next(v for v in exp.sharing_labels(t).values()
                     if (v["kind"] == "widen") == (kind == "widen")
                     and v["method"] == point.method)
            own.append((int(e["network_params"]), int(e["trained_params"])))
        return [(base, base), *own]
    out = []
    for t, n in enumerate(classes):
        s = exp.param_split(point.share_k, n)
        whole = s.shared_params + s.branch_params
        out.append((whole, whole if t == 0 else s.branch_params))
    return out


def _widen_run(exp) -> bool:
    """Whether approach 1 (widen) trained the experiment's branches."""
    return any(v["kind"] == "widen" for v in exp.sharing_labels(1).values())


def _batch(exp, res, task: int) -> tuple:
    """A training batch of real images of ``task``, normalized as training does."""
    return exp.sample_batch(task, res.config["batch_size"], res.config["seed"])


def _trace(exp, res, label: str, batch: tuple, iterations: int, samples: int = 0):
    """One training iteration of stage ``label``'s network on ``batch`` (images, labels), with
    the optimizer training used (:func:`workload.trace_training`)."""
    from learning.training import OptimizerSpec
    from workload import trace_training

    x, y = batch
    net = exp.training_network(label)
    return trace_training(net, tuple(x.shape[1:]), len(y),
                          optimizer=OptimizerSpec.from_config(res.config), frozen=None,
                          iterations=iterations, seed=res.config["seed"], inputs=x, targets=y,
                          branch_of=net.branch_name, sample_operands=samples)


def trace_points(res, exp, cfg: ReportConfig, progress: bool = True) -> list[TracedPoint]:
    """Trace one training iteration of every task-1 point's trained network."""
    from tqdm import tqdm

    labels = exp.sharing_labels(1)
    batch = _batch(exp, res, 1)
    input_bytes = float(batch[0].numel() * batch[0].element_size())
    out = []
    for p in tqdm(sharing_points(res, exp), desc="tracing sharing points", unit="point",
                  disable=not progress):
        tr = _trace(exp, res, p.label, batch, cfg.trace_iterations)
        med = {k.removesuffix("_s"): float(tr.timing_samples[k].median())
               for k in ("iteration_s", "forward_s", "backward_s", "step_s")}
        out.append(TracedPoint(p, tr.df, input_bytes,
                               grown_networks(exp, p, labels[p.label]["kind"]), med))
    return out


def network_operand_pools(res, exp, values_per_tensor: int = 256) -> tuple:
    """Operand pools of the ``tensor`` stream (:func:`hwmodel.ops.streams.operand_pools`):
    weights, activations and gradients sampled from one training iteration of the trained base
    network (a copy) on one batch of real task-0 training images."""
    from hwmodel.ops.streams import operand_pools

    tr = _trace(exp, res, "base", _batch(exp, res, 0), 1, values_per_tensor)
    return operand_pools(tr.samples)
