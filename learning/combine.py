"""Combination rules: how the updated network turns its branches' outputs into one prediction.

Every branch is trained on its own task only, so each one is confidently wrong on the other
tasks' images; the rule decides which branch to trust. All rules produce class scores
``q_b(x) * p_b(c | x)`` (a distribution over all classes learned so far): ``p_b`` is branch
``b``'s softmax over its own classes (with its calibration temperature where the rule uses one),
``q_b`` a softmax over branches of a per-branch task log-weight ``w_b(x)``:

- ``max-softmax`` (the paper's rule): ``w_b = 0``, ``T = 1``; the prediction is the class with
  the single highest softmax probability across branches.
- ``temperature``: as above with each branch's temperature fitted on its own validation split
  (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017).
- ``energy``: ``w_b = T_b * logsumexp(logits_b / T_b)``, the negative free energy of the branch's
  calibrated logits (Liu et al., "Energy-based Out-of-distribution Detection", NeurIPS 2020).
- ``mahalanobis``: a feature-statistics task selector. When a task is learned, the class means
  of its branch's features (the input of the branch's output layer) and one covariance shared by
  the task's classes are computed from the task's own training images (Lee et al., "A Simple
  Unified Framework for Detecting Out-of-Distribution Samples and Adversarial Attacks",
  NeurIPS 2018); the covariance is shrunk towards a scaled identity by the Ledoit-Wolf estimate
  (Ledoit and Wolf, J. Multivariate Analysis 88(2), 2004), so there is no tuning knob. The
  distance to the nearest class mean, ``d_b = min_c ||W_b (f_b - mu_c)||`` with ``W_b = L_b^-1``,
  ``Sigma_b = L_b L_b^T``, is standardized by its mean and standard deviation on the task's own
  validation split (held out from the statistics, so a branch fitted on few images, whose
  training features sit unusually close to its means, is not favoured):
  ``w_b = -(d_b - mean_val_b) / std_val_b``.

Only summary statistics are kept (:class:`BranchStats`): their sizes depend on the feature
width and the number of classes, never on the number of images. Each rule states its extra
storage (bytes, stored as fp32 like the network) and extra compute per inference (MACs), so the
cost model can charge for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from learning.errors import LearningError

STAT_BYTES = 4  # bytes per stored statistic: fp32, the network's own number format


@dataclass(frozen=True)
class BranchOutput:
    """One branch's outputs for a batch: ``features`` (N, D), the input of its output layer,
    and ``logits`` (N, C_b) over its own classes."""

    features: torch.Tensor
    logits: torch.Tensor


@dataclass(frozen=True)
class BranchStats:
    """Summary statistics of one branch, fitted once from its own task's data when the task is
    learned and never changed afterwards. Holds no samples: ``whitener`` is (D, D) and
    ``means_white`` is (C, D) whatever the number of images."""

    temperature: float  # fitted on the task's validation split
    whitener: torch.Tensor  # (D, D) lower-triangular W = L^-1, Sigma = L L^T; float64
    means_white: torch.Tensor  # (C, D) class means in whitened coordinates; float64
    shrinkage: float  # Ledoit-Wolf weight of the scaled identity, 0..1
    fit_images: int  # how many training images the statistics summarize (a count)
    val_dist_mean: float  # mean of the nearest-class Mahalanobis distance, own validation split
    val_dist_std: float  # its standard deviation (> 0)

    @property
    def num_classes(self) -> int:
        return int(self.means_white.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.whitener.shape[0])


# ----------------------------------------------------------------------------------------------
# Fitting
# ----------------------------------------------------------------------------------------------


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Temperature ``T`` minimizing the NLL of ``softmax(logits / T)`` on a validation split
    (Guo et al. 2017). Deterministic coarse-to-fine search over ``log T`` in [-3, 3]."""
    logits = logits.double()
    labels = labels.long()

    def nll(log_t: float) -> float:
        return float(nn.functional.cross_entropy(logits / math.exp(log_t), labels))

    grid = np.linspace(-3.0, 3.0, 61)
    best = min(grid, key=nll)
    step = grid[1] - grid[0]
    for _ in range(3):
        fine = np.linspace(best - step, best + step, 21)
        best = min(fine, key=nll)
        step = fine[1] - fine[0]
    return float(math.exp(best))


