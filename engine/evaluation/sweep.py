"""Attack sweeps judged from outside: the engine recomputes predictions and perturbation norms on what
the attack returned, cut back to each eps by ``budget.cut_back``; the same sweeps crafted as fixed
adversarial sets (transfer sets, the analyses' inputs, pre-generated training sets).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig
from engine.data.split import Split
from engine.evaluation.budget import attack_runs, cut_back
from engine.evaluation.predict import predict


@dataclass(frozen=True)
class AttackOutcome:
    accuracy: float  # share of the n images still classified correctly
    n: int
    max_perturbation: float  # largest ||x_adv - x||_norm measured
    seconds: float  # time spent inside the attack


class AdversarialBatch(NamedTuple):
    x: torch.Tensor  # [B, C, H, W] clean inputs
    x_adv: torch.Tensor  # [B, C, H, W] the attack's output, not yet cut back to an eps
    y: torch.Tensor  # [B] labels
    seconds: float  # time spent inside the attack


def adversarial_batches(model: nn.Module, split: Split, cfg: AttackConfig, batch_size: int,
                        device: torch.device, seed: int = 0) -> Iterator[AdversarialBatch]:
    """Attack ``split`` batch by batch on ``model`` with ``cfg`` (one run of ``attack_runs``)."""
    model.eval()
    attack = make_attack(model, cfg, torch.Generator().manual_seed(seed))
    for x, y in split.batches(batch_size, device):
        start = time.perf_counter()
        x_adv = attack(x, y)
        yield AdversarialBatch(x, x_adv, y, time.perf_counter() - start)


def _judge(model: nn.Module, batches: Iterable[AdversarialBatch], cfg: AttackConfig, n: int) -> AttackOutcome:
    """Accuracy of ``model`` on the batches' attack outputs, each cut back to ``cfg.eps``."""
    correct, largest, seconds = 0, 0.0, 0.0
    for batch in batches:
        x_adv, norm = cut_back(batch.x, batch.x_adv, cfg)
        largest = max(largest, norm)
        correct += int((predict(model, x_adv) == batch.y).sum().item())
        seconds += batch.seconds
    return AttackOutcome(correct / n, n, largest, seconds)


def evaluate_sweep(model: nn.Module, split: Split, cfgs: list[AttackConfig], batch_size: int,
                   device: torch.device, seed: int = 0) -> list[AttackOutcome]:
    """One outcome per config of a sweep (same attack, several eps), attacked on ``model`` and judged on
    it; configs served by one run of a minimal attack all report the time of that run."""
    model.eval()
    outcomes = []
    for run, served in attack_runs(cfgs):
        batches = list(adversarial_batches(model, split, run, batch_size, device, seed))
        outcomes += [_judge(model, batches, cfg, len(split)) for cfg in served]
    return outcomes


def evaluate_attack(model: nn.Module, split: Split, cfg: AttackConfig, batch_size: int,
                    device: torch.device, seed: int = 0) -> AttackOutcome:
    """``evaluate_sweep`` of one config (transfer attacks: ``craft_run`` on the source, then ``judge_crafted``)."""
    return evaluate_sweep(model, split, [cfg], batch_size, device, seed)[0]


def craft_run(model: nn.Module, split: Split, run: AttackConfig, batch_size: int, device: torch.device,
              seed: int = 0) -> tuple[torch.Tensor, float]:
    """One run of ``attack_runs`` crafted on ``model`` as a fixed set: (x_adv [N, C, H, W] on the CPU, not
    yet cut back to an eps; seconds spent attacking)."""
    batches = list(adversarial_batches(model, split, run, batch_size, device, seed))
    return torch.cat([batch.x_adv.cpu() for batch in batches]), sum(batch.seconds for batch in batches)


def craft_sets(model: nn.Module, split: Split, cfgs: list[AttackConfig], batch_size: int, device: torch.device,
               seed: int = 0) -> Iterator[tuple[AttackConfig, torch.Tensor]]:
    """(cfg, x_adv [N, C, H, W] on ``device``) for each config of a sweep, crafted on ``model`` and cut back."""
    x = split.tensors(device)[0]
    for run, served in attack_runs(cfgs):
        raw = craft_run(model, split, run, batch_size, device, seed)[0].to(device)
        for cfg in served:
            yield cfg, cut_back(x, raw, cfg)[0]


def judge_crafted(model: nn.Module, split: Split, cfg: AttackConfig, x_adv: torch.Tensor, seconds: float,
                  batch_size: int, device: torch.device) -> AttackOutcome:
    """Accuracy of ``model`` on x_adv [N, C, H, W], crafted elsewhere from ``split``'s images (a transfer
    set, from ``craft_run``) in ``seconds``, each cut back to ``cfg.eps``."""
    model.eval()
    batches = (AdversarialBatch(x, x_adv[i * batch_size:(i + 1) * batch_size].to(device), y, 0.0)
               for i, (x, y) in enumerate(split.batches(batch_size, device)))
    outcome = _judge(model, batches, cfg, len(split))
    return AttackOutcome(outcome.accuracy, outcome.n, outcome.max_perturbation, seconds)
