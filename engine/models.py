"""Model registry. Every model takes images in [0, 1]; normalisation is its first layer.

A ``Classifier`` is ``normalize -> body -> head``: ``body`` maps images [N, C, H, W] to the
penultimate features [N, F] that SVCCA and PCA read, ``head`` is the final linear layer.
Intermediate layers are reached by name with ``capture``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

NORMALIZATION = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashion_mnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cinic10": ((0.4789, 0.4723, 0.4305), (0.2421, 0.2383, 0.2587)),  # Darlow et al. 2018's statistics
}


class Normalize(nn.Module):
    """(x - mean) / std per channel, as a layer so attacks see pixel space [0, 1]."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class Classifier(nn.Module):
    """normalize -> body (features [N, F]) -> head (logits [N, classes])."""

    def __init__(self, body: nn.Module, features: int, num_classes: int, normalize: Normalize) -> None:
        super().__init__()
        self.normalize = normalize
        self.body = body
        self.head = nn.Linear(features, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features [N, F] of images x [N, C, H, W] in [0, 1]."""
        return self.body(self.normalize(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _lenet5(in_channels: int, image_size: int) -> tuple[nn.Module, int]:
    """LeNet5 as Park & So 2020 use it: two 5x5 conv + max-pool stages, then 120 and 84 units."""
    convs = nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
    )
    side = (image_size // 2 - 4) // 2
    body = nn.Sequential(convs, nn.Linear(16 * side * side, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU())
    return body, 84


class BasicBlock(nn.Module):
    """The two-conv residual block of He et al. 2016."""

    def __init__(self, inputs: int, outputs: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.shortcut = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


def _resnet_body(in_channels: int, widths: Sequence[int], blocks: Sequence[int]) -> tuple[nn.Module, int]:
    """ResNet for small images: a 3x3 stem with no max-pool (works for 28 and 32 px)."""
    layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False),
                               nn.BatchNorm2d(widths[0]), nn.ReLU()]
    inputs = widths[0]
    for stage, (width, count) in enumerate(zip(widths, blocks, strict=True)):
        for block in range(count):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(BasicBlock(inputs, width, stride))
            inputs = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers), inputs


def _resnet18(in_channels: int, image_size: int) -> tuple[nn.Module, int]:
    return _resnet_body(in_channels, (64, 128, 256, 512), (2, 2, 2, 2))


def _resnet_small(in_channels: int, image_size: int) -> tuple[nn.Module, int]:
    """A ResNet18-shaped network at a quarter of the width and one block per stage, for CPUs."""
    return _resnet_body(in_channels, (16, 32, 64, 128), (1, 1, 1, 1))


class ToImageNetShape(nn.Module):
    """[N, C, H, W] -> [N, 3, size, size]: grey images repeated to three channels, bilinear resize (inputs
    of torchvision's ImageNet architectures)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        return nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)


def _torchvision_body(network: nn.Module, features: int) -> tuple[nn.Module, int]:
    network.fc = nn.Identity()  # the Classifier's head replaces torchvision's
    return nn.Sequential(ToImageNetShape(224), network), features


def _resnet50(in_channels: int, image_size: int) -> tuple[nn.Module, int]:
    """torchvision's ResNet50 (He et al. 2016), untrained, on 224-px inputs, as Garaev et al. 2024 use it."""
    from torchvision.models import resnet50

    return _torchvision_body(resnet50(weights=None), 2048)


def _inception_v3(in_channels: int, image_size: int) -> tuple[nn.Module, int]:
    """torchvision's InceptionV3 (Szegedy et al. 2016), untrained, no auxiliary head, on 224-px inputs."""
    from torchvision.models import inception_v3

    return _torchvision_body(inception_v3(weights=None, aux_logits=False, init_weights=True), 2048)


MODELS: dict[str, Callable[[int, int], tuple[nn.Module, int]]] = {
    "lenet5": _lenet5,
    "resnet18": _resnet18,
    "resnet_small": _resnet_small,
    "resnet50": _resnet50,
    "inception_v3": _inception_v3,
}


# Layers compared by SVCCA, by the name used in the results -> module path inside the Classifier.
# "penultimate" is the body's output, the features PCA reads; "logits" the head's.
LAYERS: dict[str, dict[str, str]] = {
    "lenet5": {"conv1": "body.0.1", "conv2": "body.0.4", "fc1": "body.2", "penultimate": "body", "logits": "head"},
    "resnet18": {"stem": "body.2", "stage1": "body.4", "stage2": "body.6", "stage3": "body.8", "stage4": "body.10",
                 "penultimate": "body", "logits": "head"},
    "resnet_small": {"stem": "body.2", "stage1": "body.3", "stage2": "body.4", "stage3": "body.5", "stage4": "body.6",
                     "penultimate": "body", "logits": "head"},
    "resnet50": {"stem": "body.1.relu", "stage1": "body.1.layer1", "stage2": "body.1.layer2",
                 "stage3": "body.1.layer3", "stage4": "body.1.layer4", "penultimate": "body", "logits": "head"},
    "inception_v3": {"stem": "body.1.Conv2d_4a_3x3", "mixed_5d": "body.1.Mixed_5d", "mixed_6e": "body.1.Mixed_6e",
                     "mixed_7c": "body.1.Mixed_7c", "penultimate": "body", "logits": "head"},
}


def create_model(name: str, dataset: str, num_classes: int = 10) -> Classifier:
    """Build registry model ``name`` for ``dataset``'s image shape and normalisation."""
    from engine.data import IMAGE_SHAPES

    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    if dataset not in NORMALIZATION:
        raise ValueError(f"unknown dataset {dataset!r}; known: {sorted(NORMALIZATION)}")
    channels, size, _ = IMAGE_SHAPES[dataset]
    body, features = MODELS[name](channels, size)
    return Classifier(body, features, num_classes, Normalize(*NORMALIZATION[dataset]))


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@torch.no_grad()
def capture(model: nn.Module, x: torch.Tensor, layers: Sequence[str]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Logits of ``model`` on x and the outputs of its named submodules (``model.named_modules()``
    names), each in its own shape: [N, F] for dense layers, [N, C, H, W] for convolutional ones."""
    modules = dict(model.named_modules())
    missing = [name for name in layers if name not in modules]
    if missing:
        raise ValueError(f"unknown layers {missing}; known: {[n for n in modules if n]}")
    outputs: dict[str, torch.Tensor] = {}
    hooks = [modules[name].register_forward_hook(
        lambda _m, _i, out, name=name: outputs.__setitem__(name, out)) for name in layers]
    try:
        logits = model(x)
    finally:
        for hook in hooks:
            hook.remove()
    return logits, outputs
