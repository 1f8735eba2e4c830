"""Selections shared by every page and kept in the URL, so that a view can be shared by its link.

A selection lives in ``st.session_state`` under ``"sel:<name>"`` (not as a widget key: Streamlit
forgets the state of widgets a page does not draw) and in the query parameter ``<name>`` as
comma-separated values. Widgets are drawn under a key derived from their options, so another study
with other values starts from the stored selection restricted to what exists, or from everything.

The URL holds the view of the page shown and nothing else: ``start_page`` opens a page's run, every
shared widget the page draws writes its parameter (``remember``), and ``finish_page`` drops the
parameters it did not write (another page's selections), so ``page_link`` is the link to this view.
A ``page_fragment`` reruns alone: its widgets rewrite their parameters, the page's others stay in the
URL, and it redraws the sidebar's link.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec
from urllib.parse import urlencode

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

PREFIX = "sel:"
PAGE_KEY = "url:page"  # session key: the name of the page this run draws
WRITTEN_KEY = "url:written"  # session key: the URL parameters that page has written this run, in order
LINK_KEY = "url:link"  # session key: the sidebar's slot of the link to the view, between two runs of the page
KEPT_PARAMS = ("results",)  # parameters of the sidebar, which every page shows
LISTED_VALUES = 3  # a selection of more values is named by its count in ``selection_label``

Params = ParamSpec("Params")


def encode(value: Any) -> str:
    """A value as it appears in the URL: floats by ``:g`` (0.1, inf), everything else by ``str``."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def stored(name: str) -> list[str] | None:
    """The encoded values stored for ``name`` (this session, else the URL), or None if never chosen."""
    key = PREFIX + name
    if key not in st.session_state and name in st.query_params:
        st.session_state[key] = [part for part in st.query_params[name].split(",") if part]
    return st.session_state.get(key)


def remember(name: str, values: Sequence[Any]) -> None:
    """Store ``values`` for ``name`` in the session and the URL, as a parameter of the page shown."""
    encoded = [encode(value) for value in values]
    st.session_state[PREFIX + name] = encoded
    st.query_params[name] = ",".join(encoded)
    written = st.session_state.setdefault(WRITTEN_KEY, [])
    if name not in written:
        written.append(name)


def start_page(name: str) -> None:
    """Open the run of page ``name`` (before it draws): from here on, the URL gathers its widgets' parameters."""
    st.session_state[PAGE_KEY] = name
    st.session_state[WRITTEN_KEY] = []


def finish_page() -> None:
    """Close the page's run: drop from the URL every parameter the page did not write (another page's
    selection, or a stale one from a link), so that the URL is this page's view and nothing else."""
    written = set(st.session_state.get(WRITTEN_KEY, [])) | set(KEPT_PARAMS)
    for name in [name for name in st.query_params if name not in written]:
        del st.query_params[name]
    _show_link()


def page_link() -> str:
    """The link to the view shown: the page's address in the browser (relative when unknown) and its query."""
    query = urlencode({name: st.query_params[name] for name in st.query_params}, safe=",")
    return (st.context.url or "") + (f"?{query}" if query else "")


def share_view(container: DeltaGenerator) -> None:
    """The place of the link to the view shown, drawn before the page: a code box with a copy button (Streamlit
    has no clipboard API) that ``finish_page`` fills, and a ``page_fragment`` refills when it reruns alone."""
    container.caption("Link to this view: the copy button is at its right")
    st.session_state[LINK_KEY] = container.empty()


def _show_link() -> None:
    """The link to the view shown, in the place ``share_view`` drew this page's last full run (if it did)."""
    slot = st.session_state.get(LINK_KEY)
    if slot is not None:
        slot.code(page_link(), language=None, wrap_lines=True)


def page_fragment(part: Callable[Params, None]) -> Callable[Params, None]:
    """``part`` of a page (its widgets and what only they change) as an ``st.fragment``: a change of its
    widgets reruns ``part`` alone, with the arguments of the page's last run, then redraws the link to the
    view in the sidebar (the URL keeps the page's other parameters: ``finish_page`` runs with the page only).
    It draws the link in the full runs too (``finish_page`` then replaces it), because Streamlit lets a fragment
    rerun fill only a place outside it that the fragment filled in the last full run."""

    @functools.wraps(part)
    def rerun(*args: Params.args, **kwargs: Params.kwargs) -> None:
        part(*args, **kwargs)
        _show_link()

    return st.fragment(rerun)


def page_name() -> str:
    """The name of the page this run draws ("" before ``start_page``)."""
    return str(st.session_state.get(PAGE_KEY, ""))


def selection_label() -> str:
    """The page's selection so far in a few words, for file names: each parameter written this run (but the
    study's), by its values, or by their count past LISTED_VALUES ("28-models"), joined by "_"."""
    parts = []
    for name in st.session_state.get(WRITTEN_KEY, []):
        values = st.session_state.get(PREFIX + name, [])
        parts.append("-".join(values) if len(values) <= LISTED_VALUES else f"{len(values)}-{name}")
    return "_".join(part for part in parts if part)


