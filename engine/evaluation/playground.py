"""The attack playground's computation: one image attacked live on one model (no Streamlit).

The attack is judged from outside by the sweeps' own rule (``engine.evaluation.budget.cut_back``):
a minimal-perturbation attack is cut back to eps, and the result is budget-checked. Without a true
label (an uploaded image), the attack pushes the image away from the model's own clean prediction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig
from engine.evaluation.budget import cut_back


@dataclass(frozen=True)
class PlaygroundResult:
    x: torch.Tensor  # [1, C, H, W] the model input
    x_adv: torch.Tensor  # [1, C, H, W] the budget-checked adversarial input
    clean_probs: np.ndarray  # [K] softmax on x
    adv_probs: np.ndarray  # [K] softmax on x_adv
    label: int  # the class the attack pushes away from
    perturbation: float  # ||x_adv - x|| in the attack's norm
    seconds: float  # time inside the attack

    @property
    def clean_pred(self) -> int:
        return int(self.clean_probs.argmax())

    @property
    def adv_pred(self) -> int:
        return int(self.adv_probs.argmax())


@torch.no_grad()
def probabilities(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """Softmax [K] of ``model`` on one image x [1, C, H, W]."""
    return torch.softmax(model(x), dim=1)[0].cpu().numpy()


def attack_image(model: nn.Module, x: torch.Tensor, cfg: AttackConfig, label: int | None = None,
                 seed: int = 0) -> PlaygroundResult:
    """Attack one image x [1, C, H, W] in [0, 1] on ``model`` (eval mode) with ``cfg``.

    ``label`` is the true class when known; otherwise the model's clean prediction is attacked.
    Raises ``ValueError`` on bad attack settings.
    """
    model.eval()
    clean = probabilities(model, x)
    target = int(clean.argmax()) if label is None else label
    attack = make_attack(model, cfg, torch.Generator().manual_seed(seed))
    start = time.perf_counter()
    x_adv = attack(x, torch.tensor([target], device=x.device))
    seconds = time.perf_counter() - start
    x_adv, largest = cut_back(x, x_adv, cfg)
    return PlaygroundResult(x, x_adv.detach(), clean, probabilities(model, x_adv), target, largest, seconds)


def amplified(x: torch.Tensor, x_adv: torch.Tensor) -> np.ndarray:
    """The perturbation of one image, x and x_adv [1, C, H, W], scaled to fill [0, 1] around grey 0.5:
    [H, W, C] (0.5 = unchanged)."""
    delta = (x_adv - x)[0].permute(1, 2, 0).cpu().numpy()
    largest = float(np.abs(delta).max())
    return 0.5 + delta / (2 * largest) if largest > 0 else np.full_like(delta, 0.5)
