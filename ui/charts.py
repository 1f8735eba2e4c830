"""Drawing a figure in a page: the app theme's colours and an export named after the study and the chart."""

from __future__ import annotations

import re

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

EXPORT_SCALE = 2  # the PNG export at twice the drawn size, for papers and slides


def export_name(study_name: str, chart: str) -> str:
    """The file name (without extension) of a chart's export: "study_chart", safe characters only."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{study_name}_{chart}").strip("-") or "chart"


def show_chart(figure: go.Figure, study_name: str, key: str, where: DeltaGenerator | None = None) -> None:
    """Draw ``figure`` in ``where`` (default: the page) under the widget key ``key``.

    Streamlit's chart theme follows the app's light or dark theme (background, fonts, grid); colours the
    figure sets itself (per model, per input set, colour scales) stay. The camera button saves a PNG at
    EXPORT_SCALE named by ``export_name(study_name, key)``.
    """
    config = {"toImageButtonOptions": {"format": "png", "filename": export_name(study_name, key),
                                       "scale": EXPORT_SCALE}, "displaylogo": False}
    (where or st).plotly_chart(figure, key=key, theme="streamlit", config=config)
