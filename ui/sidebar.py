"""The shared sidebar: which study directory every page shows."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

APP_DIR = Path(__file__).resolve().parent.parent
DEFAULT_RESULTS = "precomputed/fashion_mnist"
RESULTS_ENV = "ATLAS_RESULTS"
RESULTS_KEY = "results_dir"
RESULTS_PARAM = "results"


def default_results_dir() -> str:
    """``$ATLAS_RESULTS`` when set, else the shipped study next to app.py."""
    return os.environ.get(RESULTS_ENV) or DEFAULT_RESULTS


def resolve(results_dir: str) -> Path:
    """The study directory a text-input value names: relative paths are taken from the app's folder."""
    path = Path(results_dir.strip()).expanduser()
    return path if path.is_absolute() else APP_DIR / path


def results_dir_input() -> Path:
    """Render the results-directory input in the sidebar and return the directory it names.

    The value lives in ``st.session_state`` under ``results_dir``, so it persists across pages, and in
    the URL's ``results`` parameter when it is not the default, so a shared link opens the same study.
    """
    st.session_state.setdefault(RESULTS_KEY, st.query_params.get(RESULTS_PARAM) or default_results_dir())
    st.sidebar.text_input(
        "Results directory", key=RESULTS_KEY,
        help=f"A study directory written by `python -m engine run CONFIG --out DIR`. Relative paths start at "
             f"{APP_DIR}. Default: ${RESULTS_ENV}, else {DEFAULT_RESULTS}.")
    if st.session_state[RESULTS_KEY] != default_results_dir():
        st.query_params[RESULTS_PARAM] = st.session_state[RESULTS_KEY]
    elif RESULTS_PARAM in st.query_params:
        del st.query_params[RESULTS_PARAM]
    return resolve(st.session_state[RESULTS_KEY])
