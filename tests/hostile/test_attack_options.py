"""Every attack's own settings are checked when the config loads, so a bad option stops the study
before a single model trains, with a message naming the sweep and the option."""

from __future__ import annotations

import copy
import math

import pytest
from helpers import SMOKE

from engine.config.schema import ConfigError
from engine.config.toml import read_toml
from engine.study.validate import study_from_dict

INF = math.inf
BAD_SWEEPS = [  # (sweep, words the message must contain)
    ({"name": "cw", "norm": "L2", "eps": [INF], "options": {"search_steps": -1}}, "search_steps"),
    ({"name": "cw", "norm": "L2", "eps": [INF], "options": {"search_steps": INF}}, "search_steps"),
    ({"name": "cw", "norm": "L2", "eps": [INF], "options": {"confidence": math.nan}}, "confidence"),
    ({"name": "cw", "norm": "L2", "eps": [INF], "random_start": True}, "random_start"),
    ({"name": "deepfool", "norm": "L2", "eps": [INF], "options": {"candidates": 1.5}}, "candidates"),
    ({"name": "ddn", "norm": "L2", "eps": [INF], "options": {"gamma": 1.5}}, "gamma"),
    ({"name": "ddn", "norm": "L2", "eps": [INF], "options": {"init_norm": -1.0}}, "init_norm"),
    ({"name": "ddn", "norm": "L2", "eps": [INF], "restarts": 3}, "restarts"),
    ({"name": "noise", "norm": "L2", "eps": [1.0], "options": {"draws": 0}}, "draws"),
    ({"name": "jsma", "norm": "L0", "eps": [INF], "options": {"gamma": 2.0}}, "gamma"),
    ({"name": "autoattack", "norm": "Linf", "eps": [0.1], "restarts": 2}, "restarts"),
    ({"name": "apgd", "norm": "Linf", "eps": [0.1], "alpha": 0.1}, "alpha"),
]


@pytest.mark.parametrize(("sweep", "words"), BAD_SWEEPS, ids=lambda v: str(v)[:40] if isinstance(v, dict) else v)
def test_a_bad_attack_setting_is_refused_when_the_config_loads(sweep: dict, words: str) -> None:
    document = copy.deepcopy(read_toml(SMOKE))
    document["attacks"] = [*document["attacks"], sweep]
    index = len(document["attacks"]) - 1
    with pytest.raises(ConfigError, match=rf"^attacks\[{index}\]") as error:
        study_from_dict(document)
    assert words in str(error.value)


def test_a_bad_pregenerated_attack_is_refused_too() -> None:
    document = copy.deepcopy(read_toml(SMOKE))
    attacks = document["pregenerated"]["attacks"]
    index = next(i for i, attack in enumerate(attacks) if attack["name"] == "cw")
    attacks[index]["options"]["search_steps"] = 0
    with pytest.raises(ConfigError, match=rf"^pregenerated\.attacks\[{index}\].*search_steps"):
        study_from_dict(document)
