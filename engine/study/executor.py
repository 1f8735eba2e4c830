"""Running one job: train a model, run an attack sweep on it, or analyse it, writing the job's tables
atomically in ``job.tables`` order, the last one marking it finished."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from engine.analysis.pipeline import Subject, analyse_clean, analyse_sweep
from engine.attacks.registry import iterations, step_size, sweep_key
from engine.config.schema import AnalysisConfig, AttackConfig, AttackSweep, ModelConfig, StudyConfig
from engine.core.device import pick_device
from engine.data.split import Split
from engine.evaluation.budget import attack_runs, cut_back
from engine.evaluation.predict import accuracy, clean_accuracy
from engine.evaluation.sweep import AttackOutcome, evaluate_attack, evaluate_sweep, judge_crafted
from engine.models.checkpoints import import_weights, save_checkpoint
from engine.models.classifier import Classifier, parameter_count
from engine.results.io import write_part
from engine.results.schema import schema_for
from engine.study.artifacts import pregenerated_sets, robust_originals, robust_recipe, training_split, transfer_set
from engine.study.context import Context
from engine.study.jobs import AnalysisJob, AttackJob, Job, SweepAnalysisJob, TrainJob
from engine.training.loop import TrainedModel, attack_step, train_model
from engine.training.robust_dataset import feature_match

log = logging.getLogger(__name__)
Probe = Callable[[Classifier], float]


def _model_row(spec: ModelConfig, ctx: Context, trained: TrainedModel, checkpoint: str) -> dict[str, Any]:
    cfg = spec.training
    adversarial = cfg.adversarial
    return {
        "model_id": spec.id, "dataset": ctx.study.data.dataset, "arch": spec.arch,
        "training_mode": cfg.mode, "train_norm": cfg.norm if adversarial else None,
        "train_eps": cfg.eps if adversarial else None,
        "train_steps": {"pgd": cfg.steps, "fast": 1}.get(cfg.mode, 0),
        "train_alpha": attack_step(cfg) if adversarial else None,
        "train_attacks": "+".join(cfg.train_attacks) or None, "augment": cfg.augment,
        "epochs": trained.epochs, "batch_size": cfg.batch_size, "optimizer": cfg.optimizer, "lr": cfg.lr,
        "train_samples": trained.train_samples, "parameters": parameter_count(trained.model),
        "clean_accuracy": trained.clean_accuracy, "train_seconds": trained.seconds,
        "checkpoint": checkpoint, "seed": cfg.seed,
    }


def _probe_name(cfg: AttackConfig, source: str) -> str:
    """Name of a per-epoch test set in ``training_curves.test_set``, e.g. ``fgsm-Linf-0.2-from-M``."""
    return f"{cfg.name}-{cfg.norm}-{cfg.eps:g}" + (f"-from-{source}" if source else "")


def _accuracy_on(model: Classifier, x_adv: torch.Tensor, y: torch.Tensor) -> float:
    return accuracy(model, x_adv, y)


def _white_box_accuracy(model: Classifier, test: Split, cfg: AttackConfig, batch_size: int, device: torch.device,
                        seed: int) -> float:
    return evaluate_attack(model, test, cfg, batch_size, device, seed).accuracy


def _transfer_probes(sweep: AttackSweep, ctx: Context, seed: int) -> dict[str, Probe]:
    """Accuracy on test sets crafted once on the sweep's source, each cut back to its eps."""
    test = ctx.split("test").head(ctx.study.epoch_evaluation.samples)
    x, y = test.tensors(ctx.device)
    probes: dict[str, Probe] = {}
    for run, served in attack_runs([sweep.at(eps) for eps in sweep.eps]):
        raw = transfer_set(ctx, sweep.source, run, test, seed)[0].to(ctx.device)
        for cfg in served:
            x_adv = cut_back(x, raw, cfg)[0]
            probes[_probe_name(cfg, sweep.source)] = partial(_accuracy_on, x_adv=x_adv, y=y)
    return probes


