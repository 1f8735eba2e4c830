"""C&W L2 on a small LeNet5 trained on real Fashion-MNIST: success, the search over c, confidence."""

from __future__ import annotations

import math

import pytest
import torch

from engine.attacks.cw import CWSettings, cw_l2, signed_margin
from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig
from engine.data.loaders import load_split
from engine.evaluation.sweep import evaluate_attack

pytestmark = pytest.mark.real_data

FAST = CWSettings(steps=30, search_steps=5, initial_const=1e-2, lr=0.1)  # few iterations need a larger step


@pytest.fixture(scope="module")
def model(lenet) -> torch.nn.Module:
    """The session's small LeNet5 (conftest.py)."""
    return lenet


@pytest.fixture(scope="module")
def images(model: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first 20 test images, their labels and whether the model gets them right."""
    x, y = load_split("fashion_mnist", "test").head(20).tensors()
    with torch.no_grad():
        return x, y, model(x).argmax(1) == y


@pytest.fixture(scope="module")
def attacked(model, images) -> torch.Tensor:
    x, y, _ = images
    return cw_l2(model, x, y, FAST)


def _l2(x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (x_adv - x).flatten(1).norm(dim=1)


def _fooled(model: torch.nn.Module, x_adv: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x_adv).argmax(1) != y


def test_fools_at_least_99_percent_of_correct_examples(model, images, attacked):
    x, y, correct = images
    assert correct.sum() >= 10
    fooled = _fooled(model, attacked, y)[correct]
    assert fooled.float().mean() >= 0.99
    assert attacked.min() >= 0 and attacked.max() <= 1


def test_binary_search_beats_one_small_constant(model, images, attacked):
    x, y, correct = images
    fixed = cw_l2(model, x, y, CWSettings(steps=30, search_steps=1, initial_const=1e-3, lr=0.1))
    searched, single = _fooled(model, attacked, y)[correct], _fooled(model, fixed, y)[correct]
    mean_l2 = _l2(attacked, x)[correct].mean()
    assert searched.sum() > single.sum() or mean_l2 < _l2(fixed, x)[correct].mean()


def test_search_keeps_the_smallest_success(model, images, attacked):
    """Running more search steps never returns a larger perturbation for an example it fooled."""
    x, y, correct = images
    fewer = cw_l2(model, x, y, CWSettings(steps=30, search_steps=3, initial_const=1e-2, lr=0.1))
    both = _fooled(model, fewer, y) & _fooled(model, attacked, y) & correct
    assert both.sum() > 0
    assert (_l2(attacked, x)[both] <= _l2(fewer, x)[both] + 1e-4).all()


def test_confidence_widens_the_margin(model, images, attacked):
    x, y, correct = images
    settings = CWSettings(steps=60, search_steps=6, initial_const=1e-1, lr=0.1, confidence=5.0)
    confident = cw_l2(model, x[correct], y[correct], settings)
    with torch.no_grad():
        plain_margin = -signed_margin(model(attacked[correct]), y[correct], targeted=False)
        wide_margin = -signed_margin(model(confident), y[correct], targeted=False)
    both = (wide_margin > 0) & (plain_margin > 0)
    assert both.float().mean() >= 0.8
    assert (wide_margin[both] >= 5.0 - 1e-3).all()
    assert (plain_margin[both] < 2.0).all()
    # C&W approximates minimal perturbations, so a wider margin costs more L2 on average, not per example
    assert _l2(confident, x[correct])[both].mean() > 1.5 * _l2(attacked, x)[correct][both].mean()


def test_targeted_lands_on_the_target(model, images):
    x, y, correct = images
    with torch.no_grad():
        target = model(x).scatter(1, y[:, None], -math.inf).argmin(1)  # least likely class
    x_adv = cw_l2(model, x, y, FAST, target=target)
    with torch.no_grad():
        hits = model(x_adv).argmax(1) == target
    assert hits[correct].float().mean() >= 0.9


class _Counting(torch.nn.Module):
    """Counts the example-iterations of an attack: rows of every forward pass with gradients."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model, self.rows = model, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():
            self.rows += len(x)
        return self.model(x)


def test_early_abort_stays_at_the_attacks_own_optimum(model):
    """Per image, the early abort ends within a hair of the attack without it, and still saves iterations.

    The study's setting on the first 100 test images (75 fooled). Measured: the new rule leaves every image
    within 0.1 % of abort off, in 97 % of its iterations; the former rule (drop at the first check whose
    loss had not fallen by 0.01 %) left 21 of 75 images more than 1 % farther (worst 1.19x). The bound is
    issue 18's target: at most 2 % of the images more than 1 % farther (1.8 % measured on the shipped
    standard LeNet5 over 500 images), median L2 within 0.5 %.
    """
    x, y = load_split("fashion_mnist", "test").head(100).tensors()
    counted = _Counting(model)
    l2, rows = {}, {}
    for abort in (False, True):
        counted.rows = 0
        x_adv = cw_l2(counted, x, y, CWSettings(steps=100, search_steps=5, initial_const=0.1, abort_early=abort))
        fooled = _fooled(model, x_adv, y)
        l2[abort], rows[abort] = torch.where(fooled, _l2(x_adv, x), math.inf), counted.rows
    with torch.no_grad():
        reached = torch.isfinite(l2[False]) & (model(x).argmax(1) == y)  # misclassified images stay at L2 0
    assert reached.sum() >= 60
    assert torch.isfinite(l2[True][reached]).all()
    farther = l2[True][reached] > 1.01 * l2[False][reached]
    assert farther.float().mean() <= 0.02
    assert l2[True][reached].median() <= 1.005 * l2[False][reached].median()
    assert rows[True] < rows[False]


def test_misclassified_examples_come_back_unchanged(model, images, attacked):
    x, _, correct = images
    assert (~correct).any()
    assert torch.equal(attacked[~correct], x[~correct])


def test_deterministic(model, images):
    x, y, _ = images
    assert torch.equal(cw_l2(model, x[:6], y[:6], FAST), cw_l2(model, x[:6], y[:6], FAST))


def test_registry_attack_is_judged_within_eps(model):
    """Through the engine: unbounded eps breaks every example, eps = 0 leaves clean accuracy."""
    split = load_split("fashion_mnist", "test").head(8)
    options = {"lr": 0.1, "search_steps": 5.0, "initial_const": 1e-2}
    unbounded = evaluate_attack(model, split, AttackConfig("cw", "L2", math.inf, 30, options=options), 8,
                                torch.device("cpu"))
    zero = evaluate_attack(model, split, AttackConfig("cw", "L2", 0.0, 30, options=options), 8, torch.device("cpu"))
    x, y = split.tensors()
    with torch.no_grad():
        clean = (model(x).argmax(1) == y).float().mean().item()
    assert unbounded.accuracy == 0.0
    assert zero.accuracy == pytest.approx(clean)


@pytest.mark.parametrize("cfg", [
    AttackConfig("cw", "L2", math.inf, 10, alpha=0.1),
    AttackConfig("cw", "L2", math.inf, 10, options={"search_steps": 2.5}),
    AttackConfig("cw", "L2", math.inf, 10, options={"confidence": -1.0}),
])
def test_rejects_bad_settings(model, cfg):
    with pytest.raises(ValueError):
        make_attack(model, cfg)
