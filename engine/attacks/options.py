"""Settings of the minimal-perturbation attacks: their options merged with the registry defaults,
and a refusal of the projected-gradient settings they have no use for.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

from engine.config.schema import AttackConfig


def option_defaults(settings: type[Any], *fixed: str) -> dict[str, float]:
    """The defaults of a settings dataclass as attack options (numbers; booleans as 0/1), less the
    ``fixed`` fields that come from the config itself (steps, eps): the one place they are written."""
    defaults = settings()
    return {f.name: float(getattr(defaults, f.name)) for f in fields(settings) if f.name not in fixed}


def merged_options(cfg: AttackConfig, defaults: dict[str, float]) -> dict[str, float]:
    """The attack's default options overridden by those ``cfg`` sets."""
    return {**defaults, **cfg.options}


def whole_number(options: dict[str, float], name: str) -> int:
    """Option ``name`` as an int; ``ValueError`` unless it is a whole number."""
    value = options[name]
    if not math.isfinite(value) or value != int(value):
        raise ValueError(f"option {name} must be a whole number, got {value}")
    return int(value)


def reject_gradient_settings(cfg: AttackConfig, step_option: str) -> None:
    """``ValueError`` if ``cfg`` sets alpha, random_start or restarts, which the attack would ignore."""
    if cfg.alpha or cfg.random_start or cfg.restarts != 1:
        raise ValueError(f"{cfg.name} takes no alpha, random_start or restarts (its own settings are options, "
                         f"e.g. options.{step_option}); got {cfg.alpha}, {cfg.random_start}, {cfg.restarts}")
