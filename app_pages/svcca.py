"""SVCCA: how alike a model's clean and adversarial representations are, per layer, eps and norm."""

import pandas as pd
import streamlit as st

from ui.charts import cached_figure, show_chart
from ui.figures.analysis import svcca_coefficients, svcca_means
from ui.figures.labels import ModelLabels
from ui.state import page_fragment, shared_multiselect, shared_selectbox
from ui.widgets import csv_download, page_header


@page_fragment
def sorted_coefficients(chosen: pd.DataFrame, models: pd.DataFrame, model_ids: list[str], sweeps: list[str],
                        study_name: str) -> None:
    """One model's and sweep's sorted coefficients: its selectboxes rerun only this part."""
    st.subheader("Sorted coefficients")
    one_col, sweep_col = st.columns(2)
    model_id = shared_selectbox(one_col, "Model", "svcca_model", model_ids, format_func=ModelLabels(models))
    sweep = shared_selectbox(sweep_col, "Sweep", "svcca_sweep", sweeps)
    single = chosen[(chosen.model_id == model_id) & (chosen.sweep == sweep)]
    show_chart(cached_figure(svcca_coefficients)(single), study_name, "svcca_coefficients")


study, svcca, model_ids, (layer_col,) = page_header(
    "SVCCA", "svcca", "SVCCA results",
    "SVCCA (Raghu et al. 2017) between clean and adversarial representations of the same test images: "
    "SVD keeping 99 % of the variance, then CCA. 1 = the attack leaves the layer's representation "
    "unchanged up to a linear map. Convolutional layers count every (image, position) as a datapoint.")

layer = shared_selectbox(layer_col, "Layer", "layer", list(dict.fromkeys(svcca.layer)))
sweeps = shared_multiselect(st.container(), "Attack sweeps", "sweeps", study.sweep_order(svcca.sweep))
chosen = svcca[svcca.model_id.isin(model_ids) & (svcca.layer == layer) & svcca.sweep.isin(sweeps)]

st.subheader(f"Mean SVCCA against eps ({layer})")
show_chart(cached_figure(svcca_means)(chosen, study.models, sweeps), study.name, "svcca_means")
sorted_coefficients(chosen, study.models, model_ids, sweeps, study.name)

means = chosen.groupby(["model_id", "sweep", "norm", "eps", "layer"], as_index=False)["mean"].first()
st.dataframe(means, hide_index=True)
csv_download(chosen, f"{study.name}_svcca.csv", "Download SVCCA CSV")
