"""Parquet tables of study directories, written atomically (``engine.core.fs``).

A table lives at ``<study>/<table>/<part>.parquet``, one part per job. Writes go to a
``.tmp-*`` file in the same directory, are flushed to disk, then renamed over the target, so a
reader never sees half a file; readers skip names starting with '.' (leftover temp files).
"""

from __future__ import annotations

import os
import stat
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


class NotAStudyError(FileNotFoundError):
    """A directory holds no study (no manifest.json)."""


def require_study(study: str | os.PathLike[str]) -> Path:
    """``study`` as a Path; ``NotAStudyError`` unless it holds a manifest.json."""
    path = Path(study)
    if not (path / "manifest.json").is_file():
        raise NotAStudyError(f"{path} is not a study directory (no manifest.json); "
                             f"create one with: python -m engine run CONFIG --out {path}")
    return path


class DamagedFileError(ValueError):
    """A file of a study that cannot be read; ``path`` names it and ``reason`` says what is wrong."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = Path(path), reason


class DamagedPartError(DamagedFileError, SchemaError):
    """A table's folder or one of its part files cannot be read (not a regular file, a symbolic link loop,
    truncated, not parquet)."""


def read_table(study: str | os.PathLike[str], table: str) -> pd.DataFrame:
    """All parts of ``table`` in ``study`` as one DataFrame (empty with the schema's columns if none).

    Raises ``SchemaError`` when a part does not match the schema, ``DamagedPartError`` (a ``SchemaError``)
    naming the file when the table's folder or a part cannot be read.
    """
    schema = schema_for(table)
    folder = Path(study) / table
    parts = _part_files(folder)
    if not parts:
        return schema.empty_table().to_pandas()
    try:
        data = ds.dataset([str(p) for p in parts], format="parquet").to_table()
    except (OSError, pa.ArrowException) as error:
        raise _damaged_part(table, parts) or SchemaError(f"{folder}: unreadable or mixed-schema parts: {error}") \
            from None
    return conform(table, data).to_pandas()


def _part_files(folder: Path) -> list[Path]:
    """The part files in a table's ``folder``, by name (none when it does not exist); ``DamagedPartError``
    when the folder cannot be listed or a part is not a regular file."""
    try:
        names = sorted(name for name in os.listdir(folder) if name.endswith(".parquet") and name[0] != ".")
    except FileNotFoundError:
        return []
    except OSError as error:  # a file, a link loop, no permission, a name too long
        raise DamagedPartError(folder, f"the table's folder cannot be listed ({error.strerror or error})") from None
    parts = [folder / name for name in names]
    for part in parts:
        try:
            mode = os.stat(part).st_mode  # follows links: a loop or a dangling link fails here
        except OSError as error:
            raise DamagedPartError(part, f"the part cannot be opened ({error.strerror or error})") from None
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise DamagedPartError(part, f"the part is {kind}, not a parquet file")
    return parts


def _damaged_part(table: str, parts: list[Path]) -> SchemaError | None:
    """The error of the first of ``parts`` that does not read on its own or does not match ``table``'s schema."""
    for part in parts:
        try:
            conform(table, pq.read_table(part))
        except SchemaError as error:
            return SchemaError(f"{part}: {error}")
        except (OSError, pa.ArrowException) as error:
            return DamagedPartError(part, f"not a readable parquet file ({str(error).strip() or type(error).__name__})")
    return None
