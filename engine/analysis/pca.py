"""The latent plane of Garaev et al. 2024: the first two principal components of a
model's clean penultimate features, onto which clean and adversarial features of the same samples
are projected, so that an attack's pull across class clusters can be seen.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA


def fit_plane(clean: np.ndarray) -> PCA:
    """Two principal components fitted on clean features [N, F] (exact SVD, so reruns agree).

    ``.transform(features [M, F]) -> [M, 2]`` projects any features of the same model onto them.
    """
    if clean.shape[0] < 2:
        raise ValueError(f"PCA needs at least two samples, got {clean.shape[0]}")
    return PCA(n_components=2, svd_solver="full").fit(np.asarray(clean, dtype=np.float64))
