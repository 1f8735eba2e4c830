"""Robust accuracy: heatmap and curves over models, attacks, norms and eps, plus the filtered table."""

import pandas as pd
import streamlit as st

from engine.evaluation.intervals import with_intervals
from ui.charts import cached_figure, show_chart
from ui.compute_panel import compute_panel
from ui.figures.accuracy import accuracy_heatmaps, robustness_curves, transfer_heatmap
from ui.state import page_fragment, shared_selectbox
from ui.study import require_study
from ui.widgets import accuracy_filters, csv_download


@page_fragment
def transfer_section(robust_accuracy: pd.DataFrame, models: pd.DataFrame, study_name: str) -> None:
    """The white-box and transferred accuracy of one attack setting: its selectboxes rerun only this part."""
    transferred = robust_accuracy[robust_accuracy.source_model_id.notna()]
    st.subheader("White-box and transferred attacks")
    st.caption("Park & So 2020's view: each model attacked white-box and by examples crafted on another "
               "model (a black-box attacker's surrogate), at one attack setting. Rows attacked, columns crafted on.")
    setting_col, eps_col = st.columns([3, 1])
    settings = sorted({f"{attack} {norm}" for attack, norm in zip(transferred.attack, transferred.norm, strict=True)})
    attack, norm = shared_selectbox(setting_col, "Attack", "transfer_attack", settings).split(" ")
    same = robust_accuracy[(robust_accuracy.attack == attack) & (robust_accuracy.norm == norm)]
    shared_eps = sorted(set(same[same.source_model_id.notna()].eps) & set(same[same.source_model_id.isna()].eps))
    eps = shared_selectbox(eps_col, "Eps", f"transfer_eps_{attack}_{norm}", shared_eps or sorted(same.eps.unique()),
                           format_func="{:g}".format)
    show_chart(cached_figure(transfer_heatmap)(same[same.eps == eps], models), study_name, "transfer")


study = require_study()
st.title("Robust accuracy")
if study.robust_accuracy.empty:
    st.info("No attack has finished yet: robust-accuracy results appear here as the study runs.")
    st.stop()
st.caption("Share of attacked test images still classified correctly (white-box unless marked). "
           "eps = 0 is clean accuracy on the attacked images.")

selected = accuracy_filters(study.robust_accuracy, study.models)
st.subheader("Accuracy by model and attack")
st.caption("One heatmap per norm; columns are attack, eps and, for transfer attacks, the model the examples were "
           "crafted on. A blank cell is a setting the study did not run on that model (its config lists which "
           "attacks and eps each model gets).")
for index, heatmap in enumerate(cached_figure(accuracy_heatmaps)(selected, study.models)):
    show_chart(heatmap, study.name, f"heatmap_{index}")
st.subheader("Robustness curves")
show_chart(cached_figure(robustness_curves)(selected, study.models), study.name, "curves")
compute_panel(study)
if study.robust_accuracy.source_model_id.notna().any():
    transfer_section(study.robust_accuracy, study.models, study.name)

st.subheader("Results")
st.caption("ci_low and ci_high bound the accuracy's 95 % Wilson interval over the n attacked images: differences "
           "inside it may be sampling.")
results = with_intervals(selected)
st.dataframe(results, hide_index=True, column_config={
    "eps": st.column_config.NumberColumn("eps", format="%g"),
    "accuracy": st.column_config.NumberColumn("accuracy", format="%.4f"),
    "ci_low": st.column_config.NumberColumn("ci_low", format="%.4f"),
    "ci_high": st.column_config.NumberColumn("ci_high", format="%.4f"),
    "max_perturbation": st.column_config.NumberColumn("max_perturbation", format="%.4g"),
    "seconds": st.column_config.NumberColumn("seconds", format="%.2f"),
    "images_per_second": st.column_config.NumberColumn("images/s", format="%.0f"),
})
csv_download(results, f"{study.name}_robust_accuracy.csv", "Download robust accuracy CSV")
