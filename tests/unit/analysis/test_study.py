"""The analyses of one real model as result rows: schema, consistency with the evaluation, trends."""

import math

import numpy as np
import pyarrow as pa
import pytest
import torch
from torch import nn

from engine.analysis.pipeline import Subject, analyse_clean, analyse_sweep
from engine.attacks.registry import sweep_key
from engine.config.schema import AnalysisConfig, AttackSweep
from engine.data.split import Split
from engine.evaluation.sweep import evaluate_attack
from engine.results.schema import conform

pytestmark = pytest.mark.real_data
SETTINGS = AnalysisConfig(samples=200, batch_size=100, svcca_points=3000, pca_samples=200, boundary_steps=30)
PGD = AttackSweep("pgd", "Linf", (0.0, 0.05, 0.1), steps=5, random_start=True)


@pytest.fixture(scope="module")
def subject(lenet: nn.Module, fmnist_test: Split) -> Subject:
    return Subject("lenet", "lenet5", lenet, fmnist_test.head(200), SETTINGS, torch.device("cpu"))


@pytest.fixture(scope="module")
def pgd_tables(subject: Subject) -> dict:
    return analyse_sweep(subject, PGD, seed=0)


def _conforms(tables: dict) -> None:
    for table, frame in tables.items():
        conform(table, pa.Table.from_pandas(frame, preserve_index=False))


def test_clean_tables_match_the_schema_and_the_model(subject: Subject) -> None:
    tables = analyse_clean(subject)
    _conforms(tables)
    per_sample, pca, boundary = tables["per_sample"], tables["pca"], tables["boundary"]
    assert len(per_sample) == len(pca) == len(boundary) == 200
    assert (per_sample["sample"] == np.arange(200)).all() and (per_sample.l2 == 0).all()
    accuracy = (per_sample.pred == per_sample.label).mean()
    assert 0.6 < accuracy < 1 and per_sample.loss[per_sample.pred != per_sample.label].min() > math.log(2) - 1e-6
    assert np.allclose([pca.pc1.mean(), pca.pc2.mean()], 0, atol=1e-6) and pca.pc1.var() >= pca.pc2.var()
    assert boundary.success.mean() >= 0.99


def test_sweep_tables_cover_each_positive_eps(pgd_tables: dict) -> None:
    _conforms(pgd_tables)
    per_sample = pgd_tables["per_sample"]
    assert sorted(per_sample.eps.unique()) == [0.05, 0.1] and len(per_sample) == 400
    assert (per_sample.linf <= per_sample.eps + 1e-6).all() and (per_sample.sweep == sweep_key(PGD)).all()
    assert len(pgd_tables["norm_ratios"]) == len(pgd_tables["a_distance"]) == 2
    assert set(pgd_tables["svcca"].layer) == {"conv1", "conv2", "fc1", "penultimate", "logits"}


def test_analysed_attack_is_the_evaluated_one(subject: Subject, pgd_tables: dict) -> None:
    per_sample = pgd_tables["per_sample"]
    for eps in (0.05, 0.1):
        rows = per_sample[per_sample.eps == eps]
        outcome = evaluate_attack(subject.model, subject.split, PGD.at(eps), SETTINGS.batch_size, subject.device, 0)
        assert (rows.pred == rows.label).mean() == outcome.accuracy


def test_norm_ratios_count_what_per_sample_shows(subject: Subject, pgd_tables: dict) -> None:
    clean_pred = analyse_clean(subject)["per_sample"].pred.to_numpy()
    per_sample, ratios = pgd_tables["per_sample"], pgd_tables["norm_ratios"].set_index("eps")
    for eps, rows in per_sample.groupby("eps"):
        fooled = (rows.pred != rows.label).to_numpy() & (rows.pred.to_numpy() != clean_pred)
        assert ratios.loc[eps, "successful"] == fooled.sum()
        ratio = (rows.l2 / rows.linf).to_numpy()[fooled]
        assert ratios.loc[eps, "c1"] == pytest.approx(ratio.min())
        assert ratios.loc[eps, "c2"] == pytest.approx(ratio.max())
        assert 1 <= ratios.loc[eps, "c1"] <= ratios.loc[eps, "c2"] <= 28


def test_a_larger_eps_moves_losses_and_representations_further(pgd_tables: dict) -> None:
    shift = pgd_tables["a_distance"].set_index("eps").a_distance
    assert shift[0.1] > shift[0.05] and shift[0.1] > 0.5
    means = pgd_tables["svcca"].groupby(["eps", "layer"])["mean"].first().unstack()
    assert ((0 < means) & (means <= 1)).all().all()
    assert (means.loc[0.1] < means.loc[0.05]).all()


def test_unbounded_attacks_are_cut_back_per_eps(subject: Subject) -> None:
    tables = analyse_sweep(subject, AttackSweep("deepfool", "L2", (0.5, math.inf)), seed=0)
    per_sample = tables["per_sample"]
    within = per_sample[per_sample.eps == 0.5]
    assert (within.l2 <= 0.5 + 1e-5).all()
    unbounded = per_sample[per_sample.eps == math.inf].set_index("sample")
    kept = within.set_index("sample").l2 > 0
    assert np.allclose(within.set_index("sample").l2[kept], unbounded.l2[kept[kept].index])
    assert (unbounded.pred != unbounded.label).mean() >= 0.99
