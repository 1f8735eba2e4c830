"""The bodies of the registry's architectures, each an ``nn.Sequential`` of named stages so that
layers are addressed by name (``body.stage1``), as SVCCA and the results name them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

Body = tuple[nn.Module, int]  # the body and the size F of its output features [N, F]


def lenet5(in_channels: int, image_size: int) -> Body:
    """LeNet5 as Park & So 2020 use it: two 5x5 conv + max-pool stages, then 120 and 84 units."""
    side = (image_size // 2 - 4) // 2
    body = nn.Sequential(OrderedDict(
        conv1=nn.Sequential(nn.Conv2d(in_channels, 6, 5, padding=2), nn.ReLU()), pool1=nn.MaxPool2d(2),
        conv2=nn.Sequential(nn.Conv2d(6, 16, 5), nn.ReLU()), pool2=nn.MaxPool2d(2), flatten=nn.Flatten(),
        fc1=nn.Sequential(nn.Linear(16 * side * side, 120), nn.ReLU()),
        fc2=nn.Sequential(nn.Linear(120, 84), nn.ReLU()),
    ))
    return body, 84


class BasicBlock(nn.Module):
    """The two-conv residual block of He et al. 2016."""

    def __init__(self, inputs: int, outputs: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outputs)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outputs)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or inputs != outputs:
            self.shortcut = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), nn.BatchNorm2d(outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


def _resnet_body(in_channels: int, widths: Sequence[int], blocks: Sequence[int]) -> Body:
    """ResNet for small images: a 3x3 stem with no max-pool (works for 28 and 32 px), then stage1..4."""
    stages: OrderedDict[str, nn.Module] = OrderedDict(
        stem=nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]),
                           nn.ReLU()))
    inputs = widths[0]
    for stage, (width, count) in enumerate(zip(widths, blocks, strict=True)):
        strides = [2 if stage > 0 and block == 0 else 1 for block in range(count)]
        layers = []
        for stride in strides:
            layers.append(BasicBlock(inputs, width, stride))
            inputs = width
        stages[f"stage{stage + 1}"] = nn.Sequential(*layers)
    stages["pool"] = nn.AdaptiveAvgPool2d(1)
    stages["flatten"] = nn.Flatten()
    return nn.Sequential(stages), inputs


def resnet18(in_channels: int, image_size: int) -> Body:
    return _resnet_body(in_channels, (64, 128, 256, 512), (2, 2, 2, 2))


def resnet_small(in_channels: int, image_size: int) -> Body:
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


def _torchvision_body(network: nn.Module, features: int) -> Body:
    network.fc = nn.Identity()  # the Classifier's head replaces torchvision's
    return nn.Sequential(OrderedDict(resize=ToImageNetShape(224), network=network)), features


def resnet50(in_channels: int, image_size: int) -> Body:
    """torchvision's ResNet50 (He et al. 2016), untrained, on 224-px inputs, as Garaev et al. 2024 use it."""
    from torchvision.models import resnet50 as torchvision_resnet50  # torchvision is slow to import

    return _torchvision_body(torchvision_resnet50(weights=None), 2048)


def inception_v3(in_channels: int, image_size: int) -> Body:
    """torchvision's InceptionV3 (Szegedy et al. 2016), untrained, no auxiliary head, on 224-px inputs."""
    from torchvision.models import inception_v3 as torchvision_inception_v3

    return _torchvision_body(torchvision_inception_v3(weights=None, aux_logits=False, init_weights=True), 2048)
