"""Typed configs from TOML: every value converted to its field's annotated type, every mismatch named
by its dotted path."""

from __future__ import annotations

import dataclasses
import functools
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from engine.config.schema import ConfigError, StudyConfig, require

MAX_CONFIG_CHARS = 64 * 2**20  # 64 MiB of TOML: far above any study (100,000 models take about 4 MB)


def _convert(kind: Any, value: Any, path: str) -> Any:
    """Convert a TOML value to the annotated type ``kind``, naming ``path`` on a mismatch."""
    origin = typing.get_origin(kind)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        require(isinstance(value, dict), path, f"expected a table, got {type(value).__name__}")
        return _build(kind, value, path)
    if origin is dict:
        require(isinstance(value, dict), path, f"expected a table, got {type(value).__name__}")
        item = typing.get_args(kind)[1]
        return {k: _convert(item, v, f"{path}.{k}") for k, v in value.items()}
    if origin is tuple:
        require(isinstance(value, list), path, f"expected a list, got {type(value).__name__}")
        item = typing.get_args(kind)[0]
        return tuple(_convert(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin in (typing.Union, types.UnionType):
        return _convert(typing.get_args(kind)[0], value, path)
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        require(ok, path, f"expected a number, got {value!r}")
        return float(value)
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    require(ok, path, f"expected {kind.__name__}, got {value!r}")
    return value


@functools.cache
def _fields(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field[Any]]]:
    """The resolved type hints and the fields of config class ``cls`` (resolving is slow: once per class)."""
    return typing.get_type_hints(cls), {f.name: f for f in dataclasses.fields(cls)}


def _build(cls: type, data: dict[str, Any], path: str) -> Any:
    hints, fields = _fields(cls)
    prefix = f"{path}." if path else ""
    unknown = sorted(set(data) - set(fields))
    require(not unknown, f"{prefix}{unknown[0]}" if unknown else path, f"unknown key (known: {sorted(fields)})")
    values = {}
    for name, spec in fields.items():
        missing = spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        if name not in data:
            require(not missing, f"{prefix}{name}", "missing required key")
            continue
        values[name] = _convert(hints[name], data[name], f"{prefix}{name}")
    return cls(**values)


def parse_study(data: dict[str, Any]) -> StudyConfig:
    """A study built from a parsed TOML document, with the checks that need no registry
    (``engine.study.validate.study_from_dict`` adds the registries' checks)."""
    study = _build(StudyConfig, data, "")
    study.validate()
    return study


def read_toml(path: str | Path) -> dict[str, Any]:
    """The parsed TOML file at ``path``; ``ConfigError`` when it is missing or not valid TOML."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path} is a directory; pass a study config file, e.g. configs/smoke.toml")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"cannot read the config file {path}: {error.strerror or error}") from None
    if len(text) > MAX_CONFIG_CHARS:
        raise ConfigError(f"{path} is {len(text):,} characters; a study config holds at most {MAX_CONFIG_CHARS:,}")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML for a study: its tables or arrays are nested too deeply") from None
