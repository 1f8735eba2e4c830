"""Judging attacks from outside (Foolbox's criteria): the engine recomputes predictions and
perturbation norms on what the attack returned, and refuses results that break the budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from engine.attacks import make_attack
from engine.attacks.norms import perturbation_norm
from engine.config import AttackConfig
from engine.data import Split

BUDGET_TOLERANCE = 1e-5


class BudgetError(RuntimeError):
    """An attack returned inputs outside [0, 1] or outside its eps-ball."""


@dataclass(frozen=True)
class AttackOutcome:
    accuracy: float  # share of the n images still classified correctly
    n: int
    max_perturbation: float  # largest ||x_adv - x||_norm measured
    seconds: float  # time spent inside the attack


def check_budget(x: torch.Tensor, x_adv: torch.Tensor, cfg: AttackConfig) -> float:
    """Raise ``BudgetError`` unless x_adv is finite, in [0, 1] and within eps of x; return the max norm."""
    if x_adv.shape != x.shape or not torch.isfinite(x_adv).all():
        raise BudgetError(f"{cfg.name}: output has shape {tuple(x_adv.shape)} or non-finite values")
    if x_adv.min() < 0 or x_adv.max() > 1:
        raise BudgetError(f"{cfg.name}: output outside [0, 1]: [{x_adv.min():.4g}, {x_adv.max():.4g}]")
    largest = perturbation_norm(x_adv - x, cfg.norm).max().item()
    if largest > cfg.eps + BUDGET_TOLERANCE:
        raise BudgetError(f"{cfg.name} {cfg.norm}: perturbation {largest:.6g} exceeds eps {cfg.eps:.6g}")
    return largest


def within_budget(x: torch.Tensor, x_adv: torch.Tensor, cfg: AttackConfig) -> torch.Tensor:
    """For minimal-perturbation attacks: keep x_adv where its norm is <= eps, else fall back to x.

    Robust accuracy at eps then counts an example as broken only if the attack found a
    perturbation no larger than eps.
    """
    fits = perturbation_norm(x_adv - x, cfg.norm) <= cfg.eps
    return torch.where(fits.view(-1, *([1] * (x.dim() - 1))), x_adv, x)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Predicted classes [N] of images x [N, C, H, W]."""
    return model(x).argmax(dim=1)


def clean_accuracy(model: nn.Module, split: Split, batch_size: int, device: torch.device) -> float:
    """Share of ``split`` that ``model`` (in eval mode) classifies correctly."""
    correct = sum((predict(model, x) == y).sum().item() for x, y in split.batches(batch_size, device))
    return correct / len(split)


def evaluate_attack(model: nn.Module, split: Split, cfg: AttackConfig, batch_size: int,
                    device: torch.device, seed: int = 0, source: nn.Module | None = None) -> AttackOutcome:
    """Attack every image of ``split`` with ``cfg`` and judge the result on ``model`` from outside.

    With a ``source`` model the attack is crafted on it and only evaluated on ``model`` (transfer).
    """
    model.eval()
    attack = make_attack(source or model, cfg, torch.Generator().manual_seed(seed))
    correct, largest, seconds = 0, 0.0, 0.0
    for x, y in split.batches(batch_size, device):
        start = time.perf_counter()
        x_adv = attack(x, y)
        seconds += time.perf_counter() - start
        if cfg.unbounded:
            x_adv = within_budget(x, x_adv, cfg)
        largest = max(largest, check_budget(x, x_adv, cfg))
        correct += (predict(model, x_adv) == y).sum().item()
    return AttackOutcome(correct / len(split), len(split), largest, seconds)
