"""SVCCA: identity, invariance, agreement with a direct covariance solve, and the SVD reduction."""

import numpy as np
import pytest

from engine.analysis.svcca import cca, svcca, svd_reduce


def _random(n: int, d: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


def _covariance_cca(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Canonical correlations from the eigenvalues of Saa^-1 Sab Sbb^-1 Sba (the textbook solve)."""
    a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    saa, sbb, sab = a.T @ a, b.T @ b, a.T @ b
    m = np.linalg.solve(saa, sab) @ np.linalg.solve(sbb, sab.T)
    values = np.sort(np.linalg.eigvals(m).real)[::-1][:min(a.shape[1], b.shape[1])]
    return np.sqrt(values.clip(0, 1))


def test_svcca_of_a_representation_with_itself_is_one() -> None:
    a = _random(500, 20, 0)
    result = svcca(a, a)
    assert np.allclose(result.coefficients, 1) and result.mean == pytest.approx(1)


def test_cca_is_invariant_to_invertible_linear_maps() -> None:
    a, b = _random(400, 8, 1), _random(400, 6, 2)
    b = b + 0.5 * a[:, :6]  # correlated, so the coefficients are far from 0 and 1
    ma, mb = _random(8, 8, 3) + 3 * np.eye(8), _random(6, 6, 4) + 3 * np.eye(6)
    assert np.allclose(cca(a @ ma, b @ mb), cca(a, b))
    # Without truncation, SVCCA is CCA: an invertible map of one side leaves every coefficient at 1.
    assert np.allclose(svcca(a, a @ ma, keep=1.0).coefficients, 1)


def test_svcca_is_invariant_to_rotations_and_shifts_with_truncation() -> None:
    a = _random(300, 10, 5) * np.linspace(3, 0.01, 10)  # a spectrum that the 99 % cut truncates
    rotation, _ = np.linalg.qr(_random(10, 10, 6))
    assert np.allclose(svcca(a, a @ rotation + 7.0).coefficients, 1)


def test_cca_agrees_with_the_covariance_solve_on_random_data() -> None:
    a, b = _random(1000, 5, 7), _random(1000, 4, 8)
    b[:, 0] += a[:, 0]
    b[:, 1] += 0.3 * a[:, 1]
    ours = cca(a, b)
    assert np.allclose(ours, _covariance_cca(a, b), atol=1e-8)
    assert list(ours) == sorted(ours, reverse=True) and ours[0] > 0.6 and ours[-1] < 0.2


def test_svd_reduce_keeps_the_fewest_directions_with_99_percent_of_the_variance() -> None:
    scales = np.array([10.0, 5.0, 3.0, 0.1, 0.01])  # variances 100, 25, 9, ...: two keep 93 %, three 99.99 %
    a = _random(2000, 5, 9) * scales
    reduced = svd_reduce(a)
    assert reduced.shape == (2000, 3)
    kept = (reduced**2).sum() / ((a - a.mean(axis=0)) ** 2).sum()
    assert kept >= 0.99
    assert svd_reduce(a, keep=1.0).shape == (2000, 5)


def test_bad_inputs_raise_value_errors() -> None:
    with pytest.raises(ValueError, match="different inputs"):
        cca(_random(10, 2, 0), _random(11, 2, 0))
    with pytest.raises(ValueError, match="more datapoints than neurons"):
        cca(_random(5, 5, 0), _random(5, 2, 0))
    with pytest.raises(ValueError, match="constant"):
        svd_reduce(np.ones((10, 3)))
    with pytest.raises(ValueError, match="keep"):
        svd_reduce(_random(10, 3, 0), keep=0)
