"""Issue 15, item 13: a shared link cannot point the server at a directory it does not offer. The sidebar offers
only the studies under the study roots ($ATLAS_STUDY_ROOTS, default precomputed/) and $ATLAS_RESULTS
(``ui/studies.py``); a ``results`` link value naming anything else is refused with one message and the default
study opens, without a traceback, whatever the value."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO
from streamlit.testing.v1 import AppTest

from engine.core.fs import read_json
from ui.studies import APP_DIR, default_study, find_study, offered_studies, study_roots

APP = str(REPO / "app.py")
SHIPPED = REPO / "precomputed" / "fashion_mnist"
SHIPPED_LABEL = "precomputed/fashion_mnist"
SHIPPED_TITLE = read_json(SHIPPED / "manifest.json")["study"]
ROOTS, RESULTS = "ATLAS_STUDY_ROOTS", "ATLAS_RESULTS"


@pytest.fixture(autouse=True)
def study_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without the shell's ATLAS_RESULTS and ATLAS_STUDY_ROOTS (put back after it)."""
    for name in (ROOTS, RESULTS):
        monkeypatch.delenv(name, raising=False)


def make_study(path: Path, name: str = "s") -> Path:
    """A directory that ``offered_studies`` counts as a study (it holds a manifest.json)."""
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"study": name}))
    return path


# offered_studies() and friends on temporary directories, without Streamlit.

def test_the_default_root_offers_the_shipped_study() -> None:
    assert study_roots() == [APP_DIR / "precomputed"]
    studies = offered_studies()
    assert studies[SHIPPED_LABEL] == SHIPPED
    assert default_study(studies) == SHIPPED_LABEL


def test_a_root_offers_its_study_subdirectories_sorted_by_name(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    for name in ("b", "a", "c"):
        make_study(root / name)
    (root / "not_a_study").mkdir()
    (root / "notes.txt").write_text("x")
    make_study(root / "not_a_study" / "nested")  # only direct sub-directories count
    monkeypatch.setenv(ROOTS, str(root))
    studies = offered_studies()
    assert studies == {str(root / name): root / name for name in "abc"}
    assert default_study(studies) == str(root / "a")  # no shipped study offered: the first


def test_a_root_holding_a_manifest_is_one_study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_study(tmp_path / "study")
    make_study(root / "inner")
    monkeypatch.setenv(ROOTS, str(root))
    assert offered_studies() == {str(root): root}


def test_roots_are_separated_by_pathsep_and_relative_to_the_app(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    make_study(tmp_path / "root" / "x")
    monkeypatch.setenv(ROOTS, os.pathsep.join([str(tmp_path / "root"), "", "precomputed"]))
    assert study_roots() == [tmp_path / "root", APP_DIR / "precomputed"]
    studies = offered_studies()
    assert list(studies) == [str(tmp_path / "root" / "x"), SHIPPED_LABEL]
    assert default_study(studies) == SHIPPED_LABEL


def test_symlinks_and_dotdot_cannot_lead_out_of_a_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    inside = make_study(root / "inside")
    outside = make_study(tmp_path / "outside")
    (root / "escape").symlink_to(outside)  # a study, but outside the root
    (root / "again").symlink_to("inside")  # the same study under a second name
    (root / "loop").symlink_to("loop")
    monkeypatch.setenv(ROOTS, str(tmp_path / "elsewhere" / ".." / "root"))
    assert offered_studies() == {str(inside): inside}


@pytest.mark.parametrize("kind", ["missing", "file", "unreadable"])
def test_a_root_that_cannot_be_listed_offers_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     kind: str) -> None:
    root = tmp_path / "root"
    if kind == "file":
        root.write_text("x")
    elif kind == "unreadable":
        make_study(root / "a")
        root.chmod(0)
        if os.geteuid() == 0:  # root may list it anyway: refuse the listing as it is refused to anyone else
            listing = os.scandir

            def refuse(path: Any = ".") -> Any:
                if Path(path) == root:
                    raise PermissionError(13, "Permission denied", str(path))
                return listing(path)
            monkeypatch.setattr(os, "scandir", refuse)
    monkeypatch.setenv(ROOTS, str(root))
    try:
        assert offered_studies() == {}
        assert default_study({}) is None
    finally:
        if kind == "unreadable":
            root.chmod(0o755)


def test_atlas_results_is_offered_first_and_is_the_default_even_when_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RESULTS, str(tmp_path / "missing"))
    studies = offered_studies()
    assert list(studies) == [str(tmp_path / "missing"), SHIPPED_LABEL]
    assert studies[str(tmp_path / "missing")] == tmp_path / "missing"  # as spelled, for the page's messages
    assert default_study(studies) == str(tmp_path / "missing")


