"""Study runner: run the unfinished jobs of a study (``engine.study.jobs``), each writing its results
atomically, so a rerun skips finished jobs and redoes jobs whose configuration changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from engine.config.schema import StudyConfig
from engine.core.device import pick_device
from engine.core.fs import write_json
from engine.reporting.sanity import study_checks
from engine.results.io import write_part
from engine.results.lock import check_study_path, remove_temp_files, study_lock
from engine.results.manifest import build_manifest
from engine.study.cells import ADDED, COMPUTED, added_models, with_added
from engine.study.context import Context
from engine.study.executor import execute
from engine.study.integrity import is_done
from engine.study.jobs import Job, expand
from engine.study.on_demand import carry_added, carry_computed
from engine.study.ray_backend import run_on_ray
from engine.study.validate import validate_checkpoints

log = logging.getLogger(__name__)
BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class RunSummary:
    ran: list[str]
    skipped: list[str]


def _run_local(todo: list[Job], ctx: Context, progress: bool) -> None:
    for job in tqdm(todo, desc=ctx.study.name, unit="job", disable=not progress):
        execute(job, ctx, progress)


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
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
    out = check_study_path(out)
    validate_checkpoints(study)
    with study_lock(out):
        for leftover in remove_temp_files(out):
            log.info("removed %s, left by an interrupted write", leftover)
        jobs = expand(study)
        todo = [job for job in jobs if not is_done(job, study, out)]
        ctx = Context(study, out, data_root, pick_device(device)) if backend == "local" else None
        where = str(ctx.device) if ctx else f"ray ({device})"
        added = carry_added(out, study)
        computed = carry_computed(out, with_added(study, added_models({ADDED: added})))
        manifest = build_manifest(study.to_dict(), where, [job.id for job in jobs]) | {
            "config_path": config_path, COMPUTED: computed, ADDED: added}
        write_json(out / "manifest.json", manifest)
        if ctx:
            _run_local(todo, ctx, progress)
        else:
            run_on_ray(study, todo, out, data_root, device, progress, address)
        write_part(out, "sanity_checks", "study", study_checks(out))
        write_json(out / "manifest.json", {**manifest, "finished": True})
    return RunSummary([job.id for job in todo], [job.id for job in jobs if job not in todo])
