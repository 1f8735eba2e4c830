"""The Papers page (AppTest): every table and figure of both papers with its verdict on the shipped study, the
side-by-side tables and checks, links into the evidence views, and a study without the papers' models."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from helpers import REPO
from streamlit.testing.v1 import AppTest

from engine.reporting.findings import Study
from engine.reporting.paper_report import COUNTERPARTS, counterparts
from engine.reporting.side_by_side import NOT_HERE, NOT_IN_STUDY
from ui import pages

APP = str(REPO / "app.py")
PAGE = "app_pages/papers.py"
SHIPPED = REPO / "precomputed" / "fashion_mnist"


@pytest.fixture(autouse=True)
def study_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ATLAS_RESULTS", "ATLAS_STUDY_ROOTS"):
        monkeypatch.delenv(name, raising=False)


def open_papers(results_dir: Path | None = None) -> AppTest:
    if results_dir is not None:
        os.environ["ATLAS_RESULTS"] = str(results_dir)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(PAGE)
    return at.run()


def test_papers_page_is_in_the_page_list() -> None:
    assert PAGE in [page.script for page in pages.PAGES]


def test_shows_every_table_and_figure_with_its_verdict_on_the_shipped_study() -> None:
    at = open_papers()
    assert not at.exception and not at.error
    overview = at.dataframe[0].value
    expected = counterparts(Study.read(SHIPPED))
    assert len(overview) == len(COUNTERPARTS)
    assert list(overview.verdict) == [item.verdict for item in expected]
    assert [e.label for e in at.expander] == [f"{c.source.number}: {c.verdict}" for c in expected]
    reproduced = [item for item in expected if item.verdict not in (NOT_HERE, NOT_IN_STUDY)]
    tables = [frame.value for frame in at.dataframe[1:]]
    assert len(tables) == sum((not item.table.empty) + bool(item.checks) for item in expected)
    assert any("ours: robust_l2" in frame.columns for frame in tables)  # Garaev et al.'s Table 1 beside ours
    evidence = [block.value for block in at.markdown if "Open the evidence" in block.value]
    assert len(evidence) == len(reproduced)
    links = [part for value in evidence for part in value.split("](")[1:]]
    first = urlsplit(links[0].split(")")[0])
    assert first.path in {page.url_path for page in pages.PAGES}
    assert dict(parse_qsl(first.query))["models"]


def test_a_study_without_the_papers_models_still_shows_the_papers_tables(smoke_study: Path) -> None:
    at = open_papers(smoke_study)
    assert not at.exception and not at.error
    assert set(at.dataframe[0].value.verdict) <= {NOT_HERE, NOT_IN_STUDY}
    assert len(at.dataframe) > 1  # the papers' own tables, with nothing of ours beside them
