"""Projected gradient descent on the loss, one loop for every norm (Madry et al. 2018).

FGSM (Goodfellow et al. 2015) and its L2 analogue, the fast gradient method, are the one-step
case: alpha = eps, no random start. Random restarts keep the worst case per example. FGSM in L1 is
its own step (``fgsm_l1``): the exact steepest ascent of the linearised loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.attacks.norms import NORM_STEPS, NormStep, steepest_l1_box


def madry_alpha(eps: float, steps: int) -> float:
    """Madry et al.'s step, 2.5 * eps / steps: enough to cross the ball from a random start."""
    return 2.5 * eps / steps


def _to_box(x: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    """The part of delta that keeps x + delta inside the pixel box [0, 1], written into ``delta``."""
    return delta.add_(x).clamp_(0, 1).sub_(x)


@torch.enable_grad()  # attacks need input gradients even when called under no_grad
def input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """d(sum of cross-entropy)/dx for a batch x [N, C, H, W] with labels y [N]."""
    x = x.detach().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction="sum")
    return torch.autograd.grad(loss, x)[0]


def _one_run(model: nn.Module, x: torch.Tensor, y: torch.Tensor, step: NormStep, eps: float,
             alpha: float, steps: int, random_start: bool, generator: torch.Generator | None) -> torch.Tensor:
    """One projected-gradient run from x [N, C, H, W] (or a random start around it) -> x_adv [N, C, H, W].

    The loop owns delta and each step's direction, so it updates them in place: an Linf step makes four
    fresh tensors (x + delta, the gradient, its sign, the projection) where it made eight, and on CPU a
    fresh 800 kB tensor costs page faults as well as its pass. The arithmetic is unchanged to the bit:
    delta += alpha * direction, projection, then x + delta clamped minus x.
    """
    delta = _to_box(x, step.random_init(x, eps, generator)) if random_start else None
    for _ in range(steps):
        x_adv = x if delta is None else x + delta
        moved = step.ascent_direction(input_gradient(model, x_adv, y), x_adv).mul_(alpha)
        delta = _to_box(x, step.project(moved if delta is None else moved.add_(delta), eps, x))
    return x.clone() if delta is None else x + delta


@torch.no_grad()
def _worse(model: nn.Module, x_new: torch.Tensor, x_old: torch.Tensor, y: torch.Tensor,
           loss_old: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per example, keep the adversarial input with the higher loss; misclassified counts as infinite."""
    logits = model(x_new)
    loss_new = F.cross_entropy(logits, y, reduction="none")
    loss_new = torch.where(logits.argmax(1) != y, torch.inf, loss_new)
    better = loss_new > loss_old
    return torch.where(better.view(-1, 1, 1, 1), x_new, x_old), torch.maximum(loss_new, loss_old)


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, norm: str, eps: float, alpha: float,
        steps: int, random_start: bool = False, restarts: int = 1,
        generator: torch.Generator | None = None) -> torch.Tensor:
    """Maximise the cross-entropy of ``model`` in the ``norm`` ball of radius ``eps`` around x.

    x: float [N, C, H, W] in [0, 1]; y: int64 [N]. Returns x_adv [N, C, H, W] in [0, 1] with
    ||x_adv - x||_norm <= eps. ``model`` should be in eval mode.
    """
    step = NORM_STEPS[norm]()
    best = _one_run(model, x, y, step, eps, alpha, steps, random_start, generator)
    if restarts == 1:
        return best
    best_loss = torch.full((len(x),), -torch.inf, device=x.device)
    best, best_loss = _worse(model, best, best, y, best_loss)
    for _ in range(restarts - 1):
        candidate = _one_run(model, x, y, step, eps, alpha, steps, random_start, generator)
        best, best_loss = _worse(model, candidate, best, y, best_loss)
    return best


def fgsm_l1(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """One-step L1 attack: x + the exact maximiser of the linearised loss <grad, d> over the L1 ball of
    radius ``eps`` intersected with the pixel box (``steepest_l1_box``), so it spends its whole budget
    (unless the box holds less).

    x: float [N, C, H, W] in [0, 1]; y: int64 [N] -> x_adv [N, C, H, W]. Foolbox's dense L1 fast
    gradient method instead steps eps * grad / ||grad||_1, spreading the budget over every pixel in
    proportion to |grad|, and loses what the box clips; the sparse sign steps of PGD-L1 (SLIDE) move
    the top 1 % of pixels by eps / 8 each, so as one step of size eps the box caps ||d||_1 at 8 on a
    28 x 28 image. The linear program's optimum is the steepest ascent both approximate.
    """
    return x + _to_box(x, steepest_l1_box(input_gradient(model, x, y), eps, -x, 1 - x))
