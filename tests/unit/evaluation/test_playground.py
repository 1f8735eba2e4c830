"""The playground's single-image attack on a real LeNet5 (marked real_data by tests/conftest.py), and its verdicts
and downloads on synthetic results."""

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from engine.config.schema import AttackConfig
from engine.data.split import Split
from engine.evaluation.playground import PlaygroundResult, Verdict, amplified, attack_image
from engine.evaluation.predict import predict


def _image(model: nn.Module, fmnist_test: Split) -> tuple[torch.Tensor, int]:
    """The first test image [1, 1, 28, 28] that ``model`` classifies correctly, and its label."""
    x, y = fmnist_test.head(50).tensors()
    index = int((predict(model, x) == y).nonzero()[0])
    return x[index:index + 1], int(y[index])


def test_pgd_on_one_image_respects_the_budget_and_fools_a_standard_model(lenet: nn.Module, fmnist_test: Split) -> None:
    x, label = _image(lenet, fmnist_test)
    result = attack_image(lenet, x, AttackConfig("pgd", "Linf", 0.2, steps=20, random_start=True), label)
    assert result.label == result.true_label == label and result.perturbation <= 0.2 + 1e-6
    assert result.clean_pred == label and result.adv_pred != label and result.verdict == Verdict.FOOLED
    assert np.isclose(result.clean_probs.sum(), 1) and np.isclose(result.adv_probs.sum(), 1)
    assert result.seconds > 0


def test_without_a_label_the_clean_prediction_is_attacked(lenet: nn.Module, fmnist_test: Split) -> None:
    x, _ = _image(lenet, fmnist_test)
    result = attack_image(lenet, x, AttackConfig("deepfool", "L2", math.inf))
    assert result.label == result.clean_pred and result.adv_pred != result.clean_pred
    assert result.true_label is None and result.verdict == Verdict.PREDICTION_CHANGED


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


def _probs(predicted: int, classes: int = 10) -> np.ndarray:
    """Softmax-like probabilities [classes] whose largest is at ``predicted``."""
    probs = np.full(classes, 0.4 / (classes - 1))
    probs[predicted] = 0.6
    return probs


def _result(clean_pred: int, adv_pred: int, true_label: int | None, x_adv: torch.Tensor | None = None,
            x: torch.Tensor | None = None) -> PlaygroundResult:
    x = torch.zeros(1, 1, 4, 4) if x is None else x
    attacked = clean_pred if true_label is None else true_label
    return PlaygroundResult(x, x if x_adv is None else x_adv, _probs(clean_pred), _probs(adv_pred), attacked,
                            true_label, 0.0, 0.01)


@pytest.mark.parametrize(("clean_pred", "adv_pred", "true_label", "expected"), [
    (3, 3, 2, Verdict.ALREADY_MISCLASSIFIED),  # the attack had nothing to do, whatever it returned
    (3, 5, 2, Verdict.ALREADY_MISCLASSIFIED),
    (3, 2, 2, Verdict.ALREADY_MISCLASSIFIED),  # even when the attack happens to make it right
    (2, 5, 2, Verdict.FOOLED),
    (2, 2, 2, Verdict.NOT_FOOLED),
    (4, 1, None, Verdict.PREDICTION_CHANGED),
    (4, 4, None, Verdict.PREDICTION_KEPT),
])
def test_verdict_tells_already_wrong_from_fooled_and_needs_no_label(clean_pred: int, adv_pred: int,
                                                                    true_label: int | None, expected: Verdict) -> None:
    result = _result(clean_pred, adv_pred, true_label)
    assert result.verdict == expected and str(result.verdict) == expected.value


@pytest.mark.parametrize("channels", [1, 3])
def test_adversarial_png_is_the_8_bit_model_input(channels: int) -> None:
    x = torch.rand(1, channels, 5, 7, generator=torch.Generator().manual_seed(0))
    x_adv = (x + 0.1).clamp(0, 1)
    picture = Image.open(io.BytesIO(_result(0, 1, 0, x_adv, x).adversarial_png()))
    assert picture.format == "PNG" and picture.size == (7, 5) and picture.mode == ("L" if channels == 1 else "RGB")
    pixels = np.asarray(picture, dtype=np.float32).reshape(5, 7, channels).transpose(2, 0, 1) / 255
    assert np.abs(pixels - x_adv[0].numpy()).max() <= 0.5 / 255 + 1e-6


def test_perturbation_npy_is_float32_channels_first() -> None:
    x = torch.rand(1, 3, 4, 6, generator=torch.Generator().manual_seed(1))
    x_adv = (x - 0.05).clamp(0, 1)
    delta = np.load(io.BytesIO(_result(0, 0, 0, x_adv, x).perturbation_npy()), allow_pickle=False)
    assert delta.dtype == np.float32 and delta.shape == (3, 4, 6)
    assert np.allclose(delta, (x_adv - x)[0].numpy())
