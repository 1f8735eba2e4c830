"""APGD and AutoAttack (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an
ensemble of diverse parameter-free attacks") through torchattacks, made safe for the engine.

torchattacks has side effects the engine does not want, and the wrappers undo them:

- it switches the model to eval mode for the attack and back with ``model.train()`` if it was
  training, which also flips submodules that were deliberately in eval mode: the wrappers record
  every module's mode and restore it exactly, also when the attack raises. The model's mode still
  changes *during* the attack, so a model shared between threads (the app's cached models) must be
  guarded by a lock around the whole call;
- it reseeds torch's global generator (``torch.manual_seed(seed)``): the wrappers fork the global
  random state so the caller's stream is untouched, and draw torchattacks' seed from the generator
  ``make_attack`` passes (the global one when none is given), one seed per call.

The engine's budget check accepts their outputs as they are: on a Fashion-MNIST LeNet5 (200 test
images, Linf 0.03, L2 0.1 to 3.0) every output lay in [0, 1], no L2 perturbation exceeded eps
and Linf ones exceeded it by at most 1.2e-9, far below ``BUDGET_TOLERANCE``; so no projection is
added. torchattacks is imported on first use: the rest of the engine works without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING

import torch
from torch import nn

from engine.config.schema import AttackConfig

if TYPE_CHECKING:
    from torchattacks.attack import Attack as TorchAttack

NORMS = ("Linf", "L2")
AUTOATTACK_STEPS = 100  # Croce & Hein 2020: iterations of APGD-CE, APGD-T and FAB-T in the standard version
SQUARE_QUERIES = 5_000  # and the queries of Square
SEED_RANGE = 2**31 - 1


@contextmanager
def preserved_state(model: nn.Module, device: torch.device) -> Iterator[None]:
    """Restore every submodule's train/eval mode and torch's global random state on exit."""
    modes = [(module, module.training) for module in model.modules()]
    devices = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        for module, training in modes:
            module.training = training


def draw_seed(generator: torch.Generator | None) -> int:
    """A seed for torchattacks drawn from ``generator`` (torch's global generator when None)."""
    return int(torch.randint(SEED_RANGE, (1,), generator=generator))


def run_torchattack(model: nn.Module, make: Callable[[int], TorchAttack], x: torch.Tensor,
                    y: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Run the torchattacks attack ``make(seed)`` on x [N, C, H, W] in [0, 1], y [N]; model state preserved."""
    seed = draw_seed(generator)
    with preserved_state(model, x.device):
        return make(seed)(x, y).detach()


@torch.no_grad()
def class_count(model: nn.Module, x: torch.Tensor) -> int:
    """Number of classes: the width of the model's output on one image of x [N, C, H, W]."""
    return model(x[:1]).shape[1]


def make_apgd(model: nn.Module, cfg: AttackConfig, seed: int) -> TorchAttack:
    """torchattacks' APGD with the cross-entropy loss, as ``cfg`` describes it."""
    import torchattacks

    return torchattacks.APGD(model, norm=cfg.norm, eps=cfg.eps, steps=cfg.steps, n_restarts=cfg.restarts,
                             seed=seed, loss="ce")


def _apgd_attack(model: nn.Module, cfg: AttackConfig, generator: torch.Generator | None,
                 x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return run_torchattack(model, partial(make_apgd, model, cfg), x, y, generator)


def make_autoattack(model: nn.Module, cfg: AttackConfig, classes: int, seed: int) -> TorchAttack:
    """Croce & Hein's standard AutoAttack against a model with ``classes`` outputs, from torchattacks' parts.

    APGD-CE, APGD-T and FAB-T run ``cfg.steps`` iterations each (the paper's 100 by default), the two
    targeted ones over the ``classes - 1`` most likely other classes (9 on 10 classes, as the paper),
    then Square with 5,000 queries; each attack runs on the images the ones before it left correct.
    ``torchattacks.AutoAttack`` builds the same ensemble with 10 iterations (its APGD default), which
    on the shipped Fashion-MNIST models left 0.5-1.5 points more accuracy than the paper's 100.
    """
    import torchattacks

    common = {"norm": cfg.norm, "eps": cfg.eps, "seed": seed, "n_restarts": 1}
    return torchattacks.MultiAttack([
        torchattacks.APGD(model, steps=cfg.steps, loss="ce", **common),
        torchattacks.APGDT(model, steps=cfg.steps, n_classes=classes, **common),
        torchattacks.FAB(model, steps=cfg.steps, multi_targeted=True, n_classes=classes, **common),
        torchattacks.Square(model, n_queries=SQUARE_QUERIES, **common),
    ])


def _autoattack_attack(model: nn.Module, cfg: AttackConfig, generator: torch.Generator | None,
                       x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    make = partial(make_autoattack, model, cfg, class_count(model, x))
    return run_torchattack(model, make, x, y, generator)


def build_apgd(model: nn.Module, cfg: AttackConfig,
               generator: torch.Generator | None = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """APGD with the cross-entropy loss: ``cfg.steps`` iterations, ``cfg.restarts`` restarts.

    APGD always starts from a random point of the ball and adapts its own step (from 2 * eps), so
    ``cfg.alpha`` must stay 0 and ``cfg.random_start`` is not read.
    """
    if cfg.alpha:
        raise ValueError(f"apgd adapts its own step size; alpha must be 0, got {cfg.alpha}")
    return partial(_apgd_attack, model, cfg, generator)


def build_autoattack(model: nn.Module, cfg: AttackConfig,
                     generator: torch.Generator | None = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Standard AutoAttack (``make_autoattack``): APGD-CE, APGD-T, FAB-T, Square, each on what the last left.

    ``cfg.steps`` is the iteration count of the three gradient attacks (the registry's default is the
    paper's 100); the number of classes is read off the model's output. The attacks choose their own
    steps and starts, so alpha, random_start and restarts must keep their defaults.
    """
    if cfg.alpha or cfg.random_start or cfg.restarts != 1:
        raise ValueError("autoattack sets its own step sizes, starts and restarts: leave alpha, random_start and "
                         f"restarts at their defaults; got {cfg.alpha}, {cfg.random_start}, {cfg.restarts}")
    return partial(_autoattack_attack, model, cfg, generator)
