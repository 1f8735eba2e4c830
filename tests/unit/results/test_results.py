from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import REPO

from engine.results import TABLES, SchemaError, read_table, write_part
from engine.results.io import JOB_KEY, part_path

SHIPPED = sorted(p.parent for p in (REPO / "precomputed").glob("*/manifest.json"))


def curves(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"model_id": ["m"] * n, "epoch": range(1, n + 1), "test_set": ["clean"] * n,
                         "accuracy": [0.5] * n, "loss": [1.0] * n})


def test_round_trip_and_job_hash(tmp_path: Path) -> None:
    write_part(tmp_path, "training_curves", "a", curves(), job_hash="abc")
    write_part(tmp_path, "training_curves", "b", curves(2))
    table = read_table(tmp_path, "training_curves")
    assert len(table) == 5 and list(table.columns) == TABLES["training_curves"].names
    assert pq.read_schema(part_path(tmp_path, "training_curves", "a")).metadata[JOB_KEY] == b"abc"


def test_writes_are_checked_against_the_schema(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="lacks columns"):
        write_part(tmp_path, "training_curves", "a", curves().drop(columns="loss"))
    bad = curves().assign(epoch=["one", "two", "three"])
    with pytest.raises(SchemaError, match="does not match"):
        write_part(tmp_path, "training_curves", "a", bad)
    with pytest.raises(SchemaError, match="unknown table"):
        write_part(tmp_path, "nonsense", "a", curves())
    assert not list(tmp_path.rglob("*.parquet"))


def test_reads_ignore_temp_files_and_reject_foreign_parts(tmp_path: Path) -> None:
    write_part(tmp_path, "training_curves", "a", curves())
    (tmp_path / "training_curves" / ".tmp-half.parquet").write_bytes(b"PAR1 half written")
    assert len(read_table(tmp_path, "training_curves")) == 3
    pq.write_table(pa.table({"model_id": ["m"], "epoch": ["x"]}), tmp_path / "training_curves" / "old.parquet")
    with pytest.raises(SchemaError):
        read_table(tmp_path, "training_curves")


def test_missing_table_reads_empty_with_schema_columns(tmp_path: Path) -> None:
    table = read_table(tmp_path, "robust_accuracy")
    assert table.empty and list(table.columns) == TABLES["robust_accuracy"].names


def test_a_study_is_shipped() -> None:
    assert SHIPPED, "precomputed/ holds no study"


@pytest.mark.parametrize("study", SHIPPED, ids=lambda p: p.name)
@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_shipped_parquet_file_validates(study: Path, table: str) -> None:
    for part in sorted((study / table).glob("*.parquet")):
        read_table_part = pq.read_table(part)
        assert read_table_part.schema.remove_metadata().equals(TABLES[table]), part
    assert not read_table(study, table).empty
