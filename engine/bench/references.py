"""torchattacks' counterparts of the bench's settings, built like the engine's attacks.

Each build here has the registry's protocol, ``build(model, cfg, generator) -> attack(x, y) -> x_adv``,
and runs torchattacks through ``run_torchattack``: every module's train/eval mode and torch's global
random state are restored, and each call draws one seed from ``generator``. torchattacks' FGSM, PGD,
C&W, DeepFool and JSMA take no seed, so torch's global generator is seeded with it (PGD's random start
draws from it); APGD and AutoAttack are the engine's own wrappers, which hand the seed to torchattacks.
torchattacks is imported on first use, as in ``torchattacks_wrappers``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import torch
from torch import nn

from engine.attacks.options import merged_options
from engine.attacks.registry import ATTACKS, Attack, step_size
from engine.attacks.torchattacks_wrappers import build_apgd, build_autoattack, run_torchattack
from engine.config.schema import AttackConfig

if TYPE_CHECKING:
    from torchattacks.attack import Attack as TorchAttack

Make = Callable[[nn.Module, AttackConfig], "TorchAttack"]
Build = Callable[[nn.Module, AttackConfig, torch.Generator | None], Attack]


def _globally_seeded(make: Make, model: nn.Module, cfg: AttackConfig, seed: int) -> TorchAttack:
    """``make(model, cfg)`` with torch's global generator seeded (``run_torchattack`` restores it)."""
    torch.manual_seed(seed)
    return make(model, cfg)


def _seeded_build(make: Make, model: nn.Module, cfg: AttackConfig, generator: torch.Generator | None) -> Attack:
    """``attack(x, y)``: ``make(model, cfg)`` run on x [N, C, H, W], y [N], seeded from ``generator``."""
    return partial(run_torchattack, model, partial(_globally_seeded, make, model, cfg), generator=generator)


def _fgsm(model: nn.Module, cfg: AttackConfig) -> TorchAttack:
    import torchattacks

    return torchattacks.FGSM(model, eps=cfg.eps)


def _pgd(model: nn.Module, cfg: AttackConfig) -> TorchAttack:
    import torchattacks

    return torchattacks.PGD(model, eps=cfg.eps, alpha=step_size(cfg), steps=cfg.steps, random_start=True)


def _pgdl2(model: nn.Module, cfg: AttackConfig) -> TorchAttack:
    import torchattacks

    return torchattacks.PGDL2(model, eps=cfg.eps, alpha=step_size(cfg), steps=cfg.steps, random_start=True)


def _cw(model: nn.Module, cfg: AttackConfig) -> TorchAttack:
    """torchattacks' C&W has no search over c: one run at c = 1 with our confidence, steps and lr."""
    import torchattacks

    options = merged_options(cfg, ATTACKS["cw"].options)
    return torchattacks.CW(model, c=1.0, kappa=options["confidence"], steps=cfg.steps, lr=options["lr"])


def _deepfool(model: nn.Module, cfg: AttackConfig) -> TorchAttack:
    import torchattacks

    options = merged_options(cfg, ATTACKS["deepfool"].options)
    return torchattacks.DeepFool(model, steps=cfg.steps, overshoot=options["overshoot"])


def _jsma(model: nn.Module, cfg: AttackConfig) -> TorchAttack:
    import torchattacks

    options = merged_options(cfg, ATTACKS["jsma"].options)
    return torchattacks.JSMA(model, theta=options["theta"], gamma=options["gamma"])


fgsm: Build = partial(_seeded_build, _fgsm)
pgd: Build = partial(_seeded_build, _pgd)
pgdl2: Build = partial(_seeded_build, _pgdl2)
cw: Build = partial(_seeded_build, _cw)
deepfool: Build = partial(_seeded_build, _deepfool)
jsma: Build = partial(_seeded_build, _jsma)
apgd: Build = build_apgd
autoattack: Build = build_autoattack
