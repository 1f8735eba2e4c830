"""Robust accuracy: heatmap and curves over models, attacks, norms and eps, plus the filtered table."""

import streamlit as st

from engine.plots import accuracy_heatmaps, robustness_curves
from ui.study import require_study
from ui.widgets import accuracy_filters, csv_download

study = require_study()
st.title("Robust accuracy")
if study.robust_accuracy.empty:
    st.info("No attack has finished yet: robust-accuracy results appear here as the study runs.")
    st.stop()
st.caption("Share of attacked test images still classified correctly (white-box unless marked). "
           "eps = 0 is clean accuracy on the attacked images.")

selected = accuracy_filters(study.robust_accuracy, study.models)
st.subheader("Accuracy by model and attack")
# theme=None keeps the figures' own colours: Streamlit's palette starts with two blues.
for index, heatmap in enumerate(accuracy_heatmaps(selected, study.models)):
    st.plotly_chart(heatmap, key=f"heatmap_{index}", theme=None)
st.subheader("Robustness curves")
st.plotly_chart(robustness_curves(selected, study.models), key="curves", theme=None)
st.subheader("Results")
st.dataframe(selected, hide_index=True, column_config={
    "eps": st.column_config.NumberColumn("eps", format="%g"),
    "accuracy": st.column_config.NumberColumn("accuracy", format="%.4f"),
    "max_perturbation": st.column_config.NumberColumn("max_perturbation", format="%.4g"),
    "seconds": st.column_config.NumberColumn("seconds", format="%.2f"),
})
csv_download(selected, f"{study.name}_robust_accuracy.csv", "Download robust accuracy CSV")
