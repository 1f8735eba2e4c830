"""Jobs of a study: what to run, in which order, and when a job counts as finished.

A job is finished when its last output file exists and carries the hash of everything the job's
results depend on: its own settings, the data, and the hashes of the jobs it builds on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from engine.config import AttackSweep, ModelConfig, StudyConfig
from engine.results.io import part_job_hash, part_path

TABLES_WRITTEN = {  # tables each kind of job writes; the last one marks the job finished
    "train": ("training_curves", "models"),
    "attack": ("robust_accuracy",),
    "clean": ("per_sample", "pca", "boundary"),
    "analysis": ("per_sample", "a_distance", "svcca", "pca", "norm_ratios"),
}


@dataclass(frozen=True)
class Job:
    """Train one model; run one attack sweep on it; analyse it on clean inputs (``clean``: clean
    losses and latent plane, distance to the boundary); or analyse one of its sweeps (``analysis``)."""

    model: ModelConfig
    sweep: AttackSweep | None = None
    analysis: bool = False

    @property
    def kind(self) -> str:
        if self.analysis:
            return "clean" if self.sweep is None else "analysis"
        return "train" if self.sweep is None else "attack"

    @property
    def id(self) -> str:
        """The job's name, also the name of its part file in each table it writes."""
        parts = [self.model.id] + ([self.sweep.key] if self.sweep else []) + ([self.kind] if self.analysis else [])
        return "__".join(parts)

    @property
    def tables(self) -> tuple[str, ...]:
        return TABLES_WRITTEN[self.kind]

    @property
    def done_table(self) -> str:
        """The table whose part file, written last, marks the job finished."""
        return self.tables[-1]

    def hash(self, study: StudyConfig) -> str:
        """Digest of everything the job's results depend on.

        Only settings that differ from their defaults count, so a new option added to the
        engine with a default does not invalidate finished results.
        """
        sweep = non_default(replace(self.sweep, models=())) if self.sweep else {}  # who else is attacked: irrelevant
        if self.analysis:
            inputs = {"trained": Job(self.model).hash(study), "sweep": sweep,
                      "analysis": non_default(replace(study.analysis, sweeps=()))}
        elif self.sweep is not None:
            inputs = {"trained": Job(self.model).hash(study), "sweep": sweep,
                      "evaluation": non_default(study.evaluation),
                      "source": Job(study.model(self.sweep.source)).hash(study) if self.sweep.source else ""}
        else:
            inputs = self._training_inputs(study)
        return content_hash({key: value for key, value in inputs.items() if value})

    def _training_inputs(self, study: StudyConfig) -> dict:
        trained = {m: Job(study.model(m)).hash(study) for m in sorted(study.dependencies(self.model))}
        inputs = {"model": non_default(self.model), "data": non_default(study.data), "after": trained,
                  "epoch_evaluation": non_default(study.epoch_evaluation)}
        if self.model.training.mode == "pregenerated":
            used = [non_default(study.pregenerated.attack(n)) for n in self.model.training.train_attacks]
            inputs["pregenerated"] = {"samples": study.pregenerated.samples, "attacks": used}
        return inputs


def content_hash(inputs: dict) -> str:
    """A short, stable digest of JSON-able ``inputs``."""
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return non_default(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def non_default(config: Any) -> dict:
    """A config dataclass as a dict of its non-default fields, nested configs included."""
    values = {}
    for spec in fields(config):
        value = getattr(config, spec.name)
        default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
        if value != default:
            values[spec.name] = _plain(value)
    return values


def expand(study: StudyConfig) -> list[Job]:
    """All jobs: trainings in dependency order, then every attack (transfers skip their source), then
    the analyses of each model."""
    trains = [Job(model) for model in study.training_order()]
    attacks = [Job(model, sweep) for model in study.models for sweep in study.attacks if sweep.attacks(model.id)]
    analyses = [Job(model, sweep, analysis=True) for model in study.models if study.analysis.samples
                for sweep in (None, *study.analysed_sweeps) if sweep is None or sweep.attacks(model.id)]
    return trains + attacks + analyses


def prerequisites(job: Job, study: StudyConfig) -> list[str]:
    """Ids of the jobs that must finish before ``job``: the trainings of the models it builds on."""
    if job.kind == "train":
        return sorted(study.dependencies(job.model))
    source = [job.sweep.source] if job.kind == "attack" and job.sweep.source else []
    return [job.model.id, *source]


def is_done(job: Job, study: StudyConfig, out: Path) -> bool:
    return part_job_hash(part_path(out, job.done_table, job.id)) == job.hash(study)
