"""Overview: what the study is, what produced it, and its models."""

import pandas as pd
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

checks = study.table("sanity_checks")
findings = headlines(study.models, study.robust_accuracy, checks)
if findings:
    st.subheader("Headline findings")
    st.markdown("\n".join(f"- {line}" for line in findings))
failed = checks[~checks.passed]
if not failed.empty:
    with st.expander(f"The {len(failed)} failing sanity comparisons"):
        st.caption("Each compares two results that theory orders (a stronger attack should not leave more accuracy "
                   "than a weaker one at the same eps); a failure is a weak attack or sampling noise to look at. "
                   "`python -m engine check` lists them too.")
        st.dataframe(failed[["check", "model_id", "detail"]], hide_index=True, column_config={
            "model_id": "model", "detail": st.column_config.TextColumn("detail", width="large")})

papers = paper_findings(study)
if papers:
    with st.expander("Findings compared with the papers (Garaev et al. 2024, Park & So 2020)"):
        st.markdown(render(papers))

st.subheader("Models")
if study.models.empty:
    st.info("No model has finished training yet.")
else:
    models = study.models[MODEL_COLUMNS]
    shown = models.assign(  # "—" where a training has no norm, eps or attacks, not "None"
        train_norm=models.train_norm.fillna("—"), train_attacks=models.train_attacks.fillna("—"),
        train_eps=models.train_eps.map(lambda eps: "—" if pd.isna(eps) else f"{eps:g}"))
    st.dataframe(shown, hide_index=True, column_config={  # short headers so that every column fits
        "model_id": "model", "training_mode": "training", "train_norm": "norm", "train_eps": "eps",
        "train_attacks": "attacks", "clean_accuracy": st.column_config.NumberColumn("clean acc.", format="%.4f"),
        "train_seconds": st.column_config.NumberColumn("train s", format="%.0f"),
    })
    csv_download(models, f"{study.name}_models.csv", "Download models CSV")

st.subheader("Provenance")
made_by, made_with = st.columns([3, 2])
made_by.dataframe(provenance(study.manifest), hide_index=True)
made_with.dataframe(libraries(study.manifest), hide_index=True)
st.caption(f"Study directory: `{study.path}`")
