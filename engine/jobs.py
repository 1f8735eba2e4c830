"""Jobs of a study: what to run, in which order, and when a job counts as finished.

A job is finished when its last output file exists and carries the hash of everything the job's
results depend on: its own settings, the data, and the hashes of the jobs it builds on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import MISSING, dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from engine.config import AttackSweep, ModelConfig, StudyConfig
from engine.results.io import part_job_hash, part_path


@dataclass(frozen=True)
class Job:
    """Train one model, or run one attack sweep on one trained model."""

    model: ModelConfig
    sweep: AttackSweep | None = None

    @property
    def kind(self) -> str:
        return "train" if self.sweep is None else "attack"

    @property
    def id(self) -> str:
        return self.model.id if self.sweep is None else f"{self.model.id}__{self.sweep.key}"

    @property
    def done_table(self) -> str:
        """The table whose part file, written last, marks the job finished."""
        return "models" if self.sweep is None else "robust_accuracy"

    def hash(self, study: StudyConfig) -> str:
        """Digest of everything the job's results depend on.

        Only settings that differ from their defaults count, so a new option added to the
        engine with a default does not invalidate finished results.
        """
        trained = {m: Job(study.model(m)).hash(study) for m in sorted(study.dependencies(self.model))}
        inputs = {"model": _settings(self.model), "data": _settings(study.data), "after": trained,
                  "epoch_evaluation": _settings(study.epoch_evaluation)}
        if self.sweep is not None:
            inputs = {"trained": Job(self.model).hash(study), "sweep": _settings(self.sweep),
                      "evaluation": _settings(study.evaluation),
                      "source": Job(study.model(self.sweep.source)).hash(study) if self.sweep.source else ""}
        kept = {key: value for key, value in inputs.items() if value}
        return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return _settings(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def _settings(config: Any) -> dict:
    """A config dataclass as a dict of its non-default fields, nested configs included."""
    values = {}
    for spec in fields(config):
        value = getattr(config, spec.name)
        default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
        if value != default:
            values[spec.name] = _plain(value)
    return values


def expand(study: StudyConfig) -> list[Job]:
    """All jobs: trainings in dependency order, then every attack (transfers skip their source)."""
    trains = [Job(model) for model in study.training_order()]
    attacks = [Job(model, sweep) for model in study.models for sweep in study.attacks
               if sweep.source != model.id]
    return trains + attacks


def is_done(job: Job, study: StudyConfig, out: Path) -> bool:
    return part_job_hash(part_path(out, job.done_table, job.id)) == job.hash(study)
