"""The attack playground's computation: one image attacked live on one model (no Streamlit).

The attack is judged from outside by the sweeps' own rule (``engine.evaluation.budget.cut_back``):
a minimal-perturbation attack is cut back to eps, and the result is budget-checked. Without a true
label (an uploaded image), the attack pushes the image away from the model's own clean prediction.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import torch
from PIL import Image
from torch import nn

from engine.attacks.registry import make_attack
from engine.config.schema import AttackConfig
from engine.data.split import to_uint8
from engine.evaluation.budget import cut_back


class Verdict(StrEnum):
    """What an attack did to one model's prediction."""

    ALREADY_MISCLASSIFIED = "already misclassified"  # clean prediction != true label: nothing to attack
    FOOLED = "fooled"  # clean prediction right, adversarial prediction wrong
    NOT_FOOLED = "not fooled"  # both predictions right
    PREDICTION_CHANGED = "prediction changed"  # no true label: adversarial prediction != clean prediction
    PREDICTION_KEPT = "prediction kept"  # no true label: adversarial prediction == clean prediction


def verdict(clean_pred: int, adv_pred: int, true_label: int | None) -> Verdict:
    """The verdict on one model from its predictions on the clean and the adversarial image; without a true
    label, relative to the model's own clean prediction."""
    if true_label is None:
        return Verdict.PREDICTION_CHANGED if adv_pred != clean_pred else Verdict.PREDICTION_KEPT
    if clean_pred != true_label:
        return Verdict.ALREADY_MISCLASSIFIED
    return Verdict.FOOLED if adv_pred != true_label else Verdict.NOT_FOOLED


@dataclass(frozen=True)
class PlaygroundResult:
    x: torch.Tensor  # [1, C, H, W] the model input
    x_adv: torch.Tensor  # [1, C, H, W] the budget-checked adversarial input
    clean_probs: np.ndarray  # [K] softmax on x
    adv_probs: np.ndarray  # [K] softmax on x_adv
    label: int  # the class the attack pushes away from
    true_label: int | None  # the true class; None when unknown (an upload without one)
    perturbation: float  # ||x_adv - x|| in the attack's norm
    seconds: float  # time inside the attack

    @property
    def clean_pred(self) -> int:
        return int(self.clean_probs.argmax())

    @property
    def adv_pred(self) -> int:
        return int(self.adv_probs.argmax())

    @property
    def verdict(self) -> Verdict:
        return verdict(self.clean_pred, self.adv_pred, self.true_label)

    def adversarial_png(self) -> bytes:
        """x_adv as a PNG of H x W pixels, 8 bits per channel, grey (C = 1) or RGB (C = 3)."""
        pixels = to_uint8(self.x_adv[0]).permute(1, 2, 0).numpy()  # [H, W, C]
        buffer = io.BytesIO()
        Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(buffer, format="PNG")
        return buffer.getvalue()

    def perturbation_npy(self) -> bytes:
        """x_adv - x as a .npy file: float32 [C, H, W]."""
        buffer = io.BytesIO()
        np.save(buffer, (self.x_adv - self.x)[0].cpu().numpy().astype(np.float32), allow_pickle=False)
        return buffer.getvalue()


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
    return PlaygroundResult(x, x_adv.detach(), clean, probabilities(model, x_adv), target, label, largest, seconds)


def amplified(x: torch.Tensor, x_adv: torch.Tensor) -> np.ndarray:
    """The perturbation of one image, x and x_adv [1, C, H, W], scaled to fill [0, 1] around grey 0.5:
    [H, W, C] (0.5 = unchanged)."""
    delta = (x_adv - x)[0].permute(1, 2, 0).cpu().numpy()
    largest = float(np.abs(delta).max())
    return 0.5 + delta / (2 * largest) if largest > 0 else np.full_like(delta, 0.5)
