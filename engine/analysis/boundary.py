"""Distance to the decision boundary (Garaev et al. 2024): DeepFool's L2 perturbation per
sample and the iterations it took. DeepFool (Moosavi-Dezfooli et al. 2016) steps to the nearest
linearised boundary, so its perturbation approximates the smallest one that changes the prediction,
within its 2 % overshoot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from engine.attacks.deepfool import deepfool
from engine.data.split import Split


@dataclass(frozen=True)
class BoundaryDistances:
    distance_l2: np.ndarray  # [N] ||x_adv - x||_2; nan where DeepFool failed; 0 if already misclassified
    steps: np.ndarray  # int [N] DeepFool iterations
    success: np.ndarray  # bool [N] x_adv is misclassified


def boundary_distances(model: nn.Module, split: Split, steps: int, batch_size: int,
                       device: torch.device) -> BoundaryDistances:
    """DeepFool (at most ``steps`` iterations) on every image of ``split``; ``model`` in eval mode."""
    distances, taken, success = [], [], []
    for x, y in split.batches(batch_size, device):
        result = deepfool(model, x, y, steps=steps)
        distance = (result.x_adv - x).flatten(1).norm(dim=1)
        distances.append(torch.where(result.success, distance, torch.nan).cpu())
        taken.append(result.steps.cpu())
        success.append(result.success.cpu())
    return BoundaryDistances(torch.cat(distances).numpy(), torch.cat(taken).numpy(), torch.cat(success).numpy())


def boundary_summary(boundary: pd.DataFrame) -> pd.DataFrame:
    """Garaev et al.'s boundary table from ``boundary`` rows: per model_id, over the samples it classifies
    correctly (the others are on the wrong side already), the mean and median L2 distance, the mean
    DeepFool iterations, the share whose boundary was found, and their number (columns mean, median,
    steps, found, samples)."""
    correct = boundary[boundary.steps > 0]
    return correct.groupby("model_id").agg(mean=("distance_l2", "mean"), median=("distance_l2", "median"),
                                           steps=("steps", "mean"), found=("success", "mean"),
                                           samples=("success", "size"))
