"""Jobs of a study: what to run, in which order, and when a job counts as finished.

Four kinds, each with its id (also the name of its part file in every table it writes), its
tables and its hash: ``TrainJob``, ``AttackJob``, ``CleanAnalysisJob`` and ``SweepAnalysisJob``.
Each job's hash covers everything its results depend on: its own settings, the data, and the hashes
of the jobs it builds on; ``engine.study.integrity`` decides from it whether a job is finished.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from engine.attacks.registry import attack_settings, sweep_key
from engine.config.schema import AttackSweep, ModelConfig, StudyConfig
from engine.core.hashing import content_hash, file_digest, non_default


@dataclass(frozen=True)
class TrainJob:
    """Train one model (or import one with a ``checkpoint``); writes how well a robust dataset matched
    its source's features (robust_dataset models), its per-epoch curves (none for an imported model),
    then its row of the models table."""

    model: ModelConfig
    kind: ClassVar[str] = "train"

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def tables(self) -> tuple[str, ...]:
        robust = ("robust_datasets",) if self.model.training.mode == "robust_dataset" else ()
        return (*robust, "training_curves", "models")

    def hash(self, study: StudyConfig) -> str:
        if self.model.checkpoint:  # imported: its weights decide, wherever the file lies
            return _digest({"model": non_default(replace(self.model, checkpoint="")), "data": non_default(study.data),
                            "weights": file_digest(self.model.checkpoint)})
        trained = {m: TrainJob(study.model(m)).hash(study) for m in sorted(study.dependencies(self.model))}
        inputs: dict[str, Any] = {"model": non_default(self.model), "data": non_default(study.data),
                                  "after": trained, "epoch_evaluation": non_default(study.epoch_evaluation)}
        if self.model.training.mode == "pregenerated":
            used = [attack_settings(study.pregenerated.attack(n)) for n in self.model.training.train_attacks]
            inputs["pregenerated"] = {"samples": study.pregenerated.samples, "attacks": used}
        return _digest(inputs)

    def prerequisites(self, study: StudyConfig) -> list[str]:
        return sorted(study.dependencies(self.model))


@dataclass(frozen=True)
class AttackJob:
    """Run one attack sweep on one trained model (crafted on it, or transferred from the sweep's source)."""

    model: ModelConfig
    sweep: AttackSweep
    kind: ClassVar[str] = "attack"
    tables: ClassVar[tuple[str, ...]] = ("robust_accuracy",)

    @property
    def id(self) -> str:
        return f"{self.model.id}__{sweep_key(self.sweep)}"

    def hash(self, study: StudyConfig) -> str:
        source = TrainJob(study.model(self.sweep.source)).hash(study) if self.sweep.source else ""
        return _digest({"trained": TrainJob(self.model).hash(study), "sweep": _sweep_settings(self.sweep),
                        "evaluation": non_default(study.evaluation), "source": source})

    def prerequisites(self, study: StudyConfig) -> list[str]:
        return [self.model.id, *([self.sweep.source] if self.sweep.source else [])]


def cell_part_id(model_id: str, sweep: str, eps: float) -> str:
    """The part name of one eps of sweep ``sweep`` (its key) computed on demand on ``model_id``."""
    return f"{model_id}__{sweep}__eps{eps:g}"


@dataclass(frozen=True)
class CellJob(AttackJob):
    """One eps of a sweep on one model, computed on demand (``engine.study.on_demand``): ``sweep`` holds that
    eps only; the rows and the hash are those of an ``AttackJob`` of that sweep, the part its own."""

    @property
    def id(self) -> str:
        return cell_part_id(self.model.id, sweep_key(self.sweep), self.sweep.eps[0])


@dataclass(frozen=True)
class CleanAnalysisJob:
    """Analyse one model on clean inputs: clean losses and latent plane, distance to the boundary."""

    model: ModelConfig
    kind: ClassVar[str] = "clean"
    tables: ClassVar[tuple[str, ...]] = ("per_sample", "pca", "boundary")

    @property
    def id(self) -> str:
        return f"{self.model.id}__clean"

    def hash(self, study: StudyConfig) -> str:
        return _analysis_hash(self.model, None, study)

    def prerequisites(self, study: StudyConfig) -> list[str]:
        return [self.model.id]


@dataclass(frozen=True)
class SweepAnalysisJob:
    """Analyse one white-box sweep of one model at each eps > 0 (losses, A-distance, SVCCA, PCA, norm ratios)."""

    model: ModelConfig
    sweep: AttackSweep
    kind: ClassVar[str] = "analysis"
    tables: ClassVar[tuple[str, ...]] = ("per_sample", "a_distance", "svcca", "pca", "norm_ratios")

    @property
    def id(self) -> str:
        return f"{self.model.id}__{sweep_key(self.sweep)}__analysis"

    def hash(self, study: StudyConfig) -> str:
        return _analysis_hash(self.model, self.sweep, study)

    def prerequisites(self, study: StudyConfig) -> list[str]:
        return [self.model.id]


@dataclass(frozen=True)
class AnalysisCellJob(SweepAnalysisJob):
    """The analyses of one eps of a white-box sweep on one model, computed on demand: ``sweep`` holds that eps
    only; the rows and the hash are those of a ``SweepAnalysisJob`` of that sweep, the parts their own."""

    @property
    def id(self) -> str:
        return f"{cell_part_id(self.model.id, sweep_key(self.sweep), self.sweep.eps[0])}__analysis"


Job = TrainJob | AttackJob | CleanAnalysisJob | SweepAnalysisJob
AnalysisJob = CleanAnalysisJob | SweepAnalysisJob


def _digest(inputs: dict[str, Any]) -> str:
    """The content hash of the inputs that are set (empty ones are left out)."""
    return content_hash({key: value for key, value in inputs.items() if value})


def _sweep_settings(sweep: AttackSweep) -> dict[str, Any]:
    return attack_settings(replace(sweep, models=()))  # who else is attacked does not change a model's results


def _analysis_hash(model: ModelConfig, sweep: AttackSweep | None, study: StudyConfig) -> str:
    return _digest({"trained": TrainJob(model).hash(study), "sweep": _sweep_settings(sweep) if sweep else {},
                    "analysis": non_default(replace(study.analysis, sweeps=()))})


def analysed_sweeps(study: StudyConfig) -> list[AttackSweep]:
    """The white-box sweeps the analyses run on: those ``analysis.sweeps`` names, or all."""
    if not study.analysis.samples:
        return []
    chosen = set(study.analysis.sweeps)
    return [s for s in study.attacks if not s.source and (not chosen or sweep_key(s) in chosen)]


def expand(study: StudyConfig) -> list[Job]:
    """All jobs: trainings in dependency order, then every attack (transfers skip their source), then
    the analyses of each model."""
    jobs: list[Job] = [TrainJob(model) for model in study.training_order()]
    for model in study.models:
        jobs += [AttackJob(model, sweep) for sweep in study.attacks if sweep.attacks(model.id)]
    if study.analysis.samples:
        for model in study.models:
            jobs.append(CleanAnalysisJob(model))
            jobs += [SweepAnalysisJob(model, sweep) for sweep in analysed_sweeps(study) if sweep.attacks(model.id)]
    return jobs
