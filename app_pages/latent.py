"""Latent space: PCA of penultimate features, clean against adversarial, models side by side."""

import pandas as pd
import streamlit as st

from engine.analysis_plots import latent_scatter
from engine.data import CLASSES
from ui.state import shared_selectbox
from ui.study import require_study, require_table
from ui.widgets import csv_download, model_select

study = require_study()
st.title("Latent space")
pca = require_table(study, "pca", "latent-space projections")
st.caption("Each model's penultimate features projected on the first two principal components of its own "
           "clean features (Garaev et al. 2024). Colour is the true class; adversarial inputs are "
           "projected on the same plane, so an attack's pull across class clusters shows.")

adversarial = pca[pca.sweep != "clean"]
model_col, sweep_col, eps_col = st.columns([3, 2, 1])
model_ids = model_select(model_col, pca, study.models)
sweep = shared_selectbox(sweep_col, "Attack sweep", "sweep", study.sweep_order(adversarial.sweep))
eps_options = sorted(adversarial[adversarial.sweep == sweep].eps.unique())
eps = shared_selectbox(eps_col, "Eps", f"eps1_{sweep}", eps_options, format_func="{:g}".format)
show = st.radio("Inputs", ["clean and adversarial", "clean only", "adversarial only"], horizontal=True)

clean_rows = pca[(pca.sweep == "clean") & pca.model_id.isin(model_ids)]
adv_rows = adversarial[(adversarial.sweep == sweep) & (adversarial.eps == eps) & adversarial.model_id.isin(model_ids)]
shown = {"clean only": clean_rows, "adversarial only": adv_rows}.get(show)
if shown is None:
    shown = pd.concat([clean_rows, adv_rows], ignore_index=True)
classes = CLASSES.get(study.dataset, tuple(str(label) for label in range(10)))
st.plotly_chart(latent_scatter(shown, study.models, classes), key="latent", theme=None)
csv_download(shown, f"{study.name}_pca.csv", "Download shown points CSV")
