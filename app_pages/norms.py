"""Norms and boundary: L2/Linf norm equivalence of successful perturbations, and distance to the boundary."""

import streamlit as st

from engine.analysis.boundary import boundary_summary
from ui.charts import cached_figure, show_chart
from ui.figures.analysis import boundary_histogram, norm_ratio_chart
from ui.state import shared_multiselect
from ui.study import require_table
from ui.widgets import csv_download, page_header

study, ratios, model_ids, (sweep_col,) = page_header(
    "Norms and decision boundary", "norm_ratios", "norm ratios",
    "Garaev et al. 2024: for every perturbation 1 <= ||d||_2 / ||d||_inf <= sqrt(d). C1 and C2 are "
    "the smallest and largest ratio over an attack's successful perturbations (wrong and changed "
    "prediction): near sqrt(d), the attack spreads its budget over every pixel; near 1, it concentrates it.")

sweeps = shared_multiselect(sweep_col, "Attack sweeps", "sweeps", study.sweep_order(ratios.sweep))
chosen = ratios[ratios.model_id.isin(model_ids) & ratios.sweep.isin(sweeps)]
show_chart(cached_figure(norm_ratio_chart)(chosen, study.models, sweeps), study.name, "norm_ratios")
st.dataframe(chosen, hide_index=True, column_config={
    "eps": st.column_config.NumberColumn("eps", format="%g"),
    "misclassified": st.column_config.NumberColumn("misclassified", format="%.3f"),
    "c1": st.column_config.NumberColumn("C1", format="%.3f"),
    "c2": st.column_config.NumberColumn("C2", format="%.3f"),
    "sqrt_d": st.column_config.NumberColumn("sqrt(d)", format="%.1f"),
})
csv_download(chosen, f"{study.name}_norm_ratios.csv", "Download norm ratios CSV")

st.subheader("Distance to the decision boundary")
boundary = require_table(study, "boundary", "DeepFool boundary distances")
st.caption("DeepFool's L2 perturbation per correctly classified sample (Garaev et al. 2024): a larger "
           "distance means a larger minimal perturbation is needed to change the prediction.")
shown = boundary[boundary.model_id.isin(model_ids)]
show_chart(cached_figure(boundary_histogram)(shown, study.models), study.name, "boundary")
summary = boundary_summary(shown).reindex(model_ids).reset_index()
st.dataframe(summary, hide_index=True, column_config={
    "mean": st.column_config.NumberColumn("mean distance", format="%.3f"),
    "median": st.column_config.NumberColumn("median distance", format="%.3f"),
    "steps": st.column_config.NumberColumn("mean steps", format="%.2f"),
    "found": st.column_config.NumberColumn("boundary found", format="%.3f"),
})
csv_download(shown, f"{study.name}_boundary.csv", "Download boundary distances CSV")
