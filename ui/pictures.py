"""Images as pictures for ``st.image``: enlarged with square pixels, so that 28 x 28 inputs stay sharp."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

SHOWN_PIXELS = 168  # width of a shown image


def picture(x: np.ndarray, width: int = SHOWN_PIXELS) -> Image.Image:
    """[H, W, C] in [0, 1] as a picture ``width`` pixels wide, enlarged with square pixels."""
    pixels = np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8)
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    return image.resize((width, width * image.height // image.width), Image.Resampling.NEAREST)


def tensor_picture(x: torch.Tensor, width: int = SHOWN_PIXELS) -> Image.Image:
    """The first image of a batch x [N, C, H, W] in [0, 1] (``picture``)."""
    return picture(x[0].permute(1, 2, 0).cpu().numpy(), width)
