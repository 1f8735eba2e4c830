"""Uploaded image files decoded into model inputs.

``decode_upload`` treats the bytes as hostile. Before any pixel is decoded it bounds, from the header, the
file size, each side, the aspect ratio, the pixel count and the memory the decode needs (pixel count x bytes
per pixel of the colour mode and bit depth). Pillow tries only ``FORMATS``, and every failure becomes an
``ImageError`` for the user. The decoded image is box-reduced to at most ``WORKING_SIDE`` pixels a side at
once, so every later copy (orientation, colour conversion, preview) is small.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageMode, ImageOps, UnidentifiedImageError

from engine.data.image_format import format_name

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # 5 MB, same as .streamlit/config.toml server.maxUploadSize
MAX_PIXELS = 25_000_000  # width * height above this is refused before decoding (decompression bombs)
MAX_SIDE = 8_192  # pixels a side; Streamlit cannot even show an image over 65,500 px a side
MAX_ASPECT = 50  # longest side : shortest side
MAX_DECODE_BYTES = 256 * 2**20  # memory one upload may take to decode
WORKING_SIDE = 1_024  # decoded images are reduced to at most this many pixels a side
PREVIEW_SIDE = 512  # largest side of the preview of an upload
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # Pillow format names accepted
_UPLOAD_HINT = "upload a PNG, JPEG, GIF, BMP, WebP or TIFF image"
_DECODE_ERRORS = (OSError, EOFError, SyntaxError, ValueError, TypeError, IndexError, KeyError, struct.error)
_BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)
_AVERAGED_AS = {"1": "L", "P": "RGBA", "PA": "RGBA"}  # modes whose values cannot be averaged, converted first
_ORIENTATION = 0x0112  # the EXIF tag


class ImageError(ValueError):
    """An upload that cannot be used as an image; the message is shown to the user as is."""


@dataclass(frozen=True)
class Upload:
    """A decoded upload: the image to work with and what the file held."""

    image: Image.Image  # "L" or "RGB", upright, at most WORKING_SIDE pixels a side
    format: str  # Pillow's name of the file's format, e.g. "PNG"
    size: tuple[int, int]  # the file's width and height in pixels
    mode: str  # the file's colour mode, e.g. "I;16"


def decode_upload(data: bytes) -> Upload:
    """Untrusted bytes decoded into an ``Upload`` whose image is "L" (grey) or "RGB".

    Takes the first frame of animations, applies the EXIF orientation and composites transparency onto white.
    Raises ``ImageError`` for empty or oversized data, files that are not images of ``FORMATS``, images over
    the limits above (each message names the limit and the file's value), and truncated or corrupt data.
    """
    if not data:
        raise ImageError("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageError(f"The file is over the {MAX_UPLOAD_BYTES / 2**20:g} MB upload limit "
                         f"({len(data) / 2**20:.1f} MB).")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(bytes(data))
        with image:
            _check_size(image.size, image.mode)
            orientation = _orientation(image)
            upright = _upright(_working_copy(_load(image)), orientation)
            return Upload(_to_rgb_or_l(upright), str(image.format), image.size, image.mode)


def decode_image(data: bytes) -> Image.Image:
    """The image of ``decode_upload(data)``: "L" or "RGB", upright, at most ``WORKING_SIDE`` a side."""
    return decode_upload(data).image


def preview(image: Image.Image, side: int = PREVIEW_SIDE) -> Image.Image:
    """A copy of ``image`` fitted inside ``side`` x ``side`` pixels (never enlarged): what a page shows of an
    upload, never the file itself (Streamlit re-encodes what it shows, and fails past 65,500 px a side)."""
    shown = image.copy()
    shown.thumbnail((side, side))
    return shown


def _check_size(size: tuple[int, int], mode: str) -> None:
    """Raise ``ImageError`` unless an image of ``size`` (width, height) in ``mode`` is within every limit."""
    width, height = size
    if width * height == 0:
        raise ImageError("The image has no pixels.")
    if max(size) > MAX_SIDE:
        raise ImageError(f"The image is {width} x {height} pixels: at most {MAX_SIDE:,} pixels a side are "
                         f"accepted.")
    if max(size) > MAX_ASPECT * min(size):
        raise ImageError(f"The image is {width} x {height} pixels, an aspect ratio of "
                         f"{_ratio_rounded_up(max(size), min(size)):g}:1: at most {MAX_ASPECT}:1 is accepted.")
    if width * height > MAX_PIXELS:
        raise ImageError(_too_large(f" ({width} x {height} pixels)"))
    needed = width * height * _decode_bytes_per_pixel(mode)
    if needed > MAX_DECODE_BYTES:
        raise ImageError(f"Decoding the image would take {math.ceil(needed / 2**20):,} MB ({width} x {height} "
                         f"pixels in colour mode {mode}): at most {MAX_DECODE_BYTES / 2**20:g} MB are accepted.")


def _ratio_rounded_up(longest: int, shortest: int) -> float:
    """``longest / shortest`` rounded up to 2 decimals, exactly: a ratio over the limit never reads as the limit
    (5001 x 100 is 50.01:1, not 50:1)."""
    return -(-longest * 100 // shortest) / 100


def _decode_bytes_per_pixel(mode: str) -> int:
    """Bytes a pixel of ``mode`` takes while ``decode_upload`` holds the full-size image (the decoded
    image, plus its averageable copy for palette and 1-bit modes)."""
    converted = _AVERAGED_AS.get(mode)
    return _stored_bytes(mode) + (_stored_bytes(converted) if converted else 0)


def _stored_bytes(mode: str) -> int:
    """Bytes Pillow stores a pixel of ``mode`` in: several 8-bit bands share 4 bytes, else one band's size."""
    try:
        description = ImageMode.getmode(mode)
    except KeyError as error:
        raise ImageError(f"Images in colour mode {mode} are not supported.") from error
    return 4 if len(description.bands) > 1 else int(description.typestr[-1])


def _open(data: bytes) -> Image.Image:
    """The lazily opened image: only its header has been read."""
    try:
        return Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError as error:
        raise ImageError(_unidentified_message(data)) from error
    except _BOMB as error:
        raise ImageError(_too_large()) from error
    except _DECODE_ERRORS as error:
        raise ImageError("The image file is damaged or truncated; it cannot be read.") from error


def _load(image: Image.Image) -> Image.Image:
    """``image`` with its first frame decoded."""
    try:
        image.load()
    except _BOMB as error:
        raise ImageError(_too_large()) from error
    except _DECODE_ERRORS as error:
        raise ImageError("The image file is truncated or damaged; it cannot be decoded.") from error
    return image


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 to 8) the file's header gives; 1 (as stored) when absent or damaged."""
    try:
        value = image.getexif().get(_ORIENTATION, 1)
    except _DECODE_ERRORS:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _working_copy(image: Image.Image) -> Image.Image:
    """A copy of the loaded ``image`` at most ``WORKING_SIDE`` pixels a side (box filter, aspect kept)."""
    averageable = image.convert(_AVERAGED_AS[image.mode]) if image.mode in _AVERAGED_AS else image
    scale = WORKING_SIDE / max(image.size)
    if scale >= 1:
        return averageable.copy()
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return averageable.resize(size, Image.Resampling.BOX)


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    """``image`` turned as EXIF ``orientation`` says."""
    if orientation == 1:
        return image
    image.getexif()[_ORIENTATION] = orientation  # the working copy has no EXIF of its own
    return ImageOps.exif_transpose(image)


