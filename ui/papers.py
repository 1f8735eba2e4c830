"""The Papers page's data: each table and figure of both papers with its counterpart in the study, computed once
per state of the files it reads, and the app links of its evidence views."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from engine.reporting.findings import ANALYSIS_TABLES
from engine.reporting.findings import Study as FindingTables
from engine.reporting.paper_report import counterparts
from engine.reporting.side_by_side import Counterpart, View
from engine.results import SchemaError
from ui.loaders import MANIFEST, Signature, file_signature, table_signature
from ui.sidebar import RESULTS_PARAM
from ui.study import Study, table_error


@st.cache_data(show_spinner=False, max_entries=4)
def _cached_counterparts(study_dir: str, signature: tuple[Signature, ...]) -> list[Counterpart]:
    return counterparts(FindingTables.read(study_dir))


def load_counterparts(study: Study) -> list[Counterpart]:
    """Every table and figure of both papers beside the study's counterpart (``engine.reporting.paper_report``)."""
    tables = ("robust_accuracy", "models", *ANALYSIS_TABLES)
    signatures = (file_signature([study.path / MANIFEST]), *(table_signature(study.path, t) for t in tables))
    try:
        return _cached_counterparts(str(study.path), signatures)
    except SchemaError as error:
        raise table_error(error, Path(study.path), "A table the papers' counterparts read") from None


def view_url(view: View) -> str:
    """The view's link relative to this page, keeping a study chosen in the URL (``results``), so that it opens
    the same study in a fresh session that reads the selection from the query."""
    chosen = st.query_params.get(RESULTS_PARAM)
    params = (*view.params, (RESULTS_PARAM, chosen)) if chosen else view.params
    return view.page + (f"?{urlencode(params, safe=',')}" if params else "")
