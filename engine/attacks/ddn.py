"""Decoupled Direction and Norm (Rony, Hafemann, Oliveira, Ben Ayed, Sabourin & Granger 2019,
"Decoupling Direction and Norm for Efficient Gradient-Based L2 Adversarial Attacks and Defenses",
CVPR, Algorithm 1), untargeted, L2, batched over the whole batch.

DDN moves the direction and the norm of a perturbation delta separately. Each step takes the
gradient g of the cross-entropy at x + delta and adds alpha_k g / ||g||_2 to delta (the direction),
then rescales delta to the norm eps_k (the norm): eps shrinks by the factor 1 - gamma after an
adversarial iterate and grows by 1 + gamma after one the model still classifies correctly, so it
oscillates around the distance to the boundary along the current direction while the direction
turns towards a closer crossing. x + delta is clipped to [0, 1] after every step. alpha_k is
cosine-annealed from alpha to alpha / 100 (the paper's 1 to 0.01) and eps starts at init_norm.
Every iterate is judged and the smallest adversarial one is kept.

The paper's optional quantisation to 256 levels is left out: the engine judges float images, as it
does C&W's and DeepFool's, and rounding to levels would only lengthen the perturbations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn
from torch.nn import functional as F

from engine.attacks.options import merged_options, option_defaults
from engine.config.schema import AttackConfig
from engine.core.tensors import per_example

FINAL_ALPHA_FRACTION = 0.01  # alpha at the last step, relative to the first (the paper's 1 -> 0.01)


@dataclass(frozen=True)
class DDNSettings:
    # steps: on the shipped Fashion-MNIST models (first 500 test images; resnet_pgd_l2 first 100) 100 steps
    # came within 1.8 % of a 1000-step run in median and mean L2 (pgd_l2 1.918 vs 1.916, standard 0.535 vs
    # 0.533, robust_l2, pgd_linf, resnet_pgd_l2), all at 100 % success; 50 steps were 5.8 % off in mean on pgd_l2
    steps: int = 100
    alpha: float = 1.0  # L2 length of the first direction step, cosine-annealed to alpha / 100
    gamma: float = 0.05  # norm update: eps *= 1 - gamma after an adversarial iterate, 1 + gamma otherwise
    init_norm: float = 1.0  # eps_0: the first step rescales delta to eps_0 * (1 + gamma)

    def validate(self) -> None:
        """Raise ``ValueError`` on a setting outside its range."""
        finite = all(math.isfinite(value) for value in (self.alpha, self.gamma, self.init_norm))
        if not (self.steps >= 1 and finite and self.alpha > 0 and 0 < self.gamma < 1 and self.init_norm > 0):
            raise ValueError(f"ddn needs steps >= 1, finite alpha > 0, gamma in (0, 1) and init_norm > 0, "
                             f"got {self.steps}, {self.alpha}, {self.gamma}, {self.init_norm}")

    def alpha_at(self, step: int) -> float:
        """The direction step's length at ``step`` (0 to steps - 1): cosine annealing from alpha to alpha / 100."""
        final = self.alpha * FINAL_ALPHA_FRACTION
        return final + (self.alpha - final) * (1 + math.cos(math.pi * step / self.steps)) / 2


OPTIONS = option_defaults(DDNSettings, "steps", "alpha")  # steps and alpha are the config's own fields


def _unit_rows(v: torch.Tensor) -> torch.Tensor:
    """v [M, ...] scaled to unit L2 norm per example (zero rows stay zero)."""
    return v / per_example(v.flatten(1).norm(dim=1).clamp_min(1e-12), v)


