"""Every view is a link: the page's controls go into the URL, and a fresh session opened on that URL shows the
same view (issue 15, item 7: the transfer view, the log-scale toggle, the latent inputs, the SVCCA model and sweep,
the epoch window, the playground's attack settings). The URL holds the page's view only, and the sidebar shows it
as a link to copy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import REPO
from streamlit.testing.v1 import AppTest

APP = str(REPO / "app.py")


def _session(page: str, params: dict[str, str] | None = None) -> AppTest:
    """A fresh session opened on ``page`` with the query ``params``, after its first run."""
    at = AppTest.from_file(APP, default_timeout=120)
    for name, value in (params or {}).items():
        at.query_params[name] = value
    at.switch_page(page)  # the first run draws the page, as a browser opening the page's link does
    return at.run()


def _params(at: AppTest) -> dict[str, str]:
    return {name: at.query_params[name] for name in at.query_params}


def _box(at: AppTest, label: str):
    return next(box for box in at.main.selectbox if box.label == label)


def _last_option(at: AppTest, label: str) -> Callable[[AppTest], object]:
    box = _box(at, label)
    assert len(box.options) > 1 and box.value != box.options[-1]  # else the link would restore the default anyway
    box.set_value(box.options[-1])
    return lambda fresh: _box(fresh, label).value


CASES = {
    "latent inputs": ("app_pages/latent.py", "inputs",
                      lambda at: (at.radio[0].set_value("clean only"), lambda fresh: fresh.radio[0].value)[1]),
    "log scale": ("app_pages/losses.py", "log",
                  lambda at: (at.toggle[0].set_value(False), lambda fresh: fresh.toggle[0].value)[1]),
    "svcca model": ("app_pages/svcca.py", "svcca_model", lambda at: _last_option(at, "Model")),
    "epoch window": ("app_pages/training.py", "epochs",
                     lambda at: (at.slider[0].set_value((1, 1)), lambda fresh: fresh.slider[0].value)[1]),
    "transfer eps": ("app_pages/accuracy.py", "transfer_eps", lambda at: _last_option(at, "Eps")),
    "playground attack": ("app_pages/playground.py", "pg_attack", lambda at: _last_option(at, "Attack")),
    "playground eps": ("app_pages/playground.py", "pg_eps_Linf",
                       lambda at: (at.number_input(key="pg_eps_Linf").set_value(0.3),
                                   lambda fresh: fresh.number_input(key="pg_eps_Linf").value)[1]),
    "playground test image": ("app_pages/playground.py", "pg_index",
                              lambda at: (at.number_input(key="pg_index").set_value(7),
                                          lambda fresh: fresh.number_input(key="pg_index").value)[1]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_views_link_restores_it_in_a_fresh_session(case: str, smoke_study: Path, monkeypatch) -> None:
    monkeypatch.setenv("ATLAS_RESULTS", str(smoke_study))
    page, prefix, change = CASES[case]
    at = _session(page)
    read = change(at)
    at.run()
    assert not at.exception and not at.error
    expected = read(at)
    assert expected != read(_session(page))  # the change is not the default view
    params = _params(at)
    assert any(name.startswith(prefix) for name in params), params
    fresh = _session(page, params)
    assert not fresh.exception and read(fresh) == expected


def test_the_url_holds_the_page_shown_and_the_sidebar_offers_it_as_a_link(smoke_study: Path, monkeypatch) -> None:
    """Another page's selection leaves the URL when the page changes, a stale parameter of a link is dropped,
    and the sidebar's code box (with its copy button) holds the page's query."""
    monkeypatch.setenv("ATLAS_RESULTS", str(smoke_study))
    at = _session("app_pages/latent.py", {"log": "off"})  # the loss page's toggle, stale here
    assert "inputs" in _params(at) and "log" not in _params(at)
    at.switch_page("app_pages/norms.py").run()
    params = _params(at)
    assert not at.exception and "inputs" not in params and {"models", "sweeps"} <= set(params)
    link = at.sidebar.code[0].value
    assert link.startswith("?") and link.count("&") == len(params) - 1
    assert all(f"{name}={value}" in link for name, value in params.items())
    fresh = _session("app_pages/norms.py", params)
    assert _params(fresh) == params and fresh.multiselect[0].value == at.multiselect[0].value
