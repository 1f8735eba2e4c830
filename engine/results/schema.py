"""The results schema, defined once: one pyarrow schema per table (tidy long format).

Writers cast to these schemas and readers validate against them, so a table on disk either
matches the schema or is reported as incompatible.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 2  # 2: robust_accuracy.images_per_second and the analysis tables

TABLES: dict[str, pa.Schema] = {
    "models": pa.schema([
        ("model_id", pa.string()),
        ("dataset", pa.string()),
        ("arch", pa.string()),
        ("training_mode", pa.string()),  # standard | pgd | fast | pregenerated | robust_dataset
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
        ("images_per_second", pa.float64()),  # n / seconds (Park & So compare attacks by generation time)
    ]),
    "training_curves": pa.schema([
        ("model_id", pa.string()),
        ("epoch", pa.int64()),  # 1-based
        ("test_set", pa.string()),  # clean (test set) | train (running, on the training inputs)
        ("accuracy", pa.float64()),
        ("loss", pa.float64()),
    ]),
    # Analyses (engine.analysis) on the first analysis.samples test images; "sweep" is "clean" for
    # clean inputs and an analysed attack sweep's key otherwise; eps > 0 for attacks.
    "per_sample": pa.schema([
        ("model_id", pa.string()),
        ("attack", pa.string()),  # clean | the attack's registry name
        ("sweep", pa.string()),
        ("norm", pa.string()),  # null for clean inputs
        ("eps", pa.float64()),  # 0 for clean inputs
        ("sample", pa.int64()),  # index in the test set
        ("label", pa.int64()),
        ("pred", pa.int64()),
        ("loss", pa.float64()),  # cross-entropy of the prediction against the label
        ("l2", pa.float64()),  # ||x_adv - x||_2 (0 for clean inputs)
        ("linf", pa.float64()),  # ||x_adv - x||_inf
    ]),
    "a_distance": pa.schema([
        ("model_id", pa.string()),
        ("attack", pa.string()),
        ("sweep", pa.string()),
        ("norm", pa.string()),
        ("eps", pa.float64()),
        ("n", pa.int64()),  # losses on each side
        ("a_distance", pa.float64()),  # proxy A-distance, clean vs adversarial losses, in [0, 2]
        ("domain_error", pa.float64()),  # held-out error of the domain classifier behind it
    ]),
    "norm_ratios": pa.schema([
        ("model_id", pa.string()),
        ("attack", pa.string()),
        ("sweep", pa.string()),
        ("norm", pa.string()),
        ("eps", pa.float64()),
        ("n", pa.int64()),
        ("successful", pa.int64()),  # wrong adversarial predictions that differ from the clean one
        ("misclassified", pa.float64()),  # share of adversarial inputs classified wrongly
        ("c1", pa.float64()),  # min ||d||_2 / ||d||_inf over successful perturbations; null if none
        ("c2", pa.float64()),  # max of the same ratio
        ("sqrt_d", pa.float64()),  # upper bound of the ratio: sqrt(C * H * W)
    ]),
    "svcca": pa.schema([
        ("model_id", pa.string()),
        ("attack", pa.string()),
        ("sweep", pa.string()),
        ("norm", pa.string()),
        ("eps", pa.float64()),
        ("layer", pa.string()),  # the architecture registry's layer name
        ("index", pa.int64()),  # rank of the coefficient, 0 = largest
        ("coefficient", pa.float64()),  # canonical correlation, clean vs adversarial representation
        ("mean", pa.float64()),  # mean of the layer's coefficients: its SVCCA similarity
    ]),
    "pca": pa.schema([
        ("model_id", pa.string()),
        ("input", pa.string()),  # clean | the attack's registry name
        ("sweep", pa.string()),
        ("norm", pa.string()),
        ("eps", pa.float64()),
        ("sample", pa.int64()),
        ("label", pa.int64()),
        ("pred", pa.int64()),
        ("pc1", pa.float64()),  # on the two principal axes of the model's clean penultimate features
        ("pc2", pa.float64()),
    ]),
    "boundary": pa.schema([
        ("model_id", pa.string()),
        ("sample", pa.int64()),
        ("label", pa.int64()),
        ("distance_l2", pa.float64()),  # DeepFool's ||x_adv - x||_2; null where it failed
        ("steps", pa.int64()),  # DeepFool iterations (0: already misclassified)
        ("success", pa.bool_()),
    ]),
    # Robust datasets (Ilyas et al. 2019): how closely each re-drawn training image matches the
    # penultimate features of the image it stands for, under the source model (as quantised to uint8).
    "robust_datasets": pa.schema([
        ("model_id", pa.string()),  # the model trained on the robust dataset
        ("source_model_id", pa.string()),  # the model whose features were matched
        ("sample", pa.int64()),  # index in the training set
        ("label", pa.int64()),
        ("feature_distance", pa.float64()),  # ||g(x_r) - g(x)||_2
        ("relative_distance", pa.float64()),  # the same over ||g(x)||_2: 0 = matched; about 1 = an unrelated image
        ("start_relative_distance", pa.float64()),  # the same for the starting point of the search
        ("source_pred", pa.int64()),  # the source model's class for x_r
    ]),
    "sanity_checks": pa.schema([
        ("check", pa.string()),  # engine.reporting.sanity check name
        ("model_id", pa.string()),
        ("passed", pa.bool_()),
        ("detail", pa.string()),  # what was compared, with the numbers
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
