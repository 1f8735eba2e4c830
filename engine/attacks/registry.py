"""Attack registry: one ``AttackSpec`` per attack; ``make_attack(model, AttackConfig)`` returns
``attack(x, y) -> x_adv``.

x: float [N, C, H, W] in [0, 1]; y: int64 [N]; x_adv has x's shape and lies in [0, 1].
Attacks do not judge their own success: ``engine.evaluation`` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import torch
from torch import nn

from engine.attacks.cw import OPTIONS as CW_OPTIONS
from engine.attacks.cw import build_cw
from engine.attacks.ddn import OPTIONS as DDN_OPTIONS
from engine.attacks.ddn import DDNSettings, build_ddn
from engine.attacks.deepfool import OPTIONS as DEEPFOOL_OPTIONS
from engine.attacks.deepfool import build_deepfool
from engine.attacks.jsma import OPTIONS as JSMA_OPTIONS
from engine.attacks.jsma import build_jsma, theta_step
from engine.attacks.noise import NORMS as NOISE_NORMS
from engine.attacks.noise import OPTIONS as NOISE_OPTIONS
from engine.attacks.noise import build_noise
from engine.attacks.pgd import fgsm_l1, madry_alpha, pgd
from engine.attacks.torchattacks_wrappers import AUTOATTACK_STEPS, build_apgd, build_autoattack
from engine.attacks.torchattacks_wrappers import NORMS as TORCHATTACKS_NORMS
from engine.config.schema import MAX_STEPS, AttackConfig, AttackSweep, ConfigError, require
from engine.core.hashing import non_default

Attack = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
FAMILIES = ("single_step", "iterative", "minimal", "noise")
MAX_RESTARTS = 1_000
MAX_EPS_VALUES = 1_000  # radii of one sweep


@dataclass(frozen=True)
class AttackSpec:
    build: Callable[[nn.Module, AttackConfig, torch.Generator | None], Attack]
    norms: tuple[str, ...]  # threat models the attack supports
    default_alpha: Callable[[AttackConfig], float]  # step size when the config gives none
    # single_step: one gradient step; iterative: projected steps within eps; minimal: searches the
    # smallest perturbation, ignoring eps (eps may be inf; results are cut back per eps); noise: no gradient.
    family: str
    default_steps: int = 1  # iterations when the config leaves steps at 0
    options: dict[str, float] = field(default_factory=dict)  # attack-specific settings and defaults
    reaches_boundary: bool = False  # minimal: searched until the boundary is crossed (JSMA stops at gamma * d)

    @property
    def minimal(self) -> bool:
        return self.family == "minimal"

    @property
    def one_step(self) -> bool:
        return self.family in ("single_step", "noise")


def _gradient_attack(model: nn.Module, cfg: AttackConfig, generator: torch.Generator | None) -> Attack:
    return partial(pgd, model, norm=cfg.norm, eps=cfg.eps, alpha=step_size(cfg), steps=cfg.steps,
                   random_start=cfg.random_start, restarts=cfg.restarts, generator=generator)


def _fgsm(model: nn.Module, cfg: AttackConfig, generator: torch.Generator | None) -> Attack:
    """One step of size alpha (default eps); in L1 the exact steepest ascent within alpha (``fgsm_l1``)."""
    if cfg.norm != "L1":
        return _gradient_attack(model, cfg, generator)
    if cfg.random_start or cfg.restarts > 1:
        raise ValueError("fgsm in L1 is the exact steepest-ascent step from the clean image: it takes no "
                         "random_start or restarts (use pgd with steps = 1 for those)")
    return partial(fgsm_l1, model, eps=min(step_size(cfg), cfg.eps))


ATTACKS: dict[str, AttackSpec] = {
    # Goodfellow et al. 2015; in L2 the fast gradient method: one step of size eps; in L1 the exact
    # steepest ascent of the linearised loss (``fgsm_l1``).
    "fgsm": AttackSpec(_fgsm, ("Linf", "L2", "L1"), lambda cfg: cfg.eps, "single_step"),
    # Madry et al. 2018.
    "pgd": AttackSpec(_gradient_attack, ("Linf", "L2", "L1"), lambda cfg: madry_alpha(cfg.eps, iterations(cfg)),
                      "iterative", default_steps=10),
    # Moosavi-Dezfooli et al. 2016; steps caps the iterations; no step size.
    "deepfool": AttackSpec(build_deepfool, ("L2",), lambda cfg: 0.0, "minimal", default_steps=50,
                           options=DEEPFOOL_OPTIONS, reaches_boundary=True),
    # Carlini & Wagner 2017 with the binary search over c; steps = Adam iterations per search step.
    "cw": AttackSpec(build_cw, ("L2",), lambda cfg: 0.0, "minimal", default_steps=100, options=CW_OPTIONS,
                     reaches_boundary=True),
    # Rony et al. 2019's decoupled direction and norm; alpha: the first step's L2 length, cosine-annealed.
    "ddn": AttackSpec(build_ddn, ("L2",), lambda cfg: DDNSettings.alpha, "minimal", default_steps=DDNSettings.steps,
                      options=DDN_OPTIONS, reaches_boundary=True),
    # Papernot et al. 2016 over pixel pairs; eps counts changed pixel channels; alpha reports |theta|.
    "jsma": AttackSpec(build_jsma, ("L0",), theta_step, "minimal", options=JSMA_OPTIONS),
    # Croce & Hein 2020 through torchattacks; APGD's first step is 2 * eps, then adapted.
    "apgd": AttackSpec(build_apgd, TORCHATTACKS_NORMS, lambda cfg: 2 * cfg.eps, "iterative", default_steps=10),
    "autoattack": AttackSpec(build_autoattack, TORCHATTACKS_NORMS, lambda cfg: 0.0, "iterative",
                             default_steps=AUTOATTACK_STEPS),
    # Carlini et al. 2019's baseline: the best of options.draws random perturbations of norm eps.
    "noise": AttackSpec(build_noise, NOISE_NORMS, lambda cfg: cfg.eps, "noise", options=NOISE_OPTIONS),
}


# Attacks whose results changed with no change to their settings: the revision joins their settings'
# hash (``attack_settings``), so a rerun redoes exactly their sweeps. (name, norm) -> revision.
REVISIONS = {
    ("fgsm", "L1"): 2,  # 2: the exact steepest-ascent step; 1 was a sparse sign step of size eps
    ("cw", "L2"): 2,  # 2: an example leaves after 3 checks without progress; 1 left at its first stalled check
}


def attack_settings(cfg: AttackConfig) -> dict[str, Any]:
    """What decides an attack's results: its non-default settings, and its revision when it has one."""
    revision = REVISIONS.get((cfg.name, cfg.norm), 0)
    return non_default(cfg) | ({"revision": revision} if revision else {})


