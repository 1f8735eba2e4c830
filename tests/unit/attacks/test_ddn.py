"""DDN (Rony et al. 2019) on a small LeNet5 trained on real Fashion-MNIST: success, smaller
perturbations than C&W and DeepFool, more steps never worse, determinism, the engine's budget, and
the registry entry's settings."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from engine.attacks.cw import CWSettings, cw_l2
from engine.attacks.ddn import DDNSettings, _direction, ddn
from engine.attacks.deepfool import deepfool
from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig
from engine.evaluation.predict import predict
from engine.evaluation.sweep import evaluate_attack

pytestmark = pytest.mark.real_data

STUDY_CW = CWSettings(steps=100, search_steps=5, initial_const=0.1)  # the shipped study's white-box C&W


@pytest.fixture(scope="module")
def batch(fmnist_test) -> tuple[torch.Tensor, torch.Tensor]:
    return fmnist_test.head(40).tensors()


@pytest.fixture(scope="module")
def correct(lenet, batch) -> torch.Tensor:
    x, y = batch
    return predict(lenet, x) == y


@pytest.fixture(scope="module")
def attacked(lenet, batch) -> torch.Tensor:
    return ddn(lenet, *batch, DDNSettings(steps=100))


def _l2(x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (x_adv - x).flatten(1).norm(dim=1)


def test_fools_every_correct_example_inside_the_box(lenet, batch, correct, attacked) -> None:
    x, y = batch
    assert correct.sum() >= 25
    assert attacked.shape == x.shape and attacked.min() >= 0 and attacked.max() <= 1
    assert (predict(lenet, attacked) != y)[correct].all()


def test_misclassified_examples_come_back_unchanged(batch, correct, attacked) -> None:
    x, _ = batch
    assert (~correct).any()
    assert torch.equal(attacked[~correct], x[~correct])


def test_smaller_than_cw_and_deepfool(lenet, batch, correct, attacked) -> None:
    """The median over the correct examples (all fooled by the three attacks) is the issue's measure."""
    x, y = batch
    cw = cw_l2(lenet, x, y, STUDY_CW)
    fool = deepfool(lenet, x, y).x_adv
    assert ((predict(lenet, cw) != y) & (predict(lenet, fool) != y))[correct].all()
    ours = _l2(attacked, x)[correct].median()
    assert ours < _l2(cw, x)[correct].median() and ours < _l2(fool, x)[correct].median()


def test_more_steps_find_smaller_perturbations(lenet, batch, correct, attacked) -> None:
    """Ten steps change eps by at most 1.05^10: small perturbations are out of reach, and the mean shows it."""
    x, y = batch
    few = ddn(lenet, x, y, DDNSettings(steps=10))
    both = (predict(lenet, few) != y) & correct
    assert both.sum() >= correct.sum() // 2
    assert _l2(attacked, x)[both].mean() < 0.9 * _l2(few, x)[both].mean()


def test_deterministic_given_the_generator(lenet, batch) -> None:
    x, y = (t[:8] for t in batch)
    first = ddn(lenet, x, y, DDNSettings(steps=20), torch.Generator().manual_seed(3))
    again = ddn(lenet, x, y, DDNSettings(steps=20), torch.Generator().manual_seed(3))
    assert torch.equal(first, again)


def test_a_vanished_gradient_gets_a_random_unit_direction_from_the_generator() -> None:
    grad = torch.zeros(3, 1, 4, 4)
    grad[0, 0, 0, 0] = 2.0
    first = _direction(grad, torch.Generator().manual_seed(0))
    again = _direction(grad, torch.Generator().manual_seed(0))
    other = _direction(grad, torch.Generator().manual_seed(1))
    assert torch.equal(first, again) and not torch.equal(first[1:], other[1:])
    assert torch.allclose(first.flatten(1).norm(dim=1), torch.ones(3))
    assert first[0, 0, 0, 0] == 1.0 and torch.equal(first[0], other[0])


def test_alpha_is_cosine_annealed_to_a_hundredth() -> None:
    settings = DDNSettings(steps=100, alpha=2.0)
    alphas = [settings.alpha_at(step) for step in range(settings.steps)]
    assert alphas[0] == 2.0 and alphas[50] == pytest.approx(1.01)
    assert all(a > b for a, b in itertools.pairwise(alphas)) and alphas[-1] > 0.02


def test_the_engine_cuts_it_back_to_eps(lenet, fmnist_test) -> None:
    """eps = 0 leaves clean accuracy; eps = inf breaks every example."""
    split = fmnist_test.head(16)
    device = torch.device("cpu")
    zero = evaluate_attack(lenet, split, AttackConfig("ddn", "L2", 0.0, 50), 16, device)
    unbounded = evaluate_attack(lenet, split, AttackConfig("ddn", "L2", math.inf, 50), 16, device)
    x, y = split.tensors()
    assert zero.accuracy == pytest.approx((predict(lenet, x) == y).float().mean().item())
    assert unbounded.accuracy == 0.0


def test_registry_settings_reach_the_attack(lenet, batch) -> None:
    """cfg.alpha and the options are DDN's; a larger first step changes the iterates."""
    x, y = (t[:8] for t in batch)
    plain = make_attack(lenet, AttackConfig("ddn", "L2", math.inf, 20))(x, y)
    assert torch.equal(plain, ddn(lenet, x, y, DDNSettings(steps=20)))
    tuned = AttackConfig("ddn", "L2", math.inf, 20, alpha=0.3, options={"gamma": 0.1, "init_norm": 2.0})
    expected = ddn(lenet, x, y, DDNSettings(steps=20, alpha=0.3, gamma=0.1, init_norm=2.0))
    assert torch.equal(make_attack(lenet, tuned)(x, y), expected) and not torch.equal(expected, plain)


@pytest.mark.parametrize("cfg", [
    AttackConfig("ddn", "L2", math.inf, 10, random_start=True),
    AttackConfig("ddn", "L2", math.inf, 10, restarts=2),
    AttackConfig("ddn", "L2", math.inf, 10, options={"gamma": 1.0}),
    AttackConfig("ddn", "L2", math.inf, 10, options={"gamma": 0.0}),
    AttackConfig("ddn", "L2", math.inf, 10, options={"init_norm": 0.0}),
    AttackConfig("ddn", "L2", math.inf, 10, options={"init_norm": math.inf}),
    AttackConfig("ddn", "L2", math.inf, 10, options={"levels": 256.0}),
], ids=["random_start", "restarts", "gamma1", "gamma0", "init_norm0", "init_norm_inf", "unknown"])
def test_rejects_bad_settings(lenet, cfg: AttackConfig) -> None:
    with pytest.raises(ValueError):
        make_attack(lenet, cfg)
