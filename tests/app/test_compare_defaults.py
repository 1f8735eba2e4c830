"""Compare opens on a setting its analyses cover, so every column of its table has values."""

from __future__ import annotations

from helpers import REPO
from streamlit.testing.v1 import AppTest

APP = str(REPO / "app.py")


def test_compare_opens_on_the_smallest_analysed_eps_with_every_column_filled(monkeypatch) -> None:
    monkeypatch.delenv("ATLAS_RESULTS", raising=False)  # the shipped study
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/compare.py")
    at.run()
    assert not at.exception and not at.error
    eps = next(box for box in at.selectbox if box.label == "Eps").value
    assert eps > 0
    table = at.dataframe[0].value
    assert table[["A-distance", "mean SVCCA (penultimate)", "C1", "C2"]].notna().all().all(), table
