"""Training modes on real Fashion-MNIST slices: resume, fast training's guard, adversarial gain."""

import dataclasses
import math

import pandas as pd
import pytest
import torch

from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig, ModelConfig, TrainingConfig
from engine.evaluation.predict import predict
from engine.training import loop as training
from engine.training.loop import _schedule, train_model

pytestmark = pytest.mark.real_data
CPU = torch.device("cpu")


def small(mode: str = "standard", **kw) -> ModelConfig:
    return ModelConfig(f"m_{mode}", "lenet5", TrainingConfig(mode=mode, epochs=3, lr=2e-3, **kw))


def test_an_interrupted_run_resumes_to_the_same_weights(fmnist_train, fmnist_test, tmp_path, monkeypatch) -> None:
    train, test = fmnist_train.head(1500), fmnist_test.head(200)
    spec = small("pgd", norm="Linf", eps=0.1, steps=2, augment=True)
    straight = train_model(spec, "fashion_mnist", train, test, CPU, progress=False)
    real_epoch, calls = training._train_epoch, []

    def crash_on_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_epoch(*args, **kwargs)

    monkeypatch.setattr(training, "_train_epoch", crash_on_third)
    resume = tmp_path / "m.resume.safetensors"
    with pytest.raises(KeyboardInterrupt):
        train_model(spec, "fashion_mnist", train, test, CPU, progress=False, resume=resume, tag="t")
    monkeypatch.setattr(training, "_train_epoch", real_epoch)
    resumed = train_model(spec, "fashion_mnist", train, test, CPU, progress=False, resume=resume, tag="t")
    assert pd.DataFrame(resumed.curves).equals(pd.DataFrame(straight.curves)) and resumed.epochs == 3
    for name, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[name]), name


def test_a_state_from_another_configuration_is_ignored(fmnist_train, fmnist_test, tmp_path) -> None:
    train, test = fmnist_train.head(500), fmnist_test.head(100)
    resume = tmp_path / "m.resume.safetensors"
    spec = dataclasses.replace(small(), training=TrainingConfig(epochs=1))
    train_model(spec, "fashion_mnist", train, test, CPU, progress=False, resume=resume, tag="old")
    again = train_model(spec, "fashion_mnist", train, test, CPU, progress=False, resume=resume, tag="new")
    assert [row["epoch"] for row in again.curves] == [1, 1]


def test_fast_training_rolls_back_on_catastrophic_overfitting(fmnist_train, fmnist_test, monkeypatch) -> None:
    collapse = iter([0.5, 0.45, 0.05])
    monkeypatch.setattr(training, "_guard_accuracy", lambda *args: next(collapse))
    spec = small("fast", norm="Linf", eps=0.1, guard_samples=100)
    trained = train_model(spec, "fashion_mnist", fmnist_train.head(1100), fmnist_test.head(100), CPU, progress=False)
    assert trained.epochs == 2 and trained.train_samples == 1000
    guard = [row["accuracy"] for row in trained.curves if row["test_set"] == "guard_pgd"]
    assert guard == [0.5, 0.45, 0.05]


def pgd_accuracy(model, x, y, eps: float) -> float:
    attack = make_attack(model, AttackConfig("pgd", "Linf", eps, steps=10, random_start=True),
                         torch.Generator().manual_seed(0))
    return (predict(model, attack(x, y)) == y).float().mean().item()


@pytest.mark.parametrize("mode", ["pgd", "fast"])
def test_adversarial_training_beats_standard_on_its_threat_model(fmnist_train, fmnist_test, mode: str) -> None:
    train, test = fmnist_train.head(6000), fmnist_test.head(300)
    kw = {"norm": "Linf", "eps": 0.1, "steps": 3} if mode == "pgd" else {"norm": "Linf", "eps": 0.1}
    standard = train_model(small(), "fashion_mnist", train, test, CPU, progress=False).model
    robust = train_model(small(mode, **kw), "fashion_mnist", train, test, CPU, progress=False).model
    x, y = test.tensors()
    assert pgd_accuracy(robust, x, y, 0.1) > pgd_accuracy(standard, x, y, 0.1) + 0.2


def test_augmentation_leaves_pregenerated_examples_alone() -> None:
    spec = small(augment=True).training
    x = torch.rand(4, 1, 28, 28)
    clean = torch.tensor([True, False, True, False])
    out = training._training_inputs(None, x, torch.zeros(4, dtype=torch.long), clean, spec,
                                    torch.Generator().manual_seed(0))
    assert torch.equal(out[~clean], x[~clean]) and not torch.equal(out[clean], x[clean])


@pytest.mark.parametrize("norm, eps", [("L2", 1.0), ("L1", 10.0)])
def test_resnet_trains_adversarially_in_other_norms(fmnist_train, fmnist_test, norm: str, eps: float) -> None:
    spec = ModelConfig("r", "resnet_small", TrainingConfig(mode="pgd", epochs=1, norm=norm, eps=eps, steps=2))
    trained = train_model(spec, "fashion_mnist", fmnist_train.head(512), fmnist_test.head(100), CPU, progress=False)
    assert trained.epochs == 1 and 0.1 < trained.clean_accuracy <= 1
    assert not trained.model.training  # returned in eval mode, batch-norm statistics frozen


@pytest.mark.parametrize("schedule, expected", [
    ("constant", [1.0] * 9),
    ("cosine", [0.5 * (1 + math.cos(math.pi * step / 9)) for step in range(9)]),
    ("step", [1.0] * 3 + [0.1] * 3 + [0.01] * 3),  # MadryLab robustness: x 0.1 after epochs 50 and 100 of 150
])
def test_learning_rate_schedules(schedule: str, expected: list[float]) -> None:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = _schedule(optimizer, TrainingConfig(schedule=schedule), total_steps=9)
    rates = []
    for _ in range(9):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates == pytest.approx(expected)
