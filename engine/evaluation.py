"""Judging attacks from outside (Foolbox's criteria): the engine recomputes predictions and
perturbation norms on what the attack returned, and refuses results that break the budget.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import NamedTuple

import torch
from torch import nn

from engine.attacks import make_attack
from engine.attacks.norms import perturbation_norm
from engine.config import AttackConfig
from engine.data import Split

BUDGET_TOLERANCE = 1e-5  # absolute, for small eps
RELATIVE_TOLERANCE = 1e-4  # float32 norms of 784+ pixels near a large eps (L1 50) carry rounding of this order


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
    if largest > cfg.eps + max(BUDGET_TOLERANCE, RELATIVE_TOLERANCE * cfg.eps):
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


class AdversarialBatch(NamedTuple):
    x: torch.Tensor  # [B, C, H, W] clean inputs
    x_adv: torch.Tensor  # [B, C, H, W] budget-checked adversarial inputs
    y: torch.Tensor  # [B] labels
    seconds: float  # time spent inside the attack
    largest: float  # largest ||x_adv - x|| in the attack's norm


def adversarial_batches(model: nn.Module, split: Split, cfg: AttackConfig, batch_size: int,
                        device: torch.device, seed: int = 0) -> Iterator[AdversarialBatch]:
    """Attack ``split`` batch by batch on ``model``; every output is budget-checked."""
    model.eval()
    attack = make_attack(model, cfg, torch.Generator().manual_seed(seed))
    for x, y in split.batches(batch_size, device):
        start = time.perf_counter()
        x_adv = attack(x, y)
        seconds = time.perf_counter() - start
        if cfg.unbounded:
            x_adv = within_budget(x, x_adv, cfg)
        yield AdversarialBatch(x, x_adv, y, seconds, check_budget(x, x_adv, cfg))


def _judge(model: nn.Module, batches: Iterable[AdversarialBatch], cfg: AttackConfig, split: Split) -> AttackOutcome:
    """Accuracy of ``model`` on the batches' adversarial inputs, each cut back to ``cfg.eps``."""
    correct, largest, seconds = 0, 0.0, 0.0
    for batch in batches:
        x_adv = within_budget(batch.x, batch.x_adv, cfg) if cfg.unbounded else batch.x_adv
        largest = max(largest, check_budget(batch.x, x_adv, cfg))
        correct += (predict(model, x_adv) == batch.y).sum().item()
        seconds += batch.seconds
    return AttackOutcome(correct / len(split), len(split), largest, seconds)


def evaluate_attack(model: nn.Module, split: Split, cfg: AttackConfig, batch_size: int,
                    device: torch.device, seed: int = 0) -> AttackOutcome:
    """Attack every image of ``split`` with ``cfg`` and judge the result on ``model`` from outside
    (transfer attacks: ``craft_timed`` on the source, then ``judge_crafted``)."""
    return evaluate_sweep(model, split, [cfg], batch_size, device, seed)[0]


def evaluate_sweep(model: nn.Module, split: Split, cfgs: list[AttackConfig], batch_size: int,
                   device: torch.device, seed: int = 0) -> list[AttackOutcome]:
    """``evaluate_attack`` for each config of a sweep (same attack, several eps).

    A minimal-perturbation (unbounded) attack ignores eps while searching, so it runs once, at the
    largest eps, and each eps keeps only the perturbations within it: every outcome then reports
    the time of that one run.
    """
    model.eval()
    if not cfgs[0].unbounded:
        return [_judge(model, adversarial_batches(model, split, cfg, batch_size, device, seed), cfg, split)
                for cfg in cfgs]
    widest = max(cfgs, key=lambda cfg: cfg.eps)
    batches = list(adversarial_batches(model, split, widest, batch_size, device, seed))
    return [_judge(model, batches, cfg, split) for cfg in cfgs]


def craft_timed(model: nn.Module, split: Split, cfg: AttackConfig, batch_size: int, device: torch.device,
                seed: int = 0) -> tuple[torch.Tensor, float]:
    """A fixed adversarial set crafted on ``model``: (x_adv [N, C, H, W] on the CPU, seconds spent attacking)."""
    batches = list(adversarial_batches(model, split, cfg, batch_size, device, seed))
    return torch.cat([batch.x_adv.cpu() for batch in batches]), sum(batch.seconds for batch in batches)


def judge_crafted(model: nn.Module, split: Split, cfg: AttackConfig, x_adv: torch.Tensor, seconds: float,
                  batch_size: int, device: torch.device) -> AttackOutcome:
    """Accuracy of ``model`` on x_adv [N, C, H, W], crafted elsewhere from ``split``'s images (a transfer
    set) in ``seconds``, each cut back to ``cfg.eps`` and checked against the budget."""
    model.eval()
    batches = (AdversarialBatch(x, x_adv[i * batch_size:(i + 1) * batch_size].to(device), y, 0.0, 0.0)
               for i, (x, y) in enumerate(split.batches(batch_size, device)))
    return replace(_judge(model, batches, cfg, split), seconds=seconds)


def craft(model: nn.Module, split: Split, cfg: AttackConfig, batch_size: int, device: torch.device,
          seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed adversarial test set: (x_adv [N, C, H, W], y [N]) crafted on ``model``."""
    batches = list(adversarial_batches(model, split, cfg, batch_size, device, seed))
    return torch.cat([batch.x_adv for batch in batches]), torch.cat([batch.y for batch in batches])


def craft_sweep(model: nn.Module, split: Split, cfgs: list[AttackConfig], batch_size: int, device: torch.device,
                seed: int = 0) -> Iterator[tuple[AttackConfig, torch.Tensor]]:
    """(cfg, x_adv [N, C, H, W]) for each config of a sweep, crafted on ``model``; a minimal-perturbation
    attack runs once, at the largest eps, and each eps keeps the perturbations within it."""
    if not cfgs[0].unbounded:
        for cfg in cfgs:
            yield cfg, craft(model, split, cfg, batch_size, device, seed)[0]
        return
    widest = craft(model, split, max(cfgs, key=lambda cfg: cfg.eps), batch_size, device, seed)[0]
    x = split.tensors(device)[0]
    for cfg in cfgs:
        yield cfg, within_budget(x, widest, cfg)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Share of x [N, C, H, W] that ``model`` (in eval mode) labels y [N]."""
    correct = sum((predict(model, x[i:i + batch_size]) == y[i:i + batch_size]).sum().item()
                  for i in range(0, len(y), batch_size))
    return correct / len(y)
