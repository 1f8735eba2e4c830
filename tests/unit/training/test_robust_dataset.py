import torch

from engine.data.split import Split
from engine.models.registry import create_model
from engine.training.robust_dataset import match_features, robust_split


def test_matching_moves_features_towards_the_targets() -> None:
    torch.manual_seed(0)
    model = create_model("lenet5", "fashion_mnist").eval().requires_grad_(False)
    x = torch.rand(16, 1, 28, 28)
    generator = torch.Generator().manual_seed(0)
    start = match_features(model, x, steps=0, alpha=0.1, init="image", generator=generator)
    matched = match_features(model, x, steps=50, alpha=0.05, init="image", generator=torch.Generator().manual_seed(0))
    before = (model.features(start) - model.features(x)).norm(dim=1)
    after = (model.features(matched) - model.features(x)).norm(dim=1)
    assert (after < 0.5 * before).all()
    assert matched.min() >= 0 and matched.max() <= 1
    assert not torch.equal(start, x)  # started from other images of the batch


def test_robust_split_keeps_labels_and_quantises_like_the_data() -> None:
    images = torch.randint(0, 256, (20, 1, 28, 28), dtype=torch.uint8)
    split = Split(images, torch.arange(20) % 10, tuple("abcdefghij"))
    model = create_model("lenet5", "fashion_mnist")
    robust = robust_split(model, split, steps=3, alpha=0.1, init="noise", seed=0, batch_size=8,
                          device=torch.device("cpu"))
    assert robust.images.dtype == torch.uint8 and robust.images.shape == images.shape
    assert torch.equal(robust.labels, split.labels) and robust.classes == split.classes
