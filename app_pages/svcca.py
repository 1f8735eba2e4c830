"""SVCCA: how alike a model's clean and adversarial representations are, per layer, eps and norm."""

import streamlit as st

from ui.charts import show_chart
from ui.figures.analysis import svcca_coefficients, svcca_means
from ui.figures.labels import ModelLabels
from ui.state import shared_multiselect, shared_selectbox
from ui.widgets import csv_download, page_header

study, svcca, model_ids, (layer_col,) = page_header(
    "SVCCA", "svcca", "SVCCA results",
    "SVCCA (Raghu et al. 2017) between clean and adversarial representations of the same test images: "
    "SVD keeping 99 % of the variance, then CCA. 1 = the attack leaves the layer's representation "
    "unchanged up to a linear map. Convolutional layers count every (image, position) as a datapoint.")

layer = shared_selectbox(layer_col, "Layer", "layer", list(dict.fromkeys(svcca.layer)))
sweeps = shared_multiselect(st.container(), "Attack sweeps", "sweeps", study.sweep_order(svcca.sweep))
chosen = svcca[svcca.model_id.isin(model_ids) & (svcca.layer == layer) & svcca.sweep.isin(sweeps)]

st.subheader(f"Mean SVCCA against eps ({layer})")
show_chart(svcca_means(chosen, study.models, sweeps), study.name, "svcca_means")

st.subheader("Sorted coefficients")
one_col, sweep_col = st.columns(2)
model_id = shared_selectbox(one_col, "Model", "svcca_model", model_ids, format_func=ModelLabels(study.models))
sweep = shared_selectbox(sweep_col, "Sweep", "svcca_sweep", sweeps)
single = chosen[(chosen.model_id == model_id) & (chosen.sweep == sweep)]
show_chart(svcca_coefficients(single), study.name, "svcca_coefficients")

means = chosen.groupby(["model_id", "sweep", "norm", "eps", "layer"], as_index=False)["mean"].first()
st.dataframe(means, hide_index=True)
csv_download(chosen, f"{study.name}_svcca.csv", "Download SVCCA CSV")
