"""Property-based fuzzing (hypothesis, fixed budget) of the two parsers of untrusted input: the upload
decoder and the config loader. Any input either parses or raises the module's own error."""

from __future__ import annotations

import io
import string
import tomllib

import pytest
from helpers import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from engine.config.schema import ConfigError
from engine.data.uploads import MAX_PIXELS, ImageError, decode_image, to_model_input
from engine.study.validate import load_study, study_from_dict

BUDGET = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                  derandomize=True)


def _seed_images() -> list[bytes]:
    """Small valid files of every accepted format, to mutate."""
    image = Image.effect_noise((24, 16), 40).convert("RGB")
    files = []
    for fmt in ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF"):
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        files.append(buffer.getvalue())
    return files


SEEDS = _seed_images()


def _check_decode(data: bytes) -> None:
    try:
        image = decode_image(data)
    except ImageError as error:
        assert str(error)  # a message for the user, never an empty one
        return
    assert image.mode in ("L", "RGB") and image.width * image.height <= MAX_PIXELS
    x = to_model_input(image, (1, 28, 28))
    assert x.shape == (1, 1, 28, 28) and 0 <= float(x.min()) and float(x.max()) <= 1


@BUDGET
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_crash_the_decoder(data: bytes) -> None:
    _check_decode(data)


@BUDGET
@given(st.sampled_from(range(len(SEEDS))), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)),
                                                    max_size=8), st.integers(0, 10_000))
def test_mutated_images_never_crash_the_decoder(seed: int, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(SEEDS[seed])
    for position, value in flips:
        data[position % len(data)] = value
    _check_decode(bytes(data[:max(cut, 8)]))


SMOKE_TEXT = (REPO / "configs" / "smoke.toml").read_text()
SMOKE = tomllib.loads(SMOKE_TEXT)
toml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                         st.text(max_size=12), st.binary(max_size=4))
toml_values = st.recursive(toml_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(string.ascii_lowercase + "_", max_size=12), inner,
                                                 max_size=4)), max_leaves=12)


@BUDGET
@given(text=st.text(max_size=400))
def test_arbitrary_text_is_a_config_or_a_config_error(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "study.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_study(path)
    except ConfigError:
        pass


@BUDGET
@given(toml_values)
def test_arbitrary_documents_are_a_config_or_a_config_error(document: object) -> None:
    try:
        study_from_dict(document if isinstance(document, dict) else {"name": document})
    except ConfigError:
        pass


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a parsed TOML document."""
    if isinstance(value, dict):
        return [prefix] + [p for key, item in value.items() for p in _paths(item, (*prefix, key))]
    if isinstance(value, list):
        return [prefix] + [p for index, item in enumerate(value) for p in _paths(item, (*prefix, index))]
    return [prefix]


SMOKE_PATHS = [path for path in _paths(SMOKE) if path]


@BUDGET
@given(st.sampled_from(SMOKE_PATHS), toml_values)
def test_any_value_of_the_smoke_config_replaced_is_a_config_or_a_config_error(path: tuple, value: object) -> None:
    import copy

    document = copy.deepcopy(SMOKE)
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    try:
        study_from_dict(document)
    except ConfigError as error:
        assert str(error)
