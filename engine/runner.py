"""Study runner: expand a study into jobs, run the unfinished ones, write each job's results atomically.

A job is finished when its last output file exists and carries the hash of the job's resolved
configuration; a rerun skips finished jobs and redoes jobs whose configuration changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import MISSING, dataclass, fields, is_dataclass
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from engine.attacks import step_size
from engine.checkpoints import load_checkpoint, save_checkpoint
from engine.config import AttackSweep, ModelConfig, StudyConfig
from engine.data import Split, load_split
from engine.device import pick_device
from engine.evaluation import evaluate_attack
from engine.models import Classifier, parameter_count
from engine.results.io import part_job_hash, part_path, write_json, write_part
from engine.results.manifest import build_manifest
from engine.training import TrainedModel, train_model

log = logging.getLogger(__name__)


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
        inputs = {"model": _settings(self.model), "data": _settings(study.data)}
        if self.sweep is not None:
            inputs |= {"sweep": _settings(self.sweep), "evaluation": _settings(study.evaluation)}
            if self.sweep.source:
                inputs["source"] = _settings(study.model(self.sweep.source))
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def _settings(config: object) -> dict:
    """A config dataclass as a dict of its non-default fields, nested configs included."""
    values = {}
    for spec in fields(config):
        value = getattr(config, spec.name)
        default = spec.default_factory() if spec.default_factory is not MISSING else spec.default
        if value != default:
            values[spec.name] = _settings(value) if is_dataclass(value) else value
    return values


def expand(study: StudyConfig) -> list[Job]:
    """All jobs of a study: every training first, then every attack (transfers skip their source)."""
    trains = [Job(model) for model in study.models]
    attacks = [Job(model, sweep) for model in study.models for sweep in study.attacks
               if sweep.source != model.id]
    return trains + attacks


def is_done(job: Job, study: StudyConfig, out: Path) -> bool:
    return part_job_hash(part_path(out, job.done_table, job.id)) == job.hash(study)


def checkpoint_path(out: Path, model_id: str) -> Path:
    return out / "checkpoints" / f"{model_id}.safetensors"


class _Context:
    """Data and device shared by the jobs of one run; splits are loaded on first use."""

    def __init__(self, study: StudyConfig, data_root: str | None, device: torch.device) -> None:
        self.study, self.device = study, device
        self.root = study.data.root or data_root
        self._splits: dict[str, Split] = {}

    def split(self, name: str) -> Split:
        if name not in self._splits:
            split = load_split(self.study.data.dataset, name, self.root)
            self._splits[name] = split.head(self.study.data.train_subset) if name == "train" else split
        return self._splits[name]


def _model_row(spec: ModelConfig, ctx: _Context, trained: TrainedModel, checkpoint: str) -> dict:
    cfg = spec.training
    adversarial = cfg.adversarial
    return {
        "model_id": spec.id, "dataset": ctx.study.data.dataset, "arch": spec.arch,
        "training_mode": cfg.mode, "train_norm": cfg.norm if adversarial else None,
        "train_eps": cfg.eps if adversarial else 0.0,
        "train_steps": {"pgd": cfg.steps, "fast": 1}.get(cfg.mode, 0),
        "train_alpha": cfg.step_size if adversarial else 0.0, "train_attacks": None, "augment": cfg.augment,
        "epochs": trained.epochs, "batch_size": cfg.batch_size, "optimizer": cfg.optimizer, "lr": cfg.lr,
        "train_samples": trained.train_samples, "parameters": parameter_count(trained.model),
        "clean_accuracy": trained.clean_accuracy, "train_seconds": trained.seconds,
        "checkpoint": checkpoint, "seed": cfg.seed,
    }


def _run_train(job: Job, ctx: _Context, out: Path, job_hash: str, progress: bool) -> None:
    checkpoint = checkpoint_path(out, job.model.id)
    resume = checkpoint.with_suffix(".resume.safetensors")
    trained = train_model(job.model, ctx.study.data.dataset, ctx.split("train"), ctx.split("test"),
                          ctx.device, progress, resume, job_hash)
    save_checkpoint(trained.model, checkpoint, {"arch": job.model.arch, "dataset": ctx.study.data.dataset,
                                                "model_id": job.model.id, "job_hash": job_hash})
    write_part(out, "training_curves", job.id, pd.DataFrame(trained.curves), job_hash)
    row = _model_row(job.model, ctx, trained, str(checkpoint.relative_to(out)))
    write_part(out, "models", job.id, pd.DataFrame([row]), job_hash)
    resume.unlink(missing_ok=True)


def _load_frozen(out: Path, model_id: str, device: torch.device) -> Classifier:
    """A trained model of the study in eval mode with frozen weights (attacks need input gradients only)."""
    model, _ = load_checkpoint(checkpoint_path(out, model_id), device)
    return model.requires_grad_(False)


def _run_attack(job: Job, ctx: _Context, out: Path, job_hash: str) -> None:
    model = _load_frozen(out, job.model.id, ctx.device)
    source = _load_frozen(out, job.sweep.source, ctx.device) if job.sweep.source else None
    evaluation = ctx.study.evaluation
    test = ctx.split("test").head(evaluation.samples)
    rows = []
    for eps in job.sweep.eps:
        cfg = job.sweep.at(eps)
        outcome = evaluate_attack(model, test, cfg, evaluation.batch_size, ctx.device,
                                  job.model.training.seed, source)
        rows.append({"model_id": job.model.id, "attack": cfg.name, "norm": cfg.norm, "eps": eps,
                     "steps": cfg.steps, "alpha": step_size(cfg), "restarts": cfg.restarts, "n": outcome.n,
                     "accuracy": outcome.accuracy, "max_perturbation": outcome.max_perturbation,
                     "source_model_id": job.sweep.source or None, "seconds": outcome.seconds})
        log.info("%s eps=%g: accuracy %.4f", job.id, eps, outcome.accuracy)
    write_part(out, "robust_accuracy", job.id, pd.DataFrame(rows), job_hash)


@dataclass(frozen=True)
class RunSummary:
    ran: list[str]
    skipped: list[str]


def run_study(study: StudyConfig, out: str | Path, data_root: str | None = None, device: str = "auto",
              progress: bool = True) -> RunSummary:
    """Run every unfinished job of ``study`` into directory ``out``; finished jobs are skipped."""
    out = Path(out)
    jobs = expand(study)
    ctx = _Context(study, data_root, pick_device(device))
    manifest = build_manifest(study.to_dict(), str(ctx.device), [job.id for job in jobs])
    write_json(out / "manifest.json", manifest)
    ran, skipped = [], []
    for job in tqdm(jobs, desc=study.name, unit="job", disable=not progress):
        job_hash = job.hash(study)
        if is_done(job, study, out):
            skipped.append(job.id)
            continue
        log.info("running %s job %s", job.kind, job.id)
        if job.sweep is None:
            _run_train(job, ctx, out, job_hash, progress)
        else:
            _run_attack(job, ctx, out, job_hash)
        ran.append(job.id)
    write_json(out / "manifest.json", {**manifest, "finished": True})
    return RunSummary(ran, skipped)
