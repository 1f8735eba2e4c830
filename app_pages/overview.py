"""Overview: what the study is, what produced it, and its models."""

import streamlit as st

from engine.reporting.findings import render
from engine.reporting.summary import headlines
from ui.study import describe, libraries, paper_findings, provenance, require_study
from ui.widgets import csv_download

MODEL_COLUMNS = ["model_id", "arch", "training_mode", "train_norm", "train_eps", "train_attacks", "augment",
                 "epochs", "clean_accuracy", "parameters", "train_seconds"]

study = require_study()
st.title(study.name)
st.caption(describe(study.manifest))

findings = headlines(study.models, study.robust_accuracy, study.table("sanity_checks"))
if findings:
    st.subheader("Headline findings")
    st.markdown("\n".join(f"- {line}" for line in findings))

papers = paper_findings(study)
if papers:
    with st.expander("Findings compared with the papers (Garaev et al. 2024, Park & So 2020)"):
        st.markdown(render(papers))

st.subheader("Models")
if study.models.empty:
    st.info("No model has finished training yet.")
else:
    models = study.models[MODEL_COLUMNS]
    st.dataframe(models, hide_index=True, column_config={  # short headers so that every column fits
        "model_id": "model", "training_mode": "training", "train_norm": "norm",
        "train_attacks": "attacks", "clean_accuracy": st.column_config.NumberColumn("clean acc.", format="%.4f"),
        "train_eps": st.column_config.NumberColumn("eps", format="%g"),
        "train_seconds": st.column_config.NumberColumn("train s", format="%.0f"),
    })
    csv_download(models, f"{study.name}_models.csv", "Download models CSV")

st.subheader("Provenance")
made_by, made_with = st.columns([3, 2])
made_by.dataframe(provenance(study.manifest), hide_index=True)
made_with.dataframe(libraries(study.manifest), hide_index=True)
st.caption(f"Study directory: `{study.path}`")