def _direction(grad: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Unit-norm ascent directions [M, C, H, W]: grad's, or a random one where grad [M, C, H, W] vanished
    (a saturated softmax), as in the paper's code."""
    flat = grad.flatten(1).norm(dim=1) == 0
    if flat.any():
        noise = torch.randn((int(flat.sum()), *grad.shape[1:]), generator=generator, device="cpu")
        grad = grad.clone()
        grad[flat] = noise.to(grad)
    return _unit_rows(grad)


@torch.enable_grad()  # attacks need input gradients even when called under no_grad
def _judge_and_gradient(model: nn.Module, x_adv: torch.Tensor,
                        y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Whether the model misclassifies x_adv [M, C, H, W] (bool [M]), and the input gradient of the
    cross-entropy [M, C, H, W] (summed over the batch: in eval mode examples do not interact)."""
    x_adv = x_adv.detach().requires_grad_(True)
    logits = model(x_adv)
    grad = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), x_adv)[0]
    return logits.argmax(dim=1).ne(y).detach(), grad


def _keep_smaller(best: torch.Tensor, best_l2: torch.Tensor, x: torch.Tensor, delta: torch.Tensor,
                  adversarial: torch.Tensor) -> None:
    """Store x + delta [M, C, H, W] in ``best`` (and its norm in ``best_l2`` [M]) where it is adversarial
    (bool [M]) and smaller than the best so far."""
    l2 = delta.flatten(1).norm(dim=1)
    better = adversarial & (l2 < best_l2)
    best_l2[better], best[better] = l2[better], x[better] + delta[better]


def _search(model: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: DDNSettings,
            generator: torch.Generator | None) -> torch.Tensor:
    """DDN's iterations on x [M, C, H, W] with labels y [M]: the smallest adversarial x' [M, C, H, W]
    among the iterates, x where none was adversarial."""
    best, best_l2 = x.clone(), torch.full((len(x),), math.inf, device=x.device)
    delta = torch.zeros_like(x)
    eps = torch.full((len(x),), settings.init_norm, device=x.device)
    farthest = torch.maximum(x, 1 - x).flatten(1).norm(dim=1)  # no point of the box is farther from x
    for step in range(settings.steps):
        adversarial, grad = _judge_and_gradient(model, x + delta, y)
        _keep_smaller(best, best_l2, x, delta, adversarial)
        delta = delta + settings.alpha_at(step) * _direction(grad, generator)
        factor = torch.where(adversarial, 1 - settings.gamma, 1 + settings.gamma)
        eps = torch.minimum(eps * factor, farthest)
        delta = (x + per_example(eps, x) * _unit_rows(delta)).clamp(0, 1) - x
    with torch.no_grad():
        _keep_smaller(best, best_l2, x, delta, model(x + delta).argmax(dim=1) != y)
    return best


def ddn(model: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: DDNSettings = DDNSettings(),
        generator: torch.Generator | None = None) -> torch.Tensor:
    """Untargeted DDN on x [N, C, H, W] in [0, 1] with labels y [N].

    Returns x_adv [N, C, H, W] in [0, 1]: the smallest adversarial iterate per example, x itself where
    none was found or the model already misclassifies x. ``generator`` draws the random directions
    taken where the gradient vanishes. ``model`` must be in eval mode.
    """
    settings.validate()
    with torch.no_grad():
        rows = (model(x).argmax(dim=1) == y).nonzero().squeeze(1)
    x_adv = x.clone()
    if len(rows):
        x_adv[rows] = _search(model, x[rows], y[rows], settings, generator)
    return x_adv


def settings_from_config(cfg: AttackConfig) -> DDNSettings:
    """DDNSettings from ``cfg.steps``, ``cfg.alpha`` (0: the default 1) and ``cfg.options``; ``ValueError``
    on a bad value, or on random_start or restarts, which DDN has no use for (it starts from x)."""
    if cfg.random_start or cfg.restarts != 1:
        raise ValueError(f"ddn takes no random_start or restarts (it starts from x and keeps its smallest "
                         f"success), got {cfg.random_start}, {cfg.restarts}")
    options = merged_options(cfg, OPTIONS)
    settings = DDNSettings(cfg.steps, cfg.alpha or DDNSettings.alpha, options["gamma"], options["init_norm"])
    settings.validate()
    return settings


def build_ddn(model: nn.Module, cfg: AttackConfig,
              generator: torch.Generator | None = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The registry's builder: an untargeted ``attack(x, y) -> x_adv``; the engine applies eps."""
    return partial(ddn, model, settings=settings_from_config(cfg), generator=generator)
