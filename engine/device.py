"""Device choice: CUDA when present, otherwise the CPU."""

from __future__ import annotations

import torch

from engine.config import ConfigError


def pick_device(requested: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available; anything else is passed to ``torch.device``. ``ConfigError``
    for a device name torch does not know or CUDA asked for on a machine without it."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as error:
        raise ConfigError(f"--device {requested!r}: {error}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {requested}: CUDA is not available on this machine; use --device auto or cpu")
    return device
