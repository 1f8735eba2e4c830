"""Hostile uploads (issue 17, items 4 and 10): extreme shapes are refused from the header, before any pixel is
decoded, with a message naming the limit; what is accepted is decoded in bounded memory and shown through a
bounded preview; a TGA file is called TGA; and the app listens on localhost by default."""

from __future__ import annotations

import io
import re
import struct
import sys
import tomllib
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import REPO
from PIL import Image
from streamlit.testing.v1 import AppTest

from engine.data import uploads
from engine.data.uploads import (
    MAX_ASPECT,
    MAX_DECODE_BYTES,
    MAX_SIDE,
    PREVIEW_SIDE,
    WORKING_SIDE,
    ImageError,
    decode_upload,
    preview,
)

SIDE_LIMIT = f"at most {MAX_SIDE:,} pixels a side"
ASPECT_MESSAGE = re.compile(r"aspect ratio of ([\d.]+):1: at most (\d+):1 is accepted")
REFUSAL_MB = 32  # a refused upload may grow the process's peak memory by this much at most (measured: about 1)
_HIGH_WATER = Path("/proc/self/clear_refs")  # Linux: writing "5" resets the peak resident set size (VmHWM)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def black_png(width: int, height: int, bit_depth: int = 8, colour_type: int = 0) -> bytes:
    """A complete, decodable all-black PNG of ``width`` x ``height`` pixels, compressed row block by row block
    so that even 25 million rows take a fraction of a second and little memory to write."""
    samples = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = b"\x00" * (1 + width * samples * bit_depth // 8)  # filter byte "none", then the samples
    per_block = max(1, 2**20 // len(row))
    compressor, body = zlib.compressobj(9), []
    for start in range(0, height, per_block):
        body.append(compressor.compress(row * min(per_block, height - start)))
    body.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(body)) + _chunk(b"IEND", b"")


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _peak_resident_mb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM:"))


@contextmanager
def peak_memory_growth() -> Iterator[Callable[[], int | None]]:
    """Yields a function giving how many MB the process's peak resident memory grew inside the block (None
    where the platform cannot reset the peak)."""
    if not sys.platform.startswith("linux") or not _HIGH_WATER.exists():
        yield lambda: None
        return
    _HIGH_WATER.write_text("5")
    before, grown = _peak_resident_mb(), [0]
    yield lambda: grown[0]
    grown[0] = _peak_resident_mb() - before


def refused(data: bytes) -> tuple[str, int | None]:
    """The message of the ``ImageError`` that refuses ``data``, and the peak memory growth in MB it cost."""
    with peak_memory_growth() as growth, pytest.raises(ImageError) as caught:
        decode_upload(data)
    return str(caught.value), growth()


@pytest.fixture(scope="module")
def one_by_25_million() -> bytes:
    """The issue's 48 KB PNG, 1 x 25,000,000 pixels: under the megapixel limit, it took 39 s and 1.65 GB."""
    data = black_png(1, 25_000_000)
    assert len(data) < 64_000
    return data


class TestExtremeShapes:
    """Sides, aspect ratio and pixel count are bounded from the header, before any decoding."""

    def test_a_1_by_25_million_png_is_refused_by_its_side_in_little_memory(self, one_by_25_million: bytes) -> None:

        """The issue's 48 KB PNG (it took 39 s and +1.65 GB) is refused from its header, in a few MB."""
        message, growth = refused(one_by_25_million)
        assert "1 x 25000000 pixels" in message and SIDE_LIMIT in message
        assert growth is None or growth < REFUSAL_MB, f"refusing it grew the peak memory by {growth} MB"

    @pytest.mark.parametrize("fmt", ["PNG", "TIFF", "BMP"])
    @pytest.mark.parametrize("size", [(1, 70_000), (70_000, 1)])
    def test_a_side_over_what_streamlit_can_show_is_refused(self, fmt: str, size: tuple[int, int]) -> None:
        """The issue's 216-byte 1 x 70,000 PNG crashed the page (Streamlit shows at most 65,500 px a side)."""
        data = black_png(*size) if fmt == "PNG" else encode(Image.new("L", size), fmt)
        message, growth = refused(data)
        assert f"{size[0]} x {size[1]} pixels" in message and SIDE_LIMIT in message
        assert growth is None or growth < REFUSAL_MB

    @pytest.mark.parametrize("size", [(MAX_SIDE + 1, 200), (200, MAX_SIDE + 1)])
    def test_one_pixel_over_the_side_limit_is_refused(self, size: tuple[int, int]) -> None:
        """MAX_SIDE is the limit itself, in either direction."""
        message, _ = refused(black_png(*size))
        assert SIDE_LIMIT in message

    @pytest.mark.parametrize("size", [(8_000, 100), (100, 8_000), (MAX_ASPECT * 100 + 1, 100), (2, 101)])
    def test_an_aspect_ratio_over_the_limit_is_refused_and_the_stated_ratio_is_over_it(
            self, size: tuple[int, int]) -> None:
        """The message states the file's ratio with enough digits that it reads as over the limit (50.01:1, not
        "50:1: at most 50:1")."""
        message, growth = refused(black_png(*size))
        found = ASPECT_MESSAGE.search(message)
        assert found, message
        assert int(found.group(2)) == MAX_ASPECT and float(found.group(1)) > MAX_ASPECT, message
        assert growth is None or growth < REFUSAL_MB

    @pytest.mark.parametrize("size", [(MAX_ASPECT * 100, 100), (MAX_SIDE, MAX_SIDE // MAX_ASPECT + 1)])
    def test_shapes_at_the_limits_are_accepted_and_reduced_to_the_working_side(self, size: tuple[int, int]) -> None:
        """The limits refuse nothing at them; what passes is reduced at once to WORKING_SIDE."""
        upload = decode_upload(black_png(*size))
        assert upload.size == size and upload.format == "PNG" and upload.mode == "L"
        assert max(upload.image.size) == WORKING_SIDE and min(upload.image.size) >= 1

    def test_over_25_megapixels_within_the_side_and_aspect_limits_is_refused(self) -> None:

        """The pixel count is its own limit: 8000 x 4000 has fair sides and ratio."""
        message, growth = refused(black_png(8_000, 4_000))
        assert "(8000 x 4000 pixels): at most 25 megapixels are accepted" in message
        assert growth is None or growth < REFUSAL_MB


class TestDecodeMemory:
    """What is accepted costs bounded memory, counted per colour mode."""

    def test_a_25_megapixel_16_bit_png_is_decoded_within_the_decode_limit(self) -> None:
        """The issue's 48 KB 5000 x 5000 16-bit PNG cost +600 MB per session; it is within every limit (25 MP,
        50 MB to decode), so it is accepted, reduced at once, and the decode stays under MAX_DECODE_BYTES."""
        data = black_png(5_000, 5_000, bit_depth=16)
        assert len(data) < 64_000
        with peak_memory_growth() as growth:
            upload = decode_upload(data)
        assert upload.size == (5_000, 5_000) and upload.mode == "I;16"
        assert upload.image.size == (WORKING_SIDE, WORKING_SIDE) and upload.image.mode == "L"
        assert growth() is None or growth() < MAX_DECODE_BYTES / 2**20, f"{growth()} MB"

    @pytest.mark.parametrize(("mode", "side", "accepted"), [
        ("I;16", 5_000, False),  # 2 bytes a pixel: 48 MB
        ("1", 5_000, False),  # 1 byte a pixel, plus its grey copy: 48 MB
        ("P", 3_000, False),  # 1 byte a pixel, plus its RGBA copy: 43 MB
        ("L", 5_000, True),  # 24 MB
        ("RGB", 3_000, True),  # 4 bytes a pixel: 34 MB
    ])
    def test_the_decode_limit_counts_the_bytes_of_each_colour_mode(self, monkeypatch: pytest.MonkeyPatch,
                                                                   mode: str, side: int, accepted: bool) -> None:
        """At the shipped limits 25 MP of the widest mode (8 bytes a pixel) fit, so the limit is lowered here."""
        monkeypatch.setattr(uploads, "MAX_DECODE_BYTES", 40 * 2**20)
        data = encode(Image.new(mode, (side, side)), "PNG")
        if accepted:
            assert decode_upload(data).size == (side, side)
            return
        message, _ = refused(data)
        assert f"in colour mode {mode}): at most 40 MB are accepted" in message

    def test_a_decode_just_over_the_limit_reads_as_over_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """1,049,600 bytes against a 1 MB limit must not read "would take 1 MB: at most 1 MB"."""
        monkeypatch.setattr(uploads, "MAX_DECODE_BYTES", 2**20)
        message, _ = refused(black_png(1_025, 1_024))
        found = re.search(r"would take ([\d,]+) MB .*: at most (\d+) MB are accepted", message)
        assert found, message
        assert int(found.group(1).replace(",", "")) > int(found.group(2)) == 1, message


class TestPreview:
    """The page shows a bounded preview, never the file itself."""

    def test_the_preview_of_a_long_upload_fits_the_preview_side(self) -> None:

        """What the page shows of the longest accepted shape is at most PREVIEW_SIDE a side."""
        upload = decode_upload(black_png(MAX_SIDE, MAX_SIDE // MAX_ASPECT + 1))
        shown = preview(upload.image)
        assert max(upload.image.size) == WORKING_SIDE
        assert max(shown.size) == PREVIEW_SIDE and min(shown.size) >= 1

    def test_a_small_image_is_previewed_as_is_and_never_changed(self) -> None:

        """The preview never enlarges and works on a copy."""
        image = Image.new("L", (28, 28), 7)
        shown = preview(image, side=16)
        assert shown.size == (16, 16) and image.size == (28, 28)
        assert preview(image).size == (28, 28)

    def test_the_playground_explains_the_1_by_70000_png_in_the_page(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """It crashed the page with ``OSError: broken data stream``; now an st.error names the file and limit."""
        monkeypatch.delenv("ATLAS_RESULTS", raising=False)  # the shipped study
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
        at.switch_page("app_pages/playground.py").run()
        at.radio[0].set_value("Upload an image").run()
        at.file_uploader[0].set_value(("line.png", black_png(1, 70_000), "image/png")).run()
        assert not at.exception, [exception.value for exception in at.exception]
        assert len(at.error) == 1
        assert "`line.png` cannot be used" in at.error[0].value and SIDE_LIMIT in at.error[0].value


class TestFormatNames:
    """A refused file is called by its own format (item 10: every uncompressed true-colour TGA was "CUR")."""

    @pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P"])
    @pytest.mark.parametrize("compression", [None, "tga_rle"])
    def test_a_tga_file_is_called_tga(self, mode: str, compression: str | None) -> None:
        """Uncompressed and RLE TGA in every colour mode are named TGA (CUR shares their first bytes)."""
        data = encode(Image.new(mode, (16, 16)), "TGA", compression=compression)
        message, _ = refused(data)
        assert message.startswith("TGA files are not supported: upload a PNG"), message

    def test_a_cur_file_is_still_called_cur(self) -> None:

        """The header check did not turn every CUR into a TGA."""
        data = bytearray(encode(Image.new("RGB", (32, 32)), "ICO", sizes=[(32, 32)], bitmap_format="bmp"))
        data[2] = 2  # an ICO's header with type 2 is a CUR's
        message, _ = refused(bytes(data))
        assert message.startswith("CUR files are not supported"), message


def test_the_app_listens_on_localhost_by_default() -> None:
    """Streamlit listens on every interface unless told otherwise: the repository's config says localhost."""
    with open(REPO / ".streamlit" / "config.toml", "rb") as stream:
        config = tomllib.load(stream)
    assert config["server"]["address"] == "localhost"
