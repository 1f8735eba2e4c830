"""Computing into a finished study what its config did not ask for: a cell (one eps of one attack sweep on one
model: a model the sweep skips, or an eps it does not list), or a model of the user's (``add_model``).

A cell is an ordinary attack job (``CellJob``): the same attack code, judging, sample count and seed as
``engine run`` uses for that sweep, so its rows equal the rows a run with that eps added would write (the
timing columns aside). It is written as its own part, atomically, under the study's lock, and recorded in
the manifest's ``computed`` list with who asked for it; ``engine check`` audits it, and a later ``engine run``
keeps it, or removes it once the config's own jobs cover it. An added model is imported like a config's model
with a ``checkpoint`` (its row of the models table, with its clean accuracy, then its clean analyses); the
study's sweeps do not attack it, its cells do.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.config.schema import ConfigError, ModelConfig, StudyConfig
from engine.core.device import pick_device
from engine.core.fs import read_json, write_json
from engine.results.io import part_path
from engine.results.lock import check_study_path, remove_temp_files, study_lock
from engine.study.cells import (
    ADDED,
    COMPUTED,
    Cell,
    added_record,
    any_cell_job,
    cell_job,
    computed_cells,
    covered,
    with_added,
)
from engine.study.context import Context
from engine.study.executor import execute
from engine.study.integrity import is_done, manifest_study
from engine.study.jobs import CleanAnalysisJob, Job, TrainJob
from engine.study.validate import validate_checkpoints, validate_study

MANIFEST = "manifest.json"


def compute_cell(out: Path, cell: Cell, by: str, data_root: str | None = None, device: str = "auto") -> bool:
    """Compute ``cell`` into finished study directory ``out`` and record it in the manifest; False if it was
    there already. Everything is checked before any work: the study (``NotAStudyError``, a damaged manifest),
    the cell (``ConfigError``), the directory (``StudyPathError``) and the lock (``StudyLockedError``)."""
    out = check_study_path(out)
    study, _ = manifest_study(out)
    job = cell_job(study, cell)
    with study_lock(out):
        remove_temp_files(out)
        manifest = read_json(out / MANIFEST)
        recorded = {(c.model_id, c.sweep, c.eps) for c in computed_cells(manifest)}
        done = is_done(job, study, out)
        if not done:
            execute(job, Context(study, out, data_root, pick_device(device)))
        if (cell.model_id, cell.sweep, cell.eps) not in recorded:
            write_json(out / MANIFEST, {**manifest, COMPUTED: [*manifest.get(COMPUTED, []), cell.record(by)]})
    return not done


def carry_computed(out: Path, study: StudyConfig) -> list[dict[str, Any]]:
    """The manifest records of ``out``'s computed cells that a run of ``study`` keeps: a cell that the
    config's own sweep now computes on its model is removed, part and record."""
    try:
        manifest = read_json(out / MANIFEST)
    except (OSError, ValueError):
        return []
    kept = []
    for record, cell in zip(manifest.get(COMPUTED, []), computed_cells(manifest), strict=True):
        if covered(study, cell):
            job = any_cell_job(study, cell)
            for table in job.tables:
                part_path(out, table, job.id).unlink(missing_ok=True)
        else:
            kept.append(record)
    return kept


def add_model(out: Path, model: ModelConfig, by: str, data_root: str | None = None, device: str = "auto") -> None:
    """Import ``model`` (an external or registry architecture with a ``checkpoint``) into finished study
    directory ``out`` and record it in the manifest. Checked before any work:
    the study, the model (``ConfigError``: a taken id, an architecture that cannot serve, weights that do not
    load strictly or are a pickle), the directory and the lock."""
    out = check_study_path(out)
    study, _ = manifest_study(out)
    if not model.checkpoint:
        raise ConfigError("checkpoint: an added model is imported from its weights: give --checkpoint")
    model = replace(model, checkpoint=str(Path(model.checkpoint).resolve()))
    known = [m.id for m in study.models]
    if model.id in known:
        raise ConfigError(f"id: {model.id!r} is a model of this study already {known}")
    grown = with_added(study, [model])
    grown.validate()
    validate_study(grown)
    validate_checkpoints(replace(grown, models=(model,)))
    jobs: list[Job] = [TrainJob(model), *([CleanAnalysisJob(model)] if grown.analysis.samples else [])]
    with study_lock(out):
        remove_temp_files(out)
        manifest = read_json(out / MANIFEST)
        context = Context(grown, out, data_root, pick_device(device))
        for job in jobs:
            execute(job, context)
        write_json(out / MANIFEST, {**manifest, ADDED: [*manifest.get(ADDED, []), added_record(model, by)]})


def carry_added(out: Path, study: StudyConfig) -> list[dict[str, Any]]:
    """The manifest records of ``out``'s added models that a run of ``study`` keeps: those the config does
    not list itself."""
    try:
        manifest = read_json(out / MANIFEST)
    except (OSError, ValueError):
        return []
    own = {model.id for model in study.models}
    return [record for record in manifest.get(ADDED, []) if record.get("id") not in own]
