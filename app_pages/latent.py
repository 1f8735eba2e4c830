"""Latent space: PCA of penultimate features, adversarial overlaid on clean, one panel per model."""

import pandas as pd
import streamlit as st

from engine.data.datasets import DATASETS
from ui.charts import cached_figure, show_chart
from ui.figures.analysis import latent_scatter
from ui.state import shared_radio, shared_selectbox
from ui.widgets import csv_download, page_header

study, pca, model_ids, (sweep_col, eps_col) = page_header(
    "Latent space", "pca", "latent-space projections",
    "Each model's penultimate features projected on the first two principal components of its own "
    "clean features (Garaev et al. 2024). Colour is the true class; adversarial inputs are "
    "projected on the same plane, so an attack's pull across class clusters shows.", widths=(3, 2, 1))

adversarial = pca[pca.sweep != "clean"]
sweep = shared_selectbox(sweep_col, "Attack sweep", "sweep", study.sweep_order(adversarial.sweep))
eps_options = sorted(adversarial[adversarial.sweep == sweep].eps.unique())
eps = shared_selectbox(eps_col, "Eps", f"eps1_{sweep}", eps_options, format_func="{:g}".format,
                       initial=eps_options[len(eps_options) // 2] if eps_options else None,
                       help="Opens on the middle of the sweep's radii: the smallest barely moves the features")
show = shared_radio(st.container(), "Inputs", "inputs", ["clean and adversarial", "clean only", "adversarial only"],
                    horizontal=True)

clean_rows = pca[(pca.sweep == "clean") & pca.model_id.isin(model_ids)]
adv_rows = adversarial[(adversarial.sweep == sweep) & (adversarial.eps == eps) & adversarial.model_id.isin(model_ids)]
shown = {"clean only": clean_rows, "adversarial only": adv_rows}.get(show)
if shown is None:
    shown = pd.concat([clean_rows, adv_rows], ignore_index=True)
spec = DATASETS.get(study.dataset)
classes = spec.classes if spec else tuple(str(label) for label in range(10))
show_chart(cached_figure(latent_scatter)(shown, study.models, classes), study.name, "latent")
csv_download(shown, f"{study.name}_pca.csv", "Download shown points CSV")
