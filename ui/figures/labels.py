"""How figures and pages name a model: "model_id (training_mode[ norm eps][ attacks])"."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def number_label(value: float) -> str:
    """A number as figures print it: 0.1, 1e-05, inf."""
    return f"{value:g}"


def model_label(model_id: str, training_mode: str | None = None, train_norm: str | None = None,
                train_eps: float | None = None, train_attacks: str | None = None) -> str:
    """``"model_id (training_mode[ norm eps][ attacks])"``, e.g. "m (pgd Linf 0.1)" or
    "m (pregenerated fgsm+cw)"; just ``model_id`` when the mode is unknown."""
    if not isinstance(training_mode, str):
        return model_id
    details = [training_mode]
    if isinstance(train_norm, str) and train_eps is not None and pd.notna(train_eps):
        details += [train_norm, number_label(train_eps)]
    if isinstance(train_attacks, str):
        details.append(train_attacks)
    return f"{model_id} ({' '.join(details)})"


class ModelLabels:
    """The label of every model of a ``models`` table, called with a model id; an id the table lacks is its
    own label. One mapper for figures and widgets: ``ids.map(labels)``, ``format_func=labels``."""

    def __init__(self, models: pd.DataFrame) -> None:
        self.by_id = {row.model_id: model_label(row.model_id, row.training_mode, row.train_norm, row.train_eps,
                                                row.train_attacks)
                      for row in models.itertuples(index=False)}  # in table order

    def __call__(self, model_id: str) -> str:
        return self.by_id.get(model_id, model_id)


def model_order(model_ids: Iterable[str], models: pd.DataFrame) -> list[str]:
    """The distinct ``model_ids`` in the order of the ``models`` table, ids it lacks last, by id."""
    present = set(model_ids)
    ordered = [model_id for model_id in models["model_id"] if model_id in present]
    return ordered + sorted(present - set(ordered))
