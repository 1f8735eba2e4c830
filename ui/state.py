"""Selections shared by every page and kept in the URL, so that a view can be shared by its link.

A selection lives in ``st.session_state`` under ``"sel:<name>"`` (not as a widget key: Streamlit
forgets the state of widgets a page does not draw) and in the query parameter ``<name>`` as
comma-separated values. Widgets are drawn under a key derived from their options, so another study
with other values starts from the stored selection restricted to what exists, or from everything.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

PREFIX = "sel:"


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
    """Store ``values`` for ``name`` in the session and the URL."""
    encoded = [encode(value) for value in values]
    st.session_state[PREFIX + name] = encoded
    st.query_params[name] = ",".join(encoded)


def sync_url() -> None:
    """Write every stored selection into the URL (page switches start from a bare URL)."""
    for key, values in list(st.session_state.items()):
        if isinstance(key, str) and key.startswith(PREFIX) and isinstance(values, list):
            st.query_params[key[len(PREFIX):]] = ",".join(values)


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
    the URL under ``name``; ``initial`` at first when it is an option, else the first option."""
    options = list(options)
    if not options:
        return widget(label, options, **kwargs)
    wanted = stored(name) or ([encode(initial)] if initial in options else [])
    index = next((i for i, option in enumerate(options) if encode(option) in wanted[:1]), 0)
    key = widget_key(name, options)
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
    """A toggle shared by every page and the URL (``name=on`` / ``off``); ``initial`` at first."""
    wanted = stored(name)
    value = bool(initial) if not wanted else wanted[0] == "on"
    key = f"widget:{name}"

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
