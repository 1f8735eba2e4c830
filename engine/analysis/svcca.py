"""SVCCA (Raghu, Gilmer, Yosinski & Sohl-Dickstein 2017): how alike two representations of the same
inputs are.

Each representation [n, d] (n datapoints, d neurons) is mean-centred and reduced by SVD to the top
directions that keep 99 % of its variance (``svd_reduce``); canonical correlation analysis
(Hotelling 1936) between the two reduced representations (``cca``) gives min(k1, k2) correlations
in [0, 1], sorted in decreasing order; their mean is the SVCCA similarity. Convolutional maps are
compared with every (image, position) as a datapoint and the channels as neurons
(``engine.analysis.representations``), as the SVCCA authors do for conv layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KEEP_VARIANCE = 0.99


@dataclass(frozen=True)
class SVCCAResult:
    coefficients: np.ndarray  # [k] canonical correlations, decreasing

    @property
    def mean(self) -> float:
        return float(self.coefficients.mean())


def svd_reduce(acts: np.ndarray, keep: float = KEEP_VARIANCE) -> np.ndarray:
    """acts [n, d] -> [n, k]: the centred acts on their top k singular directions, the fewest that keep
    ``keep`` of the variance."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be in (0, 1], got {keep}")
    centred = acts - acts.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    variance = s**2
    if variance.sum() <= 0:
        raise ValueError("a constant representation has no directions to compare")
    k = int(np.searchsorted(np.cumsum(variance) / variance.sum(), keep - 1e-12)) + 1
    return u[:, :k] * s[:k]


def cca(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Canonical correlations [min(k1, k2)], decreasing, of a [n, k1] and b [n, k2].

    They are the singular values of Qa^T Qb for orthonormal bases Qa, Qb of the centred column
    spaces (Bjorck & Golub 1973), which avoids inverting covariance matrices.
    """
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"representations of different inputs: {a.shape[0]} vs {b.shape[0]} datapoints")
    if a.shape[0] <= max(a.shape[1], b.shape[1]):
        raise ValueError(f"CCA needs more datapoints than neurons, got {a.shape[0]} for {a.shape[1]} and {b.shape[1]}")
    qa, _ = np.linalg.qr(a - a.mean(axis=0))
    qb, _ = np.linalg.qr(b - b.mean(axis=0))
    return np.linalg.svd(qa.T @ qb, compute_uv=False).clip(0.0, 1.0)


def svcca(a: np.ndarray, b: np.ndarray, keep: float = KEEP_VARIANCE) -> SVCCAResult:
    """SVCCA between representations a [n, d1] and b [n, d2] of the same n datapoints."""
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return SVCCAResult(cca(svd_reduce(a64, keep), svd_reduce(b64, keep)))
