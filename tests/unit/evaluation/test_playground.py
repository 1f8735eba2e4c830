"""The playground's single-image attack on a real LeNet5."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from engine.config.schema import AttackConfig
from engine.data.split import Split
from engine.evaluation.playground import amplified, attack_image
from engine.evaluation.predict import predict

pytestmark = pytest.mark.real_data


def _image(model: nn.Module, fmnist_test: Split) -> tuple[torch.Tensor, int]:
    """The first test image [1, 1, 28, 28] that ``model`` classifies correctly, and its label."""
    x, y = fmnist_test.head(50).tensors()
    index = int((predict(model, x) == y).nonzero()[0])
    return x[index:index + 1], int(y[index])


def test_pgd_on_one_image_respects_the_budget_and_fools_a_standard_model(lenet: nn.Module, fmnist_test: Split) -> None:
    x, label = _image(lenet, fmnist_test)
    result = attack_image(lenet, x, AttackConfig("pgd", "Linf", 0.2, steps=20, random_start=True), label)
    assert result.label == label and result.perturbation <= 0.2 + 1e-6
    assert result.clean_pred == label and result.adv_pred != label
    assert np.isclose(result.clean_probs.sum(), 1) and np.isclose(result.adv_probs.sum(), 1)
    assert result.seconds > 0


def test_without_a_label_the_clean_prediction_is_attacked(lenet: nn.Module, fmnist_test: Split) -> None:
    x, _ = _image(lenet, fmnist_test)
    result = attack_image(lenet, x, AttackConfig("deepfool", "L2", math.inf))
    assert result.label == result.clean_pred and result.adv_pred != result.clean_pred


def test_bad_settings_raise_value_errors(lenet: nn.Module, fmnist_test: Split) -> None:
    x, label = _image(lenet, fmnist_test)
    with pytest.raises(ValueError, match="eps"):
        attack_image(lenet, x, AttackConfig("pgd", "Linf", 2.0), label)


def test_amplified_perturbation_fills_the_range_around_grey() -> None:
    x = torch.zeros(1, 1, 4, 4)
    x_adv = x.clone()
    x_adv[0, 0, 0, 0], x_adv[0, 0, 1, 1] = 0.1, -0.05
    picture = amplified(x, x_adv)
    assert picture.shape == (4, 4, 1) and picture.max() == 1.0 and picture.min() == 0.25
    assert (amplified(x, x) == 0.5).all()
