"""Device choice: CUDA when present, otherwise the CPU."""

from __future__ import annotations

import torch


class DeviceError(ValueError):
    """The requested device does not exist on this machine."""


def pick_device(requested: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available; anything else is passed to ``torch.device``. ``DeviceError``
    for a device name torch does not know or CUDA asked for on a machine without it."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as error:
        raise DeviceError(f"--device {requested!r}: {error}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"--device {requested}: CUDA is not available on this machine; use --device auto or cpu")
    return device
