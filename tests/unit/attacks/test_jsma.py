"""JSMA on a small LeNet5 trained on real Fashion-MNIST, and its exact pruned pair search."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from engine.attacks.jsma import JSMASettings, best_pairs, jsma
from engine.attacks.norms import perturbation_norm
from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig
from engine.data.loaders import load_split
from engine.evaluation.sweep import evaluate_attack
from engine.models.registry import create_model

FEATURES = 28 * 28


def _brute_force_scores(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """[N] best (u_p + u_q)(v_p + v_q) over all pairs p != q with both sums > 0; -inf where none."""
    alpha, beta = u[:, :, None] + u[:, None, :], v[:, :, None] + v[:, None, :]
    allowed = (alpha > 0) & (beta > 0) & ~torch.eye(u.shape[1], dtype=torch.bool)
    return torch.where(allowed, alpha * beta, -math.inf).flatten(1).amax(1)


@pytest.mark.parametrize("correlation", [-1.0, 0.0, 1.0])
def test_pair_search_matches_brute_force(correlation):
    generator = torch.Generator().manual_seed(int(correlation) + 5)
    u = torch.randn(48, 200, generator=generator)
    v = correlation * u + 0.3 * torch.randn(48, 200, generator=generator)
    u[:16], v[:16] = u[:16].round(), v[:16].round()  # ties
    outside = torch.rand(48, 200, generator=generator) < 0.4
    u, v = u.masked_fill(outside, -math.inf), v.masked_fill(outside, -math.inf)
    p, q, found = best_pairs(u, v)
    expected = _brute_force_scores(u, v)
    pick = (u.gather(1, p[:, None]) + u.gather(1, q[:, None])) * (v.gather(1, p[:, None]) + v.gather(1, q[:, None]))
    assert torch.equal(found, expected > -math.inf)
    torch.testing.assert_close(pick.squeeze(1)[found], expected[found])
    assert (p != q).all() and not outside.gather(1, p[:, None]).any() and not outside.gather(1, q[:, None]).any()


def test_pair_search_reports_no_pair_when_none_qualifies():
    u = torch.tensor([[-1.0, -2.0, 3.0, -math.inf]])
    v = torch.tensor([[-1.0, -2.0, -3.0, -math.inf]])
    assert not best_pairs(u, v)[2].any()


@pytest.fixture(scope="module")
def model(lenet) -> nn.Module:
    """The session's small LeNet5 (conftest.py)."""
    return lenet


@pytest.fixture(scope="module")
def images(model: nn.Module) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first 64 test images, their labels and whether the model gets them right."""
    x, y = load_split("fashion_mnist", "test").head(64).tensors()
    with torch.no_grad():
        return x, y, model(x).argmax(1) == y


@pytest.fixture(scope="module")
def attacked(model, images) -> torch.Tensor:
    x, y, _ = images
    return jsma(model, x, y, JSMASettings(theta=1.0, gamma=0.1))


def _predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x).argmax(1)


def test_fools_at_least_90_percent(model, images, attacked):
    x, y, correct = images
    assert correct.sum() >= 32
    assert (_predict(model, attacked) != y)[correct].float().mean() >= 0.9


def test_changes_at_most_gamma_of_the_features_and_only_upwards(images, attacked):
    x, _, _ = images
    assert perturbation_norm(attacked - x, "L0").max() <= math.floor(0.1 * FEATURES)
    assert (attacked >= x).all()
    assert attacked.min() >= 0 and attacked.max() <= 1


def test_changed_features_go_to_one_at_theta_one(images, attacked):
    x, _, _ = images
    assert (attacked[attacked != x] == 1).all()


def test_negative_theta_only_decreases(model, images):
    x, y, correct = images
    x_adv = jsma(model, x[:16], y[:16], JSMASettings(theta=-0.5, gamma=0.1))
    assert (x_adv <= x[:16]).all() and x_adv.min() >= 0
    assert perturbation_norm(x_adv - x[:16], "L0").max() <= math.floor(0.1 * FEATURES)
    assert (_predict(model, x_adv) != y[:16])[correct[:16]].float().mean() >= 0.5


def test_targeted_reaches_the_runner_up(model, images):
    x, y, correct = images
    with torch.no_grad():
        runner_up = model(x).scatter(1, y[:, None], -math.inf).argmax(1)
    x_adv = jsma(model, x, y, JSMASettings(theta=1.0, gamma=0.2), target=runner_up)
    hits = _predict(model, x_adv) == runner_up
    assert hits[correct].float().mean() >= 0.5
    assert perturbation_norm(x_adv - x, "L0").max() <= math.floor(0.2 * FEATURES)


def test_works_for_five_classes(model, images):
    """A 5-class model: the trained network's head cut to classes 0-4."""
    five = create_model("lenet5", "fashion_mnist", num_classes=5)
    five.load_state_dict({**model.state_dict(), "head.weight": model.head.weight[:5],
                          "head.bias": model.head.bias[:5]})
    five.eval()
    x, y, _ = images
    keep = (y < 5) & (_predict(five, x) == y)
    x, y = x[keep], y[keep]
    assert len(y) >= 10
    x_adv = jsma(five, x, y, JSMASettings(theta=1.0, gamma=0.1))
    assert (_predict(five, x_adv) != y).float().mean() >= 0.6
    target = (y + 2) % 5
    hits = _predict(five, jsma(five, x, y, JSMASettings(theta=1.0, gamma=0.2), target=target)) == target
    assert hits.float().mean() >= 0.3


def test_deterministic(model, images):
    x, y, _ = images
    assert torch.equal(jsma(model, x[:16], y[:16]), jsma(model, x[:16], y[:16]))


def test_registry_respects_a_finite_l0_budget(model):
    split = load_split("fashion_mnist", "test").head(24)
    x, y = split.tensors()
    attack = make_attack(model, AttackConfig("jsma", "L0", 11.0))
    assert perturbation_norm(attack(x, y) - x, "L0").max() <= 11
    tight = evaluate_attack(model, split, AttackConfig("jsma", "L0", 11.0), 24, torch.device("cpu"))
    loose = evaluate_attack(model, split, AttackConfig("jsma", "L0", math.inf), 24, torch.device("cpu"))
    clean = (_predict(model, x) == y).float().mean().item()
    assert loose.accuracy <= tight.accuracy <= clean
    assert loose.accuracy <= 0.1 * clean


@pytest.mark.parametrize("cfg", [
    AttackConfig("jsma", "L0", math.inf, alpha=0.5),
    AttackConfig("jsma", "L0", math.inf, options={"gamma": 0.0}),
    AttackConfig("jsma", "L0", math.inf, options={"theta": 0.0}),
    AttackConfig("jsma", "L0", math.inf, options={"theta": 1.5}),
])
def test_rejects_bad_settings(model, cfg):
    with pytest.raises(ValueError):
        make_attack(model, cfg)
