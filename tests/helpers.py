"""Helpers shared by test modules (tests/ is on sys.path under pytest's default import mode)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engine.results import read_table
from engine.results.schema import TABLES

TIMING_COLUMNS = {"seconds", "images_per_second", "train_seconds"}  # wall-clock figures differ between runs


def _sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    columns = [column for column in frame.columns if column not in TIMING_COLUMNS]
    keys = [column for column in columns if frame[column].dtype == object] + \
        [column for column in ("eps", "epoch", "sample", "index") if column in columns]
    return frame[columns].sort_values(keys, kind="stable").reset_index(drop=True)


def assert_same_results(expected: Path, actual: Path, atol: float = 1e-6) -> int:
    """Every table of two study directories holds the same rows (timings aside, floats within ``atol``);
    returns the number of rows compared."""
    compared = 0
    for table in TABLES:
        left, right = _sorted_rows(read_table(expected, table)), _sorted_rows(read_table(actual, table))
        assert len(left) == len(right), f"{table}: {len(left)} rows, then {len(right)}"
        for column in left.columns:
            if left[column].dtype.kind == "f":
                assert np.allclose(left[column], right[column], atol=atol, equal_nan=True), f"{table}.{column}"
            else:
                assert left[column].astype(object).fillna("<null>").tolist() == \
                    right[column].astype(object).fillna("<null>").tolist(), f"{table}.{column}"
        compared += len(left)
    return compared
