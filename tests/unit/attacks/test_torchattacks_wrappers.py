"""APGD and AutoAttack through torchattacks: budget, model mode and random state left alone, strength."""

from __future__ import annotations

import copy

import pytest
import torch

from engine.attacks.registry import iterations, make_attack
from engine.attacks.torchattacks_wrappers import make_autoattack, preserved_state
from engine.config.schema import AttackConfig
from engine.evaluation.budget import check_budget
from engine.evaluation.predict import predict

pytestmark = pytest.mark.real_data

SETTINGS = [
    AttackConfig("apgd", "Linf", 0.1, steps=10),
    AttackConfig("apgd", "L2", 1.5, steps=10),
    AttackConfig("apgd", "L2", 4.0, steps=10, restarts=2),
    AttackConfig("autoattack", "Linf", 0.1),
    AttackConfig("autoattack", "L2", 1.5),
]


@pytest.fixture(scope="module")
def batch(fmnist_test) -> tuple[torch.Tensor, torch.Tensor]:
    return fmnist_test.head(16).tensors()


def run(model, cfg: AttackConfig, x: torch.Tensor, y: torch.Tensor, seed: int = 0) -> torch.Tensor:
    return make_attack(model, cfg, torch.Generator().manual_seed(seed))(x, y)


@pytest.mark.parametrize("cfg", SETTINGS, ids=lambda cfg: f"{cfg.name}-{cfg.norm}-{cfg.eps}")
def test_outputs_pass_the_engine_budget_check(lenet, batch, cfg: AttackConfig) -> None:
    x, y = batch
    x_adv = run(lenet, cfg, x, y)
    assert check_budget(x, x_adv, cfg) <= cfg.eps + 1e-5
    assert (predict(lenet, x_adv) == y).sum() <= (predict(lenet, x) == y).sum()


@pytest.mark.parametrize("name", ["apgd", "autoattack"])
def test_model_modes_and_global_random_state_are_restored(lenet, batch, name: str) -> None:
    model = copy.deepcopy(lenet).train()
    model.head.eval()  # a submodule deliberately in eval mode inside a training model
    modes = [m.training for m in model.modules()]
    rng = torch.get_rng_state()
    x, y = batch
    run(model, AttackConfig(name, "Linf", 0.3, steps=1 if name == "autoattack" else 5), x[:4], y[:4])
    assert [m.training for m in model.modules()] == modes
    assert torch.equal(torch.get_rng_state(), rng)


def test_modes_are_restored_when_the_attack_raises(lenet) -> None:
    model = copy.deepcopy(lenet).train()
    with pytest.raises(RuntimeError), preserved_state(model, torch.device("cpu")):
        model.eval()
        raise RuntimeError("attack failed")
    assert all(m.training for m in model.modules())


def test_apgd_is_seeded_by_the_generator(lenet, batch) -> None:
    cfg = AttackConfig("apgd", "L2", 1.5, steps=5)
    first = run(lenet, cfg, *batch, seed=1)
    assert torch.equal(first, run(lenet, cfg, *batch, seed=1))
    assert not torch.equal(first, run(lenet, cfg, *batch, seed=2))


def test_apgd_at_least_as_strong_as_fgsm(lenet, fmnist_test) -> None:
    x, y = fmnist_test.head(64).tensors()
    fgsm = (predict(lenet, run(lenet, AttackConfig("fgsm", "Linf", 0.05), x, y)) == y).sum()
    apgd = (predict(lenet, run(lenet, AttackConfig("apgd", "Linf", 0.05, steps=20), x, y)) == y).sum()
    assert apgd <= fgsm


@pytest.mark.parametrize("cfg, message", [
    (AttackConfig("apgd", "Linf", 0.1, steps=10, alpha=0.01), "alpha"),
    (AttackConfig("autoattack", "Linf", 0.1, random_start=True), "random_start"),
    (AttackConfig("apgd", "L1", 1.0, steps=10), "norm"),
])
def test_bad_settings_raise_a_clear_error(lenet, cfg: AttackConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_attack(lenet, cfg)


def test_autoattack_is_the_papers_standard_ensemble(lenet) -> None:
    """Croce & Hein 2020's standard version: APGD-CE, APGD-T, FAB-T at 100 iterations (torchattacks'
    own AutoAttack runs 10), both targeted attacks over the 9 other classes, then Square with 5,000 queries."""
    cfg = AttackConfig("autoattack", "L2", 1.0)
    cfg = AttackConfig("autoattack", "L2", 1.0, steps=iterations(cfg))
    parts = make_autoattack(lenet, cfg, classes=10, seed=0).attacks
    assert [type(part).__name__ for part in parts] == ["APGD", "APGDT", "FAB", "Square"]
    assert [part.steps for part in parts[:3]] == [100, 100, 100] and parts[3].n_queries == 5000
    assert parts[0].loss == "ce" and parts[2].multi_targeted
    assert parts[1].n_target_classes == parts[2].n_target_classes == 9
    assert all(part.norm == "L2" and part.eps == 1.0 and part.n_restarts == 1 for part in parts)
