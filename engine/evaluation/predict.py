"""Predictions and accuracies of a model in eval mode."""

from __future__ import annotations

import torch
from torch import nn

from engine.data.split import Split


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Predicted classes [N] of images x [N, C, H, W]."""
    return model(x).argmax(dim=1)


def clean_accuracy(model: nn.Module, split: Split, batch_size: int, device: torch.device) -> float:
    """Share of ``split`` that ``model`` (in eval mode) classifies correctly."""
    correct = sum((predict(model, x) == y).sum().item() for x, y in split.batches(batch_size, device))
    return correct / len(split)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Share of x [N, C, H, W] that ``model`` (in eval mode) labels y [N]."""
    correct = sum((predict(model, x[i:i + batch_size]) == y[i:i + batch_size]).sum().item()
                  for i in range(0, len(y), batch_size))
    return correct / len(y)
