"""The random-noise baseline on a real, small LeNet5: exact radius, budget, monotone in draws, seeded."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from engine.attacks.noise import NORMS, sphere_noise
from engine.attacks.norms import perturbation_norm
from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig
from engine.evaluation.budget import check_budget
from engine.evaluation.predict import predict

pytestmark = pytest.mark.real_data

EPS = {"Linf": 0.1, "L2": 1.5, "L1": 10.0}


@pytest.fixture(scope="module")
def batch(fmnist_test) -> tuple[torch.Tensor, torch.Tensor]:
    return fmnist_test.head(200).tensors()


def run(model, x, y, norm: str, eps: float, seed: int = 0, draws: int = 10) -> torch.Tensor:
    cfg = AttackConfig("noise", norm, eps, options={"draws": draws})
    return make_attack(model, cfg, torch.Generator().manual_seed(seed))(x, y)


def accuracy(model, x_adv: torch.Tensor, y: torch.Tensor) -> float:
    return (predict(model, x_adv) == y).float().mean().item()


@pytest.mark.parametrize("norm", NORMS)
def test_every_draw_has_norm_exactly_eps_before_clipping(norm: str) -> None:
    delta = sphere_noise(torch.Size((64, 1, 28, 28)), norm, EPS[norm], torch.Generator().manual_seed(0))
    assert torch.allclose(perturbation_norm(delta, norm), torch.full((64,), EPS[norm]), rtol=1e-6)


@pytest.mark.parametrize("norm", NORMS)
def test_output_is_in_the_box_and_the_ball(lenet, batch, norm: str) -> None:
    x, y = batch
    x_adv = run(lenet, x, y, norm, EPS[norm])
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert check_budget(x, x_adv, AttackConfig("noise", norm, EPS[norm])) <= EPS[norm] + 1e-5
    assert accuracy(lenet, x_adv, y) <= accuracy(lenet, x, y)


@pytest.mark.parametrize("norm", NORMS)
def test_more_draws_are_never_weaker(lenet, batch, norm: str) -> None:
    x, y = batch
    few, many = run(lenet, x, y, norm, EPS[norm], draws=3), run(lenet, x, y, norm, EPS[norm], draws=12)
    fooled_few, fooled_many = predict(lenet, few) != y, predict(lenet, many) != y
    assert (fooled_many | ~fooled_few).all()
    with torch.no_grad():
        loss_few = F.cross_entropy(lenet(few), y, reduction="none")
        loss_many = F.cross_entropy(lenet(many), y, reduction="none")
    assert (loss_many[~fooled_many] >= loss_few[~fooled_many]).all()


def test_seeded_noise_is_deterministic(lenet, batch) -> None:
    x, y = batch
    first = run(lenet, x, y, "L2", 1.5, seed=3)
    assert torch.equal(first, run(lenet, x, y, "L2", 1.5, seed=3))
    assert not torch.equal(first, run(lenet, x, y, "L2", 1.5, seed=4))


@pytest.mark.parametrize("norm", ["Linf", "L2"])
def test_noise_is_much_weaker_than_pgd(lenet, batch, norm: str) -> None:
    x, y = batch
    clean = accuracy(lenet, x, y)
    pgd_cfg = AttackConfig("pgd", norm, EPS[norm], steps=10, random_start=True)
    pgd_drop = clean - accuracy(lenet, make_attack(lenet, pgd_cfg, torch.Generator().manual_seed(0))(x, y), y)
    noise_drop = clean - accuracy(lenet, run(lenet, x, y, norm, EPS[norm]), y)
    assert pgd_drop > 0.3
    assert noise_drop < 0.3 * pgd_drop


@pytest.mark.parametrize("cfg, message", [
    (AttackConfig("noise", "Linf", 0.1, options={"draws": 0}), "draws"),
    (AttackConfig("noise", "Linf", 0.1, options={"draws": 2.5}), "draws"),
    (AttackConfig("noise", "Linf", 0.1, alpha=0.01), "alpha"),
    (AttackConfig("noise", "Linf", 0.1, steps=5), "steps"),
    (AttackConfig("noise", "L0", 3.0), "norm"),
])
def test_bad_settings_raise_a_clear_error(lenet, cfg: AttackConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_attack(lenet, cfg)
