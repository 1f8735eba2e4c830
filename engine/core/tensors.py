"""Shape helpers shared by attacks and judges."""

from __future__ import annotations

import torch


def per_example(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """values [N] viewed as [N, 1, ..., 1], broadcastable against ``like`` [N, ...] (Foolbox's ``atleast_kd``)."""
    return values.view(-1, *([1] * (like.dim() - 1)))
