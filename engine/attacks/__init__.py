"""Attack registry: ``make_attack(model, AttackConfig)`` returns ``attack(x, y) -> x_adv``.

x: float [N, C, H, W] in [0, 1]; y: int64 [N]; x_adv has x's shape and lies in [0, 1].
Attacks do not judge their own success: ``engine.evaluation`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import torch
from torch import nn

from engine.attacks.pgd import madry_alpha, pgd
from engine.config import AttackConfig

Attack = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class AttackSpec:
    build: Callable[[nn.Module, AttackConfig, torch.Generator | None], Attack]
    norms: tuple[str, ...]  # threat models the attack supports
    default_alpha: Callable[[AttackConfig], float]  # step size when the config gives none
    single_step: bool = False  # the attack takes exactly one step
    unbounded: bool = False  # searches minimal perturbations: eps may be inf
    options: dict[str, float] = field(default_factory=dict)  # attack-specific settings and defaults


def step_size(cfg: AttackConfig) -> float:
    """The absolute step an attack takes: the configured alpha or the attack's default."""
    return cfg.alpha or ATTACKS[cfg.name].default_alpha(cfg)


def _gradient_attack(model: nn.Module, cfg: AttackConfig, generator: torch.Generator | None) -> Attack:
    return partial(pgd, model, norm=cfg.norm, eps=cfg.eps, alpha=step_size(cfg), steps=cfg.steps,
                   random_start=cfg.random_start, restarts=cfg.restarts, generator=generator)


ATTACKS: dict[str, AttackSpec] = {
    # Goodfellow et al. 2015; in L2 the fast gradient method: one step of size eps.
    "fgsm": AttackSpec(_gradient_attack, ("Linf", "L2"), lambda cfg: cfg.eps, single_step=True),
    # Madry et al. 2018.
    "pgd": AttackSpec(_gradient_attack, ("Linf", "L2"), lambda cfg: madry_alpha(cfg.eps, cfg.steps)),
}


def make_attack(model: nn.Module, cfg: AttackConfig, generator: torch.Generator | None = None) -> Attack:
    """Build the attack ``cfg`` describes against ``model``; raise ``ValueError`` on bad parameters."""
    cfg.validate("attack")
    return ATTACKS[cfg.name].build(model, cfg, generator)