def spec_of(cfg: AttackConfig) -> AttackSpec:
    """The registry entry of ``cfg.name``; ``ConfigError`` for an unknown attack."""
    require(cfg.name in ATTACKS, "attack.name", f"one of {sorted(ATTACKS)}, got {cfg.name!r}")
    return ATTACKS[cfg.name]


def iterations(cfg: AttackConfig) -> int:
    """The steps the attack takes: the configured ones, or the attack's default."""
    return cfg.steps or spec_of(cfg).default_steps


def step_size(cfg: AttackConfig) -> float:
    """The absolute step an attack takes: the configured alpha or the attack's default."""
    return cfg.alpha or spec_of(cfg).default_alpha(cfg)


def sweep_key(sweep: AttackSweep) -> str:
    """Name of a sweep within a study, e.g. ``pgd-Linf-20steps-rs``."""
    start = "-rs" if sweep.random_start else ""
    restarts = f"-{sweep.restarts}restarts" if sweep.restarts > 1 else ""
    options = "".join(f"-{name}{value:g}" for name, value in sorted(sweep.options.items()))
    source = f"-from-{sweep.source}" if sweep.source else ""
    dataset = f"-on-{sweep.dataset}" if sweep.dataset else ""
    return f"{sweep.name}-{sweep.norm}-{iterations(sweep)}steps{start}{restarts}{options}{source}{dataset}"


def check_eps(eps: float, cfg: AttackConfig, path: str) -> None:
    """eps >= 0, finite unless the attack finds minimal perturbations, Linf eps <= 1."""
    finite = math.isfinite(eps) or (spec_of(cfg).minimal and eps == math.inf)
    require(finite and eps >= 0, path, f"eps must be a finite number >= 0, got {eps}")
    if cfg.norm == "Linf" and math.isfinite(eps):
        require(eps <= 1, path, f"Linf eps is in pixel units of [0, 1], got {eps} > 1")


def validate_attack(cfg: AttackConfig, path: str) -> None:
    """``ConfigError`` naming the field of ``cfg`` (an attack or a sweep) that the registry refuses."""
    require(cfg.name in ATTACKS, f"{path}.name", f"one of {sorted(ATTACKS)}, got {cfg.name!r}")
    spec = ATTACKS[cfg.name]
    require(cfg.norm in spec.norms, f"{path}.norm", f"{cfg.name} takes {spec.norms}, got {cfg.norm!r}")
    require(0 <= cfg.steps <= MAX_STEPS, f"{path}.steps",
            f"must be in [0, {MAX_STEPS}] (0 = the attack's default), got {cfg.steps}")
    require(iterations(cfg) == 1 or not spec.one_step, f"{path}.steps",
            f"{cfg.name} takes exactly one step, got {cfg.steps}")
    require(math.isfinite(cfg.alpha) and cfg.alpha >= 0, f"{path}.alpha",
            f"must be a finite number >= 0, got {cfg.alpha}")
    require(1 <= cfg.restarts <= MAX_RESTARTS, f"{path}.restarts",
            f"must be in [1, {MAX_RESTARTS}], got {cfg.restarts}")
    unknown = sorted(set(cfg.options) - set(spec.options))
    require(not unknown, f"{path}.options", f"{cfg.name} has no options {unknown}; known: {sorted(spec.options)}")
    if isinstance(cfg, AttackSweep):
        require(0 < len(cfg.eps) <= MAX_EPS_VALUES, f"{path}.eps",
                f"needs 1 to {MAX_EPS_VALUES} values, got {len(cfg.eps)}")
        for i, eps in enumerate(cfg.eps):
            check_eps(eps, cfg, f"{path}.eps[{i}]")
        _check_settings(cfg.at(cfg.eps[0]), path)
    else:
        check_eps(cfg.eps, cfg, f"{path}.eps")
        _check_settings(cfg, path)


def _check_settings(cfg: AttackConfig, path: str) -> None:
    """The attack's own checks of its settings and options (its builder's), run when the config loads:
    a builder only binds its settings, so an identity model stands in for the one attacked later."""
    try:
        ATTACKS[cfg.name].build(nn.Identity(), replace(cfg, steps=iterations(cfg)), None)
    except ValueError as error:
        raise ConfigError(f"{path}: {error}") from None


def make_attack(model: nn.Module, cfg: AttackConfig, generator: torch.Generator | None = None) -> Attack:
    """Build the attack ``cfg`` describes against ``model``; ``ValueError`` on bad parameters."""
    validate_attack(cfg, "attack")
    return ATTACKS[cfg.name].build(model, replace(cfg, steps=iterations(cfg)), generator)


