"""Cells computed on demand: one eps of one attack sweep of a study on one model, which the config did not
ask for (a model the sweep skips, or an eps it does not list), computed into a finished study.

A cell is an ordinary attack job (``CellJob``): the same attack code, judging, sample count and seed as
``engine run`` uses for that sweep, so its rows equal the rows a run with that eps added would write (the
timing columns aside). It is written as its own part, atomically, under the study's lock, and recorded in
the manifest's ``computed`` list with who asked for it; ``engine check`` audits it, and a later ``engine run``
keeps it, or removes it once the config's own jobs cover it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.config.schema import StudyConfig
from engine.core.device import pick_device
from engine.core.fs import read_json, write_json
from engine.results.io import part_path
from engine.results.lock import check_study_path, remove_temp_files, study_lock
from engine.study.cells import COMPUTED, Cell, cell_job, computed_cells, covered
from engine.study.context import Context
from engine.study.executor import execute
from engine.study.integrity import is_done, manifest_study
from engine.study.jobs import cell_part_id

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
            part_path(out, "robust_accuracy", cell_part_id(cell.model_id, cell.sweep, cell.eps)).unlink(missing_ok=True)
        else:
            kept.append(record)
    return kept