def _epoch_probes(spec: ModelConfig, ctx: Context) -> dict[str, Probe]:
    """Per-epoch adversarial accuracies: white-box attacks rerun on the current weights, transfer
    test sets crafted once on their source model (models that are sources get white-box ones only)."""
    test = ctx.split("test").head(ctx.study.epoch_evaluation.samples)
    batch, seed = ctx.study.evaluation.batch_size, spec.training.seed
    probes: dict[str, Probe] = {}
    for sweep in ctx.study.epoch_evaluation.attacks:
        if not sweep.source:
            for cfg in (sweep.at(eps) for eps in sweep.eps):
                probes[_probe_name(cfg, "")] = partial(_white_box_accuracy, test=test, cfg=cfg, batch_size=batch,
                                                       device=ctx.device, seed=seed)
        elif spec.id not in ctx.study.epoch_sources:
            probes |= _transfer_probes(sweep, ctx, seed)
    return probes


IMPORTED = "imported"  # models.training_mode of a model the engine did not train
NOT_TRAINED = {"training_mode": IMPORTED, "epochs": 0, "batch_size": None, "optimizer": None, "lr": None,
               "train_samples": None}


def _run_import(job: TrainJob, ctx: Context, job_hash: str) -> None:
    """Copy an imported model's weights into the study (``import_weights``: strict, safetensors only) and
    write its row of the models table with its clean accuracy on the whole test set."""
    spec, dataset, start = job.model, ctx.study.data.dataset, time.perf_counter()
    model = import_weights(spec.arch, dataset, Path(spec.checkpoint)).to(ctx.device)
    checkpoint = ctx.checkpoint(spec.id)
    save_checkpoint(model, checkpoint, {"arch": spec.arch, "dataset": dataset, "model_id": spec.id,
                                        "job_hash": job_hash, "imported_from": spec.checkpoint})
    columns = schema_for("training_curves").names
    write_part(ctx.out, "training_curves", job.id, pd.DataFrame(columns=columns), job_hash)
    accuracy = clean_accuracy(model, ctx.split("test"), ctx.study.evaluation.batch_size, ctx.device)
    imported = TrainedModel(model, seconds=time.perf_counter() - start, clean_accuracy=accuracy)
    row = _model_row(spec, ctx, imported, str(checkpoint.relative_to(ctx.out))) | NOT_TRAINED
    write_part(ctx.out, "models", job.id, pd.DataFrame([row]), job_hash)


def _feature_match_rows(spec: ModelConfig, ctx: Context, redrawn: Split) -> pd.DataFrame:
    """The robust_datasets rows of a robust_dataset model: per re-drawn image, how closely it matches."""
    source, originals = spec.training.source, robust_originals(spec, ctx)
    match = feature_match(ctx.frozen(source), originals, redrawn, robust_recipe(spec, ctx), ctx.device)
    log.info("%s: median feature distance left %.3f of ||g(x)|| (starts: %.3f)", spec.id,
             match.relative.median().item(), match.start_relative.median().item())
    return pd.DataFrame({"model_id": spec.id, "source_model_id": source, "sample": range(len(redrawn)),
                         "label": originals.labels.numpy(), "feature_distance": match.distance.numpy(),
                         "relative_distance": match.relative.numpy(),
                         "start_relative_distance": match.start_relative.numpy(),
                         "source_pred": match.source_pred.numpy()})


def _run_train(job: TrainJob, ctx: Context, job_hash: str, progress: bool) -> None:
    if job.model.checkpoint:
        _run_import(job, ctx, job_hash)
        return
    checkpoint = ctx.checkpoint(job.model.id)
    resume = checkpoint.with_suffix(".resume.safetensors")
    train = training_split(job.model, ctx)
    if job.model.training.mode == "robust_dataset":
        write_part(ctx.out, "robust_datasets", job.id, _feature_match_rows(job.model, ctx, train), job_hash)
    trained = train_model(job.model, ctx.study.data.dataset, train, ctx.split("test"), ctx.device, progress,
                          resume, job_hash, _epoch_probes(job.model, ctx), pregenerated_sets(job.model, ctx))
    save_checkpoint(trained.model, checkpoint, {"arch": job.model.arch, "dataset": ctx.study.data.dataset,
                                                "model_id": job.model.id, "job_hash": job_hash})
    write_part(ctx.out, "training_curves", job.id, pd.DataFrame(trained.curves), job_hash)
    row = _model_row(job.model, ctx, trained, str(checkpoint.relative_to(ctx.out)))
    write_part(ctx.out, "models", job.id, pd.DataFrame([row]), job_hash)
    resume.unlink(missing_ok=True)


