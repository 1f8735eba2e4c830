"""Park & So 2020's data augmentation as batched tensor operations: random rotation within ±20°,
translation by up to 6 px, and random erasing of up to 30 % of the image (Zhong et al. 2020).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MAX_ROTATION = 20.0  # degrees
MAX_SHIFT = 6  # pixels
MAX_ERASE = 0.3  # share of the image area
ERASE_PROBABILITY = 0.5  # torchvision's RandomErasing default


def _uniform(shape: tuple[int, ...], low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=generator)


def _affine(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Rotate and shift every image of x [N, C, H, W] by its own random amount (zeros fill in)."""
    n, _, h, w = x.shape
    angle = torch.deg2rad(_uniform((n,), -MAX_ROTATION, MAX_ROTATION, generator))
    shift = _uniform((n, 2), -MAX_SHIFT, MAX_SHIFT, generator) * 2 / torch.tensor([w, h])
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)


def _erase_masks(n: int, h: int, w: int, generator: torch.Generator) -> torch.Tensor:
    """Boolean [N, 1, H, W] masks of random rectangles covering up to MAX_ERASE of the area."""
    area = _uniform((n,), 0.02, MAX_ERASE, generator) * h * w
    ratio = torch.exp(_uniform((n,), math.log(0.3), math.log(1 / 0.3), generator))
    height = (area * ratio).sqrt().clamp(1, h).floor()
    width = (area / ratio).sqrt().clamp(1, w).floor()
    top = (torch.rand(n, generator=generator) * (h - height + 1)).floor()
    left = (torch.rand(n, generator=generator) * (w - width + 1)).floor()
    rows, cols = torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w)
    inside = ((rows >= top.view(-1, 1, 1)) & (rows < (top + height).view(-1, 1, 1))
              & (cols >= left.view(-1, 1, 1)) & (cols < (left + width).view(-1, 1, 1)))
    chosen = torch.rand(n, generator=generator) < ERASE_PROBABILITY
    return (inside & chosen.view(-1, 1, 1)).unsqueeze(1)


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Augmented copy of a batch x [N, C, H, W] in [0, 1]; erased pixels become 0."""
    n, _, h, w = x.shape
    moved = _affine(x, generator)
    return moved.masked_fill(_erase_masks(n, h, w, generator).to(x.device), 0.0).clamp_(0, 1)
