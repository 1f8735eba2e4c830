"""The latent plane: the top two principal axes of clean features."""

import numpy as np
import pytest

from engine.analysis.pca import fit_plane


def test_plane_is_the_top_two_principal_axes_up_to_sign() -> None:
    rng = np.random.default_rng(0)
    clean = rng.standard_normal((500, 6)) * np.array([5, 3, 1, 1, 0.5, 0.1]) + 2.0
    projected = fit_plane(clean).transform(clean)
    centred = clean - clean.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ axes[:2].T
    assert np.allclose(np.abs(projected), np.abs(expected))
    assert np.allclose(projected.mean(axis=0), 0) and projected[:, 0].var() > projected[:, 1].var()


def test_other_features_land_on_the_same_plane() -> None:
    rng = np.random.default_rng(1)
    clean = rng.standard_normal((200, 4))
    plane = fit_plane(clean)
    shifted = clean + np.array([1.0, 0, 0, 0])
    assert np.allclose(plane.transform(shifted) - plane.transform(clean), plane.components_[:, 0])


def test_pca_needs_two_samples() -> None:
    with pytest.raises(ValueError, match="two samples"):
        fit_plane(np.ones((1, 4)))
