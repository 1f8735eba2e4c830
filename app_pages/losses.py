"""Loss distributions: per-sample cross-entropy on clean and adversarial inputs, with the A-distance."""

import streamlit as st

from ui.charts import cached_figure, show_chart
from ui.figures.analysis import loss_distributions
from ui.figures.labels import ModelLabels
from ui.state import shared_multiselect, shared_selectbox, shared_toggle
from ui.widgets import csv_download, page_header

study, per_sample, model_ids, (sweep_col,) = page_header(
    "Loss distributions", "per_sample", "per-sample losses",
    "Per-sample cross-entropy of each model on its analysed test images, clean and under attack "
    "(Garaev et al. 2024). The A-distance (0: indistinguishable, 2: separated) is the proxy "
    "A-distance between the clean and the adversarial losses, from a held-out domain classifier.")
a_distance = study.table("a_distance")

attacked = per_sample[per_sample.sweep != "clean"]
sweep = shared_selectbox(sweep_col, "Attack sweep", "sweep", study.sweep_order(attacked.sweep))
eps_options = sorted(attacked[attacked.sweep == sweep].eps.unique())
spread = sorted({eps_options[0], eps_options[len(eps_options) // 2], eps_options[-1]}) if eps_options else []
eps = shared_multiselect(st.container(), "Eps values", f"eps_{sweep}", eps_options, format_func="{:g}".format,
                         initial=spread)
log_scale = shared_toggle(st.container(), "Log scale (log10 of the loss)", "log", True)

chosen = per_sample[per_sample.model_id.isin(model_ids)
                    & ((per_sample.sweep == "clean") | ((per_sample.sweep == sweep) & per_sample.eps.isin(eps)))]
labels = ModelLabels(study.models)
columns = st.columns(2)
for index, model_id in enumerate(model_ids):
    with columns[index % 2]:
        st.markdown(f"**{labels(model_id)}**")
        show_chart(cached_figure(loss_distributions)(chosen[chosen.model_id == model_id],
                                                     a_distance[a_distance.model_id == model_id], log_scale),
                   study.name, f"losses_{model_id}")

st.subheader("A-distance between clean and adversarial losses")
shift = a_distance[a_distance.model_id.isin(model_ids) & (a_distance.sweep == sweep)]
table = shift.pivot(index="model_id", columns="eps", values="a_distance").reindex(model_ids).reset_index()
table.columns = [column if column == "model_id" else f"eps {column:g}" for column in table.columns]
st.dataframe(table, hide_index=True)
csv_download(shift, f"{study.name}_a_distance.csv", "Download A-distance CSV")
csv_download(chosen, f"{study.name}_per_sample_losses.csv", "Download shown losses CSV")
