"""The shared sidebar: which of the studies this server offers (``ui.studies``) every page shows."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from ui.studies import (
    DEFAULT_ROOT,
    RESULTS_ENV,
    ROOTS_ENV,
    default_study,
    find_study,
    offered_studies,
)

RESULTS_KEY = "results_dir"
STUDY_DIR_KEY = "study_dir"  # the selected study's directory, for the page that runs after the sidebar
RESULTS_PARAM = "results"
SHOWN_CHARS = 200  # of a refused link value in the message

HELP = (f"The studies this server offers: each study directory under the folders named in the environment "
        f"variable `{ROOTS_ENV}` (separated by `{os.pathsep}`; default `{DEFAULT_ROOT}/`), and `{RESULTS_ENV}`. "
        f"To offer more, write a study there with `python -m engine run CONFIG --out DIR`, or restart the "
        f"server with `{ROOTS_ENV}` naming their folders.")
NO_STUDY = (f"This server offers no study: no folder named in `{ROOTS_ENV}` (default `{DEFAULT_ROOT}/` next to "
            f"app.py) holds a study directory, and `{RESULTS_ENV}` is not set. Write one with `python -m engine "
            f"run CONFIG --out DIR` under a study root, or restart the server with `{ROOTS_ENV}` naming the "
            f"folders that hold your studies (or `{RESULTS_ENV}` naming one).")


def shown(value: str) -> str:
    """``value`` safe to show in a Markdown code span: cut to ``SHOWN_CHARS``, unprintable characters escaped,
    backticks replaced."""
    text = "".join(char if char.isprintable() else repr(char)[1:-1] for char in value[:SHOWN_CHARS])
    return text.replace("`", "'") + ("..." if len(value) > SHOWN_CHARS else "")


def refusal(value: str, opened: str) -> str:
    """The message for a ``results`` value (from a link, or chosen before the study was withdrawn) that is not
    a study this server offers."""
    return (f"`{shown(value)}` is not a study this server offers, so it is not opened: the server offers only "
            f"the studies under its study roots (the environment variable `{ROOTS_ENV}`) and `{RESULTS_ENV}`, "
            f"as listed in the sidebar. Showing `{shown(opened)}` instead.")


def results_dir_input() -> Path:
    """Render the sidebar's study selectbox over the offered studies and return the selected directory.

    The choice lives in ``st.session_state`` under ``results_dir``, so it persists across pages, and in the
    URL's ``results`` parameter when it is not the default, so a shared link opens the same study. A link
    naming anything else is refused with a warning and the default study opens; when the server offers no
    study, the page says how to configure one and stops.
    """
    studies = offered_studies()
    default = default_study(studies)
    if default is None:
        st.error(NO_STUDY, icon=":material/error:")
        st.stop()
    chosen = st.session_state.get(RESULTS_KEY)
    if chosen is None or chosen not in studies:
        asked = str(chosen if chosen is not None else st.query_params.get(RESULTS_PARAM, ""))
        chosen = find_study(asked, studies) if asked else default
        if chosen is None:
            st.warning(refusal(asked, default), icon=":material/block:")
            chosen = default
        st.session_state[RESULTS_KEY] = chosen
    st.sidebar.selectbox("Study", list(studies), key=RESULTS_KEY, help=HELP)
    selected = st.session_state[RESULTS_KEY]
    if selected != default:
        st.query_params[RESULTS_PARAM] = selected
    elif RESULTS_PARAM in st.query_params:
        del st.query_params[RESULTS_PARAM]
    st.session_state[STUDY_DIR_KEY] = studies[selected]  # the page reads it: the roots are scanned once a run
    return studies[selected]
