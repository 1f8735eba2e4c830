"""SVCCA: how alike a model's clean and adversarial representations are, per layer, eps and norm."""

import streamlit as st

from engine.analysis_plots import svcca_coefficients, svcca_means
from engine.plots import model_labels
from ui.state import shared_multiselect, shared_selectbox
from ui.study import require_study, require_table
from ui.widgets import csv_download, model_select

study = require_study()
st.title("SVCCA")
svcca = require_table(study, "svcca", "SVCCA results")
st.caption("SVCCA (Raghu et al. 2017) between clean and adversarial representations of the same test images: "
           "SVD keeping 99 % of the variance, then CCA. 1 = the attack leaves the layer's representation "
           "unchanged up to a linear map. Convolutional layers count every (image, position) as a datapoint.")

model_col, layer_col = st.columns([3, 2])
model_ids = model_select(model_col, svcca, study.models)
layer = shared_selectbox(layer_col, "Layer", "layer", list(dict.fromkeys(svcca.layer)))
sweeps = shared_multiselect(st.container(), "Attack sweeps", "sweeps", study.sweep_order(svcca.sweep))
chosen = svcca[svcca.model_id.isin(model_ids) & (svcca.layer == layer) & svcca.sweep.isin(sweeps)]

st.subheader(f"Mean SVCCA against eps ({layer})")
st.plotly_chart(svcca_means(chosen, study.models), key="svcca_means", theme=None)

st.subheader("Sorted coefficients")
labels = model_labels(study.models)
one_col, sweep_col = st.columns(2)
model_id = one_col.selectbox("Model", model_ids, format_func=lambda m: labels.get(m, m))
sweep = sweep_col.selectbox("Sweep", sweeps)
single = chosen[(chosen.model_id == model_id) & (chosen.sweep == sweep)]
st.plotly_chart(svcca_coefficients(single), key="svcca_coefficients", theme=None)

means = chosen.groupby(["model_id", "sweep", "norm", "eps", "layer"], as_index=False)["mean"].first()
st.dataframe(means, hide_index=True)
csv_download(chosen, f"{study.name}_svcca.csv", "Download SVCCA CSV")
