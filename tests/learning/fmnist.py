"""Shared by the learning tests: the Fashion-MNIST skip marker and a tiny experiment config."""

from __future__ import annotations

from typing import Any

import pytest

from learning import data as D

HAVE_FMNIST = (D.FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists()
needs_fmnist = pytest.mark.skipif(not HAVE_FMNIST,
                                  reason="Debian package dataset-fashion-mnist is not installed")


def tiny_fmnist(**over: Any) -> dict[str, Any]:
    """A Fashion-MNIST 4+3+3 LeNet experiment small enough for a unit test (seconds on a core)."""
    base: dict[str, Any] = {
        "dataset": "fashion-mnist", "splits": [4, 3, 3], "model": "lenet", "train_per_class": 30,
        "test_per_class": 10, "epochs": 1, "batch_size": 32, "lr": 0.05, "seed": 1,
    }
    return {**base, **over}
