"""The "robust dataset" of Ilyas et al. 2019 ("Adversarial Examples Are Not Bugs, They Are
Features", §3.1), as Garaev et al. 2024 replicate it: every training image x is re-drawn as the
image x_r whose penultimate representation g(x_r) under an adversarially trained model matches
g(x), starting from another training image (or from noise), and keeps x's label. A model trained
normally on the re-drawn set then inherits the robust features only.

The construction minimises ||g(x_r) - g(x)||_2 with normalised L2 gradient steps inside the pixel
box; the search is otherwise unconstrained (Ilyas et al.'s eps is large). Their steps have one
length (0.1 for 1,000 steps on CIFAR-10); with a few hundred steps a length decayed to zero on a
cosine lands much closer (``step_lengths``). Whether the search converged is what
``feature_match`` measures: the distance left, per image, relative to ||g(x)||.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from engine.attacks.norms import L2Step
from engine.data.split import Split, to_uint8
from engine.models.classifier import Classifier


def _start(x: torch.Tensor, init: str, generator: torch.Generator) -> torch.Tensor:
    """Starting points [N, C, H, W]: the batch shuffled (another image each) or uniform noise."""
    if init == "noise":
        return torch.rand(x.shape, generator=generator).to(x.device)
    order = torch.randperm(len(x), generator=generator).to(x.device)
    return x[order].clone()


def step_lengths(steps: int, alpha: float, schedule: str) -> list[float]:
    """The L2 length of each of ``steps`` steps: alpha throughout ("constant"), or alpha decayed to 0 on
    a half cosine ("cosine": alpha * (1 + cos(pi t / steps)) / 2 at step t = 0 .. steps - 1)."""
    if schedule == "constant":
        return [alpha] * steps
    return [alpha * (1 + math.cos(math.pi * t / steps)) / 2 for t in range(steps)]


def match_features(model: Classifier, x: torch.Tensor, start: torch.Tensor, lengths: list[float]) -> torch.Tensor:
    """Images x_r [N, C, H, W] in [0, 1], from ``start`` [N, C, H, W], whose features g(x_r) approach g(x)
    for x [N, C, H, W]: one normalised L2 gradient step of each length in ``lengths``, clamped to the box."""
    step = L2Step()
    with torch.no_grad():
        target = model.features(x)
    x_r = start.clone()
    for length in lengths:
        x_r.requires_grad_(True)
        loss = (model.features(x_r) - target).norm(dim=1).sum()
        grad = torch.autograd.grad(loss, x_r)[0]
        x_r = (x_r.detach() - length * step.ascent_direction(grad)).clamp_(0, 1)
    return x_r.detach()


@dataclass(frozen=True)
class RobustRecipe:
    """How a robust dataset is drawn: ``steps`` steps of length ``alpha`` on ``schedule`` from ``init``
    ("image" or "noise"), with the generator seeded by ``seed``, ``batch_size`` images at a time."""

    steps: int
    alpha: float
    schedule: str
    init: str
    seed: int
    batch_size: int

    def starts(self, split: Split, device: torch.device) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(x [B, C, H, W], its starting points [B, C, H, W]) per batch of ``split``, in order; the same
        starts on every call."""
        generator = torch.Generator().manual_seed(self.seed)
        for x, _ in split.batches(self.batch_size, device):
            yield x, _start(x, self.init, generator)


def robust_split(model: Classifier, split: Split, recipe: RobustRecipe, device: torch.device) -> Split:
    """The robust version of ``split`` (same labels), quantised to uint8 like the source images.

    With init "image", each image starts from another image of its batch.
    """
    model.eval().requires_grad_(False)
    lengths = step_lengths(recipe.steps, recipe.alpha, recipe.schedule)
    parts = [match_features(model, x, start, lengths) for x, start in recipe.starts(split, device)]
    return Split(to_uint8(torch.cat(parts)), split.labels.clone(), split.classes)


@dataclass(frozen=True)
class FeatureMatch:
    """Per re-drawn image, all [N]: ||g(x_r) - g(x)||_2, that over ||g(x)||_2, the same ratio for the
    search's starting point, and the source model's class for x_r."""

    distance: torch.Tensor
    relative: torch.Tensor
    start_relative: torch.Tensor
    source_pred: torch.Tensor


@torch.no_grad()
def feature_match(model: Classifier, split: Split, redrawn: Split, recipe: RobustRecipe,
                  device: torch.device) -> FeatureMatch:
    """How closely ``redrawn`` (as stored: uint8) matches the features of ``split`` under ``model``, and how
    far its starting points (replayed from ``recipe``) were."""
    model.eval()
    parts: list[tuple[torch.Tensor, ...]] = []
    for (x, start), (x_r, _) in zip(recipe.starts(split, device), redrawn.batches(recipe.batch_size, device),
                                    strict=True):
        target = model.features(x)
        scale = target.norm(dim=1).clamp_min(1e-12)
        features = model.features(x_r)
        distance = (features - target).norm(dim=1)
        start_distance = (model.features(start) - target).norm(dim=1)
        parts.append((distance, distance / scale, start_distance / scale, model.head(features).argmax(1)))
    distance, relative, start_relative, pred = (torch.cat(column).cpu() for column in zip(*parts, strict=True))
    return FeatureMatch(distance, relative, start_relative, pred)
