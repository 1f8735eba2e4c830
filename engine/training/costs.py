"""The cost of a training epoch in each adversarial mode, relative to a standard epoch, measured
side by side in one run on the same images, model and batch size (DESIGN §6).

A PGD-k epoch makes k + 1 forward+backward passes per batch and fast FGSM-RS 2, so their ratios to
a standard epoch should stay under k + 1 and 2.5.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch

from engine.config.schema import ModelConfig, TrainingConfig
from engine.data.split import Split
from engine.training.loop import train_model

PGD_STEPS = 7
EPS = 0.1


@dataclass(frozen=True)
class EpochCost:
    mode: str  # standard | pgd-K | fast
    seconds: float  # median wall time of one epoch (with a clean evaluation of 100 test images)
    ratio: float  # seconds / the standard epoch's seconds
    bound: float  # the ratio's target: 1, k + 1 or 2.5


MODES = (
    ("standard", TrainingConfig(epochs=1), 1.0),
    (f"pgd-{PGD_STEPS}", TrainingConfig(mode="pgd", epochs=1, norm="Linf", eps=EPS, steps=PGD_STEPS), PGD_STEPS + 1.0),
    ("fast", TrainingConfig(mode="fast", epochs=1, norm="Linf", eps=EPS, guard_samples=100), 2.5),
)


def _epoch_seconds(training: TrainingConfig, arch: str, dataset: str, train: Split, test: Split,
                   device: torch.device, repeats: int) -> float:
    spec = ModelConfig("cost", arch, training)
    runs = [train_model(spec, dataset, train, test, device, progress=False).seconds for _ in range(repeats)]
    return statistics.median(runs)


def epoch_costs(arch: str, dataset: str, train: Split, test: Split, device: torch.device,
                repeats: int = 3) -> list[EpochCost]:
    """One epoch of each mode of ``MODES`` on ``train`` (fast holds out 100 of its images for its guard)."""
    seconds = {mode: _epoch_seconds(cfg, arch, dataset, train, test.head(100), device, repeats)
               for mode, cfg, _ in MODES}
    return [EpochCost(mode, seconds[mode], seconds[mode] / seconds["standard"], bound) for mode, _, bound in MODES]
