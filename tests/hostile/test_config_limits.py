"""Training options, sizes and file names are checked when the config loads, naming the field; cut
sample counts and empty transfer sweeps are said aloud; validation is linear in the number of models."""

from __future__ import annotations

import copy
import logging
import math
from typing import Any

import pytest
from helpers import SMOKE

from engine.config.schema import ConfigError
from engine.config.toml import read_toml
from engine.study.jobs import expand
from engine.study.validate import study_from_dict

INF, NAN = math.inf, math.nan
PGD = {"mode": "pgd", "norm": "Linf", "eps": 0.1, "steps": 3}
FAST = {"mode": "fast", "norm": "Linf", "eps": 0.1}
BAD_TRAINING = [  # (settings of models[0].training, field the message names)
    ({"lr": INF}, "lr"), ({"lr": NAN}, "lr"), ({"lr": 0.0}, "lr"),
    ({"optimizer": "sgd", "momentum": NAN}, "momentum"), ({"optimizer": "sgd", "momentum": -0.5}, "momentum"),
    ({"optimizer": "sgd", "momentum": 1.0}, "momentum"),
    ({"weight_decay": -1e-4}, "weight_decay"), ({"weight_decay": INF}, "weight_decay"),
    ({"epochs": 10**12}, "epochs"), ({"batch_size": 10**9}, "batch_size"), ({"seed": -1}, "seed"),
    ({**PGD, "steps": 2**63 - 1}, "steps"), ({**PGD, "alpha": INF}, "alpha"),
    ({**FAST, "guard_samples": 2000}, "guard_samples"),  # the smoke study trains on 2,000 images
    ({**FAST, "guard_samples": 1500, "samples": 1500}, "guard_samples"),
]


def smoke() -> dict[str, Any]:
    return copy.deepcopy(read_toml(SMOKE))


@pytest.mark.parametrize(("settings", "field"), BAD_TRAINING, ids=lambda v: str(v)[:50])
def test_a_bad_training_setting_is_refused_when_the_config_loads(settings: dict, field: str) -> None:
    document = smoke()
    document["models"][0]["training"] |= settings
    with pytest.raises(ConfigError, match=rf"^models\[0\]\.training\.{field}:"):
        study_from_dict(document)


def test_a_model_cannot_be_its_own_source() -> None:
    document = smoke()
    document["models"][2]["training"]["source"] = document["models"][2]["id"]
    with pytest.raises(ConfigError, match=r"^models\[2\]\.training\.source: a model cannot be its own source"):
        study_from_dict(document)


@pytest.mark.parametrize("model_id", ["m" * 256, "m" * 230, "é" * 115], ids=["256-bytes", "230-bytes", "230-utf8"])
def test_a_model_id_too_long_for_its_file_names_is_refused(model_id: str) -> None:
    document = smoke()
    document["models"][3]["id"] = model_id  # the pre-generated model: no other entry names it; its longest
    # file name is <id>__deepfool-L2-50steps__analysis.parquet, 39 bytes more than the id
    with pytest.raises(ConfigError, match=r"^models\[3\]\.id: the file name .* bytes, more than the 255"):
        study_from_dict(document)


def test_a_long_id_that_fits_is_accepted_and_every_name_fits() -> None:
    document = smoke()
    document["models"][3]["id"] = "m" * 180
    study = study_from_dict(document)
    assert max(len(f"{job.id}.parquet".encode()) for job in expand(study)) <= 255


BAD_SWEEPS = [  # (sweep, field the message names)
    ({"name": "pgd", "norm": "Linf", "eps": [0.1], "steps": 2**63 - 1}, "steps"),
    ({"name": "pgd", "norm": "Linf", "eps": [0.1], "restarts": 10**6}, "restarts"),
    ({"name": "pgd", "norm": "Linf", "eps": [0.1], "alpha": INF}, "alpha"),
    ({"name": "fgsm", "norm": "Linf", "eps": [i / 2_000_000 for i in range(2_000_000)]}, "eps"),
    ({"name": "cw", "norm": "L2", "eps": [INF], "options": {"search_steps": 1e9}}, "search_steps"),
    ({"name": "cw", "norm": "L2", "eps": [INF], "options": {"confidence": INF}}, "confidence"),
    ({"name": "noise", "norm": "L2", "eps": [1.0], "options": {"draws": 1e9}}, "draws"),
]


@pytest.mark.parametrize(("sweep", "words"), BAD_SWEEPS, ids=lambda v: str(v)[:40])
def test_absurd_attack_sizes_are_refused_naming_the_field(sweep: dict, words: str) -> None:
    document = smoke()
    document["attacks"].append(sweep)
    with pytest.raises(ConfigError, match=rf"^attacks\[{len(document['attacks']) - 1}\]") as error:
        study_from_dict(document)
    assert words in str(error.value)


def test_sample_counts_above_the_dataset_are_cut_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    document = smoke()
    document["evaluation"]["samples"] = 20000
    document["attacks"][1]["samples"] = 50000
    document["models"][0]["training"]["samples"] = 70000
    with caplog.at_level(logging.WARNING):
        study_from_dict(document)
    assert "evaluation.samples = 20000 is more than the 10000 images of fashion_mnist's test split" in caplog.text
    assert "attacks[1].samples = 50000" in caplog.text
    assert "models[0].training.samples = 70000 is more than the 60000" in caplog.text


def test_counts_within_the_dataset_give_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        study_from_dict(smoke())
    assert caplog.text == ""


def test_a_transfer_sweep_that_attacks_only_its_source_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    document = smoke()
    transfer = next(i for i, sweep in enumerate(document["attacks"]) if sweep.get("source"))
    document["attacks"][transfer]["models"] = [document["attacks"][transfer]["source"]]
    with caplog.at_level(logging.WARNING):
        study_from_dict(document)
    assert f"attacks[{transfer}]" in caplog.text and "attacks no model" in caplog.text


def test_twenty_thousand_models_validate_and_expand() -> None:
    """Every check is a dictionary or set lookup: a quadratic one (an ``in`` on the model list, a scan for
    each id) would take minutes here; 100,000 models took 18 s on a 2-core machine, 7 MB of TOML."""
    document = smoke()
    base = document["models"][0]
    document["models"] = [{**base, "id": f"m{i}"} for i in range(20_000)]
    document["attacks"] = [{"name": "fgsm", "norm": "Linf", "eps": [0.1], "models": [f"m{i}" for i in range(20_000)]}]
    document["analysis"]["sweeps"] = []
    document["epoch_evaluation"]["attacks"] = []
    document["findings"] = {}
    study = study_from_dict(document)
    jobs = expand(study)  # per model: train, attack, clean analysis, analysis of the sweep
    assert study.model("m19999").id == "m19999" and len(jobs) == 4 * 20_000
