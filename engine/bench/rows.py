"""One row of the bench: our attack and torchattacks' on the same model and images, timed and judged."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from torch import nn

from engine.attacks.registry import ATTACKS, make_attack
from engine.bench.entries import BenchSetting
from engine.bench.measure import Measurement, efficiency, gradient_seconds, measure
from engine.config.schema import AttackConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchRow:
    attack: str
    norm: str
    eps: float | None  # None: unbounded (a minimal-perturbation attack)
    steps: int
    options: dict[str, float]
    ours: Measurement
    torchattacks: Measurement | None  # None: torchattacks has no such attack
    passes: float | None  # forward+backward passes of our run; None: no limit quoted
    limit_images_per_second: float | None  # N / (passes * forward+backward time at N)
    efficiency: float | None  # limit time / our time
    torchattacks_efficiency: float | None
    speedup: float | None  # our images/s over torchattacks'
    forward_backward_seconds: float  # one input-gradient forward+backward at N, measured just before
    note: str = ""


def _reference_measurement(setting: BenchSetting, model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                           repeats: int, subset: int) -> Measurement | None:
    """torchattacks' run of ``setting``, on the first ``subset`` images if it loops per image."""
    reference = setting.reference
    if reference is None:
        return None
    n = min(subset, len(x)) if reference.per_image else len(x)
    attack = reference.build(model, setting.config, torch.Generator().manual_seed(0))
    return measure(attack, model, x[:n], y[:n], setting.config, repeats)[0]


def _subset_note(fooled: torch.Tensor | None, theirs: Measurement | None, total: int) -> str:
    """Where torchattacks ran on fewer images: how many, and our success on those (fooled: bool [total])."""
    if theirs is None or theirs.images == total or fooled is None:
        return ""
    n = theirs.images
    return f"torchattacks timed and judged on the first {n} images (ours there: {fooled[:n].float().mean():.1%})"


def _their_efficiency(setting: BenchSetting, theirs: Measurement | None, total: int,
                      fb_seconds: float) -> float | None:
    """torchattacks' efficiency, quoted only for a run timed on the full batch of ``total`` images."""
    if theirs is None or theirs.images != total:
        return None
    return efficiency(setting.entry.run_passes(setting.config, theirs.gradient_forwards), fb_seconds, theirs)


def _eps(cfg: AttackConfig) -> float | None:
    """The radius, or None for a minimal-perturbation attack (unbounded)."""
    return None if ATTACKS[cfg.name].minimal else cfg.eps


def bench_setting(setting: BenchSetting, model: nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int,
                  subset: int) -> BenchRow:
    """Our attack and torchattacks' on x [N, C, H, W], y [N], timed and judged.

    The forward+backward time is measured right before, so that a drifting load on a shared
    machine moves the limit and the attacks together.
    """
    cfg = setting.config
    log.info("bench %s %s", cfg.name, cfg.norm)
    fb_seconds = gradient_seconds(model, x, y, repeats)
    ours, fooled = measure(make_attack(model, cfg, torch.Generator().manual_seed(0)), model, x, y, cfg, repeats)
    theirs = _reference_measurement(setting, model, x, y, repeats, subset)
    passes = setting.entry.run_passes(cfg, ours.gradient_forwards)
    limit = None if passes is None else len(x) / (passes * fb_seconds)
    speedup = None if theirs is None else ours.images_per_second / theirs.images_per_second
    return BenchRow(cfg.name, cfg.norm, _eps(cfg), cfg.steps, cfg.options, ours, theirs, passes, limit,
                    efficiency(passes, fb_seconds, ours), _their_efficiency(setting, theirs, len(x), fb_seconds),
                    speedup, fb_seconds, _subset_note(fooled, theirs, len(x)))
