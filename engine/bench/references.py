"""torchattacks' counterparts of the bench's settings (``peers.Reference``s), built like the engine's attacks.

torchattacks' FGSM, PGD, C&W, DeepFool and JSMA take no seed: ``peers.seeded`` seeds torch's global
generator before each call (PGD's random start draws from it) and restores it, with every module's
train/eval mode, afterwards. APGD and AutoAttack are the engine's own wrappers, which hand a seed to
torchattacks. torchattacks is imported on first use, as in ``torchattacks_wrappers``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import torch
from torch import nn

from engine.attacks.options import merged_options
from engine.attacks.registry import ATTACKS, Attack, step_size
from engine.attacks.torchattacks_wrappers import build_apgd, build_autoattack
from engine.bench.peers import Build, Reference, seeded
from engine.config.schema import AttackConfig

if TYPE_CHECKING:
    from torchattacks.attack import Attack as TorchAttack

Make = Callable[[nn.Module, AttackConfig], "TorchAttack"]


def _made_and_run(make: Make, model: nn.Module, cfg: AttackConfig, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``make(model, cfg)`` run on x [N, C, H, W], y [N] (built after the seed is set)."""
    return make(model, cfg)(x, y)


def _build(make: Make, model: nn.Module, cfg: AttackConfig, generator: torch.Generator | None) -> Attack:
    """``attack(x, y)``: ``make(model, cfg)`` on x [N, C, H, W], y [N], seeded from ``generator``."""
    return seeded(model, partial(_made_and_run, make, model, cfg), generator)


def _fgsm(model: nn.Module, cfg: AttackConfig) -> TorchAttack:
    import torchattacks

    return torchattacks.FGSM(model, eps=cfg.eps)


def _pgd(model: nn.Module, cfg: AttackConfig) -> TorchAttack:
    import torchattacks

    return torchattacks.PGD(model, eps=cfg.eps, alpha=step_size(cfg), steps=cfg.steps, random_start=cfg.random_start)


def _pgdl2(model: nn.Module, cfg: AttackConfig) -> TorchAttack:
    import torchattacks

    return torchattacks.PGDL2(model, eps=cfg.eps, alpha=step_size(cfg), steps=cfg.steps,
                              random_start=cfg.random_start)


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


def _reference(make: Make, subset: bool = False, note: str = "", same_work: bool = True) -> Reference:
    build: Build = partial(_build, make)
    return Reference("torchattacks", build, subset, note, same_work)


FGSM = _reference(_fgsm)
PGD = _reference(_pgd)
PGDL2 = _reference(_pgdl2)
CW = _reference(_cw, note="no search over c: one run of steps Adam iterations at c = 1 (whole-batch early stop), "
                          "a ninth of our work, so never the fastest peer", same_work=False)
DEEPFOOL = _reference(_deepfool, subset=True, note="loops over single images; applies the overshoot per step")
JSMA = _reference(_jsma, subset=True, note="loops over single images; untargeted mode assumes 10 classes")
APGD = Reference("torchattacks", build_apgd, note="ours is the engine's wrapper of torchattacks' APGD")
AUTOATTACK = Reference("torchattacks", build_autoattack, note="ours is the engine's wrapper of torchattacks' parts")
