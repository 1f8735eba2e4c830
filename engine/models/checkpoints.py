"""Checkpoints: safetensors state dicts with a JSON sidecar; nothing is ever unpickled."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from engine.core.fs import atomic_write, read_json, write_json
from engine.data.datasets import dataset_spec
from engine.models.classifier import Classifier
from engine.models.external import build_network, is_external, wrap
from engine.models.registry import create_model
from engine.results.io import DamagedFileError

PICKLE_STARTS = (b"PK\x03\x04", b"\x80")  # torch.save's zip archive; a bare pickle (protocol 2 and later)
ModuleT = TypeVar("ModuleT", bound=torch.nn.Module)
SAFE_CONVERSION = "safetensors.torch.save_file(model.state_dict(), PATH)"


class CheckpointError(DamagedFileError):
    """A checkpoint (weights or sidecar, as ``path`` names) that cannot be loaded."""


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
    """Rebuild the model a checkpoint describes, in eval mode on ``device``, with its metadata.

    ``CheckpointError`` names the file when the sidecar is missing, not JSON or lacks a valid ``arch`` and
    ``dataset``, or the weights are missing, truncated, not safetensors (a pickle is refused, never
    unpickled) or do not fit the sidecar's architecture.
    """
    path = Path(path)
    meta = _read_sidecar(sidecar(path))
    try:
        model = create_model(meta["arch"], meta["dataset"])
    except ValueError as error:
        raise CheckpointError(sidecar(path), str(error)) from None
    try:
        model.load_state_dict(_read_weights(path))
    except RuntimeError as error:  # missing, unexpected or mis-shaped tensors
        raise CheckpointError(path, f"the weights do not fit the {meta['arch']!r} model for {meta['dataset']!r} "
                              f"that its sidecar {sidecar(path).name} describes ({_first_line(error, 1)})") from None
    return model.to(device).eval(), meta


def import_weights(arch: str, dataset: str, path: Path) -> Classifier:
    """A model of ``arch`` for ``dataset`` in eval mode with the weights of safetensors file ``path``,
    loaded strictly: an external network's own ``state_dict()`` keys, a registry architecture's
    ``Classifier`` keys (a study's checkpoint). ``CheckpointError`` names the file when they do not fit."""
    path, weights = Path(path), _read_weights(Path(path))
    if not is_external(arch):
        return _load_strictly(create_model(arch, dataset), weights, arch, path).eval()
    network = _load_strictly(build_network(arch), weights, arch, path)
    return wrap(network, arch, dataset, len(dataset_spec(dataset).classes))


def _load_strictly(network: ModuleT, weights: dict[str, torch.Tensor], arch: str, path: Path) -> ModuleT:
    try:
        network.load_state_dict(weights)
    except RuntimeError as error:  # missing, unexpected or mis-shaped tensors
        raise CheckpointError(path, f"the weights do not fit {arch!r} ({_first_line(error, 1)})") from None
    return network


def _read_sidecar(path: Path) -> dict[str, Any]:
    """The sidecar's metadata, with ``arch`` and ``dataset`` as strings."""
    try:
        meta = read_json(path)
    except (OSError, ValueError) as error:
        raise CheckpointError(path, f"the checkpoint's sidecar cannot be read ({_first_line(error)})") from None
    if not isinstance(meta, dict) or not all(isinstance(meta.get(key), str) for key in ("arch", "dataset")):
        raise CheckpointError(path, "the checkpoint's sidecar does not name its arch and dataset as text")
    return meta


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    """The state dict in the safetensors file ``path``."""
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        reason = f"not a complete safetensors file ({_first_line(error)})"
        if _starts_like_a_pickle(path):
            reason = ("a pickle (torch.save) file, not safetensors: it is refused, never unpickled; convert it "
                      f"where you trust it with {SAFE_CONVERSION}")
        raise CheckpointError(path, reason) from None


def _starts_like_a_pickle(path: Path) -> bool:
    try:
        with open(path, "rb") as stream:
            return stream.read(4).startswith(PICKLE_STARTS)
    except OSError:
        return False


def _first_line(error: BaseException, skip: int = 0) -> str:
    """The first non-blank line of ``error``'s message after ``skip`` of them (a heading), shortened."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[skip:] or lines or [type(error).__name__])[0][:200]
