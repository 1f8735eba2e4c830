"""Training curves: accuracy per epoch on every per-epoch test set, with max and median over a window."""

import pandas as pd
import streamlit as st

from ui.charts import cached_figure, show_chart
from ui.figures.analysis import training_curves, window_statistics
from ui.state import page_fragment, shared_multiselect, shared_range
from ui.study import require_study
from ui.widgets import csv_download, model_select


@page_fragment
def window_section(chosen: pd.DataFrame, last: int) -> None:
    """Park & So's max and median over an epoch window of ``chosen`` (epochs up to ``last``): the window's
    slider reruns only this part."""
    st.subheader("Max and median over an epoch window")
    window = (max(1, last // 2), last)
    first, final = shared_range(st.container(), "Epochs", "epochs", 1, last, window) if last > 1 else (1, 1)
    stats = window_statistics(chosen, first, final)
    epochs = chosen.groupby("model_id").epoch.max()
    short = [f"{model_id} ({count})" for model_id, count in epochs[epochs < first].items()]
    if short:
        st.caption(f"Not in the window: {', '.join(short)} — trained fewer epochs than its first ({first}).")
    st.dataframe(stats, hide_index=True, column_config={
        "max": st.column_config.NumberColumn("max", format="%.4f"),
        "median": st.column_config.NumberColumn("median", format="%.4f"),
    })


study = require_study()
st.title("Training curves")
curves = study.tables["training_curves"]
if curves.empty:
    st.info("No model has finished training yet.")
    st.stop()
st.caption("Accuracy after every epoch (Park & So 2020, figures 3-4): on the training inputs as seen in training "
           "(`train`), the clean test set, and each per-epoch adversarial test set of the config's "
           "`[epoch_evaluation]` (white-box, or transferred from a source model: `-from-SOURCE`). `guard_pgd` "
           "(fast adversarial training only): PGD accuracy on held-out training images after every epoch, the "
           "watch for catastrophic overfitting (Wong et al. 2020): when it collapses, training stops and keeps the "
           "epoch before.")

model_col, set_col = st.columns([3, 2])
model_ids = model_select(model_col, curves, study.models)
test_sets = shared_multiselect(set_col, "Test sets", "test_sets", sorted(curves.test_set.unique()))
chosen = curves[curves.model_id.isin(model_ids) & curves.test_set.isin(test_sets)]
show_chart(cached_figure(training_curves)(chosen, study.models), study.name, "curves")
window_section(chosen, int(curves.epoch.max()))
csv_download(chosen, f"{study.name}_training_curves.csv", "Download training curves CSV")
