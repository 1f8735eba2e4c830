import pytest
import torch

from engine.data.datasets import DATASETS
from engine.models.classifier import capture, parameter_count
from engine.models.registry import ARCHITECTURES, create_model


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
@pytest.mark.parametrize("dataset, shape", [("fashion_mnist", (1, 28, 28)), ("cifar10", (3, 32, 32))])
def test_every_model_maps_unit_images_to_logits(arch: str, dataset: str, shape: tuple) -> None:
    model = create_model(arch, dataset).eval()
    logits = model(torch.rand(2, *shape))
    assert logits.shape == (2, 10) and torch.isfinite(logits).all()
    assert model.features(torch.rand(2, *shape)).shape == (2, model.head.in_features)


def test_normalisation_is_the_first_layer() -> None:
    model = create_model("lenet5", "fashion_mnist")
    first = next(iter(model.children()))
    x = torch.full((1, 1, 28, 28), 0.2860)
    assert torch.allclose(first(x), torch.zeros_like(x), atol=1e-6)


def test_lenet5_has_park_and_so_shape() -> None:
    model = create_model("lenet5", "mnist")
    assert model.head.in_features == 84 and parameter_count(model) == 61706


def test_resnet18_penultimate_is_512_wide() -> None:
    assert create_model("resnet18", "cifar10").head.in_features == 512


def test_capture_returns_logits_and_named_layers_in_their_shapes() -> None:
    model = create_model("lenet5", "fashion_mnist").eval()
    x = torch.rand(3, 1, 28, 28)
    logits, outputs = capture(model, x, ["body", "body.conv1", "head"])
    assert torch.allclose(outputs["body"], model.features(x))
    assert torch.allclose(outputs["head"], model(x)) and torch.equal(logits, outputs["head"])
    assert outputs["body.conv1"].shape == (3, 6, 28, 28)
    with pytest.raises(ValueError, match="unknown layers"):
        capture(model, x, ["nope"])


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_every_arch_names_its_svcca_layers(arch: str) -> None:
    dataset = "cifar10" if arch.startswith("resnet") else "fashion_mnist"
    model = create_model(arch, dataset).eval()
    x = torch.rand(2, *DATASETS[dataset].shape)
    logits, outputs = capture(model, x, list(ARCHITECTURES[arch].layers.values()))
    assert torch.allclose(outputs[ARCHITECTURES[arch].layers["penultimate"]], model.features(x))
    assert torch.equal(outputs[ARCHITECTURES[arch].layers["logits"]], logits)
    convolutional = [name for name, path in ARCHITECTURES[arch].layers.items() if outputs[path].dim() == 4]
    assert len(convolutional) >= 2  # the layer list spans the network, not only its dense end


def test_unknown_names_raise() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        create_model("vgg", "mnist")
    with pytest.raises(ValueError, match="unknown dataset"):
        create_model("lenet5", "svhn")


@pytest.mark.parametrize("arch", ["resnet50", "inception_v3"])
def test_torchvision_architectures_see_224_px_three_channel_inputs(arch: str) -> None:
    model = create_model(arch, "fashion_mnist").eval()
    seen = {}

    def record(_module: torch.nn.Module, args: tuple) -> None:
        seen["shape"] = args[0].shape

    model.body[1].register_forward_pre_hook(record)
    model(torch.rand(1, 1, 28, 28))
    assert seen["shape"] == (1, 3, 224, 224) and model.head.in_features == 2048


@pytest.mark.parametrize("arch", ["resnet50", "inception_v3"])
def test_torchvision_architectures_train_and_expose_their_svcca_layers(arch: str) -> None:
    """One training step in train mode (batch-norm needs 2 images), then every named layer captured."""
    model = create_model(arch, "cifar10").train()
    x, y = torch.rand(2, 3, 32, 32), torch.tensor([0, 1])
    torch.nn.functional.cross_entropy(model(x), y).backward()
    assert all(p.grad is not None for p in model.head.parameters())
    logits, layers = capture(model.eval(), x, list(ARCHITECTURES[arch].layers.values()))
    assert logits.shape == (2, 10) and set(layers) == set(ARCHITECTURES[arch].layers.values())
    assert layers["body"].shape == (2, 2048) and all(len(output) == 2 for output in layers.values())
