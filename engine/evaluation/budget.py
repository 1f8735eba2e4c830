"""The budget rule, in one place: what an attack returned counts at eps only if it is finite, lies in
[0, 1] and within eps of the clean input; a minimal-perturbation attack runs once, at the largest eps
of its sweep, and each eps keeps only the perturbations within it.
"""

from __future__ import annotations

import torch

from engine.attacks.norms import perturbation_norm
from engine.attacks.registry import spec_of
from engine.config.schema import AttackConfig
from engine.core.tensors import per_example

BUDGET_TOLERANCE = 1e-5  # absolute, for small eps
RELATIVE_TOLERANCE = 1e-4  # float32 norms of 784+ pixels near a large eps (L1 50) carry rounding of this order


class BudgetError(RuntimeError):
    """An attack returned inputs outside [0, 1] or outside its eps-ball."""


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
    """x_adv [N, ...] where its perturbation's norm is <= eps, else x: an example counts as broken at eps
    only if the attack found a perturbation no larger than eps."""
    fits = perturbation_norm(x_adv - x, cfg.norm) <= cfg.eps
    return torch.where(per_example(fits, x), x_adv, x)


def cut_back(x: torch.Tensor, x_adv: torch.Tensor, cfg: AttackConfig) -> tuple[torch.Tensor, float]:
    """What attack output x_adv [N, C, H, W] (from ``attack_runs``) counts as at ``cfg.eps``: a minimal
    attack's perturbations larger than eps fall back to x; then the budget check. Returns (x_adv, largest
    norm); ``BudgetError`` when the result breaks the budget."""
    if spec_of(cfg).minimal:
        x_adv = within_budget(x, x_adv, cfg)
    return x_adv, check_budget(x, x_adv, cfg)


def attack_runs(cfgs: list[AttackConfig]) -> list[tuple[AttackConfig, list[AttackConfig]]]:
    """The attack runs a sweep's configs (one attack, several eps) need, each with the configs it serves,
    in ``cfgs`` order: a fixed-budget attack runs at every eps; a minimal-perturbation attack ignores eps
    while searching, so it runs once, at the largest eps, and serves every eps through ``cut_back``."""
    if not cfgs or not spec_of(cfgs[0]).minimal:
        return [(cfg, [cfg]) for cfg in cfgs]
    return [(max(cfgs, key=lambda cfg: cfg.eps), list(cfgs))]
