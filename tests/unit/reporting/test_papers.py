"""Every table and figure of both papers has a counterpart: transcribed faithfully, computed from the shipped files,
equal to docs/papers.md and the README's verdict lines, each check holding on the paper's own numbers, and each
verdict turning when the numbers behind it do."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from helpers import REPO, readme_block

from engine.cli import main
from engine.reporting import garaev_counterparts as garaev
from engine.reporting import papers
from engine.reporting.findings import Study
from engine.reporting.paper_report import COUNTERPARTS, counterparts, papers_markdown
from engine.reporting.side_by_side import AGREES, DISAGREES, NOT_HERE, NOT_IN_STUDY, PARTLY, Check, verdict

SHIPPED = REPO / "precomputed" / "fashion_mnist"
TEXTS = Path("/work/shared/papers")  # the full texts, where this machine has them


@pytest.fixture(scope="module")
def shipped() -> Study:
    return Study.read(SHIPPED)


@pytest.fixture(scope="module")
def found(shipped: Study) -> list:
    return counterparts(shipped)


def test_every_numbered_table_and_figure_of_both_papers_is_covered() -> None:
    numbers = {(source.paper, source.number) for source, _ in COUNTERPARTS}
    garaev_items = {f"Table {n}" for n in [*range(1, 9), "A1", "A2", "A3"]} | {f"Figure {n}" for n in range(1, 9)}
    park_items = {f"Table {n}" for n in range(1, 6)} | {f"Figure {n}" for n in range(1, 5)}
    assert numbers == {(papers.GARAEV, n) for n in garaev_items} | {(papers.PARK_SO, n) for n in park_items}
    assert len(numbers) == len(COUNTERPARTS)


@pytest.mark.skipif(not TEXTS.is_dir(), reason="the papers' full texts are not on this machine")
@pytest.mark.parametrize("name, file", [(papers.GARAEV, "garaev2024_not_so_robust_after_all.md"),
                                        (papers.PARK_SO, "parkso2020_effectiveness_of_adversarial_training.md")])
def test_the_texts_number_no_other_table_or_figure(name: str, file: str) -> None:
    text = (TEXTS / file).read_text(encoding="utf-8")
    printed = set(re.findall(r"(?:^|\*\*|\s)((?:Table|Figure) A?\d+)\.", text, re.M))
    assert printed == {source.number for source, _ in COUNTERPARTS if source.paper == name}


def test_transcriptions_keep_the_papers_numbers() -> None:
    assert papers.GARAEV_T1.row("PGD", "Robust acc.") == 0.81  # the first PGD row: L1 0.5
    assert papers.GARAEV_T8.row("Adversarially trained ResNet18 (Linf-norm)", "Mean L2 Distance") == 0.1018
    assert papers.PARK_T2.row("Clean", "Maximum FGSM") == 50.23
    assert papers.PARK_T5.row("FGSM + JSMA + C&W", "FGSM A'") == 86.66
    assert papers.PARK_T2.text(99.4) == "99.40" and papers.GARAEV_T1.text(0.91) == "0.91"
    assert papers.PARK_SO_SECONDS == {("fgsm", "Linf"): 48, ("jsma", "L0"): 2226, ("cw", "L2"): 8142}
    for source, _ in COUNTERPARTS:
        if isinstance(source, papers.PaperTable):
            assert all(len(row) == len(source.columns) for row in source.rows), source.number


def test_papers_document_and_readme_verdicts_are_computed_from_the_shipped_files() -> None:
    markdown = papers_markdown(SHIPPED)  # with the default 100 redraws, as docs/papers.md
    assert (REPO / "docs" / "papers.md").read_text(encoding="utf-8").endswith("\n\n" + markdown)
    assert readme_block("verdicts") == markdown.split("\n\n", 1)[0] + "\n"


def test_papers_command_prints_the_document(capsys) -> None:
    assert main(["papers", str(SHIPPED), "--draws", "2"]) == 0
    assert capsys.readouterr().out == papers_markdown(SHIPPED, draws=2)


@pytest.mark.parametrize("draws", ["-1", "two", "1.5"])
def test_papers_command_refuses_a_bad_draw_count(draws: str, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["papers", str(SHIPPED), "--draws", draws])
    assert stopped.value.code == 2 and "--draws" in capsys.readouterr().err


def test_every_item_of_the_shipped_study_is_reproduced_or_says_why_not(found: list) -> None:
    for item in found:
        assert item.verdict in (AGREES, PARTLY, DISAGREES, NOT_HERE), (item.source.number, item.ours)
        if item.verdict == NOT_HERE:
            assert item.ours and not item.checks
            continue
        assert item.checks and item.claim and item.evidence and item.setting and item.views
        assert "nan" not in item.ours and not item.table.empty
        assert item.verdict == verdict(item.checks)


def test_each_check_holds_on_the_papers_own_numbers(found: list) -> None:
    """A check that fails on the paper's data would test a claim the paper does not make."""
    for item in found:
        assert all(check.paper is not False for check in item.checks), (item.source.number, item.checks)


def test_tables_keep_the_papers_rows(found: list) -> None:
    for item in found:
        source = item.source
        if isinstance(source, papers.PaperTable) and item.verdict != NOT_HERE:
            labels = [str(row[0]) for row in source.rows]
            assert [str(cell) for cell in item.table.iloc[:, 0]] == labels, source.number


def test_verdict_rule() -> None:
    yes, no = Check("a", True, True), Check("b", True, False)
    assert (verdict([yes, yes]), verdict([yes, no]), verdict([no, no])) == (AGREES, PARTLY, DISAGREES)


def test_table8_turns_when_linf_training_brings_the_resnet_closer(shipped: Study) -> None:
    """The paper's surprise: Linf training decreased the ResNet18's distance to the boundary."""
    boundary = shipped.tables["boundary"].copy()
    linf = boundary.model_id == shipped.model("resnet_pgd_linf")
    before = garaev.COUNTERPARTS[7][1](shipped)
    boundary.loc[linf, "distance_l2"] = 1e-3
    after = garaev.COUNTERPARTS[7][1](dataclasses.replace(shipped, tables={**shipped.tables, "boundary": boundary}))
    assert (before.verdict, after.verdict) == (DISAGREES, AGREES)


def test_a_study_without_the_papers_models_keeps_the_papers_tables(smoke_study: Path) -> None:
    for item in counterparts(Study.read(smoke_study)):
        assert item.verdict in (NOT_IN_STUDY, NOT_HERE)
        assert isinstance(item.source, papers.PaperFigure) or not item.table.empty
