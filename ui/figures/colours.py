"""One colour per model for the whole app: a hue per training-mode family, shades within the family.

The colour of a model depends only on the study's ``models`` table, never on which models a page shows,
so a model keeps its colour on every page and when another model joins a chart. Every model of a study
gets a different colour. Lightness stays between 38 % and 60 %, readable on a light and a dark background.
"""

from __future__ import annotations

import colorsys

import pandas as pd

from ui.figures.labels import ModelLabels

# Hue in degrees per training mode: cold for undefended models, warm for adversarial training.
FAMILY_HUES = {"standard": 212.0, "pgd": 356.0, "fast": 28.0, "pregenerated": 128.0, "robust_dataset": 278.0}
SPARE_HUES = (52.0, 186.0, 318.0, 96.0, 240.0)  # families the app does not know yet, in order of appearance
LIGHTNESS = (0.42, 0.56, 0.48, 0.38, 0.60)  # cycled through a family's models
SATURATION = 0.72
HUE_STEP = 7.0  # degrees between neighbouring shades of one family
MAX_SPREAD = 70.0  # most degrees a family's shades span


def _hex(hue: float, lightness: float) -> str:
    red, green, blue = colorsys.hls_to_rgb((hue % 360.0) / 360.0, lightness, SATURATION)
    return "#{:02x}{:02x}{:02x}".format(*(round(channel * 255) for channel in (red, green, blue)))


def _family_hues(modes: list[str]) -> dict[str, float]:
    """Each distinct training mode's base hue: its own, or the next spare one."""
    spare = iter(SPARE_HUES * (1 + len(modes) // len(SPARE_HUES)))
    return {mode: FAMILY_HUES[mode] if mode in FAMILY_HUES else next(spare)
            for mode in dict.fromkeys(modes) if isinstance(mode, str)} | {"": next(spare)}


def model_colours(models: pd.DataFrame) -> dict[str, str]:
    """model_id -> "#rrggbb" for every model of a ``models`` table (columns model_id, training_mode).

    The models of one family, in table order, get hues spread evenly around the family's hue (at most
    MAX_SPREAD degrees in all) and lightness cycling through LIGHTNESS, so neighbours differ in both.
    """
    modes = [mode if isinstance(mode, str) else "" for mode in models["training_mode"]]
    hues = _family_hues(modes)
    members: dict[str, list[str]] = {}
    for model_id, mode in zip(models["model_id"], modes, strict=True):
        members.setdefault(mode, []).append(model_id)
    colours: dict[str, str] = {}
    for mode, ids in members.items():
        step = min(HUE_STEP, MAX_SPREAD / max(len(ids) - 1, 1))
        for index, model_id in enumerate(ids):
            hue = hues[mode] + step * (index - (len(ids) - 1) / 2)
            colours[model_id] = _hex(hue, LIGHTNESS[index % len(LIGHTNESS)])
    return colours


def label_colours(models: pd.DataFrame) -> dict[str, str]:
    """The colours of ``model_colours`` keyed by each model's label (``ModelLabels``), as the figures'
    "model" columns hold labels: for plotly express's ``color_discrete_map``."""
    labels = ModelLabels(models)
    return {labels(model_id): colour for model_id, colour in model_colours(models).items()}
