"""How well each robust dataset's construction converged (the ``robust_datasets`` table, written when a
robust_dataset model trains), one row per model."""

from __future__ import annotations

import pandas as pd

SUMMARY_COLUMNS = ("model_id", "source_model_id", "images", "median_relative", "p90_relative",
                   "median_start_relative", "source_agrees")


def robust_dataset_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per model of the robust_datasets ``rows``: its source, the images re-drawn, the median and 90th
    percentile of ||g(x_r) - g(x)|| / ||g(x)|| (0: the features matched; about 1: an unrelated image), the
    median of the same for the starting points, and the share of re-drawn images the source model assigns
    their label (a re-drawn image that carries its target's robust features looks like its label to it)."""
    if rows.empty:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    grouped = rows.assign(agrees=rows.source_pred == rows.label).groupby("model_id", sort=False)
    summary = grouped.agg(source_model_id=("source_model_id", "first"), images=("sample", "size"),
                          median_relative=("relative_distance", "median"),
                          p90_relative=("relative_distance", lambda values: values.quantile(0.9)),
                          median_start_relative=("start_relative_distance", "median"),
                          source_agrees=("agrees", "mean"))
    return summary.reset_index()[list(SUMMARY_COLUMNS)]
