"""Distance to the decision boundary: exact on a linear classifier, consistent on a real LeNet5."""

import numpy as np
import pytest
import torch
from torch import nn

from engine.analysis.boundary import boundary_distances
from engine.attacks.deepfool import OPTIONS
from engine.data.split import Split
from engine.evaluation.predict import predict


def _linear_two_class() -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    return model.eval().requires_grad_(False)


def test_distance_on_a_linear_classifier_is_the_distance_to_its_hyperplane() -> None:
    model = _linear_two_class()
    images = torch.full((20, 1, 4, 4), 128, dtype=torch.uint8)
    images += torch.randint(-20, 20, images.shape, generator=torch.Generator().manual_seed(1)).to(torch.uint8)
    split = Split(images, torch.zeros(20, dtype=torch.long), ("a", "b"))
    x = split.tensors()[0]
    found = boundary_distances(model, split, steps=10, batch_size=8, device=torch.device("cpu"))
    weight, bias = model[1].weight, model[1].bias
    gap = x.flatten(1) @ (weight[1] - weight[0]) + bias[1] - bias[0]
    exact = (gap.abs() / (weight[1] - weight[0]).norm()).numpy()
    correct = (gap < 0).numpy()  # label 0 is predicted where class 1's logit is lower
    assert found.success.all() and (found.steps[correct] == 1).all() and (found.steps[~correct] == 0).all()
    assert np.allclose(found.distance_l2[~correct], 0)
    assert np.allclose(found.distance_l2[correct], exact[correct] * (1 + OPTIONS["overshoot"]), rtol=1e-3, atol=1e-4)


@pytest.mark.real_data
def test_boundary_points_are_misclassified_and_as_far_as_reported(lenet: nn.Module, fmnist_test: Split) -> None:
    split = fmnist_test.head(100)
    found = boundary_distances(lenet, split, steps=50, batch_size=50, device=torch.device("cpu"))
    x, y = split.tensors()
    correct = (predict(lenet, x) == y).numpy()
    assert found.success.mean() >= 0.99 and (found.steps[~correct] == 0).all()
    hit = found.success & correct
    assert (found.distance_l2[hit] > 0).all() and np.isfinite(found.distance_l2[found.success]).all()
    assert 0.05 < np.median(found.distance_l2[hit]) < 5  # pixels in [0, 1], 784 of them
    assert np.isnan(found.distance_l2[~found.success]).all()
