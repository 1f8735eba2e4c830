"""Which sweep a cell computed on demand takes its settings from, and which cells the study's own jobs cover."""

from __future__ import annotations

import pytest

from engine.config.schema import AttackSweep, ConfigError, ModelConfig
from engine.study.cells import Cell, cell_job, covered, sweep_for, with_added
from engine.study.validate import study_from_dict

STUDY = {
    "name": "cells", "data": {"dataset": "fashion_mnist"},
    "models": [{"id": "small", "arch": "lenet5"}, {"id": "big", "arch": "resnet_small"},
               {"id": "other", "arch": "lenet5"}],
    "attacks": [  # one name, two sample counts: the LeNets on 500 images, the ResNet on 200
        {"name": "pgd", "norm": "Linf", "eps": [0.05, 0.1], "steps": 20, "models": ["small"], "samples": 500},
        {"name": "pgd", "norm": "Linf", "eps": [0.05, 0.1], "steps": 20, "models": ["big"], "samples": 200},
    ],
}


def test_a_cell_takes_the_settings_of_the_sweep_that_attacks_its_model() -> None:
    study = study_from_dict(STUDY)
    assert sweep_for(study, "pgd-Linf-20steps", "small").samples == 500
    assert sweep_for(study, "pgd-Linf-20steps", "big").samples == 200
    assert sweep_for(study, "pgd-Linf-20steps", "other").samples == 500  # skipped by both: the first of the name
    job = cell_job(study, Cell("big", "pgd-Linf-20steps", 0.2))
    assert job.sweep.eps == (0.2,) and job.sweep.samples == 200 and job.id == "big__pgd-Linf-20steps__eps0.2"


def test_what_the_study_computes_itself_is_covered_and_refused() -> None:
    study = study_from_dict(STUDY)
    assert covered(study, Cell("small", "pgd-Linf-20steps", 0.1))
    assert not covered(study, Cell("other", "pgd-Linf-20steps", 0.1))
    with pytest.raises(ConfigError, match="the study's own run computes"):
        cell_job(study, Cell("big", "pgd-Linf-20steps", 0.05))


def test_the_studys_sweeps_do_not_attack_an_added_model() -> None:
    study = study_from_dict({**STUDY, "attacks": [{"name": "fgsm", "norm": "Linf", "eps": [0.1]}]})
    grown = with_added(study, [ModelConfig("mine", "lenet5", checkpoint="mine.safetensors")])
    [sweep] = grown.attacks
    assert isinstance(sweep, AttackSweep) and not sweep.attacks("mine") and sweep.attacks("small")
    assert not covered(grown, Cell("mine", "fgsm-Linf-1steps", 0.1))
    assert cell_job(grown, Cell("mine", "fgsm-Linf-1steps", 0.1)).model.id == "mine"
