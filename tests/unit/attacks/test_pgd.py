"""Properties of the projected-gradient attacks on a real, small LeNet5 (Foolbox-style table)."""

import pytest
import torch

from engine.attacks.norms import NORM_STEPS, perturbation_norm
from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig
from engine.evaluation.predict import predict

EPS = {"Linf": [0.0, 0.03, 0.1, 0.3], "L2": [0.0, 0.5, 1.5, 4.0]}
GRID = [(name, norm, eps) for name in ("fgsm", "pgd") for norm in EPS for eps in EPS[norm]]


@pytest.fixture(scope="module")
def batch(fmnist_test):
    return fmnist_test.head(256).tensors()


def attack(model, name: str, norm: str, eps: float, seed: int = 0, **kw) -> callable:
    steps = kw.pop("steps", 10 if name == "pgd" else 1)
    cfg = AttackConfig(name, norm, eps, steps=steps, random_start=name == "pgd", **kw)
    return make_attack(model, cfg, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name, norm, eps", GRID)
def test_budget_box_and_accuracy(lenet, batch, name: str, norm: str, eps: float) -> None:
    x, y = batch
    x_adv = attack(lenet, name, norm, eps)(x, y)
    assert x_adv.shape == x.shape and x_adv.min() >= 0 and x_adv.max() <= 1
    assert perturbation_norm(x_adv - x, norm).max() <= eps + 1e-5
    clean = (predict(lenet, x) == y).float().mean()
    adversarial = (predict(lenet, x_adv) == y).float().mean()
    assert adversarial <= clean
    if eps == 0:
        assert torch.equal(x_adv, x)


@pytest.mark.parametrize("norm, eps", [("Linf", 0.1), ("L2", 1.5)])
def test_iterative_at_least_as_strong_as_single_step(lenet, batch, norm: str, eps: float) -> None:
    x, y = batch
    fgsm = (predict(lenet, attack(lenet, "fgsm", norm, eps)(x, y)) == y).float().mean()
    pgd = (predict(lenet, attack(lenet, "pgd", norm, eps, steps=20)(x, y)) == y).float().mean()
    assert pgd <= fgsm
    assert pgd < 0.5 * (predict(lenet, x) == y).float().mean()


def test_restarts_keep_the_worst_case(lenet, batch) -> None:
    x, y = batch
    one = (predict(lenet, attack(lenet, "pgd", "Linf", 0.03, steps=5)(x, y)) == y).sum()
    three = (predict(lenet, attack(lenet, "pgd", "Linf", 0.03, steps=5, restarts=3)(x, y)) == y).sum()
    assert three <= one


def test_seeded_attacks_are_deterministic(lenet, batch) -> None:
    x, y = batch
    first = attack(lenet, "pgd", "L2", 1.0, seed=3)(x, y)
    assert torch.equal(first, attack(lenet, "pgd", "L2", 1.0, seed=3)(x, y))
    assert not torch.equal(first, attack(lenet, "pgd", "L2", 1.0, seed=4)(x, y))


@pytest.mark.parametrize("norm", sorted(NORM_STEPS))
def test_projection_is_idempotent_and_inside_the_ball(norm: str) -> None:
    step = NORM_STEPS[norm]()
    delta = torch.randn(16, 1, 28, 28)
    once = step.project(delta, 0.7)
    assert torch.allclose(step.project(once, 0.7), once, atol=1e-6)
    assert (step.norm(once) <= 0.7 + 1e-5).all()


@pytest.mark.parametrize("norm", sorted(NORM_STEPS))
def test_random_start_is_inside_the_ball(norm: str) -> None:
    step = NORM_STEPS[norm]()
    delta = step.random_init(torch.rand(64, 1, 28, 28), 0.5, torch.Generator().manual_seed(0))
    norms = step.norm(delta)
    assert (norms <= 0.5 + 1e-5).all() and (norms > 0).all()


@pytest.mark.parametrize("cfg, message", [
    (AttackConfig("pgd", "Linf", -0.1, steps=5), "eps"),
    (AttackConfig("pgd", "Linf", 0.1, steps=-1), "steps"),
    (AttackConfig("pgd", "L5", 0.1, steps=5), "norm"),
    (AttackConfig("fgsm", "Linf", 0.1, steps=3), "steps"),
    (AttackConfig("pgd", "Linf", float("inf"), steps=5), "eps"),
    (AttackConfig("pgd", "Linf", 0.1, restarts=0), "restarts"),
    (AttackConfig("magic", "Linf", 0.1), "name"),
])
def test_bad_parameters_raise_a_clear_error(lenet, cfg: AttackConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_attack(lenet, cfg)
