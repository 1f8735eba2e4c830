"""The resumable state of a training run, saved after every epoch as safetensors + JSON.

Weights, optimiser moments and the shuffling generator's state are tensors; the epoch, the curves
so far, the scheduler's position and the optimiser's hyperparameters are JSON in the file's
metadata. One file, written atomically: a state on disk is either the old one or the new one.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from engine.core.fs import atomic_write
from engine.models.classifier import Classifier

log = logging.getLogger(__name__)


@dataclass
class TrainState:
    model: Classifier
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator
    epoch: int = 0  # last finished epoch
    curves: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    best_guard: float = -math.inf  # fast training: best held-out PGD accuracy so far
    stopped: bool = False  # fast training stopped early on catastrophic overfitting


def _tensors(state: TrainState) -> dict[str, torch.Tensor]:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in state.model.state_dict().items()}
    for index, values in state.optimizer.state_dict()["state"].items():
        tensors |= {f"optimizer.{index}.{name}": v.cpu().contiguous() for name, v in values.items()}
    tensors["generator"] = state.generator.get_state()
    return tensors


def save_state(state: TrainState, path: Path, tag: str) -> None:
    """Write ``state`` to ``path`` (.safetensors), stamped with ``tag``."""
    tensors = _tensors(state)
    meta = json.dumps({
        "tag": tag, "epoch": state.epoch, "curves": state.curves, "seconds": state.seconds,
        "best_guard": state.best_guard if math.isfinite(state.best_guard) else None, "stopped": state.stopped,
        "scheduler": state.scheduler.state_dict(),
        "param_groups": state.optimizer.state_dict()["param_groups"],
    })
    atomic_write(path, lambda temp: save_file(tensors, temp, metadata={"state": meta}))


def _optimizer_state(tensors: dict[str, torch.Tensor]) -> dict[int, dict[str, torch.Tensor]]:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    return state


def _read(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    with safe_open(str(path), framework="pt") as handle:
        meta = json.loads((handle.metadata() or {}).get("state", "{}"))
    return load_file(str(path)), meta


def load_state(state: TrainState, path: Path, tag: str) -> bool:
    """Restore ``state`` from ``path`` when it exists, reads and carries ``tag``; return whether it did.
    An unreadable file (truncated, not safetensors, missing entries) is reported and ignored: the
    training starts afresh and overwrites it after its first epoch."""
    if not path.exists():
        return False
    try:
        tensors, meta = _read(path)
        if meta.get("tag") != tag:
            log.warning("ignoring %s: it belongs to another configuration", path)
            return False
        weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
        optimizer = {"state": _optimizer_state(tensors), "param_groups": meta["param_groups"]}
        scheduler, generator = meta["scheduler"], tensors["generator"]
        epoch, curves, seconds, best, stopped = (meta[key] for key in
                                                 ("epoch", "curves", "seconds", "best_guard", "stopped"))
    except (SafetensorError, OSError, ValueError, KeyError) as error:
        log.warning("ignoring %s, which cannot be read (%s): training starts from epoch 1", path, error)
        return False
    state.model.load_state_dict(weights)
    state.optimizer.load_state_dict(optimizer)
    state.scheduler.load_state_dict(scheduler)
    state.generator.set_state(generator)
    state.epoch, state.curves, state.seconds = epoch, curves, seconds
    state.best_guard = -math.inf if best is None else best
    state.stopped = stopped
    log.info("resuming %s after epoch %d", path.name, state.epoch)
    return True
