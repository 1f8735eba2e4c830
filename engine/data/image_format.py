"""The name of an image file's format, for the message that refuses it.

Pillow's quick signature checks look at the first bytes only, and some are weak: CUR's is
``00 00 02 00``, which is also how every uncompressed true-colour TGA file starts, and TGA has no
signature at all. So a name comes from reading the file's header with the plugins that could hold
it (Pillow's own validation), never from a signature alone when a header can tell. Pixels are never
decoded here, and plugins in ``NEVER_PARSED`` never see the bytes.
"""

from __future__ import annotations

import io

from PIL import Image

NEVER_PARSED = frozenset({"EPS"})  # its plugin hands the file to Ghostscript: named by its signature only
UNSIGNED = ("TGA",)  # formats without a signature that an upload plausibly is, identified by their header


def signature_matches(data: bytes) -> list[str]:
    """Pillow's formats whose signature check accepts the first bytes of ``data``, in Pillow's order."""
    Image.init()
    return [name for name, (_, accept) in Image.OPEN.items() if accept is not None and _accepts(accept, data)]


def _accepts(accept: object, data: bytes) -> bool:
    try:
        return callable(accept) and accept(data[:16]) is True
    except Exception:  # a signature check is only a hint for the message
        return False


def format_name(data: bytes) -> str | None:
    """The format whose header ``data`` holds, else the first whose signature it has, else None."""
    signed = signature_matches(data)
    candidates = [name for name in (*signed, *UNSIGNED) if name not in NEVER_PARSED]
    return _header_format(data, candidates) or (signed[0] if signed else None)


def _header_format(data: bytes, candidates: list[str]) -> str | None:
    """The first of ``candidates`` whose plugin reads ``data``'s header without an error."""
    if not candidates:
        return None
    try:
        with Image.open(io.BytesIO(data), formats=candidates) as image:
            return str(image.format)
    except Exception:  # any failure (damaged header, decompression bomb warning) means "not this format"
        return None
