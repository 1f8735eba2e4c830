"""Per-sample losses and how far an attack shifts their distribution (Garaev et al. 2024, section 4.3).

The shift is measured by the proxy A-distance of Ben-David et al. 2007: train a domain classifier
to tell clean losses from adversarial ones, measure its error ``err`` on held-out losses, and
report 2 (1 - 2 err), clipped to [0, 2]: 0 when the two are indistinguishable, 2 when they are
perfectly separated. The classifier is a depth-4 decision tree on the loss (piecewise constant,
so it can separate distributions that differ in spread as well as in location); it is trained on
a stratified half of the pooled losses and scored on the other half.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import gaussian_kde
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier


def per_sample_loss(logits: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Cross-entropy [N] of logits [N, K] against labels [N]."""
    return torch.nn.functional.cross_entropy(logits.float(), labels, reduction="none").cpu().numpy()


@dataclass(frozen=True)
class ADistance:
    value: float  # proxy A-distance in [0, 2]
    error: float  # held-out error of the domain classifier


def a_distance(clean: np.ndarray, adversarial: np.ndarray, seed: int = 0) -> ADistance:
    """Proxy A-distance between two samples of losses, clean [n] and adversarial [m] (n, m >= 2)."""
    if min(len(clean), len(adversarial)) < 2:
        raise ValueError("the A-distance needs at least two losses on each side")
    values = np.concatenate([clean, adversarial]).reshape(-1, 1)
    domain = np.concatenate([np.zeros(len(clean)), np.ones(len(adversarial))])
    fit_x, test_x, fit_y, test_y = train_test_split(values, domain, test_size=0.5, stratify=domain,
                                                    random_state=seed)
    tree = DecisionTreeClassifier(max_depth=4, min_samples_leaf=5, random_state=seed).fit(fit_x, fit_y)
    error = float((tree.predict(test_x) != test_y).mean())
    return ADistance(float(np.clip(2 * (1 - 2 * error), 0, 2)), error)


def loss_kde(losses: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density [G] (Scott's bandwidth) of losses [n] evaluated on grid [G].

    Raises ``ValueError`` when the losses hold fewer than two distinct values (no spread to smooth).
    """
    if len(np.unique(losses)) < 2:
        raise ValueError("a density needs at least two distinct losses")
    return gaussian_kde(losses)(grid)
