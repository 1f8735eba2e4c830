"""Whether every file a job owns is on disk, readable and current; the audit ``engine check`` prints first.

A job owns one part in each of its tables (``job.tables``); a training also owns its checkpoint, the
checkpoint's JSON sidecar and, for a robust_dataset model, the preview of its robust training set. A
job is finished only when each of these exists, reads to the end and carries the job's hash (parts in
their parquet metadata, checkpoints in the sidecar). Otherwise the runner redoes the job, rewriting
all of its files, so a rerun repairs a truncated, deleted or foreign file by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from safetensors import SafetensorError, safe_open

from engine.config.schema import ConfigError, StudyConfig
from engine.core.fs import read_json
from engine.models.checkpoints import sidecar
from engine.results.io import JOB_KEY, part_path, require_study
from engine.study.artifacts import robust_preview_path
from engine.study.cells import added_models, cell_jobs, with_added
from engine.study.context import checkpoint_path
from engine.study.jobs import Job, TrainJob, expand
from engine.study.validate import study_from_dict

MISSING = "missing"
FOREIGN = "written for another configuration"
UNREADABLE_ERRORS = (OSError, ValueError, KeyError, TypeError, SafetensorError, pa.ArrowException)


@dataclass(frozen=True)
class Damage:
    """One file of a job that is not as the job left it."""

    job: str  # id of the job that owns the file
    path: Path
    problem: str  # MISSING, FOREIGN, or "unreadable: <reason>"


def _unreadable(error: BaseException) -> str:
    return f"unreadable: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")


def _part_problem(path: Path, job_hash: str) -> str | None:
    """None when the part at ``path`` reads to the end and carries ``job_hash``."""
    if not path.is_file():
        return MISSING
    try:
        stored = (pq.read_table(path).schema.metadata or {}).get(JOB_KEY, b"").decode()
    except UNREADABLE_ERRORS as error:
        return _unreadable(error)
    return None if stored == job_hash else FOREIGN


def _safetensors_problem(path: Path) -> str | None:
    """None when ``path`` is a complete safetensors file (safetensors checks that its header's tensors
    cover the file exactly)."""
    if not path.is_file():
        return MISSING
    try:
        with safe_open(str(path), "pt"):
            pass
    except UNREADABLE_ERRORS as error:
        return _unreadable(error)
    return None


def _sidecar_problem(path: Path, job_hash: str, arch: str) -> str | None:
    if not path.is_file():
        return MISSING
    try:
        meta = read_json(path)
        stored, stored_arch = meta["job_hash"], meta["arch"]
    except UNREADABLE_ERRORS as error:
        return _unreadable(error)
    if stored_arch != arch:
        return f"describes arch {stored_arch!r}, the model is {arch!r}"
    return None if stored == job_hash else FOREIGN


def owned_files(job: Job, out: Path) -> list[Path]:
    """Every file ``job`` writes into study directory ``out``."""
    files = [part_path(out, table, job.id) for table in job.tables]
    if isinstance(job, TrainJob):
        checkpoint = checkpoint_path(out, job.id)
        files += [checkpoint, sidecar(checkpoint)]
        if job.model.training.mode == "robust_dataset":
            files += [robust_preview_path(out, job.id), robust_preview_path(out, job.id, original=True)]
    return files


def job_damage(job: Job, study: StudyConfig, out: Path) -> list[Damage]:
    """The files of ``job`` that are missing, unreadable or from another configuration."""
    job_hash = job.hash(study)

    def problem(path: Path) -> str | None:
        if path.suffix == ".parquet":
            return _part_problem(path, job_hash)
        if path.suffix == ".json":
            return _sidecar_problem(path, job_hash, job.model.arch)
        return _safetensors_problem(path)

    return [Damage(job.id, path, found) for path in owned_files(job, out) if (found := problem(path))]


def is_done(job: Job, study: StudyConfig, out: Path) -> bool:
    """Whether every file ``job`` owns exists, reads and carries its hash."""
    return not job_damage(job, study, Path(out))


class DamagedManifestError(ValueError):
    """A study's manifest.json cannot be read or holds no valid study config."""


def manifest_study(out: Path) -> tuple[StudyConfig, bool]:
    """The study config a study directory's manifest records (with the models added after its run), and
    whether its run finished."""
    path = require_study(out) / "manifest.json"
    try:
        manifest = read_json(path)
        config, finished = manifest["config"], manifest.get("finished") is True
        if not isinstance(config, dict):
            raise TypeError(f"config is {type(config).__name__}, not a table")
        return with_added(study_from_dict(config), added_models(manifest)), finished
    except (*UNREADABLE_ERRORS, ConfigError) as error:
        raise DamagedManifestError(f"{path} is damaged ({_unreadable(error).removeprefix('unreadable: ')}); "
                                   "rerun the study's config with python -m engine run CONFIG --out "
                                   f"{out} to rewrite it") from None


def audit(out: Path) -> list[Damage]:
    """Damaged files of study directory ``out``, judged against the config its manifest records (and the
    cells it records as computed on demand).

    A job none of whose files exist was not run yet: it is listed only when the manifest says the run
    finished. A partly written job lists each of its bad files.
    """
    out = Path(out)
    study, finished = manifest_study(out)
    damage: list[Damage] = []
    for job in [*expand(study), *cell_jobs(study, read_json(out / "manifest.json"))]:
        found = job_damage(job, study, out)
        started = len(found) < len(owned_files(job, out)) or any(d.problem != MISSING for d in found)
        if started or finished:
            damage += found
    return damage


def audit_report(damage: list[Damage], out: Path) -> str:
    """``damage`` as lines for the terminal, ending with what repairs it."""
    if not damage:
        return "every file of every finished job is present, readable and current\n"
    lines = [f"{d.path}: {d.problem} (job {d.job})" for d in damage]
    jobs = len({d.job for d in damage})
    lines.append(f"{len(damage)} damaged or missing files in {jobs} jobs; rerun the study's config with "
                 f"python -m engine run CONFIG --out {out} to redo those jobs")
    return "\n".join(lines) + "\n"
