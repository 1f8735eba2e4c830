import math

import pytest
import torch

from engine.config.schema import ConfigError, TrainingConfig
from engine.data.split import Split
from engine.models.registry import create_model
from engine.training.robust_dataset import RobustRecipe, feature_match, match_features, robust_split, step_lengths

CPU = torch.device("cpu")


def _split(n: int = 20) -> Split:
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    return Split(images, torch.arange(n) % 10, tuple("abcdefghij"))


def test_matching_moves_features_towards_the_targets() -> None:
    torch.manual_seed(0)
    model = create_model("lenet5", "fashion_mnist").eval().requires_grad_(False)
    x = torch.rand(16, 1, 28, 28)
    start = x.roll(1, dims=0)
    matched = match_features(model, x, start, step_lengths(50, 0.05, "constant"))
    before = (model.features(start) - model.features(x)).norm(dim=1)
    after = (model.features(matched) - model.features(x)).norm(dim=1)
    assert (after < 0.5 * before).all()
    assert matched.min() >= 0 and matched.max() <= 1
    assert torch.equal(match_features(model, x, start, []), start)


def test_step_lengths() -> None:
    assert step_lengths(3, 0.1, "constant") == [0.1, 0.1, 0.1]
    cosine = step_lengths(4, 0.5, "cosine")
    assert cosine[0] == 0.5 and cosine == sorted(cosine, reverse=True) and cosine[-1] > 0
    assert math.isclose(cosine[2], 0.25)  # half-way: half the length
    # half the constant schedule's path, plus half a step (the first is whole, the last not zero)
    assert sum(step_lengths(1000, 1.0, "cosine")) == pytest.approx(500.5)


def test_robust_split_keeps_labels_and_quantises_like_the_data() -> None:
    split = _split()
    model = create_model("lenet5", "fashion_mnist")
    robust = robust_split(model, split, RobustRecipe(3, 0.1, "constant", "noise", 0, 8), CPU)
    assert robust.images.dtype == torch.uint8 and robust.images.shape == split.images.shape
    assert torch.equal(robust.labels, split.labels) and robust.classes == split.classes


def test_starts_replay_and_depend_on_the_seed() -> None:
    split = _split()
    recipe = RobustRecipe(3, 0.1, "constant", "image", 7, 8)
    first = [start for _, start in recipe.starts(split, CPU)]
    again = [start for _, start in recipe.starts(split, CPU)]
    other = [start for _, start in RobustRecipe(3, 0.1, "constant", "image", 8, 8).starts(split, CPU)]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))
    images = torch.cat([x for x, _ in recipe.starts(split, CPU)])
    assert torch.equal(torch.cat(first).sort(dim=0).values, images.sort(dim=0).values)  # other images of the batch


def test_feature_match_measures_the_stored_images_against_their_targets() -> None:
    """A converged set sits much closer to its targets than its starts; the original images themselves
    are at distance 0; the source's classes are reported per image."""
    torch.manual_seed(0)
    model = create_model("lenet5", "fashion_mnist").eval().requires_grad_(False)
    split, recipe = _split(16), RobustRecipe(60, 0.5, "cosine", "image", 0, 8)
    robust = robust_split(model, split, recipe, CPU)
    match = feature_match(model, split, robust, recipe, CPU)
    assert match.relative.shape == (16,) and match.source_pred.dtype == torch.int64
    moved = match.start_relative > 0  # a shuffle may start an image from itself
    assert (match.relative[moved] < 0.5 * match.start_relative[moved]).all()
    assert torch.allclose(match.relative * model.features(split.tensors(CPU)[0]).norm(dim=1), match.distance)
    assert torch.equal(match.source_pred, model(robust.tensors(CPU)[0]).argmax(1))
    itself = feature_match(model, split, split, recipe, CPU)
    assert torch.equal(itself.distance, torch.zeros(16))


def test_the_schedule_is_checked() -> None:
    with pytest.raises(ConfigError, match="robust_schedule"):
        TrainingConfig(mode="robust_dataset", source="m", robust_schedule="linear").validate("models[0].training")