def select_more(name: str, values: Sequence[Any]) -> None:
    """Add ``values`` to the stored selection ``name`` (when the page has one) and forget its widgets' state,
    so that the next run draws them from the stored selection."""
    chosen = stored(name)
    if chosen is None:
        return
    remember(name, [*chosen, *(encode(value) for value in values if encode(value) not in chosen)])
    for key in [key for key in st.session_state if isinstance(key, str) and key.startswith(f"widget:{name}:")]:
        del st.session_state[key]


def widget_key(name: str, options: Sequence[Any]) -> str:
    """The key of the widget of selection ``name`` over ``options``."""
    digest = zlib.crc32("\x1f".join(encode(option) for option in options).encode())
    return f"widget:{name}:{digest:08x}"


def shared_multiselect(container: DeltaGenerator, label: str, name: str, options: Sequence[Any],
                       format_func: Callable[[Any], str] = str, initial: Sequence[Any] | None = None,
                       **kwargs: Any) -> list:
    """A multiselect whose choice is shared by every page and the URL; at first ``initial`` (default: all)
    is selected."""
    options = list(options)
    wanted = stored(name)
    if wanted is None:
        wanted = [encode(option) for option in (options if initial is None else initial)]
    default = [option for option in options if encode(option) in wanted] or options
    key = widget_key(name, options)
    value = container.multiselect(label, options, default=default, key=key, format_func=format_func,
                                  on_change=lambda: remember(name, st.session_state[key]), **kwargs)
    remember(name, value)
    return value


def _shared_choice(widget: Callable[..., Any], label: str, name: str, options: Sequence[Any],
                   format_func: Callable[[Any], str], initial: Any, **kwargs: Any) -> Any:
    """``widget`` (a selectbox or radio of a container) choosing one of ``options``, shared by every page and
    the URL under ``name``; ``initial`` at first when it is an option, else the first option. A ``key`` among
    ``kwargs`` names the widget for good (default: ``widget_key``)."""
    options = list(options)
    if not options:
        return widget(label, options, **kwargs)
    wanted = stored(name) or ([encode(initial)] if initial in options else [])
    index = next((i for i, option in enumerate(options) if encode(option) in wanted[:1]), 0)
    key = kwargs.pop("key", None) or widget_key(name, options)
    value = widget(label, options, index=index, key=key, format_func=format_func,
                   on_change=lambda: remember(name, [st.session_state[key]]), **kwargs)
    remember(name, [value])
    return value


def shared_selectbox(container: DeltaGenerator, label: str, name: str, options: Sequence[Any],
                     format_func: Callable[[Any], str] = str, initial: Any = None, **kwargs: Any) -> Any:
    """A selectbox whose choice is shared by every page and the URL; ``initial`` at first when it is an
    option, else the first option."""
    return _shared_choice(container.selectbox, label, name, options, format_func, initial, **kwargs)


def shared_radio(container: DeltaGenerator, label: str, name: str, options: Sequence[Any],
                 format_func: Callable[[Any], str] = str, initial: Any = None, **kwargs: Any) -> Any:
    """Radio buttons whose choice is shared by every page and the URL; ``initial`` (else the first) at first."""
    return _shared_choice(container.radio, label, name, options, format_func, initial, **kwargs)


def shared_toggle(container: DeltaGenerator, label: str, name: str, initial: bool, **kwargs: Any) -> bool:
    """A toggle shared by every page and the URL (``name=on`` / ``off``); ``initial`` at first. A ``key`` among
    ``kwargs`` names the widget (default: "widget:<name>")."""
    wanted = stored(name)
    value = bool(initial) if not wanted else wanted[0] == "on"
    key = kwargs.pop("key", None) or f"widget:{name}"

    def changed() -> None:
        remember(name, ["on" if st.session_state[key] else "off"])

    value = container.toggle(label, value=value, key=key, on_change=changed, **kwargs)
    remember(name, ["on" if value else "off"])
    return value


def shared_range(container: DeltaGenerator, label: str, name: str, low: int, high: int,
                 initial: tuple[int, int], **kwargs: Any) -> tuple[int, int]:
    """A range slider over the integers low..high shared by every page and the URL (``name=first,last``);
    ``initial`` at first or when the stored range does not fit."""
    wanted = stored(name) or []
    try:
        first, last = (int(part) for part in wanted)
    except ValueError:
        first, last = initial
    if not low <= first <= last <= high:
        first, last = initial
    key = widget_key(name, [low, high])
    value = container.slider(label, low, high, (first, last), key=key,
                             on_change=lambda: remember(name, list(st.session_state[key])), **kwargs)
    remember(name, list(value))
    return value


def shared_number(container: DeltaGenerator, label: str, name: str, low: float, high: float, initial: float,
                  **kwargs: Any) -> Any:
    """A number input over low..high shared by every page and the URL; ``initial`` at first or when the stored
    number does not fit. Whole numbers when ``initial`` is an int, else floats. A ``key`` among ``kwargs`` names
    the widget for good (default: ``widget_key`` of the bounds)."""
    kind = int if isinstance(initial, int) else float
    wanted = stored(name) or []
    try:
        value = kind(float(wanted[0]))
    except (IndexError, ValueError, OverflowError):
        value = initial
    if not low <= value <= high:
        value = initial
    key = kwargs.pop("key", None) or widget_key(name, [low, high])
    value = container.number_input(label, kind(low), kind(high), value, key=key,
                                   on_change=lambda: remember(name, [st.session_state[key]]), **kwargs)
    remember(name, [value])
    return value
