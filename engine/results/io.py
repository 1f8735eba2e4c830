"""Parquet tables of study directories, written atomically (``engine.core.fs``).

A table lives at ``<study>/<table>/<part>.parquet``, one part per job. Writes go to a
``.tmp-*`` file in the same directory, are flushed to disk, then renamed over the target, so a
reader never sees half a file; readers skip names starting with '.' (leftover temp files).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from engine.core.fs import atomic_write
from engine.results.schema import SchemaError, conform, schema_for

JOB_KEY = b"atlas.job_hash"


def part_path(study: Path, table: str, part: str) -> Path:
    return Path(study) / table / f"{part}.parquet"


def write_part(study: Path, table: str, part: str, rows: pd.DataFrame, job_hash: str = "") -> Path:
    """Validate ``rows`` against ``table``'s schema and write them atomically as one part file."""
    data = conform(table, pa.Table.from_pandas(rows, preserve_index=False))
    data = data.replace_schema_metadata({JOB_KEY: job_hash.encode()})
    target = part_path(study, table, part)
    atomic_write(target, lambda temp: pq.write_table(data, temp))
    return target


def part_job_hash(path: Path) -> str | None:
    """The job hash stored in a part file, or None when the file is absent or unreadable."""
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None
    return metadata.get(JOB_KEY, b"").decode()


class NotAStudyError(FileNotFoundError):
    """A directory holds no study (no manifest.json)."""


def require_study(study: str | os.PathLike[str]) -> Path:
    """``study`` as a Path; ``NotAStudyError`` unless it holds a manifest.json."""
    path = Path(study)
    if not (path / "manifest.json").is_file():
        raise NotAStudyError(f"{path} is not a study directory (no manifest.json); "
                             f"create one with: python -m engine run CONFIG --out {path}")
    return path


def read_table(study: str | os.PathLike[str], table: str) -> pd.DataFrame:
    """All parts of ``table`` in ``study`` as one DataFrame (empty with the schema's columns if none).

    Raises ``SchemaError`` when a part does not match the schema.
    """
    schema = schema_for(table)
    folder = Path(study) / table
    parts = sorted(folder.glob("[!.]*.parquet")) if folder.is_dir() else []
    if not parts:
        return schema.empty_table().to_pandas()
    try:
        data = ds.dataset([str(p) for p in parts], format="parquet").to_table()
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise SchemaError(f"{folder}: unreadable or mixed-schema parts: {error}") from None
    return conform(table, data).to_pandas()
