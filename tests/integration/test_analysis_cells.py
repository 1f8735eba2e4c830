"""The analyses of one eps computed on demand (`engine compute --analysis`) equal, row for row, what
`engine run` writes when the config's sweep lists that eps, in every analysis table."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from engine.attacks.registry import sweep_key
from engine.config.schema import ConfigError
from engine.results import read_table
from engine.study.cells import Cell
from engine.study.integrity import audit, manifest_study
from engine.study.on_demand import compute_cell
from engine.study.runner import run_study

pytestmark = pytest.mark.real_data
SWEEP, MODEL, EPS = "fgsm-Linf-1steps", "lenet5_standard", 0.075
TABLES = ("per_sample", "a_distance", "svcca", "pca", "norm_ratios")


def _at(study: Path, table: str) -> pd.DataFrame:
    rows = read_table(study, table)
    chosen = rows[(rows.model_id == MODEL) & (rows.sweep == SWEEP) & (rows.eps == EPS)]
    return chosen.sort_values(list(chosen.columns)).reset_index(drop=True)


def test_an_analysis_cell_equals_the_runs_own_analyses_at_that_eps(smoke_study: Path, tmp_path: Path) -> None:
    cells = tmp_path / "cells"
    shutil.copytree(smoke_study, cells)
    assert compute_cell(cells, Cell(MODEL, SWEEP, EPS, analysis=True), "test")
    assert audit(cells) == []
    with pytest.raises(ConfigError, match="analyses run on white-box ones"):
        compute_cell(cells, Cell("lenet5_pgd_linf", "pgd-Linf-5steps-rs-from-lenet5_standard", 0.05, True), "test")

    config, _ = manifest_study(cells)
    attacks = tuple(replace(s, eps=(*s.eps, EPS)) if sweep_key(s) == SWEEP else s for s in config.attacks)
    rerun = tmp_path / "rerun"
    shutil.copytree(smoke_study, rerun)
    run_study(replace(config, attacks=attacks), rerun, progress=False)
    for table in TABLES:
        ours = _at(cells, table)
        assert len(ours), table
        pd.testing.assert_frame_equal(ours, _at(rerun, table), obj=table)
