"""Figures kept per arguments (``ui.charts.cached_figure``)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.charts import cached_figure

BUILT: list[str] = []  # the title of every figure ``_bars`` built


def _bars(table: pd.DataFrame, title: str) -> go.Figure:
    BUILT.append(title)
    return go.Figure(go.Bar(x=table.a, y=table.b), layout={"title": title})


def test_a_figure_is_built_once_per_arguments_and_rebuilt_when_they_change() -> None:
    cached = cached_figure(_bars)
    cached.clear()
    BUILT.clear()
    table = pd.DataFrame({"a": [1, 2], "b": [3.0, 4.0]})
    first = cached(table, "t")
    assert cached(table.copy(), "t") is first  # equal contents: the same figure, not built again
    assert cached(table.assign(b=[3.0, 5.0]), "t") is not first  # other data
    assert cached(table, "u").layout.title.text == "u"  # other plain arguments
    assert BUILT == ["t", "t", "u"]
