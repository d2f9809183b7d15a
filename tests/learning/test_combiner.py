"""Calibration (temperature scaling) and the branch-combination rule."""

from __future__ import annotations

import pytest
import torch

from learning.network import COMBINERS, MaxCalibratedProbability, fit_temperature


def test_fit_temperature_recovers_the_generating_temperature():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(20000, 5, generator=g) * 3.0
    true_t = 2.5
    y = torch.multinomial(torch.softmax(z / true_t, 1), 1, generator=g).squeeze(1)
    assert fit_temperature(z, y) == pytest.approx(true_t, rel=0.05)
    # over-confident logits (scaled up) need a proportionally larger temperature
    assert fit_temperature(4 * z, y) == pytest.approx(4 * true_t, rel=0.05)


def test_max_calibrated_probability_places_classes_and_picks_highest():
    comb = COMBINERS["max-prob"]()
    assert isinstance(comb, MaxCalibratedProbability)
    a = torch.tensor([[2.0, 0.0], [0.0, 0.1]])  # branch 0: classes 0, 1
    b = torch.tensor([[0.0, 0.0, 0.0], [5.0, 0.0, 0.0]])  # branch 1: classes 4, 2, 3
    s = comb([a, b], [1.0, 1.0], [[0, 1], [4, 2, 3]], 5)
    assert s.shape == (2, 5)
    assert s.argmax(1).tolist() == [0, 4]
    assert s[0, 2] == pytest.approx(1 / 3) and s[0, 0] == pytest.approx(torch.sigmoid(
        torch.tensor(2.0)).item())
    # a high temperature flattens branch 1 so branch 0 wins the second sample instead
    s2 = comb([a, b], [1.0, 100.0], [[0, 1], [4, 2, 3]], 5)
    assert s2.argmax(1).tolist() == [0, 1]
