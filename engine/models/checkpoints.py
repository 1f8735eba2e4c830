"""Checkpoints: safetensors state dicts with a JSON sidecar; nothing is ever unpickled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from engine.core.fs import atomic_write, read_json, write_json
from engine.models.classifier import Classifier
from engine.models.registry import create_model


def sidecar(path: Path) -> Path:
    return Path(path).with_suffix(".json")


def save_checkpoint(model: Classifier, path: Path, meta: dict[str, Any]) -> None:
    """Write ``model``'s weights to ``path`` (.safetensors) and ``meta`` (needs arch, dataset) beside it."""
    missing = {"arch", "dataset"} - set(meta)
    if missing:
        raise ValueError(f"checkpoint metadata lacks {sorted(missing)}")
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write(Path(path), lambda temp: save_file(state, temp))
    write_json(sidecar(path), meta)


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> tuple[Classifier, dict[str, Any]]:
    """Rebuild the model a checkpoint describes, in eval mode on ``device``, with its metadata."""
    meta = read_json(sidecar(path))
    model = create_model(meta["arch"], meta["dataset"])
    model.load_state_dict(load_file(str(path), device="cpu"))
    return model.to(device).eval(), meta
