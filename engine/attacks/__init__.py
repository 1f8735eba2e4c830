"""Attack registry: ``make_attack(model, AttackConfig)`` returns ``attack(x, y) -> x_adv``.

x: float [N, C, H, W] in [0, 1]; y: int64 [N]; x_adv has x's shape and lies in [0, 1].
Attacks do not judge their own success: ``engine.evaluation`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

import torch
from torch import nn

from engine.attacks.cw import OPTIONS as CW_OPTIONS
from engine.attacks.cw import build_cw
from engine.attacks.deepfool import OPTIONS as DEEPFOOL_OPTIONS
from engine.attacks.deepfool import build_deepfool
from engine.attacks.jsma import OPTIONS as JSMA_OPTIONS
from engine.attacks.jsma import build_jsma, theta_step
from engine.attacks.noise import NORMS as NOISE_NORMS
from engine.attacks.noise import OPTIONS as NOISE_OPTIONS
from engine.attacks.noise import build_noise
from engine.attacks.pgd import madry_alpha, pgd
from engine.attacks.torchattacks_wrappers import NORMS as TORCHATTACKS_NORMS
from engine.attacks.torchattacks_wrappers import build_apgd, build_autoattack
from engine.config import AttackConfig

Attack = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class AttackSpec:
    build: Callable[[nn.Module, AttackConfig, torch.Generator | None], Attack]
    norms: tuple[str, ...]  # threat models the attack supports
    default_alpha: Callable[[AttackConfig], float]  # step size when the config gives none
    single_step: bool = False  # the attack takes exactly one step
    default_steps: int = 1  # iterations when the config leaves steps at 0
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
    "fgsm": AttackSpec(_gradient_attack, ("Linf", "L2", "L1"), lambda cfg: cfg.eps, single_step=True),
    # Madry et al. 2018.
    "pgd": AttackSpec(_gradient_attack, ("Linf", "L2", "L1"), lambda cfg: madry_alpha(cfg.eps, cfg.iterations),
                      default_steps=10),
    # Moosavi-Dezfooli et al. 2016; steps caps the iterations; no step size.
    "deepfool": AttackSpec(build_deepfool, ("L2",), lambda cfg: 0.0, unbounded=True, options=DEEPFOOL_OPTIONS,
                           default_steps=50),
    # Carlini & Wagner 2017 with the binary search over c; steps = Adam iterations per search step.
    "cw": AttackSpec(build_cw, ("L2",), lambda cfg: 0.0, unbounded=True, options=CW_OPTIONS, default_steps=100),
    # Papernot et al. 2016 over pixel pairs; eps counts changed pixel channels; alpha reports |theta|.
    "jsma": AttackSpec(build_jsma, ("L0",), theta_step, unbounded=True, options=JSMA_OPTIONS),
    # Croce & Hein 2020 through torchattacks; APGD's first step is 2 * eps, then adapted.
    "apgd": AttackSpec(build_apgd, TORCHATTACKS_NORMS, lambda cfg: 2 * cfg.eps, default_steps=10),
    "autoattack": AttackSpec(build_autoattack, TORCHATTACKS_NORMS, lambda cfg: 0.0),
    # Carlini et al. 2019's baseline: the best of options.draws random perturbations of norm eps.
    "noise": AttackSpec(build_noise, NOISE_NORMS, lambda cfg: cfg.eps, single_step=True, options=NOISE_OPTIONS),
}


def make_attack(model: nn.Module, cfg: AttackConfig, generator: torch.Generator | None = None) -> Attack:
    """Build the attack ``cfg`` describes against ``model``; raise ``ValueError`` on bad parameters."""
    cfg.validate("attack")
    return ATTACKS[cfg.name].build(model, replace(cfg, steps=cfg.iterations), generator)
