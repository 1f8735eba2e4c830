"""DeepFool on a small LeNet5 trained on real Fashion-MNIST: success, closeness to the boundary,
reported steps, any number of classes, batching, and the registry entry.
"""

from __future__ import annotations

import math

import pytest
import torch

from engine.attacks.deepfool import deepfool
from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig
from engine.evaluation.predict import predict
from engine.evaluation.sweep import evaluate_attack
from engine.models.registry import create_model

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def batch(fmnist_test) -> tuple[torch.Tensor, torch.Tensor]:
    return fmnist_test.head(100).tensors()


@pytest.fixture(scope="module")
def result(lenet, batch):
    return deepfool(lenet, *batch, steps=50)


def test_fools_the_correctly_classified(lenet, batch, result) -> None:
    x, y = batch
    correct, fooled = predict(lenet, x) == y, predict(lenet, result.x_adv) != y
    assert correct.sum() > 50
    assert fooled[correct].float().mean() >= 0.99
    assert torch.equal(result.success, fooled)


def test_output_in_box_and_steps_reported(lenet, batch, result) -> None:
    x, y = batch
    correct = predict(lenet, x) == y
    assert result.x_adv.shape == x.shape and result.x_adv.min() >= 0 and result.x_adv.max() <= 1
    assert result.steps.dtype == torch.int64 and result.steps.shape == y.shape
    assert (result.steps[~correct] == 0).all() and torch.equal(result.x_adv[~correct], x[~correct])
    assert (result.steps[correct] >= 1).all() and (result.steps <= 50).all()
    assert result.steps[correct].float().mean() > 1  # most examples need more than one linearisation


def test_stops_just_past_the_boundary(lenet, batch, result) -> None:
    """The overshoot is 2 % of the total: half the perturbation leaves almost every example unfooled."""
    x, y = batch
    fooled = result.success & (result.steps > 0)
    halfway = x + 0.5 * (result.x_adv - x)
    assert (predict(lenet, halfway[fooled]) == y[fooled]).float().mean() >= 0.95


@pytest.mark.parametrize("classes, candidates", [(5, 10), (3, 2)])
def test_any_number_of_classes(batch, classes: int, candidates: int) -> None:
    """Classes come from the model's output; candidates beyond them are ignored."""
    torch.manual_seed(0)
    model = create_model("lenet5", "fashion_mnist", num_classes=classes).eval()
    x = batch[0][:32]
    y = predict(model, x)
    found = deepfool(model, x, y, steps=50, candidates=candidates)
    assert found.success.all()
    assert (predict(model, found.x_adv) < classes).all()


def test_batched_matches_one_image_at_a_time(lenet, batch) -> None:
    """Images of a batch do not interact (their speed is measured by `python -m engine bench`, not here)."""
    x, y = batch[0][:16], batch[1][:16]
    batched = deepfool(lenet, x, y)
    single = [deepfool(lenet, x[i:i + 1], y[i:i + 1]) for i in range(len(x))]
    assert torch.equal(batched.success, torch.cat([s.success for s in single]))
    assert torch.equal(batched.steps, torch.cat([s.steps for s in single]))


def test_registry_entry(lenet, batch, result, fmnist_test) -> None:
    """make_attack gives DeepFool's x_adv; the engine keeps it only within eps."""
    x, y = batch
    cfg = AttackConfig("deepfool", "L2", math.inf, steps=50)
    assert torch.equal(make_attack(lenet, cfg)(x, y), result.x_adv)
    unbounded = evaluate_attack(lenet, fmnist_test.head(100), cfg, 100, torch.device("cpu"))
    bounded = evaluate_attack(lenet, fmnist_test.head(100), AttackConfig("deepfool", "L2", 0.5, steps=50),
                              100, torch.device("cpu"))
    clean = (predict(lenet, x) == y).float().mean().item()
    assert unbounded.accuracy <= 0.01 * clean
    assert unbounded.accuracy < bounded.accuracy < clean


@pytest.mark.parametrize("cfg, message", [
    (AttackConfig("deepfool", "L2", math.inf, steps=50, options={"candidates": 1}), "candidates"),
    (AttackConfig("deepfool", "L2", math.inf, steps=50, options={"candidates": 2.5}), "candidates"),
    (AttackConfig("deepfool", "L2", math.inf, steps=50, options={"overshoot": -0.1}), "overshoot"),
    (AttackConfig("deepfool", "L2", math.inf, steps=50, alpha=0.1), "alpha"),
    (AttackConfig("deepfool", "Linf", math.inf, steps=50), "norm"),
])
def test_bad_settings_raise_a_clear_error(lenet, cfg: AttackConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_attack(lenet, cfg)