def test_atlas_results_relative_to_the_app_is_listed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RESULTS, SHIPPED_LABEL)
    assert offered_studies() == {SHIPPED_LABEL: SHIPPED}
    monkeypatch.setenv(RESULTS, str(SHIPPED))  # absolute: still the same label
    assert offered_studies() == {SHIPPED_LABEL: SHIPPED}


@pytest.mark.parametrize("value", [
    SHIPPED_LABEL, str(SHIPPED), "precomputed/../precomputed/fashion_mnist", "./precomputed/fashion_mnist/",
])
def test_any_spelling_of_an_offered_study_finds_its_label(value: str) -> None:
    assert find_study(value, offered_studies()) == SHIPPED_LABEL


@pytest.mark.parametrize("value", [
    "", "/etc", "../../..", "precomputed", "precomputed/fashion_mnist\x00", "x" * 5000, "%2e%2e%2f", "\n",
    str(SHIPPED / "models"), "precomputed/fashion_mnist/..",
])
def test_anything_else_finds_nothing(value: str) -> None:
    assert find_study(value, offered_studies()) is None


# The app, through AppTest.

@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete study (a copy of the shipped one) that lies outside every study root."""
    return Path(shutil.copytree(SHIPPED, tmp_path_factory.mktemp("outside") / "fashion_mnist"))


@pytest.fixture(scope="module")
def extra_root(tmp_path_factory: pytest.TempPathFactory, outside: Path) -> Path:
    """A study root holding another copy of the shipped study, named "added", and a link to ``outside``."""
    root = tmp_path_factory.mktemp("roots")
    added = Path(shutil.copytree(SHIPPED, root / "added"))
    (added / "manifest.json").write_text(json.dumps({**read_json(SHIPPED / "manifest.json"), "study": "added"}))
    (root / "escape").symlink_to(outside, target_is_directory=True)
    return root


def open_app(link: str | list[str] | None = None, page: str | None = None) -> AppTest:
    """The app opened from a link whose ``results`` parameter is ``link`` (none when None), on ``page``."""
    at = AppTest.from_file(APP, default_timeout=60)
    if link is not None:
        at.query_params["results"] = link
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def assert_default_study_opened(at: AppTest) -> None:
    assert not at.exception, [exception.value for exception in at.exception]
    assert not at.error, [error.value for error in at.error]
    assert at.title[0].value == SHIPPED_TITLE
    assert at.sidebar.selectbox[0].value == SHIPPED_LABEL
    assert "results" not in at.query_params  # the refused value is not kept in the URL


def refusals(at: AppTest) -> list[str]:
    """The warnings of ``at`` that refuse a study (not, e.g., the notice of a study still being written)."""
    return [warning.value for warning in at.warning if "not a study this server offers" in warning.value]


def refused(at: AppTest, shown: str) -> str:
    """The one refusal of ``at``, which names ``shown`` and the study roots' variable."""
    assert len(refusals(at)) == 1, [warning.value for warning in at.warning]
    message = refusals(at)[0]
    assert f"`{shown}` is not a study this server offers, so it is not opened" in message, message
    assert "ATLAS_STUDY_ROOTS" in message and f"Showing `{SHIPPED_LABEL}` instead" in message
    return message


LINKS = {  # id: (link value, how the message shows it)
    "etc": ("/etc", "/etc"),
    "dotdot": ("../../..", "../../.."),
    "nul": ("precomputed/fashion_mnist\x00", "precomputed/fashion_mnist\\x00"),
    "long": ("a" * 5000, "a" * 200 + "..."),
    "url-encoded": ("..%2F..%2Fetc%00", "..%2F..%2Fetc%00"),
    "markdown": ("`[x](http://e.test)`\n<b>", "'[x](http://e.test)'\\n<b>"),
    "child of a study": ("precomputed/fashion_mnist/models", "precomputed/fashion_mnist/models"),
}


