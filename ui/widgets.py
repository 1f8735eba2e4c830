"""Widgets shared by pages: result filters and CSV downloads."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from engine.plots import model_labels


def csv_download(table: pd.DataFrame, file_name: str, label: str = "Download CSV") -> None:
    """A download button for ``table`` as CSV (no index)."""
    st.download_button(label, table.to_csv(index=False).encode("utf-8"), file_name=file_name, mime="text/csv",
                       icon=":material/download:")


def _select_all(column: DeltaGenerator, label: str, options: list, **kwargs: Any) -> list:
    # No key: the widget's identity then includes its options, so a study with other values (another
    # directory, or a running study that grew) starts again with everything selected.
    return column.multiselect(label, options, default=options, **kwargs)


def _values(column: pd.Series) -> list:
    return sorted(column.dropna().unique().tolist())


def accuracy_filters(robust_accuracy: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """Multiselects for models, attacks, norms and eps values (all selected at first); the matching rows."""
    labels = model_labels(models)
    model_col, attack_col, norm_col = st.columns([3, 2, 2])
    model_ids = [model_id for model_id in labels if model_id in set(robust_accuracy["model_id"])]
    model_ids += sorted(set(robust_accuracy["model_id"]) - set(model_ids))
    chosen_models = _select_all(model_col, "Models", model_ids,
                                format_func=lambda model_id: labels.get(model_id, model_id))
    attacks = _select_all(attack_col, "Attacks", _values(robust_accuracy["attack"]))
    norms = _select_all(norm_col, "Norms", _values(robust_accuracy["norm"]))
    eps = _select_all(st.container(), "Eps values", _values(robust_accuracy["eps"]), format_func="{:g}".format)
    keep = (robust_accuracy["model_id"].isin(chosen_models) & robust_accuracy["attack"].isin(attacks)
            & robust_accuracy["norm"].isin(norms) & robust_accuracy["eps"].isin(eps))
    return robust_accuracy[keep]
