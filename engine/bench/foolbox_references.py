"""Foolbox 3's counterparts of the bench's settings (``peers.Reference``s), with our settings.

Each build wraps the model once in ``foolbox.PyTorchModel(model, bounds=(0, 1))`` and returns
``attack(x, y) -> x_adv``: Foolbox's output clipped to the eps-ball (its ``clipped`` result;
minimal attacks run with ``epsilons=None``, unbounded). Foolbox draws its random starts from torch's
global generator, which ``peers.seeded`` seeds per call. Foolbox is imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from torch import nn

from engine.attacks.norms import SPARSE_QUANTILE
from engine.attacks.options import merged_options
from engine.attacks.registry import ATTACKS, Attack, step_size
from engine.bench.peers import Build, Reference, seeded
from engine.config.schema import AttackConfig

Make = Callable[[AttackConfig], Any]  # cfg -> Foolbox's attack


def _run(fmodel: Any, attack: Any, epsilons: float | None, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Foolbox's ``attack`` on x [N, C, H, W], y [N]: its output clipped to ``epsilons`` (None: unbounded)."""
    return attack(fmodel, x, y, epsilons=epsilons)[1]


def _build(make: Make, bounded: bool, model: nn.Module, cfg: AttackConfig, generator: torch.Generator | None) -> Attack:
    """``attack(x, y)``: Foolbox's ``make(cfg)`` against ``model``, at eps when ``bounded``, seeded per call."""
    import foolbox

    device = next(model.parameters()).device
    fmodel = foolbox.PyTorchModel(model, bounds=(0, 1), device=device)
    return seeded(model, partial(_run, fmodel, make(cfg), cfg.eps if bounded else None), generator)


def _fgm(cfg: AttackConfig) -> Any:
    """One step of size eps (Foolbox's FGM steps rel_stepsize 1 * eps); dense in L1: eps * grad / ||grad||_1."""
    import foolbox

    attack: Any = {"Linf": foolbox.attacks.LinfFastGradientAttack, "L2": foolbox.attacks.L2FastGradientAttack,
                   "L1": foolbox.attacks.L1FastGradientAttack}[cfg.norm]
    return attack(random_start=cfg.random_start)


def _pgd(cfg: AttackConfig) -> Any:
    import foolbox

    attack: Any = {"Linf": foolbox.attacks.LinfPGD, "L2": foolbox.attacks.L2PGD}[cfg.norm]
    return attack(abs_stepsize=step_size(cfg), steps=cfg.steps, random_start=cfg.random_start)


def _sparse_l1(cfg: AttackConfig) -> Any:
    import foolbox

    return foolbox.attacks.SparseL1DescentAttack(quantile=SPARSE_QUANTILE, abs_stepsize=step_size(cfg),
                                                 steps=cfg.steps, random_start=cfg.random_start)


def _cw(cfg: AttackConfig) -> Any:
    import foolbox

    options = merged_options(cfg, ATTACKS["cw"].options)
    return foolbox.attacks.L2CarliniWagnerAttack(
        binary_search_steps=int(options["search_steps"]), steps=cfg.steps, stepsize=options["lr"],
        confidence=options["confidence"], initial_const=options["initial_const"],
        abort_early=bool(options["abort_early"]))


def _deepfool(cfg: AttackConfig) -> Any:
    import foolbox

    options = merged_options(cfg, ATTACKS["deepfool"].options)
    return foolbox.attacks.L2DeepFoolAttack(steps=cfg.steps, candidates=int(options["candidates"]),
                                            overshoot=options["overshoot"])


def _ddn(cfg: AttackConfig, steps: int | None = None) -> Any:
    """Foolbox's DDN has no alpha: its first step is 1 (our default), cosine-annealed to 0.01 as ours; ``steps``
    replaces the setting's."""
    import foolbox

    options = merged_options(cfg, ATTACKS["ddn"].options)
    return foolbox.attacks.DDNAttack(init_epsilon=options["init_norm"], steps=steps or cfg.steps,
                                     gamma=options["gamma"])


def _reference(make: Make, bounded: bool = True, note: str = "", same_work: bool = True,
               variant: str = "") -> Reference:
    build: Build = partial(_build, make, bounded)
    return Reference("foolbox", build, note=note, same_work=same_work, variant=variant)


FGM = _reference(_fgm)
FGM_L1 = _reference(_fgm, note="dense step eps * grad / ||grad||_1 (ours: the exact steepest ascent in the box)")
PGD = _reference(_pgd)
PGD_L1 = _reference(_sparse_l1, note="SparseL1DescentAttack: projects onto the L1 ball, then clips to the box "
                                     "(ours: onto their intersection); keeps every |grad| >= the quantile")
CW = _reference(_cw, bounded=False, note="no early abort per example: the whole batch stops together")
DEEPFOOL = _reference(_deepfool, bounded=False)
DDN = _reference(_ddn, bounded=False)
DDN_STRENGTH_STEPS = 1_000  # Rony et al. 2019's longest runs: the reference for how small a minimal L2 can get
DDN_1000 = _reference(partial(_ddn, steps=DDN_STRENGTH_STEPS), bounded=False, same_work=False,
                      variant=f"{DDN_STRENGTH_STEPS:,} steps",
                      note="the strength reference (its median norm), not a speed peer")
