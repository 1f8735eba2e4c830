"""Content hashes of configs: what decides whether a finished result is still valid."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import MISSING, fields, is_dataclass
from typing import Any


def content_hash(inputs: dict[str, Any]) -> str:
    """A short, stable digest of JSON-able ``inputs``."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return non_default(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def non_default(config: Any) -> dict[str, Any]:
    """A config dataclass as a dict of its non-default fields, nested configs included.

    Only settings that differ from their defaults count, so a new option added to the engine
    with a default does not invalidate finished results.
    """
    values = {}
    for spec in fields(config):
        value = getattr(config, spec.name)
        default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
        if value != default:
            values[spec.name] = _plain(value)
    return values


def file_digest(path: str) -> str:
    """A short digest of the bytes of file ``path``, or "missing" when it cannot be read; computed once per
    version of the file (its size and modification time)."""
    try:
        status = os.stat(path)
    except OSError:
        return "missing"
    return _digest_of(path, status.st_size, status.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _digest_of(path: str, _size: int, _mtime_ns: int) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return "missing"
    return digest.hexdigest()[:16]
