"""Compare: two or more training modes side by side under the same attack setting."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from engine.reporting.compare import comparison
from ui.charts import cached_figure, show_chart
from ui.figures.accuracy import accuracy_heatmap, robustness_curves
from ui.state import shared_selectbox
from ui.study import require_study
from ui.widgets import csv_download, model_select

ANALYSIS_TABLES = ("a_distance", "svcca", "norm_ratios", "boundary")
CURVES_WIDTH = 380  # pixels of plot in the curves' half of a wide page: the model legend's columns fit it


def bare_heatmap(robust_accuracy: pd.DataFrame, models: pd.DataFrame) -> go.Figure:
    """``accuracy_heatmap`` without its colour scale: its cells show their values."""
    return accuracy_heatmap(robust_accuracy, models).update_layout(coloraxis_showscale=False)


study = require_study()
st.title("Compare training modes")
accuracy = study.robust_accuracy
if accuracy.empty:
    st.info("No attack has finished yet: comparisons appear here as the study runs.")
    st.stop()
st.caption("The chosen models under one attack sweep: their robustness curves, and one row each with clean and "
           "robust accuracy, the A-distance of their losses, mean SVCCA, norm ratios and distance to the boundary "
           "at the chosen eps (blank where the study has no analysis of that setting). Clean accuracy is on the "
           "whole test set, robust accuracy on the attacked images (the study's first evaluation samples), so at "
           "eps 0 the two differ by sampling.")

model_col, sweep_col, eps_col = st.columns([3, 2, 1])
model_ids = model_select(model_col, accuracy, study.models, "Models to compare")
if len(model_ids) < 2:
    st.warning("Choose at least two models to compare.")
sweep = shared_selectbox(sweep_col, "Attack sweep", "sweep", study.sweep_order(accuracy.sweep))
rows = accuracy[accuracy.sweep == sweep]
analyses = {name: study.table(name) for name in ANALYSIS_TABLES}
analysed = {eps for table in analyses.values() if "eps" in table  # boundary has no eps
            for eps in table.eps[table.sweep == sweep] if eps > 0}
eps_options = sorted(rows.eps.unique())
eps = shared_selectbox(eps_col, "Eps", f"eps1_{sweep}", eps_options, format_func="{:g}".format,
                       initial=min(analysed or set(eps_options[1:2]) or set(eps_options)),
                       help="Opens on the smallest attacked eps that the analyses cover")
shown = rows[rows.model_id.isin(model_ids)]

curves, bars = st.columns(2)  # halves: the heatmap's row labels fit beside its cells with all 28 models
show_chart(cached_figure(robustness_curves)(shown, study.models, CURVES_WIDTH), study.name, "compare_curves",
           where=curves)
show_chart(cached_figure(bare_heatmap)(shown[shown.eps == eps], study.models), study.name, "compare_heatmap",
           where=bars)
tables = {"models": study.models, "robust_accuracy": accuracy} | analyses
table = comparison(tables, model_ids, sweep, eps)
st.dataframe(table, hide_index=True, column_config={
    name: st.column_config.NumberColumn(name, format="%.3f") for name in table.columns[2:]})
csv_download(table, f"{study.name}_compare.csv", "Download comparison CSV")
