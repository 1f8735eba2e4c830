"""Wilson intervals: textbook values, coverage at the edges, vectorised, undefined without trials."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from engine.evaluation.intervals import interval_text, wilson_interval, with_intervals


def test_matches_scipys_wilson_interval() -> None:
    for successes, n in ((0, 500), (3, 500), (250, 500), (497, 500), (500, 500), (7, 10), (1, 1)):
        expected = binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
        low, high = wilson_interval(successes / n, n)
        assert np.isclose(low, expected.low, atol=1e-12) and np.isclose(high, expected.high, atol=1e-12)


def test_half_width_near_four_points_at_half_on_500_images_and_inside_zero_one_at_the_edges() -> None:
    low, high = wilson_interval(np.array([0.0, 0.5, 1.0]), 500)
    assert low[0] < 1e-15 and 0.007 < high[0] < 0.008  # the normal approximation would say [0, 0]
    assert np.isclose((high[1] - low[1]) / 2, 0.0437, atol=5e-4)
    assert high[2] == 1 and 0.992 < low[2] < 0.993


def test_broadcasts_and_is_undefined_without_trials() -> None:
    low, high = wilson_interval([0.2, 0.8], [100, 0])
    assert low.shape == (2,) and not np.isnan(low[0]) and np.isnan(low[1]) and np.isnan(high[1])
    assert interval_text(0.634, 500) == "63.4% [59.1, 67.5]"
    assert interval_text(0.5, 0) == "50.0%"


def test_tables_get_their_bounds_beside_the_accuracy() -> None:
    table = pd.DataFrame({"model_id": ["a", "b"], "accuracy": [0.5, 1.0], "n": [500, 200], "eps": [0.1, 0.2]})
    out = with_intervals(table)
    assert list(out.columns) == ["model_id", "accuracy", "ci_low", "ci_high", "n", "eps"]
    assert (out.ci_low < out.accuracy).all() and (out.ci_high <= 1).all() and out.ci_high.iloc[1] == 1
    assert list(table.columns) == ["model_id", "accuracy", "n", "eps"]  # the input is not changed
