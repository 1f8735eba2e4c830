"""Layer representations as SVCCA datapoints."""

import numpy as np
import torch

from engine.analysis.representations import datapoints, representations
from engine.models.registry import ARCHITECTURES, create_model


def test_dense_layers_keep_one_datapoint_per_image() -> None:
    acts = torch.randn(5, 7)
    assert np.array_equal(datapoints(acts, "fc1", per_image=3), acts.numpy())


def test_conv_maps_give_channels_at_the_same_positions_for_every_input_set() -> None:
    acts = torch.randn(4, 3, 5, 5)
    points = datapoints(acts, "conv1", per_image=6)
    assert points.shape == (4 * 6, 3)
    other = datapoints(acts + 1, "conv1", per_image=6)
    assert np.allclose(other, points + 1)  # same positions, so datapoints correspond one to one
    flat = acts.flatten(2)
    first_image = points[:6]
    positions = [int(np.flatnonzero(np.isclose(flat[0, 0].numpy(), value))[0]) for value in first_image[:, 0]]
    assert np.allclose(first_image, flat[0][:, positions].T.numpy()) and len(set(positions)) == 6
    assert datapoints(acts, "conv1", per_image=100).shape == (4 * 25, 3)  # at most every position


def test_representations_do_not_depend_on_the_batch_size() -> None:
    torch.manual_seed(0)
    model = create_model("lenet5", "fashion_mnist").eval()
    x = torch.rand(10, 1, 28, 28)
    whole = representations(model, x, ARCHITECTURES["lenet5"].layers, batch_size=10, max_points=200)
    parts = representations(model, x, ARCHITECTURES["lenet5"].layers, batch_size=3, max_points=200)
    assert torch.allclose(whole.logits, model(x), atol=1e-6)
    assert np.allclose(whole.penultimate, model.features(x).detach().numpy(), atol=1e-6)
    assert whole.layers["conv1"].shape == (10 * 20, 6) and whole.layers["fc1"].shape == (10, 120)
    for name in ARCHITECTURES["lenet5"].layers:
        assert np.allclose(whole.layers[name], parts.layers[name], atol=1e-6)