@pytest.mark.parametrize("link", LINKS, ids=list(LINKS))
def test_a_link_outside_the_roots_is_refused(link: str) -> None:
    value, shown = LINKS[link]
    at = open_app(value)
    refused(at, shown)
    assert_default_study_opened(at)


def test_an_existing_study_outside_the_roots_is_refused(outside: Path) -> None:
    at = open_app(str(outside))
    refused(at, str(outside))
    assert_default_study_opened(at)


def test_a_symlink_inside_a_root_to_a_study_outside_is_refused(extra_root: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ROOTS, os.pathsep.join(["precomputed", str(extra_root)]))
    at = open_app(str(extra_root / "escape"))
    refused(at, str(extra_root / "escape"))
    assert_default_study_opened(at)
    assert at.sidebar.selectbox[0].options == [SHIPPED_LABEL, str(extra_root.resolve() / "added")]


def test_the_message_does_not_tell_which_paths_exist(tmp_path: Path) -> None:
    messages = {refused(open_app(str(path)), str(path)).replace(str(path), "DIR")
                for path in (tmp_path, tmp_path / "missing")}
    assert len(messages) == 1, messages


def test_the_last_of_repeated_parameters_is_the_one_refused() -> None:
    at = open_app([SHIPPED_LABEL, "/etc"])
    refused(at, "/etc")
    assert_default_study_opened(at)


@pytest.mark.parametrize("value", ["", "precomputed/../precomputed/fashion_mnist", str(SHIPPED)])
def test_an_empty_link_or_another_spelling_of_the_default_opens_it_quietly(value: str) -> None:
    at = open_app(value)
    assert not refusals(at), refusals(at)
    assert_default_study_opened(at)


def test_a_refused_link_on_another_page_opens_the_default_study_there() -> None:
    at = open_app("/etc", "app_pages/accuracy.py")
    assert not at.exception and not at.error
    assert at.sidebar.selectbox[0].value == SHIPPED_LABEL
    assert at.get("plotly_chart")  # the shipped study's heatmaps


def test_a_study_under_a_configured_root_is_offered_opened_and_linked(extra_root: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ROOTS, os.pathsep.join(["precomputed", str(extra_root)]))
    label = str(extra_root.resolve() / "added")
    at = open_app()
    assert at.sidebar.selectbox[0].options == [SHIPPED_LABEL, label]
    at.sidebar.selectbox[0].set_value(label).run()
    assert not at.exception and not at.error and not refusals(at)
    assert at.title[0].value == "added"
    assert at.query_params["results"] == label

    again = open_app(label)  # the link restores it in a new session
    assert not again.exception and not again.error and not refusals(again)
    assert again.sidebar.selectbox[0].value == label
    assert again.title[0].value == "added"
    assert again.query_params["results"] == label
    again.sidebar.selectbox[0].set_value(SHIPPED_LABEL).run()  # back to the default: the URL drops it
    assert again.title[0].value == SHIPPED_TITLE and "results" not in again.query_params


def test_atlas_results_outside_the_roots_is_offered_and_opened_by_default(outside: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RESULTS, str(outside))
    at = open_app()
    assert not at.exception and not at.error and not refusals(at)
    assert at.sidebar.selectbox[0].options == [str(outside), SHIPPED_LABEL]
    assert at.sidebar.selectbox[0].value == str(outside)
    assert "results" not in at.query_params
    at.sidebar.selectbox[0].set_value(SHIPPED_LABEL).run()
    assert at.query_params["results"] == SHIPPED_LABEL  # not the default any more, so the URL names it


def test_no_study_offered_explains_how_to_configure_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ROOTS, str(tmp_path))
    at = open_app("/etc")
    assert not at.exception, [exception.value for exception in at.exception]
    assert len(at.error) == 1 and "This server offers no study" in at.error[0].value
    assert "ATLAS_STUDY_ROOTS" in at.error[0].value and "ATLAS_RESULTS" in at.error[0].value
    assert not at.sidebar.selectbox and not at.main.title
