"""The results schema, defined once: one pyarrow schema per table (tidy long format).

Writers cast to these schemas and readers validate against them, so a table on disk either
matches the schema or is reported as incompatible.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1

TABLES: dict[str, pa.Schema] = {
    "models": pa.schema([
        ("model_id", pa.string()),
        ("dataset", pa.string()),
        ("arch", pa.string()),
        ("training_mode", pa.string()),  # standard | pgd
        ("train_norm", pa.string()),  # null for standard training
        ("train_eps", pa.float64()),  # null for non-adversarial training
        ("train_steps", pa.int64()),
        ("train_alpha", pa.float64()),
        ("train_attacks", pa.string()),  # pre-generated attacks, e.g. fgsm+jsma+cw; null if none
        ("augment", pa.bool_()),
        ("epochs", pa.int64()),
        ("batch_size", pa.int64()),
        ("optimizer", pa.string()),
        ("lr", pa.float64()),
        ("train_samples", pa.int64()),
        ("parameters", pa.int64()),
        ("clean_accuracy", pa.float64()),  # on the whole test set
        ("train_seconds", pa.float64()),
        ("checkpoint", pa.string()),  # path relative to the study directory
        ("seed", pa.int64()),
    ]),
    "robust_accuracy": pa.schema([
        ("model_id", pa.string()),
        ("attack", pa.string()),
        ("sweep", pa.string()),  # the attack's full setting, e.g. pgd-Linf-20steps-rs (random start)
        ("norm", pa.string()),
        ("eps", pa.float64()),
        ("steps", pa.int64()),
        ("alpha", pa.float64()),
        ("restarts", pa.int64()),
        ("n", pa.int64()),  # images attacked
        ("accuracy", pa.float64()),  # share still classified correctly, judged by the engine
        ("max_perturbation", pa.float64()),  # largest measured ||x_adv - x||_norm
        ("source_model_id", pa.string()),  # null = white-box
        ("seconds", pa.float64()),  # wall time of the attack itself
    ]),
    "training_curves": pa.schema([
        ("model_id", pa.string()),
        ("epoch", pa.int64()),  # 1-based
        ("test_set", pa.string()),  # clean (test set) | train (running, on the training inputs)
        ("accuracy", pa.float64()),
        ("loss", pa.float64()),
    ]),
}


class SchemaError(ValueError):
    """A table does not match its schema (missing column, wrong type, unknown table)."""


def schema_for(table: str) -> pa.Schema:
    if table not in TABLES:
        raise SchemaError(f"unknown table {table!r}; known: {sorted(TABLES)}")
    return TABLES[table]


def conform(table: str, data: pa.Table) -> pa.Table:
    """Select and cast ``data``'s columns to ``table``'s schema; raise ``SchemaError`` if impossible."""
    schema = schema_for(table)
    missing = [name for name in schema.names if name not in data.column_names]
    if missing:
        raise SchemaError(f"table {table!r} lacks columns {missing}")
    try:
        return data.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
        raise SchemaError(f"table {table!r} does not match its schema: {error}") from None
