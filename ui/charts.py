"""Drawing a figure in a page: the app theme's colours, and the chart toolbar's camera button saving a PNG or an
SVG named after the study, the page, the chart and the selection shown."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ui.state import page_name, selection_label

EXPORT_SCALE = 2  # the PNG export at twice the drawn size, for papers and slides
FORMATS = ("png", "svg")
FORMAT_KEY = "chart_format"  # session key of the sidebar's choice of export format
NAME_CHARS = 150  # the longest export name: file systems take 255 bytes
FIGURES_KEPT = 16  # per figure builder: the figures of the selections drawn last, for every session

Builder = TypeVar("Builder", bound=Callable[..., Any])


def cached_figure(builder: Builder) -> Builder:
    """``builder`` (a figure builder of ``ui.figures``: a pure function of DataFrames and plain values) with its
    figures kept per arguments for every session, so that a reload, a return to a page or a rerun that leaves a
    chart's data alone draws it without building it again (hundreds of traces take plotly up to a second).

    The arguments are hashed by value (a DataFrame by its contents). The figures are shared, not copied:
    callers must not change them (``st.plotly_chart`` draws a copy).
    """
    return cast(Builder, st.cache_resource(show_spinner=False, max_entries=FIGURES_KEPT)(builder))


def export_name(study_name: str, chart: str, selection: str = "") -> str:
    """The file name (without extension) of a chart's export: "study_chart[_selection]", safe characters only,
    at most NAME_CHARS long."""
    name = "_".join(part for part in (study_name, chart, selection) if part)
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:NAME_CHARS] or "chart"


def export_format_select(container: DeltaGenerator) -> None:
    """The choice of the format every chart's camera button saves (this session; a preference, not a view)."""
    container.radio("Chart downloads (camera button)", FORMATS, key=FORMAT_KEY, horizontal=True,
                    format_func=str.upper, help="PNG at twice the drawn size, or SVG: vector, for papers")


def show_chart(figure: go.Figure, study_name: str, key: str, where: DeltaGenerator | None = None) -> None:
    """Draw ``figure`` in ``where`` (default: the page) under the widget key ``key``.

    Streamlit's chart theme follows the app's light or dark theme (background, fonts, grid); colours the
    figure sets itself (per model, per input set, colour scales) stay. The camera button saves the format
    chosen in the sidebar (PNG at EXPORT_SCALE by default) as "study_page_chart_selection" (``export_name``,
    the selection from ``ui.state.selection_label``: the page's choices drawn above the chart).
    """
    name = export_name(study_name, f"{page_name()}_{key}".strip("_"), selection_label())
    image = {"format": st.session_state.get(FORMAT_KEY) or FORMATS[0], "filename": name, "scale": EXPORT_SCALE}
    config = {"toImageButtonOptions": image, "displaylogo": False}
    (where or st).plotly_chart(figure, key=key, theme="streamlit", config=config)
