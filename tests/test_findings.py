"""The findings compared with the papers: computed from the shipped files, equal to docs/findings.md
and the README's verdict table, and each verdict turns when the numbers behind it do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from helpers import REPO, readme_block

from engine.cli import main
from engine.reporting import findings as f
from engine.reporting.findings import Study, findings, findings_markdown

SHIPPED = REPO / "precomputed" / "fashion_mnist"


def test_findings_document_and_readme_verdicts_are_computed_from_the_shipped_files() -> None:
    markdown = findings_markdown(SHIPPED)
    assert (REPO / "docs" / "findings.md").read_text(encoding="utf-8").endswith("\n\n" + markdown)
    overview = markdown.split("\n\n", 1)[0]
    assert overview.startswith("| paper | what | our view | verdict |\n")
    assert readme_block("verdicts") == overview + "\n"


def test_findings_command_prints_the_section(capsys) -> None:
    assert main(["findings", str(SHIPPED)]) == 0
    assert capsys.readouterr().out == findings_markdown(SHIPPED)


def test_every_finding_of_the_shipped_study_has_numbers_and_a_verdict() -> None:
    found = findings(Study.read(SHIPPED))
    assert len(found) == len(f.FINDINGS) and {x.paper for x in found} == {f.GARAEV, f.PARK_SO}
    reproduced = [x for x in found if x.agrees is not None]
    assert len(reproduced) == len(found) - 2  # CINIC-10 and pre-generated ResNets are outside the shipped study
    assert all("nan" not in x.ours + x.table for x in reproduced)


def test_a_study_without_the_papers_models_gets_no_verdicts(smoke_study: Path) -> None:
    assert all(x.agrees is None and "not in this study" in x.ours for x in findings(Study.read(smoke_study)))


def _set(study: Study, model: str, attack: str, norm: str, eps: float, accuracy: float,
         source: str | None = None) -> None:
    rows = study.accuracy
    mask = (rows.model_id == model) & (rows.attack == attack) & (rows.norm == norm) & np.isclose(rows.eps, eps)
    mask &= rows.source_model_id == source if source else rows.source_model_id.isna()
    assert mask.sum() == 1
    rows.loc[mask, "accuracy"] = accuracy


def test_verdicts_turn_with_the_numbers() -> None:
    study = Study.read(SHIPPED)
    trained = {"Linf": "pgd_linf", "L2": "pgd_l2", "L1": "pgd_l1"}
    for norm, model in trained.items():  # each model best in its own norm, then the L2 model best under Linf
        for attacked, eps in f.PGD.items():
            _set(study, model, "pgd", attacked, eps, 0.8 if attacked == norm else 0.2)
    assert f.unseen_norms(study).agrees
    _set(study, "pgd_l2", "pgd", "Linf", 0.1, 0.9)
    assert f.unseen_norms(study).agrees is False

    baseline = {norm: study.pgd("standard", norm) for norm in f.PGD}
    for norm, eps in f.PGD.items():  # robust_l2 robust only in L2, then in every norm
        _set(study, "robust_l2", "pgd", norm, eps, baseline[norm] + (0.3 if norm == "L2" else 0.0))
    assert f.robust_dataset(study).agrees
    for norm, eps in f.PGD.items():
        _set(study, "robust_l2", "pgd", norm, eps, baseline[norm] + 0.3)
    assert f.robust_dataset(study).agrees is False

    for matched in (True, False):  # defenders better on the sets from their own augmentation, then worse
        pairs = {("pregen_fgsm_jsma_cw", "attacker_a_prime"), ("pregen_aug_fgsm_jsma_cw", "attacker_a")}
        for model in ("pregen_fgsm_jsma_cw", "pregen_aug_fgsm_jsma_cw"):
            for source in ("attacker_a", "attacker_a_prime"):
                for test_set in f.PARK_SO_SETS:
                    _set(study, model, *test_set, 0.7 if ((model, source) in pairs) == matched else 0.4, source)
        assert f.augmentation_mismatch(study).agrees is matched
