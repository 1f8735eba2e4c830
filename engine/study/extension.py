"""Extending a robustness curve until the attack succeeds on (almost) every image: the engine picks the next eps
itself, doubling the largest one measured until the accuracy falls to the stated level, then bisecting between
the last eps above it and the first at or below it, and computes each as a cell (``on_demand.compute_cell``)."""

from __future__ import annotations

import math
from pathlib import Path

from engine.config.schema import require
from engine.data.datasets import dataset_spec
from engine.results import read_table
from engine.study.cells import Cell, sweep_for
from engine.study.integrity import manifest_study
from engine.study.on_demand import compute_cell

SIGNIFICANT = 3  # eps are rounded to this many significant digits, so that they read as radii, not as noise
MAX_CELLS = 8  # new eps one extension computes at most, by default
TOLERANCE = 0.1  # bisection stops when the bracket [below, at] is narrower than this share of its upper end


def norm_cap(norm: str, shape: tuple[int, int, int]) -> float:
    """The largest eps that can matter for images in [0, 1]^shape: the diameter of the box in ``norm``."""
    size = math.prod(shape)
    return {"Linf": 1.0, "L2": math.sqrt(size)}.get(norm, float(size))  # L1 and L0: every pixel, by up to 1


def next_eps(points: dict[float, float], level: float, cap: float) -> float | None:
    """The next eps to compute given the measured ``points`` (finite eps -> accuracy), or None when the curve
    is done: an eps whose accuracy is at most ``level`` is known and the threshold is bracketed within
    TOLERANCE, or the largest eps reached ``cap`` without reaching ``level``."""
    reached = sorted(eps for eps, accuracy in points.items() if accuracy <= level and eps > 0)
    if reached:
        first = reached[0]
        last_above = max((eps for eps, accuracy in points.items() if accuracy > level and eps < first), default=0.0)
        if first - last_above <= TOLERANCE * first:
            return None
        candidate = (last_above + first) / 2
    else:
        largest = max((eps for eps in points if eps > 0), default=0.0)
        if largest >= cap:
            return None
        candidate = min(cap, 2 * largest) if largest else cap / 64
    rounded = float(f"{candidate:.{SIGNIFICANT}g}")
    return None if rounded in points else rounded


def measured(out: Path, model_id: str, sweep: str) -> dict[float, float]:
    """Finite eps -> accuracy of ``model_id`` under sweep ``sweep`` in study ``out`` (config rows and cells)."""
    rows = read_table(out, "robust_accuracy")
    rows = rows[(rows.model_id == model_id) & (rows.sweep == sweep) & rows.eps.map(math.isfinite)]
    return dict(zip(rows.eps.astype(float), rows.accuracy.astype(float), strict=True))


def extend_curve(out: Path, model_id: str, sweep: str, level: float, max_cells: int, by: str,
                 data_root: str | None = None, device: str = "auto") -> list[float]:
    """Compute new eps of ``sweep`` on ``model_id`` until its accuracy is at most ``level`` (bracketed within
    TOLERANCE), at most ``max_cells`` of them; the eps computed, in order. ``ConfigError`` for an unknown
    model or sweep, a level outside [0, 1] or no cell allowed, before any work."""
    study, _ = manifest_study(Path(out))
    require(0 <= level < 1, "level", f"the accuracy to reach, in [0, 1), got {level}")
    require(max_cells >= 1, "max_cells", f"must be >= 1, got {max_cells}")
    ids = [model.id for model in study.models]
    require(model_id in ids, "model", f"{model_id!r} is not a model of this study {ids}")
    settings = sweep_for(study, sweep, model_id)
    cap = norm_cap(settings.norm, dataset_spec(settings.dataset or study.data.dataset).shape)
    computed: list[float] = []
    while len(computed) < max_cells:
        eps = next_eps(measured(out, model_id, sweep), level, cap)
        if eps is None:
            break
        compute_cell(out, Cell(model_id, sweep, eps), by, data_root, device)
        computed.append(eps)
    return computed
