"""Layer representations of a model on one input set, as datapoints for SVCCA and PCA.

Dense layers give one datapoint per image, [N, F]. A convolutional map [N, C, H, W] gives one
datapoint per (image, position) with the C channels as neurons, as Raghu et al. 2017 compare conv
layers; to bound memory, P positions per image are kept, drawn once per layer from its name, so
that the clean and the adversarial datapoints of a layer correspond one to one.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import torch

from engine.models.classifier import Classifier, capture

PENULTIMATE = "body"  # the Classifier's body outputs the penultimate features


@dataclass(frozen=True)
class Representations:
    logits: torch.Tensor  # [N, K]
    penultimate: np.ndarray  # [N, F]
    layers: dict[str, np.ndarray]  # layer name -> [datapoints, neurons]


def _positions(layer: str, spatial: int, per_image: int) -> torch.Tensor:
    """The ``per_image`` (at most ``spatial``) flat spatial positions kept for ``layer``, fixed by its name."""
    generator = torch.Generator().manual_seed(zlib.crc32(layer.encode()))
    return torch.randperm(spatial, generator=generator)[:per_image]


def datapoints(acts: torch.Tensor, layer: str, per_image: int) -> np.ndarray:
    """[N, F] -> [N, F]; [N, C, H, W] -> [N * P, C] at P = min(per_image, H * W) positions of each image."""
    if acts.dim() == 2:
        return acts.float().cpu().numpy()
    flat = acts.flatten(2)
    kept = flat[:, :, _positions(layer, flat.shape[2], per_image).to(flat.device)]
    return kept.transpose(1, 2).reshape(-1, flat.shape[1]).float().cpu().numpy()


def representations(model: Classifier, x: torch.Tensor, layers: dict[str, str], batch_size: int,
                    max_points: int) -> Representations:
    """Logits, penultimate features and the named ``layers`` (result name -> module path) of ``model``
    on x [N, C, H, W]; a convolutional layer keeps about ``max_points`` datapoints in all."""
    per_image = max(1, max_points // len(x))
    paths = [*layers.values(), PENULTIMATE]
    logits: list[torch.Tensor] = []
    penultimate: list[np.ndarray] = []
    parts: dict[str, list[np.ndarray]] = {name: [] for name in layers}
    for start in range(0, len(x), batch_size):
        batch_logits, outputs = capture(model, x[start:start + batch_size], paths)
        logits.append(batch_logits)
        penultimate.append(outputs[PENULTIMATE].float().cpu().numpy())
        for name, path in layers.items():
            parts[name].append(datapoints(outputs[path], name, per_image))
    return Representations(torch.cat(logits), np.concatenate(penultimate),
                           {name: np.concatenate(chunks) for name, chunks in parts.items()})
