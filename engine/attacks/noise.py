"""Random-noise baseline (Carlini et al. 2019, "On Evaluating Adversarial Robustness").

Each draw perturbs every image by a random vector of norm exactly eps, then clips to the pixel box
[0, 1]: random signs (+-eps per feature) in Linf, a uniform direction on the sphere in L2 and in L1.
Per example the first misclassified draw is kept, otherwise the draw with the highest
cross-entropy. A defence that noise breaks about as well as a gradient attack is suspicious: the
gradient attack is likely not working (gradient masking).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from engine.attacks.options import merged_options, reject_gradient_settings, whole_number
from engine.config.schema import AttackConfig
from engine.core.tensors import per_example

OPTIONS = {"draws": 10.0}
NORMS = ("Linf", "L2", "L1")


MAX_DRAWS = 10_000


def _check_draws(draws: int) -> None:
    if not 1 <= draws <= MAX_DRAWS:
        raise ValueError(f"noise needs draws in [1, {MAX_DRAWS}], got {draws}")


def _signs(shape: torch.Size, generator: torch.Generator | None) -> torch.Tensor:
    """Random +-1 entries of ``shape``: a uniform vertex of the Linf unit sphere per example."""
    return torch.randint(0, 2, shape, generator=generator).float() * 2 - 1


def _unit_rows(direction: torch.Tensor, p: int) -> torch.Tensor:
    """[N, ...] -> [N, ...] each example divided by its Lp norm (computed in float64)."""
    norms = direction.flatten(1).double().norm(p=p, dim=1).float()
    return direction / per_example(norms, direction)


def _gaussian(shape: torch.Size, generator: torch.Generator | None) -> torch.Tensor:
    """A uniform direction on the L2 unit sphere per example (a normalised Gaussian vector)."""
    return _unit_rows(torch.randn(shape, generator=generator), 2)


def _laplace(shape: torch.Size, generator: torch.Generator | None) -> torch.Tensor:
    """A uniform direction on the L1 unit sphere per example: normalised i.i.d. Laplace entries.

    Normalised exponential magnitudes are Dirichlet(1, ..., 1), uniform on the simplex.
    """
    magnitude = torch.empty(shape).exponential_(generator=generator)
    return _unit_rows(magnitude * _signs(shape, generator), 1)


UNIT_SPHERE: dict[str, Callable[[torch.Size, torch.Generator | None], torch.Tensor]] = {
    "Linf": _signs, "L2": _gaussian, "L1": _laplace,
}


def sphere_noise(shape: torch.Size, norm: str, eps: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random perturbation [N, ...] of ``shape`` on the CPU whose ``norm`` is exactly eps per example."""
    if norm not in UNIT_SPHERE:
        raise ValueError(f"noise has no norm {norm!r}; known: {sorted(UNIT_SPHERE)}")
    return eps * UNIT_SPHERE[norm](shape, generator)


@torch.no_grad()
def _scores(model: nn.Module, x_adv: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """[N] cross-entropy of x_adv [N, C, H, W], infinite where the model misclassifies it."""
    logits = model(x_adv)
    loss = F.cross_entropy(logits, y, reduction="none")
    return torch.where(logits.argmax(dim=1) != y, torch.inf, loss)


def noise(model: nn.Module, x: torch.Tensor, y: torch.Tensor, norm: str, eps: float, draws: int = 10,
          generator: torch.Generator | None = None) -> torch.Tensor:
    """Best of ``draws`` random perturbations of norm eps per example of x [N, C, H, W] in [0, 1], y [N].

    Returns x_adv [N, C, H, W] in [0, 1] with ||x_adv - x||_norm <= eps: the first misclassified
    draw, else the highest-loss one. Draws come one after another from ``generator`` (CPU), so
    the first k draws of a run with more draws are those of a run with k. ``model`` should be in
    eval mode. Costs ``draws`` forward passes and no backward pass.
    """
    _check_draws(draws)
    best, best_score = x, torch.full((len(x),), -torch.inf, device=x.device)
    for _ in range(draws):
        candidate = (x + sphere_noise(x.shape, norm, eps, generator).to(x)).clamp(0, 1)
        score = _scores(model, candidate, y)
        better = score > best_score  # a misclassified draw scores inf: later draws cannot beat it
        best = torch.where(per_example(better, x), candidate, best)
        best_score = torch.maximum(score, best_score)
    return best


def build_noise(model: nn.Module, cfg: AttackConfig,
                generator: torch.Generator | None = None) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The registry's builder: ``attack(x, y) -> x_adv`` with ``options.draws`` draws (default 10)."""
    reject_gradient_settings(cfg, "draws")
    draws = whole_number(merged_options(cfg, OPTIONS), "draws")
    _check_draws(draws)
    return partial(noise, model, norm=cfg.norm, eps=cfg.eps, draws=draws, generator=generator)
