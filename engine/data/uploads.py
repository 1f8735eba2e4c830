"""Uploaded image files decoded into model inputs.

``decode_image`` treats the bytes as hostile: it bounds their size and pixel count (from the header, before
decoding), lets Pillow try only ``FORMATS`` and turns every failure into an ``ImageError`` for the user.
"""

from __future__ import annotations

import io
import struct
import warnings

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # 5 MB, same as .streamlit/config.toml server.maxUploadSize
MAX_PIXELS = 25_000_000  # width * height above this is refused before decoding (decompression bombs)
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # Pillow format names accepted
_UPLOAD_HINT = "upload a PNG, JPEG, GIF, BMP, WebP or TIFF image"
_DECODE_ERRORS = (OSError, EOFError, SyntaxError, ValueError, TypeError, IndexError, KeyError, struct.error)
_BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)


class ImageError(ValueError):
    """An upload that cannot be used as an image; the message is shown to the user as is."""


def decode_image(data: bytes) -> Image.Image:
    """Untrusted bytes fully decoded into a loaded [H, W] ("L") or [H, W, 3] ("RGB") image.

    Takes the first frame of animations, applies the EXIF orientation and composites transparency onto white.
    Raises ``ImageError`` for empty or oversized data, files that are not images of ``FORMATS``, more than
    ``MAX_PIXELS`` pixels, and truncated or corrupt data.
    """
    if not data:
        raise ImageError("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageError(f"The file is over the {MAX_UPLOAD_BYTES / 2**20:g} MB upload limit.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(bytes(data))
        with image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(_too_large(f" ({width} x {height} pixels)"))
            if width * height == 0:
                raise ImageError("The image has no pixels.")
            upright = _load_upright(image)
    return _to_rgb_or_l(upright)


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


def _load_upright(image: Image.Image) -> Image.Image:
    """A loaded copy of the first frame, turned as its EXIF orientation says (kept as stored if that is damaged)."""
    try:
        image.load()
    except _BOMB as error:
        raise ImageError(_too_large()) from error
    except _DECODE_ERRORS as error:
        raise ImageError("The image file is truncated or damaged; it cannot be decoded.") from error
    try:
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        return image.copy()


def _too_large(size: str = "") -> str:
    return f"The image is too large{size}: at most {MAX_PIXELS / 1e6:g} megapixels are accepted."


def _unidentified_message(data: bytes) -> str:
    """Why Pillow found no image: names the format it recognises by the first bytes (without parsing them)."""
    Image.init()
    for name, (_, accept) in Image.OPEN.items():
        try:
            known = accept is not None and accept(data[:16]) is True
        except Exception:  # a format check is only a hint for the message
            known = False
        if known and name in FORMATS:
            return f"The file looks like a {name} image but its header is damaged; it cannot be read."
        if known:
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
