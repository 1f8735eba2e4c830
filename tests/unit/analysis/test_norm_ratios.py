"""C1/C2 of the norm equivalence over successful perturbations only."""

import math

import numpy as np
import torch

from engine.analysis.norm_ratios import norm_ratios
from engine.attacks.norms import perturbation_norm


def _norms(delta: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    return perturbation_norm(delta, "L2").numpy(), perturbation_norm(delta, "Linf").numpy()


def test_one_pixel_gives_one_and_a_uniform_change_gives_sqrt_d() -> None:
    delta = torch.zeros(2, 1, 28, 28)
    delta[0, 0, 3, 4] = 0.3
    delta[1] = 0.1
    l2, linf = _norms(delta)
    label, clean, adv = np.array([0, 0]), np.array([0, 0]), np.array([1, 2])
    ratios = norm_ratios(l2, linf, label, clean, adv, 784)
    assert math.isclose(ratios.c1, 1) and math.isclose(ratios.c2, 28, rel_tol=1e-6)
    assert ratios.sqrt_d == 28 and ratios.successful == 2 and ratios.misclassified == 1.0


def test_only_wrong_and_changed_predictions_count() -> None:
    delta = torch.rand(4, 3, 32, 32) - 0.5
    l2, linf = _norms(delta)
    label = np.array([0, 0, 0, 0])
    clean = np.array([0, 0, 1, 0])  # sample 2 was already wrong
    adv = np.array([0, 3, 1, 5])  # 0 unchanged, 1 fooled, 2 still the same wrong class, 3 fooled
    ratios = norm_ratios(l2, linf, label, clean, adv, 3 * 32 * 32)
    counted = l2[[1, 3]] / linf[[1, 3]]
    assert ratios.successful == 2 and ratios.misclassified == 0.75
    assert math.isclose(ratios.c1, counted.min(), rel_tol=1e-6) and math.isclose(ratios.c2, counted.max(), rel_tol=1e-6)
    bound = math.sqrt(3072)
    assert math.isclose(ratios.sqrt_d, bound) and 1 <= ratios.c1 <= ratios.c2 <= bound  # 55.4, Garaev et al.'s C2


def test_no_success_gives_nan() -> None:
    ratios = norm_ratios(np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), np.zeros(3), 784)
    assert math.isnan(ratios.c1) and math.isnan(ratios.c2) and ratios.successful == 0
