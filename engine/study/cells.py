"""What a finished study gains on demand, and how its manifest records it: cells (one eps of one attack sweep
on one model that the config does not ask for: a model the sweep skips, or an eps it does not list; its robust
accuracy, or its analyses) and
added models (``engine add-model``: imported into the study after its run, attacked only cell by cell)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from engine.attacks.registry import check_eps, sweep_key
from engine.config.schema import AttackSweep, ConfigError, ModelConfig, StudyConfig, require
from engine.study.jobs import AnalysisCellJob, CellJob, analysed_sweeps

COMPUTED = "computed"  # the manifest's list of cells computed on demand
ADDED = "added"  # the manifest's list of models added to the study after its run


@dataclass(frozen=True)
class Cell:
    """One eps of the sweep named ``sweep`` (its key, e.g. ``pgd-Linf-20steps-rs``) on model ``model_id``: its
    robust accuracy, or with ``analysis`` its analyses (losses, A-distance, SVCCA, PCA, norm ratios)."""

    model_id: str
    sweep: str
    eps: float
    analysis: bool = False

    def record(self, by: str) -> dict[str, Any]:
        """The cell as the manifest records it (``math.inf`` as the string "inf": JSON has no infinity)."""
        record = {"model_id": self.model_id, "sweep": self.sweep, "eps": repr(self.eps) if math.isinf(self.eps)
                  else self.eps, "by": by, "created": datetime.now(UTC).isoformat(timespec="seconds")}
        return record | ({"analysis": True} if self.analysis else {})

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Cell:
        return cls(str(record["model_id"]), str(record["sweep"]), float(record["eps"]), record.get("analysis") is True)


def cell_job(study: StudyConfig, cell: Cell) -> CellJob | AnalysisCellJob:
    """The job that computes ``cell``; ``ConfigError`` when the study has no such model or sweep, the eps is
    not one the attack takes, the analyses cannot run on it, or the study's own jobs already compute it."""
    job = any_cell_job(study, cell)
    check_eps(cell.eps, job.sweep, "eps")
    if cell.analysis:
        require(study.analysis.samples > 0, "analysis", "this study runs no analyses ([analysis] samples = 0)")
        require(not job.sweep.source, "sweep", f"{cell.sweep!r} is a transfer sweep: analyses run on white-box ones")
        require(cell.eps > 0 and math.isfinite(cell.eps), "eps", f"analyses need a finite eps > 0, got {cell.eps}")
    if covered(study, cell):
        raise ConfigError(f"eps: the study's own run computes {cell.sweep} at eps {cell.eps:g} on {cell.model_id!r}"
                          + (" (its analyses)" if cell.analysis else ""))
    return job


def any_cell_job(study: StudyConfig, cell: Cell) -> CellJob | AnalysisCellJob:
    """The job of ``cell``, whether or not the study's own jobs compute it; ``ConfigError`` for an unknown model
    or sweep, or a transfer sweep's own source."""
    ids = [model.id for model in study.models]
    if cell.model_id not in ids:
        raise ConfigError(f"model: {cell.model_id!r} is not a model of this study {ids}")
    sweep = sweep_for(study, cell.sweep, cell.model_id)
    if sweep.source == cell.model_id:
        raise ConfigError(f"model: {cell.model_id!r} is the source of the transfer sweep {cell.sweep!r}")
    narrowed = replace(sweep, eps=(cell.eps,), models=())
    model = study.model(cell.model_id)
    return AnalysisCellJob(model, narrowed) if cell.analysis else CellJob(model, narrowed)


def sweep_for(study: StudyConfig, key: str, model_id: str) -> AttackSweep:
    """The sweep named ``key`` whose settings a cell on ``model_id`` takes: the one that attacks the model
    (sweeps of one name attack disjoint models, e.g. with other sample counts), else the first of that name."""
    named = [sweep for sweep in study.attacks if sweep_key(sweep) == key]
    if not named:
        known = sorted({sweep_key(sweep) for sweep in study.attacks})
        raise ConfigError(f"sweep: {key!r} is not an attack sweep of this study {known}")
    return next((sweep for sweep in named if sweep.attacks(model_id)), named[0])


def computed_cells(manifest: dict[str, Any]) -> list[Cell]:
    """The cells a study's manifest records as computed on demand."""
    return [Cell.from_record(record) for record in manifest.get(COMPUTED, [])]


def cell_jobs(study: StudyConfig, manifest: dict[str, Any]) -> list[CellJob | AnalysisCellJob]:
    """The jobs of the recorded cells the study still knows (model and sweep) and does not compute itself."""
    jobs = []
    for cell in computed_cells(manifest):
        try:
            jobs.append(cell_job(study, cell))
        except ConfigError:
            continue
    return jobs


def covered(study: StudyConfig, cell: Cell) -> bool:
    """Whether the study's own jobs compute ``cell``."""
    sweeps = analysed_sweeps(study) if cell.analysis else study.attacks
    return any(sweep_key(sweep) == cell.sweep and sweep.attacks(cell.model_id) and cell.eps in sweep.eps
               for sweep in sweeps)


def added_record(model: ModelConfig, by: str) -> dict[str, Any]:
    """An added model as the manifest records it."""
    return {"id": model.id, "arch": model.arch, "checkpoint": model.checkpoint, "by": by,
            "created": datetime.now(UTC).isoformat(timespec="seconds")}


def added_models(manifest: dict[str, Any]) -> list[ModelConfig]:
    """The models a study's manifest records as added after its run."""
    return [ModelConfig(str(record["id"]), str(record["arch"]), checkpoint=str(record["checkpoint"]))
            for record in manifest.get(ADDED, [])]


def with_added(study: StudyConfig, added: list[ModelConfig]) -> StudyConfig:
    """``study`` with the ``added`` models, which its own sweeps do not attack: a sweep that named no models
    (every model) names the study's own ones, so only cells computed on demand attack an added model."""
    if not added:
        return study
    own = tuple(model.id for model in study.models)
    attacks = tuple(replace(sweep, models=sweep.models or tuple(m for m in own if m != sweep.source))
                    for sweep in study.attacks)
    return replace(study, models=(*study.models, *added), attacks=attacks)
