"""The findings compared with the papers: computed from the shipped files, equal to docs/findings.md
and the README's verdict table, tied to the study's [findings.roles] rather than to model ids, and
each verdict turns when the numbers behind it do."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO

from engine.cli import main
from engine.core.fs import read_json, write_json
from engine.reporting import findings as f
from engine.reporting.findings import Finding, MissingResult, Study, findings, findings_markdown
from engine.results import read_table
from engine.results.io import write_part

SHIPPED = REPO / "precomputed" / "fashion_mnist"


def test_findings_document_is_computed_from_the_shipped_files() -> None:
    markdown = findings_markdown(SHIPPED)
    assert (REPO / "docs" / "findings.md").read_text(encoding="utf-8").endswith("\n\n" + markdown)
    assert markdown.startswith("| paper | what | our view | verdict |\n")


def test_findings_command_prints_the_section(capsys) -> None:
    assert main(["findings", str(SHIPPED)]) == 0
    assert capsys.readouterr().out == findings_markdown(SHIPPED)


@pytest.fixture(scope="module")
def shipped() -> Study:
    return Study.read(SHIPPED)


def test_every_finding_of_the_shipped_study_has_numbers_and_a_verdict(shipped: Study) -> None:
    found = findings(shipped)
    assert len(found) == len(f.FINDINGS) and {x.paper for x in found} == {f.GARAEV, f.PARK_SO}
    reproduced = [x for x in found if x.agrees is not None]
    assert len(reproduced) == len(found) - 2  # CINIC-10 and pre-generated ResNets are outside the shipped study
    assert all("nan" not in x.ours + x.table for x in reproduced)


def test_a_study_without_the_papers_models_gets_no_verdicts(smoke_study: Path) -> None:
    assert all(x.agrees is None and "not in this study" in x.ours for x in findings(Study.read(smoke_study)))


def _copy_shipped(target: Path, rename: dict[str, str], roles: dict[str, str] | None) -> Path:
    """The shipped study's tables that the findings read, written to ``target`` with every model id
    renamed by ``rename``, and its manifest with ``roles`` as [findings.roles] (None: no [findings])."""
    def renamed(ids: pd.Series) -> pd.Series:
        return ids.map(lambda model: rename.get(model, model), na_action="ignore")

    for name in ("robust_accuracy", "models", *f.ANALYSIS_TABLES):
        rows = read_table(SHIPPED, name)
        for column in {"model_id", "source_model_id"} & set(rows.columns):
            rows[column] = renamed(rows[column])
        if name == "training_curves":  # per-epoch test sets are named after the model they were crafted on
            rows["test_set"] = rows.test_set.str.replace(r"-from-(\w+)$", lambda m: f"-from-{rename.get(m[1], m[1])}",
                                                         regex=True)
        write_part(target, name, "copy", rows)
    manifest = read_json(SHIPPED / "manifest.json")
    manifest["config"].pop("findings")
    if roles is not None:
        manifest["config"]["findings"] = {"roles": roles}
    write_json(target / "manifest.json", manifest)
    return target


def test_a_study_whose_config_casts_no_roles_gets_verdicts_only_where_none_is_needed(tmp_path: Path) -> None:
    found = {x.item: x for x in findings(Study.read(_copy_shipped(tmp_path, {}, roles=None)))}
    assert found.pop(f.norm_ratios.item).agrees  # the one claim that compares every model, whatever its role
    for claim in (f.CINIC10, f.PREGENERATED_RESNETS):
        assert found.pop(claim.item).ours == f"not in this study: {claim.why}"
    assert len(found) == len(f.FINDINGS) - 3
    assert all(x.agrees is None and x.ours.startswith("not in this study (needs role ") for x in found.values())


def test_a_finding_loses_its_verdict_only_for_a_role_it_needs(shipped: Study) -> None:
    full = findings(shipped)
    roles = {role: model for role, model in shipped.roles.items() if role != "attacker"}
    partial = findings(dataclasses.replace(shipped, roles=roles))
    changed = [(x.item, y.ours) for x, y in zip(full, partial, strict=True) if x != y]
    assert changed == [(f.augmentation_mismatch.item, "not in this study (needs role attacker)"),
                       (f.epoch_window.item, "not in this study (needs role attacker)")]


def test_roles_pointing_at_other_ids_are_followed(tmp_path: Path, shipped: Study) -> None:
    rename = {model: f"model_{i:02d}" for i, model in enumerate(shipped.models.index)}
    roles = {role: rename[model] for role, model in shipped.roles.items()}
    found = findings(Study.read(_copy_shipped(tmp_path, rename, roles)))
    original = {new: old for old, new in rename.items()}

    def back(text: str) -> str:
        return re.sub(r"model_\d\d", lambda m: original[m[0]], text)

    shipped_ids = re.compile(r"\b(" + "|".join(rename) + r")\b")
    assert not any(shipped_ids.search(x.ours + x.table) for x in found)  # our words and tables name the study's ids
    assert [dataclasses.replace(x, ours=back(x.ours), table=back(x.table)) for x in found] == findings(shipped)


def test_pregenerated_models_are_found_by_their_attacks_and_augmentation(shipped: Study) -> None:
    assert shipped.pregenerated(("cw", "fgsm", "jsma"), augment=True) == "pregen_aug_fgsm_jsma_cw"
    assert shipped.pregenerated(("fgsm",), augment=False) == "pregen_fgsm"
    again = shipped.models.loc[["pregen_fgsm"]].rename(index={"pregen_fgsm": "pregen_fgsm_again"})
    twice = dataclasses.replace(shipped, models=pd.concat([shipped.models, again]))
    with pytest.raises(MissingResult, match="found 2"):
        twice.pregenerated(("fgsm",), augment=False)
    assert "found 2" in f.single_attack_training(twice).ours
    none = dataclasses.replace(shipped, models=shipped.models.drop(index="pregen_aug_fgsm_jsma_cw"))
    assert f.white_box(none) == Finding(
        f.PARK_SO, f.white_box.item, f.white_box.view, f.white_box.claim,
        "not in this study (needs one model pre-generated-trained on fgsm+jsma+cw with augmentation, found 0)", None)


def test_generation_times_name_the_device_the_manifest_records(shipped: Study) -> None:
    assert shipped.device == read_json(SHIPPED / "manifest.json")["device"]
    timed = f.generation_time(dataclasses.replace(shipped, device="cuda:0"))
    assert "on the study's device (cuda:0)" in timed.ours and "| ours s (cuda:0) |" in timed.table


def _set(study: Study, model: str, attack: str, norm: str, eps: float, accuracy: float,
         source: str | None = None) -> Study:
    """A copy of ``study`` with one accuracy changed (a Study's tables are read, never changed in place)."""
    rows = study.accuracy.copy()
    mask = (rows.model_id == model) & (rows.attack == attack) & (rows.norm == norm) & np.isclose(rows.eps, eps)
    mask &= rows.source_model_id == source if source else rows.source_model_id.isna()
    assert mask.sum() == 1
    rows.loc[mask, "accuracy"] = accuracy
    return dataclasses.replace(study, accuracy=rows)


def test_verdicts_turn_with_the_numbers() -> None:
    study = Study.read(SHIPPED)
    trained = {"Linf": "pgd_linf", "L2": "pgd_l2", "L1": "pgd_l1"}
    for norm, model in trained.items():  # each model best in its own norm, then the L2 model best under Linf
        for attacked, eps in f.PGD.items():
            study = _set(study, model, "pgd", attacked, eps, 0.8 if attacked == norm else 0.2)
    assert f.unseen_norms(study).agrees
    study = _set(study, "pgd_l2", "pgd", "Linf", 0.1, 0.9)
    assert f.unseen_norms(study).agrees is False

    baseline = {norm: study.pgd("standard", norm) for norm in f.PGD}
    for norm, eps in f.PGD.items():  # robust_l2 robust only in L2, then in every norm
        study = _set(study, "robust_l2", "pgd", norm, eps, baseline[norm] + (0.3 if norm == "L2" else 0.0))
    assert f.robust_dataset(study).agrees
    for norm, eps in f.PGD.items():
        study = _set(study, "robust_l2", "pgd", norm, eps, baseline[norm] + 0.3)
    assert f.robust_dataset(study).agrees is False

    for matched in (True, False):  # defenders better on the sets from their own augmentation, then worse
        pairs = {("pregen_fgsm_jsma_cw", "attacker_a_prime"), ("pregen_aug_fgsm_jsma_cw", "attacker_a")}
        for model in ("pregen_fgsm_jsma_cw", "pregen_aug_fgsm_jsma_cw"):
            for source in ("attacker_a", "attacker_a_prime"):
                for test_set in f.PARK_SO_SETS:
                    study = _set(study, model, *test_set, 0.7 if ((model, source) in pairs) == matched else 0.4, source)
        assert f.augmentation_mismatch(study).agrees is matched