def ledoit_wolf(residuals: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Shrunk covariance ``(1 - s) S + s * mean(diag S) * I`` of zero-mean ``residuals`` (N, D)
    with the Ledoit-Wolf (2004) optimal weight ``s``; returns ``(covariance, s)``."""
    x = residuals.double()
    n, d = x.shape
    if n < 2:
        raise LearningError("covariance statistics need at least 2 training images")
    s = x.T @ x / n
    mu = torch.trace(s) / d
    target = mu * torch.eye(d, dtype=s.dtype)
    d2 = float(((s - target) ** 2).sum())
    b2 = float(((x * x).sum(1) ** 2).sum() / n**2 - (s * s).sum() / n)
    shrink = 1.0 if d2 <= 0.0 else min(max(b2, 0.0), d2) / d2
    return (1.0 - shrink) * s + shrink * target, float(shrink)


def nearest_mean_distance(
    features: torch.Tensor, whitener: torch.Tensor, means_white: torch.Tensor
) -> torch.Tensor:
    """(N,) Mahalanobis distance of each feature row to the nearest class mean."""
    z = torch.flatten(features, 1).double() @ whitener.T
    return torch.cdist(z, means_white).min(dim=1).values


def fit_branch_stats(
    features: torch.Tensor, labels: torch.Tensor, num_classes: int, temperature: float,
    val_features: torch.Tensor,
) -> BranchStats:
    """Class means and a Ledoit-Wolf tied covariance of one branch's ``features`` (N, D) on its
    own task's training images with local ``labels`` 0..C-1; the nearest-mean distance's mean
    and spread on the task's own validation images ``val_features``."""
    f = torch.flatten(features, 1).double()
    y = torch.as_tensor(labels).long()
    if f.shape[0] != y.shape[0]:
        raise LearningError("features and labels disagree in length")
    present = torch.bincount(y, minlength=num_classes)
    if int((present == 0).sum()):
        raise LearningError("every class of a task needs training images for its statistics")
    means = torch.zeros(num_classes, f.shape[1], dtype=torch.float64)
    means.index_add_(0, y, f)
    means /= present[:, None].double()
    cov, shrink = ledoit_wolf(f - means[y])
    chol = torch.linalg.cholesky(cov)
    eye = torch.eye(f.shape[1], dtype=torch.float64)
    whitener = torch.linalg.solve_triangular(chol, eye, upper=False)
    means_white = means @ whitener.T
    if val_features.shape[0] < 2:
        raise LearningError("the distance statistics need at least 2 validation images")
    d = nearest_mean_distance(val_features, whitener, means_white)
    return BranchStats(
        temperature=float(temperature), whitener=whitener, means_white=means_white,
        shrinkage=shrink, fit_images=int(f.shape[0]), val_dist_mean=float(d.mean()),
        val_dist_std=max(float(d.std()), 1e-12),
    )


# ----------------------------------------------------------------------------------------------
# Rules
# ----------------------------------------------------------------------------------------------


class Rule:
    """A combination rule: per-branch task log-weights and class probabilities."""

    name = ""
    use_temperature = True

    def class_probs(self, out: BranchOutput, st: BranchStats) -> torch.Tensor:
        t = st.temperature if self.use_temperature else 1.0
        return torch.softmax(out.logits.double() / t, dim=1)

    def task_log_weight(self, out: BranchOutput, st: BranchStats) -> torch.Tensor:
        """(N,) log-weight of this branch's task for each input; 0 = no task selection."""
        return torch.zeros(out.logits.shape[0], dtype=torch.float64)

    def storage_bytes(self, st: BranchStats) -> int:
        """Extra bytes kept per branch beyond its weights."""
        return STAT_BYTES if self.use_temperature else 0

    def macs_per_inference(self, st: BranchStats) -> int:
        """Extra multiply-accumulates per input and branch beyond the branch's own forward."""
        return st.num_classes if self.use_temperature else 0  # logits x 1/T

    def __call__(
        self, outs: Sequence[BranchOutput], stats: Sequence[BranchStats],
        classes: Sequence[Sequence[int]], num_classes: int,
    ) -> torch.Tensor:
        """Class scores (N, num_classes): ``q_b * p_b(c)``; -1 for classes of no branch."""
        if not (len(outs) == len(stats) == len(classes)) or not outs:
            raise LearningError("one output, statistics and class list per branch are needed")
        w = torch.stack([self.task_log_weight(o, s) for o, s in zip(outs, stats, strict=True)], 1)
        q = torch.softmax(w, dim=1)
        n = outs[0].logits.shape[0]
        scores = torch.full((n, num_classes), -1.0, dtype=torch.float64)
        for b, (o, s, cls) in enumerate(zip(outs, stats, classes, strict=True)):
            scores[:, list(cls)] = q[:, b : b + 1] * self.class_probs(o, s)
        return scores


class MaxSoftmax(Rule):
    """The paper's rule: the highest softmax probability across branches (T = 1)."""

    name = "max-softmax"
    use_temperature = False


class Temperature(Rule):
    """The highest temperature-scaled probability (T per branch, own validation split)."""

    name = "temperature"


class Energy(Rule):
    """Branches weighted by the negative free energy T*logsumexp(logits/T)."""

    name = "energy"

    def task_log_weight(self, out: BranchOutput, st: BranchStats) -> torch.Tensor:
        t = st.temperature
        return t * torch.logsumexp(out.logits.double() / t, dim=1)

    def macs_per_inference(self, st: BranchStats) -> int:
        return st.num_classes + 1  # logits x 1/T, and the log-sum-exp x T


class Mahalanobis(Rule):
    """Branches weighted by how well their feature statistics fit the input."""

    name = "mahalanobis"

    def task_log_weight(self, out: BranchOutput, st: BranchStats) -> torch.Tensor:
        d = nearest_mean_distance(out.features, st.whitener, st.means_white)
        return -(d - st.val_dist_mean) / st.val_dist_std

    def storage_bytes(self, st: BranchStats) -> int:
        d, c = st.num_features, st.num_classes
        # T, triangular W, whitened means, validation distance mean and 1/std
        return STAT_BYTES * (1 + d * (d + 1) // 2 + c * d + 2)

    def macs_per_inference(self, st: BranchStats) -> int:
        d, c = st.num_features, st.num_classes
        # logits x 1/T, z = W f, ||z - m_c||^2 for every class, (d - mean) x 1/std
        return c + d * (d + 1) // 2 + c * d + 1


RULES: dict[str, type[Rule]] = {r.name: r for r in (MaxSoftmax, Temperature, Energy, Mahalanobis)}
DEFAULT_RULE = "mahalanobis"


def get_rule(name: str) -> Rule:
    if name not in RULES:
        raise LearningError(f"unknown combiner {name!r}; use one of: {', '.join(RULES)}")
    return RULES[name]()
