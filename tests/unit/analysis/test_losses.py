"""Per-sample losses, the proxy A-distance and the loss KDE."""

import numpy as np
import pytest
import torch

from engine.analysis.losses import a_distance, loss_kde, per_sample_loss


def test_per_sample_loss_is_the_cross_entropy_of_each_sample() -> None:
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
    labels = torch.tensor([0, 1])
    expected = [-np.log(np.exp(2) / (np.exp(2) + 2)), -np.log(1 / (2 + np.exp(5)))]
    assert np.allclose(per_sample_loss(logits, labels), expected)


def test_a_distance_is_near_zero_for_one_distribution_and_two_for_separated_ones() -> None:
    rng = np.random.default_rng(0)
    same = a_distance(rng.exponential(size=2000), rng.exponential(size=2000))
    apart = a_distance(rng.uniform(0, 1, 1000), rng.uniform(5, 6, 1000))
    assert same.value < 0.15 and same.error > 0.45
    assert apart.value == 2.0 and apart.error == 0.0


def test_a_distance_sees_a_change_of_spread_at_the_same_mean() -> None:
    rng = np.random.default_rng(1)
    narrow, wide = rng.normal(3, 0.1, 2000), rng.normal(3, 2.0, 2000)
    assert a_distance(narrow, wide).value > 1.0  # a single threshold on the loss would score about 0


def test_a_distance_grows_with_the_shift() -> None:
    rng = np.random.default_rng(2)
    clean = rng.gamma(2.0, size=2000)
    values = [a_distance(clean, rng.gamma(2.0, size=2000) + shift).value for shift in (0.5, 1.5, 4.0)]
    assert values == sorted(values) and values[-1] > 1.5


def test_a_distance_needs_two_losses_per_side() -> None:
    with pytest.raises(ValueError, match="at least two"):
        a_distance(np.array([1.0]), np.array([1.0, 2.0]))


def test_loss_kde_is_a_density() -> None:
    losses = np.random.default_rng(3).gamma(2.0, size=1000)
    grid = np.linspace(-5, 30, 4001)
    density = loss_kde(losses, grid)
    assert (density >= 0).all() and np.trapezoid(density, grid) == pytest.approx(1, abs=1e-3)
    with pytest.raises(ValueError, match="two distinct"):
        loss_kde(np.full(10, 0.5), grid)
