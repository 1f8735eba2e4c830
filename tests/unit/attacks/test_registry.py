"""The attack table (after Foolbox's): every registered attack in every norm it offers, on a real
LeNet5, returns inputs in [0, 1] within its budget, never raises accuracy, and is reproducible
from its seed."""

import math

import pytest
import torch

from engine.attacks.registry import ATTACKS, make_attack, spec_of
from engine.config.schema import AttackConfig
from engine.evaluation.budget import check_budget, within_budget
from engine.evaluation.predict import predict

RADII = {"Linf": 0.1, "L2": 1.5, "L1": 10.0, "L0": 40.0}
SLOW = {"autoattack"}  # Square's 5,000 queries: a smaller batch
TABLE = [(name, norm) for name, spec in sorted(ATTACKS.items()) for norm in spec.norms]


def config(name: str, norm: str) -> AttackConfig:
    """The attack at its default settings; PGD from a random start, so seeding matters."""
    return AttackConfig(name, norm, RADII[norm], random_start=name == "pgd")


@pytest.fixture(scope="module")
def batch(fmnist_test):
    return fmnist_test.head(64).tensors()


@pytest.mark.parametrize("name, norm", TABLE, ids=[f"{n}-{m}" for n, m in TABLE])
def test_every_attack_in_every_norm(lenet, batch, name: str, norm: str) -> None:
    x, y = (t[:8] for t in batch) if name in SLOW else batch
    cfg = config(name, norm)
    first = make_attack(lenet, cfg, torch.Generator().manual_seed(0))(x, y)
    again = make_attack(lenet, cfg, torch.Generator().manual_seed(0))(x, y)
    assert torch.equal(first, again)
    x_adv = within_budget(x, first, cfg) if spec_of(cfg).minimal else first
    assert check_budget(x, x_adv, cfg) <= cfg.eps + 1e-5
    assert (predict(lenet, x_adv) == y).sum() <= (predict(lenet, x) == y).sum()


@pytest.mark.parametrize("name", sorted(n for n, spec in ATTACKS.items() if spec.minimal))
def test_unbounded_attacks_break_nearly_every_correct_prediction(lenet, batch, name: str) -> None:
    x, y = batch
    cfg = AttackConfig(name, ATTACKS[name].norms[0], math.inf)
    correct = predict(lenet, x) == y
    x_adv = make_attack(lenet, cfg, torch.Generator().manual_seed(0))(x[correct], y[correct])
    assert (predict(lenet, x_adv) != y[correct]).float().mean() >= 0.95
