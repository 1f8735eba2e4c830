"""Decoding hostile uploads (engine.data.uploads.decode_image) and fitting images to model inputs."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import EpsImagePlugin, Image, ImageFile

from engine.data import uploads as images
from engine.data.uploads import FORMATS, MAX_UPLOAD_BYTES, ImageError, decode_image, to_model_input


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    """``image`` saved in format ``fmt``."""
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A seeded random image (it compresses badly, so cutting its file loses pixel data)."""
    channels = len(Image.new(mode, (1, 1)).getbands())
    values = np.random.default_rng(0).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    return Image.fromarray(values.squeeze(2) if channels == 1 else values, mode=mode)


def png_claiming(width: int, height: int) -> bytes:
    """A 1 x 1 grey PNG whose header (IHDR, with a valid CRC) claims ``width`` x ``height`` pixels."""
    data = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")


def test_random_bytes_are_not_an_image() -> None:
    with pytest.raises(ImageError, match="not a supported image: upload a PNG, JPEG"):
        decode_image(np.random.default_rng(0).bytes(1000))


def test_text_file_is_not_an_image() -> None:
    with pytest.raises(ImageError, match="not a supported image"):
        decode_image(b"label,value\nsneaker,7\n" * 20)


def test_pdf_is_refused() -> None:
    with pytest.raises(ImageError, match="not a supported image"):
        decode_image(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")


def test_eps_is_refused_without_being_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse(*_: object) -> None:
        pytest.fail("the EPS plugin (and ghostscript) must never see an upload")

    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", parse)
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", parse)
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke\n"
    with pytest.raises(ImageError, match="EPS files are not supported: upload a PNG"):
        decode_image(eps)


def test_an_image_format_outside_formats_is_refused() -> None:
    with pytest.raises(ImageError, match="ICO files are not supported"):
        decode_image(encode(Image.new("RGB", (16, 16)), "ICO"))


def test_every_accepted_format_decodes() -> None:
    picture = Image.new("RGB", (12, 8), (200, 30, 30))
    for fmt in FORMATS:
        decoded = decode_image(encode(picture, fmt))
        assert decoded.size == (12, 8) and decoded.mode in ("RGB", "L"), fmt


def test_uploads_over_the_byte_limit_are_refused() -> None:
    png = encode(Image.new("L", (4, 4), 9), "PNG")
    at_limit = png + b"\0" * (MAX_UPLOAD_BYTES - len(png))  # bytes after IEND are ignored
    assert decode_image(at_limit).getpixel((0, 0)) == 9
    with pytest.raises(ImageError, match="over the 5 MB upload limit"):
        decode_image(at_limit + b"\0")


@pytest.mark.parametrize("side", [6_000, 10_000, 20_000])  # ours; Pillow's warning; Pillow's error
def test_decompression_bombs_are_refused_from_the_header(monkeypatch: pytest.MonkeyPatch, side: int) -> None:
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda _: pytest.fail("a bomb must not be decoded"))
    with pytest.raises(ImageError, match="too large.*: at most 25 megapixels are accepted") as refused:
        decode_image(png_claiming(side, side))
    assert (f"({side} x {side} pixels)" in str(refused.value)) == (side == 6_000)  # else Pillow refused first