def _transferred(model: Classifier, cfgs: list[AttackConfig], job: AttackJob, ctx: Context,
                 test: Split) -> list[AttackOutcome]:
    """A transfer sweep judged on ``model``, on sets crafted once on the source (``transfer_set``)."""
    sweep, seed, batch = job.sweep, job.model.training.seed, ctx.study.evaluation.batch_size
    outcomes = []
    for run, served in attack_runs(cfgs):
        x_adv, seconds = transfer_set(ctx, sweep.source, run, test, seed, sweep.dataset)
        outcomes += [judge_crafted(model, test, cfg, x_adv, seconds, batch, ctx.device) for cfg in served]
    return outcomes


def _accuracy_row(job: AttackJob, cfg: AttackConfig, outcome: AttackOutcome) -> dict[str, Any]:
    return {"model_id": job.model.id, "attack": cfg.name, "sweep": sweep_key(job.sweep), "norm": cfg.norm,
            "eps": cfg.eps, "steps": iterations(cfg), "alpha": step_size(cfg), "restarts": cfg.restarts,
            "n": outcome.n, "accuracy": outcome.accuracy, "max_perturbation": outcome.max_perturbation,
            "source_model_id": job.sweep.source or None, "seconds": outcome.seconds,
            "images_per_second": outcome.n / outcome.seconds if outcome.seconds else None}


def _run_attack(job: AttackJob, ctx: Context, job_hash: str) -> None:
    model, sweep = ctx.frozen(job.model.id), job.sweep
    test = ctx.split("test", sweep.dataset).head(sweep.samples or ctx.study.evaluation.samples)
    cfgs = [sweep.at(eps) for eps in sweep.eps]
    if sweep.source:
        outcomes = _transferred(model, cfgs, job, ctx, test)
    else:
        outcomes = evaluate_sweep(model, test, cfgs, ctx.study.evaluation.batch_size, ctx.device,
                                  job.model.training.seed)
    for cfg, outcome in zip(cfgs, outcomes, strict=True):
        log.info("%s eps=%g: accuracy %.4f", job.id, cfg.eps, outcome.accuracy)
    rows = [_accuracy_row(job, cfg, outcome) for cfg, outcome in zip(cfgs, outcomes, strict=True)]
    write_part(ctx.out, "robust_accuracy", job.id, pd.DataFrame(rows), job_hash)


def _analysed(sweep: AttackSweep | None, settings: AnalysisConfig) -> int:
    """Test images analysed: [analysis] samples, no more than the sweep attacks."""
    return min(settings.samples, sweep.samples) if sweep and sweep.samples else settings.samples


def _run_analysis(job: AnalysisJob, ctx: Context, job_hash: str) -> None:
    sweep = job.sweep if isinstance(job, SweepAnalysisJob) else None
    settings = ctx.study.analysis
    test = ctx.split("test", sweep.dataset if sweep else "").head(_analysed(sweep, settings))
    subject = Subject(job.model.id, job.model.arch, ctx.frozen(job.model.id), test, settings, ctx.device)
    tables = analyse_sweep(subject, sweep, job.model.training.seed) if sweep else analyse_clean(subject)
    for table in job.tables:
        write_part(ctx.out, table, job.id, tables[table], job_hash)


def execute(job: Job, ctx: Context, progress: bool = False) -> None:
    """Run one job of ``ctx.study`` into ``ctx.out``; its results are written atomically, the marker last."""
    log.info("running %s job %s", job.kind, job.id)
    start, job_hash = time.perf_counter(), job.hash(ctx.study)
    if isinstance(job, TrainJob):
        _run_train(job, ctx, job_hash, progress)
    elif isinstance(job, AttackJob):
        _run_attack(job, ctx, job_hash)
    else:
        _run_analysis(job, ctx, job_hash)
    log.info("finished %s job %s in %.1f s", job.kind, job.id, time.perf_counter() - start)


def execute_alone(study: StudyConfig, job: Job, out: str, data_root: str | None, device: str, *_after: str) -> str:
    """``execute`` with a context of its own (for a worker process); returns the job id. ``_after`` are
    the results of the jobs it had to wait for: the Ray backend passes their object refs as arguments,
    Ray's way of ordering tasks."""
    execute(job, Context(study, Path(out), data_root, pick_device(device)))
    return job.id
