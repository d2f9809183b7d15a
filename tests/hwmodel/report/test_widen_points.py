"""The report's points of approach 1 grown cumulatively (the paper's Table 1 protocol): each
installment's network holds the earlier installments' kernels, and the no-sharing networks are
costed at the widened size they trained at."""

from __future__ import annotations

import pytest
import torch

from learning import data as D

pytestmark = pytest.mark.skipif(
    not (D.FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists(),
    reason="Debian package dataset-fashion-mnist is not installed")


def test_cumulative_widen_points_are_sized_as_trained() -> None:
    from hwmodel.report.points import grown_networks, sharing_points
    from learning.config import config_from_dict
    from learning.incremental import run_and_keep
    from learning.models import count_params

    torch.set_num_threads(1)
    cfg = config_from_dict({
        "dataset": "fashion-mnist", "splits": [4, 2, 2], "model": "lenet", "approach": "widen",
        "new_maps": 2, "widen_cumulative": True, "train_per_class": 20, "test_per_class": 5,
        "epochs": 1, "batch_size": 16, "seed": 1, "baselines": ["no-sharing"], "threads": 1})
    res, exp = run_and_keep(cfg, progress=False, write=False)
    pts = {p.method: p for p in sharing_points(res, exp)}
    assert pts["no-sharing"].label == "noshare-widen-t1-m2" and pts["sharing"].chosen
    kernels = 2 * 4 * 25 + 2  # one installment's new kernels and biases
    share = grown_networks(exp, pts["sharing"], "widen")
    assert share[2][0] - share[2][1] == share[1][0] - share[1][1] + kernels
    noshare = grown_networks(exp, pts["no-sharing"], "clone")
    whole = [count_params(exp.branches[f"noshare-widen-t{t}-m2"]) for t in (1, 2)]
    assert noshare[1:] == [(whole[0], whole[0]), (whole[1], whole[1])]
    assert [n for n, _ in noshare[1:]] == [n for n, _ in share[1:]]  # same architecture
