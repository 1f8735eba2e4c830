"""L2/Linf norm equivalence of adversarial perturbations (Garaev et al. 2024, section 3.2).

For every perturbation d of dimension n, 1 <= ||d||_2 / ||d||_inf <= sqrt(n). Over the successful
perturbations of an attack (the adversarial prediction differs from the label and from the clean
prediction), C1 and C2 are the smallest and largest observed ratio: how far the attack's
perturbations sit from the two extremes (one pixel changed: 1; every pixel changed equally: sqrt(n)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NormRatios:
    c1: float  # min ||d||_2 / ||d||_inf over successful perturbations (nan if none)
    c2: float  # max of the same ratio (nan if none)
    successful: int  # adversarial predictions that are wrong and differ from the clean prediction
    misclassified: float  # share of all adversarial inputs classified wrongly
    sqrt_d: float  # the theoretical upper bound sqrt(n) on the ratio


def norm_ratios(l2: np.ndarray, linf: np.ndarray, label: np.ndarray, clean_pred: np.ndarray,
                adv_pred: np.ndarray, dimension: int) -> NormRatios:
    """C1/C2 from per-sample perturbation norms l2, linf [N], labels [N] and clean and adversarial
    predictions [N], for inputs of ``dimension`` pixel values (C * H * W)."""
    wrong = adv_pred != label
    successful = wrong & (adv_pred != clean_pred) & (linf > 0)
    ratios = l2[successful] / linf[successful]
    c1, c2 = (float(ratios.min()), float(ratios.max())) if len(ratios) else (math.nan, math.nan)
    return NormRatios(c1, c2, int(successful.sum()), float(wrong.mean()), math.sqrt(dimension))
