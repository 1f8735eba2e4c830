"""Widgets shared by pages: the analysis pages' header, result filters (shared across pages and kept in the
URL, ``ui.state``) and table downloads."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import NamedTuple

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ui.compute_panel import analysis_panel
from ui.figures.labels import ModelLabels, model_order
from ui.state import remember, shared_multiselect, widget_key
from ui.study import Study, require_study, require_table


def csv_download(table: pd.DataFrame, file_name: str, label: str = "Download CSV") -> None:
    """Download buttons for ``table`` as CSV and as parquet (no index); ``file_name`` ends in .csv."""
    csv_col, parquet_col = st.columns(2)
    csv_col.download_button(label, table.to_csv(index=False).encode("utf-8"), file_name=file_name,
                            mime="text/csv", icon=":material/download:")
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    parquet_col.download_button(label.replace("CSV", "parquet"), buffer.getvalue(),
                                file_name=file_name.removesuffix(".csv") + ".parquet",
                                mime="application/vnd.apache.parquet", icon=":material/download:")


def _values(column: pd.Series) -> list:
    return sorted(column.dropna().unique().tolist())


ALL_MODELS = "all"
ONE_PER_MODE = "one per training mode"


def quick_picks(options: Sequence[str], models: pd.DataFrame) -> dict[str, list[str]]:
    """Named model selections among ``options``: all, the first of each training mode (config order), and
    every training mode's models ("pgd: 5")."""
    present = models[models.model_id.isin(options)]
    by_mode = present.groupby("training_mode", sort=False).model_id
    picks = {ALL_MODELS: list(options), ONE_PER_MODE: list(by_mode.first())}
    return picks | {f"{mode}: {len(ids)}": list(ids) for mode, ids in by_mode}


def model_select(container: DeltaGenerator, table: pd.DataFrame, models: pd.DataFrame,
                 label: str = "Models") -> list[str]:
    """The shared multiselect of models present in ``table``, labelled with their training, with a quick pick
    below it (``quick_picks``) that replaces the selection in one choice; at first one model per training mode
    is selected, so that large studies open readable."""
    options = model_order(table["model_id"], models)
    picks = quick_picks(options, models)
    key = widget_key("models", options)

    def pick() -> None:
        chosen = picks.get(st.session_state[f"{key}:pick"] or "")
        if chosen is not None:
            remember("models", chosen)
            st.session_state.pop(key, None)  # the multiselect starts again from the stored selection
        st.session_state[f"{key}:pick"] = None  # a pick is an action, not a state

    chosen = shared_multiselect(container, label, "models", options, initial=picks[ONE_PER_MODE],
                                format_func=ModelLabels(models))
    if len(picks[ALL_MODELS]) > 2:
        container.selectbox("Quick pick", list(picks), index=None, key=f"{key}:pick", on_change=pick,
                            placeholder="Quick pick: all, one per training mode, or a mode's models",
                            label_visibility="collapsed")
    return chosen


class PageHeader(NamedTuple):
    """What ``page_header`` drew and read: the study, the page's table, the chosen models, and the other
    columns of the controls row (left to right) for the page's own controls."""

    study: Study
    table: pd.DataFrame
    model_ids: list[str]
    controls: list[DeltaGenerator]


def page_header(title: str, table: str, what: str, caption: str, widths: Sequence[int] = (3, 2)) -> PageHeader:
    """The opening of a page that shows one analysis table: the sidebar's study, the title, table ``table``
    (``what`` names its contents when it is empty, and the page stops), the caption, the panel that analyses a
    missing cell or a new eps, and a row of columns of relative ``widths`` whose first holds the shared model
    selection."""
    study = require_study()
    st.title(title)
    rows = require_table(study, table, what)
    st.caption(caption)
    analysis_panel(study)
    model_col, *controls = st.columns(list(widths))
    return PageHeader(study, rows, model_select(model_col, rows, study.models), controls)


def accuracy_filters(robust_accuracy: pd.DataFrame, models: pd.DataFrame) -> pd.DataFrame:
    """Shared multiselects for models, attacks, norms, and eps values per chosen norm (radii of different norms
    are not comparable; all selected at first); the matching rows."""
    model_col, attack_col, norm_col = st.columns([3, 2, 2])
    chosen_models = model_select(model_col, robust_accuracy, models)
    attacks = shared_multiselect(attack_col, "Attacks", "attacks", _values(robust_accuracy["attack"]))
    norms = shared_multiselect(norm_col, "Norms", "norms", _values(robust_accuracy["norm"]))
    keep = robust_accuracy["model_id"].isin(chosen_models) & robust_accuracy["attack"].isin(attacks)
    in_eps = pd.Series(False, index=robust_accuracy.index)
    for column, norm in zip(st.columns(max(len(norms), 1)), norms, strict=False):
        of_norm = robust_accuracy["norm"] == norm
        eps = shared_multiselect(column, f"Eps ({norm})", f"eps_{norm}", _values(robust_accuracy.loc[of_norm, "eps"]),
                                 format_func="{:g}".format)
        in_eps |= of_norm & robust_accuracy["eps"].isin(eps)
    return robust_accuracy[keep & in_eps]
