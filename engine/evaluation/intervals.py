"""Confidence intervals of accuracies measured on n images (Wilson 1927's score interval).

An accuracy judged on the first 500 test images is a binomial proportion: at 50 % its 95 % interval is
about ±4.4 points, so differences smaller than that between two models may be sampling. Wilson's
interval stays inside [0, 1] and keeps its coverage near 0 and 1, where the normal approximation fails
(robust accuracy is often 0 % or 100 %).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

Z_95 = 1.959963984540054  # the standard normal's 97.5 % quantile


def wilson_interval(accuracy: npt.ArrayLike, n: npt.ArrayLike,
                    z: float = Z_95) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Lower and upper bounds of the Wilson score interval of each accuracy (share in [0, 1]) over n trials.

    accuracy, n: broadcastable arrays (or scalars); n <= 0 or NaN gives NaN bounds. Returns float64
    arrays of the broadcast shape.
    """
    p = np.asarray(accuracy, dtype=np.float64)
    trials = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = 1 + z**2 / trials
        centre = (p + z**2 / (2 * trials)) / denominator
        half = z * np.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2)) / denominator
    valid = trials > 0
    return np.where(valid, np.clip(centre - half, 0, 1), np.nan), np.where(valid, np.clip(centre + half, 0, 1), np.nan)


def interval_text(accuracy: float, n: float) -> str:
    """"63.4 % [59.1, 67.5]": the accuracy and its 95 % Wilson interval in percent; the accuracy alone when n
    is unknown."""
    low, high = wilson_interval(accuracy, n)
    if np.isnan(low):
        return f"{accuracy:.1%}"
    return f"{accuracy:.1%} [{low * 100:.1f}, {high * 100:.1f}]"


def with_intervals(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` (columns accuracy and n, e.g. ``robust_accuracy``) with the 95 % Wilson bounds added as
    ``ci_low`` and ``ci_high`` after ``accuracy``."""
    low, high = wilson_interval(table["accuracy"], table["n"])
    at = table.columns.get_loc("accuracy") + 1
    out = table.copy()
    out.insert(at, "ci_high", high)
    out.insert(at, "ci_low", low)
    return out
