"""ART's (adversarial-robustness-toolbox) counterparts of the bench's settings (``peers.Reference``s).

ART attacks an estimator, ``PyTorchClassifier(model, CrossEntropyLoss, input_shape, nb_classes,
clip_values=(0, 1))``, on NumPy arrays: the attack here converts x and y to NumPy and the result back,
as a user of ART does, and that conversion is part of ART's time. The estimator and ART's attack are
built on the first call, when x's shape gives the input shape (the class count is read off the model's
output), with a batch size of the whole batch, and reused while x's shape stays. ART draws its random
starts and JSMA's random targets from NumPy's global generator, which ``peers.seeded`` seeds per call.

Not compared: ART's AutoAttack, whose default ensemble (APGD-CE and APGD-DLR, DeepFool, Square...)
is not Croce & Hein's standard one that ours runs. ART is imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.attacks.options import merged_options
from engine.attacks.registry import ATTACKS, Attack, step_size
from engine.attacks.torchattacks_wrappers import class_count
from engine.bench.peers import Build, Reference, seeded
from engine.config.schema import AttackConfig

NORMS = {"Linf": np.inf, "L2": 2, "L1": 1}
Make = Callable[[Any, AttackConfig, int], Any]  # (estimator, cfg, batch size) -> ART attack


class _ArtAttack:
    """``attack(x, y) -> x_adv`` for ART's ``make(estimator, cfg, len(x))``, built on the first call."""

    def __init__(self, make: Make, model: nn.Module, cfg: AttackConfig, labelled: bool) -> None:
        self.make, self.model, self.cfg, self.labelled = make, model, cfg, labelled
        self.built: tuple[tuple[int, ...], Any] | None = None  # (x's shape, ART's attack)

    def _attack(self, x: torch.Tensor) -> Any:
        """ART's attack for batches shaped like x [N, C, H, W], built once per shape."""
        if self.built is None or self.built[0] != tuple(x.shape):
            from art.estimators.classification import PyTorchClassifier

            estimator = PyTorchClassifier(self.model, loss=nn.CrossEntropyLoss(), input_shape=tuple(x.shape[1:]),
                                          nb_classes=class_count(self.model, x), clip_values=(0.0, 1.0),
                                          device_type="gpu" if x.device.type == "cuda" else "cpu")
            self.built = (tuple(x.shape), self.make(estimator, self.cfg, len(x)))
        return self.built[1]

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """x [N, C, H, W] in [0, 1], y [N] -> ART's x_adv [N, C, H, W] on x's device (y is not given to an
        attack that reads it as targets)."""
        labels = y.cpu().numpy() if self.labelled else None
        return torch.from_numpy(self._attack(x).generate(x.cpu().numpy(), labels)).to(x.device)


def _build(make: Make, labelled: bool, model: nn.Module, cfg: AttackConfig,
           generator: torch.Generator | None) -> Attack:
    return seeded(model, _ArtAttack(make, model, cfg, labelled), generator)


def _fgm(estimator: Any, cfg: AttackConfig, batch: int) -> Any:
    """One step of size eps: sign(grad) in Linf, grad / ||grad||_p in Lp."""
    from art.attacks.evasion import FastGradientMethod

    return FastGradientMethod(estimator, norm=NORMS[cfg.norm], eps=cfg.eps, batch_size=batch)


def _pgd(estimator: Any, cfg: AttackConfig, batch: int) -> Any:
    from art.attacks.evasion import ProjectedGradientDescentPyTorch

    return ProjectedGradientDescentPyTorch(estimator, norm=NORMS[cfg.norm], eps=cfg.eps, eps_step=step_size(cfg),
                                           max_iter=cfg.steps, num_random_init=cfg.restarts * cfg.random_start,
                                           batch_size=batch, verbose=False)


def _cw(estimator: Any, cfg: AttackConfig, batch: int) -> Any:
    from art.attacks.evasion import CarliniL2Method

    options = merged_options(cfg, ATTACKS["cw"].options)
    return CarliniL2Method(estimator, confidence=options["confidence"], learning_rate=options["lr"],
                           binary_search_steps=int(options["search_steps"]), max_iter=cfg.steps,
                           initial_const=options["initial_const"], batch_size=batch, verbose=False)


def _deepfool(estimator: Any, cfg: AttackConfig, batch: int) -> Any:
    from art.attacks.evasion import DeepFool

    options = merged_options(cfg, ATTACKS["deepfool"].options)
    return DeepFool(estimator, max_iter=cfg.steps, epsilon=options["overshoot"], nb_grads=int(options["candidates"]),
                    batch_size=batch, verbose=False)


def _jsma(estimator: Any, cfg: AttackConfig, batch: int) -> Any:
    from art.attacks.evasion import SaliencyMapMethod

    options = merged_options(cfg, ATTACKS["jsma"].options)
    return SaliencyMapMethod(estimator, theta=options["theta"], gamma=options["gamma"], batch_size=batch,
                             verbose=False)


def _apgd(estimator: Any, cfg: AttackConfig, batch: int) -> Any:
    """Croce & Hein's APGD with the cross-entropy loss, first step 2 * eps as theirs (and torchattacks')."""
    from art.attacks.evasion import AutoProjectedGradientDescent

    return AutoProjectedGradientDescent(estimator, norm=NORMS[cfg.norm], eps=cfg.eps, eps_step=2 * cfg.eps,
                                        max_iter=cfg.steps, nb_random_init=cfg.restarts, batch_size=batch,
                                        loss_type="cross_entropy", verbose=False)


def _reference(make: Make, labelled: bool = True, subset: bool = False, note: str = "") -> Reference:
    build: Build = partial(_build, make, labelled)
    return Reference("art", build, subset, note)


FGM = _reference(_fgm)
FGM_L1 = _reference(_fgm, note="dense step eps * grad / ||grad||_1 (ours: the exact steepest ascent in the box)")
PGD = _reference(_pgd)
PGD_L1 = _reference(_pgd, note="each step moves the one pixel of largest |grad| by alpha (ours: the top 1 %) and "
                                "projects by radial rescaling (ours: exactly onto the ball and the box)")
CW = _reference(_cw, subset=True, note="gradient descent with a line search (up to 5 halvings and 5 doublings "
                                          "per step), no Adam, no early abort; slow, so timed on a subset")
DEEPFOOL = _reference(_deepfool)
APGD = _reference(_apgd)
JSMA = _reference(_jsma, labelled=False, note="targeted only: a random target class per image (ours: untargeted)")
