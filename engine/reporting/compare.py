"""Training modes side by side: one row per model with its figures under one attack setting."""

from __future__ import annotations

import pandas as pd

from engine.analysis.boundary import boundary_summary
from engine.evaluation.intervals import wilson_interval


def _at(table: pd.DataFrame, sweep: str, eps: float, column: str) -> pd.Series:
    """``column`` of ``table``'s rows for ``sweep`` at ``eps``, indexed by model_id."""
    rows = table[(table.sweep == sweep) & (table.eps == eps)]
    return rows.groupby("model_id")[column].first()


def comparison(tables: dict[str, pd.DataFrame], model_ids: list[str], sweep: str, eps: float,
               layer: str = "penultimate") -> pd.DataFrame:
    """Per model of ``model_ids`` (in that order): training, clean accuracy, robust accuracy under ``sweep``
    at ``eps`` with its 95 % Wilson interval, the A-distance of its losses, mean SVCCA of ``layer``, C1/C2, and
    the mean DeepFool distance to the boundary. ``tables`` maps table names (models, robust_accuracy, a_distance, svcca,
    norm_ratios, boundary) to their DataFrames; figures a study lacks are NaN."""
    models = tables["models"].set_index("model_id")
    svcca = tables["svcca"][tables["svcca"].layer == layer]
    frame = pd.DataFrame(index=pd.Index(model_ids, name="model_id"))
    frame["training"] = models.training_mode.reindex(model_ids)
    frame["clean accuracy"] = models.clean_accuracy.reindex(model_ids)
    frame["robust accuracy"] = _at(tables["robust_accuracy"], sweep, eps, "accuracy").reindex(model_ids)
    images = _at(tables["robust_accuracy"], sweep, eps, "n").reindex(model_ids)
    frame["95% CI low"], frame["95% CI high"] = wilson_interval(frame["robust accuracy"], images)
    frame["A-distance"] = _at(tables["a_distance"], sweep, eps, "a_distance").reindex(model_ids)
    frame[f"mean SVCCA ({layer})"] = _at(svcca, sweep, eps, "mean").reindex(model_ids)
    frame["C1"] = _at(tables["norm_ratios"], sweep, eps, "c1").reindex(model_ids)
    frame["C2"] = _at(tables["norm_ratios"], sweep, eps, "c2").reindex(model_ids)
    frame["boundary distance"] = boundary_summary(tables["boundary"])["mean"].reindex(model_ids)
    return frame.reset_index()
