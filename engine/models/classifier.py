"""Every model is a ``Classifier``: ``normalize -> body -> head``, taking images in [0, 1].

``body`` maps images [N, C, H, W] to the penultimate features [N, F] that SVCCA and PCA read;
``head`` is the final linear layer. Intermediate layers are reached by name with ``capture``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class Normalize(nn.Module):
    """(x - mean) / std per channel, as a layer so attacks see pixel space [0, 1]."""

    mean: torch.Tensor  # [1, C, 1, 1]
    std: torch.Tensor  # [1, C, 1, 1]

    def __init__(self, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class Classifier(nn.Module):
    """normalize -> body (features [N, F]) -> head (logits [N, classes])."""

    def __init__(self, body: nn.Module, head: nn.Linear, normalize: Normalize) -> None:
        super().__init__()
        self.normalize = normalize
        self.body = body
        self.head = head

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features [N, F] of images x [N, C, H, W] in [0, 1]."""
        return self.body(self.normalize(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


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