def _too_large(size: str = "") -> str:
    return f"The image is too large{size}: at most {MAX_PIXELS / 1e6:g} megapixels are accepted."


def _unidentified_message(data: bytes) -> str:
    """Why Pillow found no image of ``FORMATS``: names the format the file holds when it can tell."""
    name = format_name(data)
    if name in FORMATS:
        return f"The file looks like a {name} image but its header is damaged; it cannot be read."
    if name:
        return f"{name} files are not supported: {_UPLOAD_HINT}."
    return f"The file is not a supported image: {_UPLOAD_HINT}."


def _to_rgb_or_l(image: Image.Image) -> Image.Image:
    """``image`` in mode "RGB" or "L"; 16-bit grey is scaled to 8 bits and transparency becomes white."""
    mode = image.mode
    if mode in ("RGB", "L"):
        return image
    if mode == "1":
        return image.convert("L")
    if mode in ("I", "F") or mode.startswith("I;16"):
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))  # [H, W]
        values = np.clip(values, 0, 255) if mode == "F" else np.clip(values, 0, 65535) / 257  # 16 bits -> 8
        return Image.fromarray(np.rint(values).astype(np.uint8), mode="L")
    if mode in ("LA", "La"):
        return _on_white(image.convert("LA"))
    if mode in ("P", "PA", "RGBA", "RGBa"):
        return _on_white(image.convert("RGBA"))
    try:
        return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, ...
    except ValueError as error:
        raise ImageError(f"Images in colour mode {mode} are not supported.") from error


def _on_white(image: Image.Image) -> Image.Image:
    """``image`` ("LA" or "RGBA") composited onto a white background, as "L" or "RGB"."""
    base = image.mode[:-1]
    background = Image.new(base, image.size, "white")
    background.paste(image.convert(base), mask=image.getchannel("A"))
    return background


def to_model_input(image: Image.Image, shape: tuple[int, int, int], invert: bool = False) -> torch.Tensor:
    """[1, C, H, W] float32 in [0, 1] for a model taking C x H x W images (C is 1 or 3).

    The image is converted to grey ("L") when C == 1, else to RGB, fitted inside H x W keeping its aspect ratio
    (Lanczos resampling), centred on padding of its own border colour (the median of its edge pixels), then
    optionally inverted to 1 - x (MNIST and Fashion-MNIST show light objects on black, photos dark on light).
    """
    channels, height, width = shape
    if channels not in (1, 3) or height < 1 or width < 1:
        raise ValueError(f"Model input shape {shape} is not C x H x W with C = 1 or 3.")
    image = image.convert("L" if channels == 1 else "RGB")
    canvas = Image.new(image.mode, (width, height), _border_colour(image))
    scale = min(width / image.width, height / image.height)  # the largest size inside H x W, same aspect ratio
    size = (min(width, max(1, round(image.width * scale))), min(height, max(1, round(image.height * scale))))
    fitted = image.resize(size, Image.Resampling.LANCZOS)
    canvas.paste(fitted, ((width - fitted.width) // 2, (height - fitted.height) // 2))
    pixels = torch.from_numpy(np.asarray(canvas, dtype=np.float32) / 255)  # [H, W] or [H, W, C]
    x = pixels.reshape(height, width, channels).permute(2, 0, 1).unsqueeze(0).contiguous()
    return 1 - x if invert else x


def _border_colour(image: Image.Image) -> int | tuple[int, ...]:
    """The per-channel median of the pixels on the four edges of an "L" or "RGB" image."""
    w, h = image.size
    edges = [image.crop(box) for box in ((0, 0, w, 1), (0, h - 1, w, h), (0, 0, 1, h), (w - 1, 0, w, h))]
    pixels = np.concatenate([np.asarray(edge).reshape(-1, len(image.getbands())) for edge in edges])
    colour = tuple(int(c) for c in np.rint(np.median(pixels, axis=0)))
    return colour[0] if len(colour) == 1 else colour
