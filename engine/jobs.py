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
        inputs = {"model": non_default(self.model), "data": non_default(study.data), "after": trained,
                  "epoch_evaluation": non_default(study.epoch_evaluation)}
        if self.sweep is not None:
            inputs = {"trained": Job(self.model).hash(study), "sweep": non_default(self.sweep),
                      "evaluation": non_default(study.evaluation),
                      "source": Job(study.model(self.sweep.source)).hash(study) if self.sweep.source else ""}
        if self.sweep is None and self.model.training.mode == "pregenerated":
            used = [non_default(study.pregenerated.attack(n)) for n in self.model.training.train_attacks]
            inputs["pregenerated"] = {"samples": study.pregenerated.samples, "attacks": used}
        return content_hash({key: value for key, value in inputs.items() if value})


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
    """All jobs: trainings in dependency order, then every attack (transfers skip their source)."""
    trains = [Job(model) for model in study.training_order()]
    attacks = [Job(model, sweep) for model in study.models for sweep in study.attacks
               if sweep.source != model.id]
    return trains + attacks


def is_done(job: Job, study: StudyConfig, out: Path) -> bool:
    return part_job_hash(part_path(out, job.done_table, job.id)) == job.hash(study)
