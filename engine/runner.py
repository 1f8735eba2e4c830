"""Study runner: run the unfinished jobs of a study (``engine.jobs``), each writing its results
atomically, so a rerun skips finished jobs and redoes jobs whose configuration changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from engine.analysis.sanity import study_checks
from engine.analysis.study import Subject, analyse_clean, analyse_sweep
from engine.attacks import step_size
from engine.checkpoints import load_checkpoint, save_checkpoint
from engine.config import AnalysisConfig, AttackConfig, ModelConfig, StudyConfig
from engine.data import Split, load_split, read_split, save_split, to_uint8
from engine.device import pick_device
from engine.evaluation import (
    AttackOutcome,
    accuracy,
    craft,
    craft_timed,
    evaluate_attack,
    evaluate_sweep,
    judge_crafted,
)
from engine.jobs import Job, content_hash, expand, is_done, non_default
from engine.models import Classifier, parameter_count
from engine.results.io import atomic_write, write_json, write_part
from engine.results.lock import remove_temp_files, study_lock
from engine.results.manifest import build_manifest
from engine.robust_dataset import robust_split
from engine.training import TrainedModel, train_model

log = logging.getLogger(__name__)
ROBUST_PREVIEW = 100  # robust-set images kept in the study directory for the app


def checkpoint_path(out: Path, model_id: str) -> Path:
    return out / "checkpoints" / f"{model_id}.safetensors"


class _Context:
    """Data and device shared by the jobs of one run; splits are loaded on first use."""

    def __init__(self, study: StudyConfig, data_root: str | None, device: torch.device) -> None:
        self.study, self.device = study, device
        self.root = study.data.root or data_root
        self._splits: dict[tuple[str, str], Split] = {}

    def split(self, name: str, dataset: str = "") -> Split:
        """Split ``name`` of ``dataset`` ("" = the study's; the training split is cut to train_subset)."""
        dataset = dataset or self.study.data.dataset
        if (dataset, name) not in self._splits:
            split = load_split(dataset, name, self.root)
            self._splits[dataset, name] = split.head(self.study.data.train_subset) if name == "train" else split
        return self._splits[dataset, name]


def _model_row(spec: ModelConfig, ctx: _Context, trained: TrainedModel, checkpoint: str) -> dict:
    cfg = spec.training
    adversarial = cfg.adversarial
    return {
        "model_id": spec.id, "dataset": ctx.study.data.dataset, "arch": spec.arch,
        "training_mode": cfg.mode, "train_norm": cfg.norm if adversarial else None,
        "train_eps": cfg.eps if adversarial else None,
        "train_steps": {"pgd": cfg.steps, "fast": 1}.get(cfg.mode, 0),
        "train_alpha": cfg.step_size if adversarial else None,
        "train_attacks": "+".join(cfg.train_attacks) or None, "augment": cfg.augment,
        "epochs": trained.epochs, "batch_size": cfg.batch_size, "optimizer": cfg.optimizer, "lr": cfg.lr,
        "train_samples": trained.train_samples, "parameters": parameter_count(trained.model),
        "clean_accuracy": trained.clean_accuracy, "train_seconds": trained.seconds,
        "checkpoint": checkpoint, "seed": cfg.seed,
    }


Probe = Callable[[Classifier], float]


def _probe_name(cfg: AttackConfig, source: str) -> str:
    """Name of a per-epoch test set in ``training_curves.test_set``, e.g. ``fgsm-Linf-0.2-from-M``."""
    return f"{cfg.name}-{cfg.norm}-{cfg.eps:g}" + (f"-from-{source}" if source else "")


def _epoch_probes(spec: ModelConfig, ctx: _Context, out: Path) -> dict[str, Probe]:
    """Per-epoch adversarial accuracies: white-box attacks rerun on the current weights, transfer
    test sets crafted once on their source model (models that are sources get white-box ones only)."""
    settings = ctx.study.epoch_evaluation
    test, batch, seed = ctx.split("test").head(settings.samples), ctx.study.evaluation.batch_size, spec.training.seed
    probes: dict[str, Probe] = {}
    for sweep in settings.attacks:
        if sweep.source and spec.id in ctx.study.epoch_sources:
            continue
        for cfg in (sweep.at(eps) for eps in sweep.eps):
            if sweep.source:
                x_adv = _crafted(out, ctx, sweep.source, cfg, test, seed)[0].to(ctx.device)
                y = test.labels.to(ctx.device)
                probes[_probe_name(cfg, sweep.source)] = lambda model, x_adv=x_adv, y=y: accuracy(model, x_adv, y)
            else:
                probes[_probe_name(cfg, "")] = lambda model, cfg=cfg: evaluate_attack(
                    model, test, cfg, batch, ctx.device, seed).accuracy
    return probes


def _crafted(out: Path, ctx: _Context, source: str, cfg: AttackConfig, test: Split, seed: int,
             dataset: str = "") -> tuple[torch.Tensor, float]:
    """A transfer set: (x_adv [N, C, H, W] on the CPU, seconds), crafted from ``test`` on model ``source``
    once and cached for every model judged on it."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    key = content_hash({"source": Job(ctx.study.model(source)).hash(ctx.study), "attack": non_default(cfg),
                        "images": len(test), "dataset": dataset, "seed": seed})
    path = out / "cache" / f"transfer-{source}-{cfg.name}-{key}.safetensors"
    if path.exists():
        with safe_open(str(path), "pt") as stored:
            return stored.get_tensor("x_adv"), float(stored.metadata()["seconds"])
    model = _load_frozen(out, source, ctx.device)
    x_adv, seconds = craft_timed(model, test, cfg, ctx.study.evaluation.batch_size, ctx.device, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda temp: save_file({"x_adv": x_adv.contiguous()}, temp, {"seconds": repr(seconds)}))
    return x_adv, seconds


def _cached_split(path: Path, classes: tuple[str, ...], build: Callable[[], Split]) -> Split:
    """The split saved at ``path``, built and saved first if absent (paths carry a content hash)."""
    if path.exists():
        return read_split(path, classes)
    split = build()
    save_split(path, split)
    return split


def _training_split(spec: ModelConfig, ctx: _Context, out: Path) -> Split:
    """The training set: the dataset's, or for robust_dataset the one re-drawn through the source model
    (cached under a hash of the source and the construction's settings)."""
    cfg = spec.training
    train = ctx.split("train").head(cfg.samples)
    if cfg.mode != "robust_dataset":
        return train
    key = content_hash({"source": Job(ctx.study.model(cfg.source)).hash(ctx.study), "seed": cfg.seed,
                        "steps": cfg.robust_steps, "alpha": cfg.robust_alpha, "init": cfg.robust_init,
                        "samples": cfg.robust_samples})

    def build() -> Split:
        source = _load_frozen(out, cfg.source, ctx.device)
        return robust_split(source, train.head(cfg.robust_samples), cfg.robust_steps, cfg.robust_alpha,
                            cfg.robust_init, cfg.seed, ctx.study.evaluation.batch_size, ctx.device)

    robust = _cached_split(out / "cache" / f"robust-{cfg.source}-{key}.safetensors", train.classes, build)
    save_split(out / "robust_sets" / f"{spec.id}.safetensors", robust.head(ROBUST_PREVIEW))
    return robust


def _pregenerated_sets(spec: ModelConfig, ctx: _Context, out: Path) -> list[Split]:
    """Park & So's adversarial training sets, crafted once on the source model and cached for every
    model that uses them; images are stored as uint8 like the data they come from."""
    settings, cfg = ctx.study.pregenerated, spec.training
    if cfg.mode != "pregenerated":
        return []
    train = ctx.split("train").head(settings.samples)
    source_hash = Job(ctx.study.model(cfg.source)).hash(ctx.study)
    sets = []
    for name in cfg.train_attacks:
        attack = settings.attack(name)
        key = content_hash({"source": source_hash, "attack": non_default(attack), "samples": settings.samples})

        def build(attack: AttackConfig = attack) -> Split:
            source = _load_frozen(out, cfg.source, ctx.device)
            x_adv, y = craft(source, train, attack, ctx.study.evaluation.batch_size, ctx.device, cfg.seed)
            return Split(to_uint8(x_adv), y.cpu(), train.classes)

        path = out / "cache" / f"pregenerated-{cfg.source}-{name}-{key}.safetensors"
        sets.append(_cached_split(path, train.classes, build))
    return sets


def _run_train(job: Job, ctx: _Context, out: Path, job_hash: str, progress: bool) -> None:
    checkpoint = checkpoint_path(out, job.model.id)
    resume = checkpoint.with_suffix(".resume.safetensors")
    train = _training_split(job.model, ctx, out)
    trained = train_model(job.model, ctx.study.data.dataset, train, ctx.split("test"), ctx.device, progress,
                          resume, job_hash, _epoch_probes(job.model, ctx, out), _pregenerated_sets(job.model, ctx, out))
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


def _transferred(model: Classifier, cfgs: list[AttackConfig], job: Job, ctx: _Context, out: Path,
                 test: Split) -> list[AttackOutcome]:
    """A transfer sweep judged on ``model``, on sets crafted once on the source (``_crafted``)."""
    sweep, seed, batch = job.sweep, job.model.training.seed, ctx.study.evaluation.batch_size
    widest = max(cfgs, key=lambda cfg: cfg.eps)
    if widest.unbounded:  # one set of minimal perturbations, cut back to each eps by judge_crafted
        crafted = [_crafted(out, ctx, sweep.source, widest, test, seed, sweep.dataset)] * len(cfgs)
    else:
        crafted = [_crafted(out, ctx, sweep.source, cfg, test, seed, sweep.dataset) for cfg in cfgs]
    return [judge_crafted(model, test, cfg, x_adv, seconds, batch, ctx.device)
            for cfg, (x_adv, seconds) in zip(cfgs, crafted, strict=True)]


def _run_attack(job: Job, ctx: _Context, out: Path, job_hash: str) -> None:
    model, sweep = _load_frozen(out, job.model.id, ctx.device), job.sweep
    batch = ctx.study.evaluation.batch_size
    test = ctx.split("test", sweep.dataset).head(sweep.samples or ctx.study.evaluation.samples)
    rows = []
    cfgs = [sweep.at(eps) for eps in sweep.eps]
    if sweep.source:
        outcomes = _transferred(model, cfgs, job, ctx, out, test)
    else:
        outcomes = evaluate_sweep(model, test, cfgs, batch, ctx.device, job.model.training.seed)
    for cfg, outcome in zip(cfgs, outcomes, strict=True):
        rows.append({"model_id": job.model.id, "attack": cfg.name, "sweep": job.sweep.key, "norm": cfg.norm,
                     "eps": cfg.eps, "steps": cfg.iterations, "alpha": step_size(cfg), "restarts": cfg.restarts,
                     "n": outcome.n, "accuracy": outcome.accuracy, "max_perturbation": outcome.max_perturbation,
                     "source_model_id": job.sweep.source or None, "seconds": outcome.seconds,
                     "images_per_second": outcome.n / outcome.seconds if outcome.seconds else None})
        log.info("%s eps=%g: accuracy %.4f", job.id, cfg.eps, outcome.accuracy)
    write_part(out, "robust_accuracy", job.id, pd.DataFrame(rows), job_hash)


def _analysed(job: Job, settings: AnalysisConfig) -> int:
    """Test images analysed: [analysis] samples, no more than the sweep attacks."""
    return min(settings.samples, job.sweep.samples) if job.sweep and job.sweep.samples else settings.samples


def _run_analysis(job: Job, ctx: _Context, out: Path, job_hash: str) -> None:
    """A ``clean`` or ``analysis`` job: its tables are written in ``job.tables`` order, the last marking it done."""
    settings = ctx.study.analysis
    test = ctx.split("test", job.sweep.dataset if job.sweep else "").head(_analysed(job, settings))
    subject = Subject(job.model.id, job.model.arch, _load_frozen(out, job.model.id, ctx.device), test, settings,
                      ctx.device)
    if job.sweep is None:
        tables = analyse_clean(subject)
    else:
        tables = analyse_sweep(subject, job.sweep, job.model.training.seed)
    for table in job.tables:
        write_part(out, table, job.id, tables[table], job_hash)


def execute(job: Job, ctx: _Context, out: Path, progress: bool = False) -> None:
    """Run one job of ``ctx.study`` into ``out``; its results are written atomically, the marker last."""
    log.info("running %s job %s", job.kind, job.id)
    start, job_hash = time.perf_counter(), job.hash(ctx.study)
    if job.analysis:
        _run_analysis(job, ctx, out, job_hash)
    elif job.sweep is None:
        _run_train(job, ctx, out, job_hash, progress)
    else:
        _run_attack(job, ctx, out, job_hash)
    log.info("finished %s job %s in %.1f s", job.kind, job.id, time.perf_counter() - start)


def execute_alone(study: StudyConfig, job: Job, out: str, data_root: str | None, device: str, *_after: str) -> str:
    """``execute`` with a context of its own (for a worker process); returns the job id. ``_after`` are
    the ids of the jobs it had to wait for (the Ray backend passes them to order the tasks)."""
    execute(job, _Context(study, data_root, pick_device(device)), Path(out))
    return job.id


@dataclass(frozen=True)
class RunSummary:
    ran: list[str]
    skipped: list[str]


def _run_local(study: StudyConfig, todo: list[Job], out: Path, ctx: _Context, progress: bool) -> None:
    for job in tqdm(todo, desc=study.name, unit="job", disable=not progress):
        execute(job, ctx, out, progress)


def run_study(study: StudyConfig, out: str | Path, data_root: str | None = None, device: str = "auto",
              progress: bool = True, config_path: str | None = None, backend: str = "local",
              address: str | None = None) -> RunSummary:
    """Run every unfinished job of ``study`` into directory ``out``; finished jobs are skipped.

    ``backend`` "local" runs the jobs one after another in this process; "ray" runs them as tasks
    on a Ray cluster (``address``: "auto", "HOST:PORT", or None to start a local one), each after
    the jobs it depends on. One runner at a time may write ``out`` (``StudyLockedError``); temp
    files left by an interrupted run are removed first. ``config_path`` (the TOML file the study
    came from) is recorded in the manifest.
    """
    if backend not in ("local", "ray"):
        raise ValueError(f"unknown backend {backend!r}; known: local, ray")
    out = Path(out)
    with study_lock(out):
        for leftover in remove_temp_files(out):
            log.info("removed %s, left by an interrupted write", leftover)
        jobs = expand(study)
        todo = [job for job in jobs if not is_done(job, study, out)]
        ctx = _Context(study, data_root, pick_device(device)) if backend == "local" else None
        where = str(ctx.device) if ctx else f"ray ({device})"
        manifest = build_manifest(study.to_dict(), where, [job.id for job in jobs]) | {"config_path": config_path}
        write_json(out / "manifest.json", manifest)
        if ctx:
            _run_local(study, todo, out, ctx, progress)
        else:
            from engine.ray_backend import run_on_ray

            run_on_ray(study, todo, out, data_root, device, progress, address)
        write_part(out, "sanity_checks", "study", study_checks(out))
        write_json(out / "manifest.json", {**manifest, "finished": True})
    return RunSummary([job.id for job in todo], [job.id for job in jobs if job not in todo])