def test_the_pixel_limit_counts_width_times_height(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    assert decode_image(encode(Image.new("L", (10, 10)), "PNG")).size == (10, 10)
    with pytest.raises(ImageError, match=r"too large \(20 x 20 pixels\)"):
        decode_image(encode(Image.new("L", (20, 20)), "PNG"))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files_are_refused(fmt: str) -> None:
    data = encode(noise((64, 64)), fmt)
    with pytest.raises(ImageError, match="truncated or damaged"):
        decode_image(data[: len(data) // 2])


def test_a_damaged_header_is_refused() -> None:
    data = bytearray(encode(Image.new("L", (4, 4)), "PNG"))
    data[29] ^= 0xFF  # IHDR CRC
    with pytest.raises(ImageError, match="looks like a PNG image but its header is damaged"):
        decode_image(bytes(data))


@pytest.mark.parametrize(("fmt", "dtype"), [("PNG", np.uint16), ("TIFF", np.int32)])  # modes I;16 and I
def test_16_bit_grey_is_scaled_not_clipped(fmt: str, dtype: type) -> None:
    values = np.array([[0, 257, 32896, 65535]], dtype=dtype)
    decoded = decode_image(encode(Image.fromarray(values), fmt))
    assert decoded.mode == "L"
    assert np.asarray(decoded).tolist() == [[0, 1, 128, 255]]


def test_one_bit_and_float_images_become_grey() -> None:
    assert decode_image(encode(Image.new("1", (8, 8), 1), "PNG")).getpixel((0, 0)) == 255
    floats = Image.fromarray(np.array([[-5.0, 100.4, 300.0]], dtype=np.float32))
    decoded = decode_image(encode(floats, "TIFF"))
    assert decoded.mode == "L" and np.asarray(decoded).tolist() == [[0, 100, 255]]


def test_cmyk_jpeg_becomes_rgb() -> None:
    decoded = decode_image(encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG"))
    assert decoded.mode == "RGB"
    assert np.allclose(decoded.getpixel((8, 8)), (255, 0, 0), atol=8)


def test_palette_transparency_becomes_white() -> None:
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([255, 0, 0, 0, 0, 255])
    palette.paste(0, (0, 0, 4, 8))  # left half red, right half the transparent index
    decoded = decode_image(encode(palette, "PNG", transparency=1))
    assert decoded.mode == "RGB"
    assert decoded.getpixel((1, 1)) == (255, 0, 0) and decoded.getpixel((6, 1)) == (255, 255, 255)


def test_rgba_alpha_is_composited_onto_white() -> None:
    rgba = Image.new("RGBA", (8, 8), (0, 0, 255, 0))
    rgba.paste((10, 20, 30, 255), (0, 0, 4, 8))
    rgba.paste((0, 0, 0, 128), (4, 0, 8, 4))
    decoded = decode_image(encode(rgba, "PNG"))
    assert decoded.mode == "RGB"
    assert decoded.getpixel((1, 1)) == (10, 20, 30) and decoded.getpixel((6, 6)) == (255, 255, 255)
    assert np.allclose(decoded.getpixel((6, 1)), (127, 127, 127), atol=1)


def test_la_alpha_is_composited_onto_white() -> None:
    grey = Image.new("LA", (8, 8), (40, 0))
    grey.paste((40, 255), (0, 0, 4, 8))
    decoded = decode_image(encode(grey, "PNG"))
    assert decoded.mode == "L" and decoded.getpixel((1, 1)) == 40 and decoded.getpixel((6, 1)) == 255


def test_exif_orientation_is_applied() -> None:
    picture = Image.new("L", (40, 20), 255)
    picture.paste(0, (0, 0, 20, 20))  # dark left half
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display turned 90 degrees clockwise
    decoded = decode_image(encode(picture, "JPEG", exif=exif))
    assert decoded.size == (20, 40)
    assert decoded.getpixel((10, 5)) < 30 and decoded.getpixel((10, 35)) > 225  # the left half is now on top


def test_animations_give_their_first_frame() -> None:
    frames = [Image.new("RGB", (6, 4), colour) for colour in [(255, 0, 0), (0, 0, 255)]]
    decoded = decode_image(encode(frames[0], "GIF", save_all=True, append_images=frames[1:]))
    assert decoded.mode in ("RGB", "L") and decoded.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    assert getattr(decoded, "n_frames", 1) == 1


def test_model_inputs_have_the_model_shape_and_range() -> None:
    grey = to_model_input(noise((40, 30)), (1, 28, 28))
    rgb = to_model_input(noise((20, 50), "L"), (3, 32, 32))
    assert grey.shape == (1, 1, 28, 28) and rgb.shape == (1, 3, 32, 32)
    for x in (grey, rgb):
        assert x.dtype == torch.float32 and x.min() >= 0 and x.max() <= 1
    red = to_model_input(Image.new("RGB", (40, 20), (255, 0, 0)), (3, 32, 32))
    assert torch.allclose(red[0, 0], torch.ones(32, 32)) and red[0, 1:].max() == 0


def test_aspect_ratio_is_kept_on_padding_of_the_border_colour() -> None:
    wide = Image.new("L", (56, 28), 200)
    wide.paste(0, (20, 8, 36, 20))  # a dark block in the middle
    x = to_model_input(wide, (1, 28, 28))[0, 0]  # fitted to 28 x 14, rows 7..20
    border = torch.full((7, 28), 200 / 255)
    assert torch.allclose(x[:7], border, atol=1e-6) and torch.allclose(x[21:], border, atol=1e-6)
    assert x[7:21].min() < 0.1


def test_invert_flips_values() -> None:
    picture = noise((30, 30), "L")
    assert torch.allclose(to_model_input(picture, (1, 28, 28), invert=True), 1 - to_model_input(picture, (1, 28, 28)))
    white = to_model_input(Image.new("RGB", (10, 10), "white"), (1, 28, 28), invert=True)
    assert torch.equal(white, torch.zeros(1, 1, 28, 28))


def test_bad_model_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="C = 1 or 3"):
        to_model_input(Image.new("L", (4, 4)), (2, 28, 28))
