"""The generated documents are what the engine writes now (`make docs`), and the README is a small
landing page whose links, commands, config excerpt and Python quick start are real."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import inspect
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from helpers import REPO, readme_block

from engine.cli import build_parser, main
from engine.config.schema import StudyConfig
from engine.reporting.findings import Study
from engine.reporting.paper_report import COUNTERPARTS, counterparts
from engine.reporting.summary import study_summary
from engine.study.validate import study_from_dict

README = REPO / "README.md"
SHIPPED = REPO / "precomputed" / "fashion_mnist"
MAX_README_BYTES = 15_000


def _load_update_docs():
    spec = importlib.util.spec_from_file_location("update_docs", REPO / "scripts" / "update_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


update_docs = _load_update_docs()
DOCUMENTS = update_docs.documents()


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)


@pytest.mark.parametrize("path", list(DOCUMENTS), ids=lambda path: str(path.relative_to(REPO)))
def test_generated_document_is_what_make_docs_writes_now(path: Path) -> None:
    assert path.exists(), f"{path.relative_to(REPO)} is missing: run make docs"
    assert _read(path) == DOCUMENTS[path](), f"{path.relative_to(REPO)} is out of date: run make docs"


def test_shipped_summary_is_the_summary_command_output(capsys) -> None:
    assert main(["summary", str(SHIPPED)]) == 0
    printed = capsys.readouterr().out
    assert printed == study_summary(SHIPPED)
    assert _read(SHIPPED / "SUMMARY.md").endswith(printed)


def test_readme_verdicts_are_one_row_per_table_and_figure_of_the_papers() -> None:
    lines = readme_block(update_docs.VERDICTS).splitlines()
    assert lines[:2] == ["| paper | item | verdict |", "|---|---|---|"]
    found = counterparts(Study.read(SHIPPED))
    assert len(lines) == 2 + len(found) == 2 + len(COUNTERPARTS)
    for line, counterpart in zip(lines[2:], found, strict=True):
        assert line.startswith(f"| {counterpart.source.paper} | {counterpart.source.number} |")


def test_readme_is_a_landing_page() -> None:
    size = len(README.read_bytes())
    assert size < MAX_README_BYTES, f"README.md is {size} bytes; move reference material to docs/"
    image = REPO / "docs" / "images" / "overview.png"
    assert image.stat().st_size < 300_000
    assert "![" in _read(README) and "docs/images/overview.png" in _read(README)


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, spaces to hyphens, punctuation but - and _ dropped."""
    return "".join(c for c in heading.strip().lower().replace(" ", "-") if c.isalnum() or c in "-_")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", _read(path), flags=re.M | re.S)
    return {_slug(heading) for heading in re.findall(r"^#{1,6} (.+)$", text, re.M)}


LINKED_DOCS = [README, REPO / "CHANGELOG.md", SHIPPED / "SUMMARY.md", *sorted((REPO / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", LINKED_DOCS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_relative_link_resolves(doc: Path) -> None:
    text = re.sub(r"^```.*?^```", "", _read(doc), flags=re.M | re.S)
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'<img[^>]+src="([^"]+)"', text)
    assert targets or doc != README
    for target in targets:
        if re.match(r"[a-z]+:", target):
            continue  # absolute URLs are not checked here
        file, _, anchor = target.partition("#")
        path = (doc.parent / file).resolve() if file else doc
        assert path.exists(), f"{doc.relative_to(REPO)} links to {target}, which does not exist"
        if anchor and path.suffix == ".md":
            assert anchor in _anchors(path), f"{doc.relative_to(REPO)} links to {target}: no such heading"


def test_slug_follows_github() -> None:
    assert _slug("Results layout") == "results-layout"
    assert _slug("`[[epoch_evaluation.attacks]]`") == "epoch_evaluationattacks"
    assert _slug("Judging attacks, and checks") == "judging-attacks-and-checks"


def test_readme_make_commands_are_makefile_targets() -> None:
    targets = set(re.findall(r"^([\w-]+):", _read(REPO / "Makefile"), re.M))
    used = set(re.findall(r"\bmake ([a-z][\w-]*)", _read(README)))
    assert {"app", "test", "docs"} <= used
    assert used <= targets, f"README mentions make targets the Makefile lacks: {sorted(used - targets)}"


def test_readme_engine_commands_exist(capsys) -> None:
    used = set(re.findall(r"python -m engine ([a-z][a-z-]*)", _read(README)))
    assert {"run", "summary", "check", "findings", "papers"} <= used
    for command in sorted(used):
        with pytest.raises(SystemExit) as exit_:
            build_parser().parse_args([command, "--help"])
        assert exit_.value.code == 0, f"README uses python -m engine {command}, which the CLI lacks"


def test_readme_config_excerpt_is_from_the_smoke_config_and_valid() -> None:
    (excerpt,) = _blocks(_read(README), "toml")
    smoke = _read(REPO / "configs" / "smoke.toml").splitlines()
    for line in excerpt.splitlines():
        assert not line or line in smoke, f"not a line of configs/smoke.toml: {line!r}"
    assert isinstance(study_from_dict(tomllib.loads(excerpt)), StudyConfig)


def test_readme_python_imports_exist() -> None:
    (code,) = _blocks(_read(README), "python")
    imports = [node for node in ast.walk(ast.parse(code)) if isinstance(node, ast.ImportFrom)]
    assert imports
    for node in imports:
        module = importlib.import_module(node.module)
        for alias in node.names:
            assert hasattr(module, alias.name), f"README imports {alias.name} from {node.module}, which lacks it"


def test_readme_python_quick_start_runs(smoke_study: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    """The snippet on a copy of the smoke study: every job is found done, the table is read and printed."""
    (code,) = _blocks(_read(README), "python")
    shutil.copytree(smoke_study, tmp_path / "runs" / "smoke")
    shutil.copytree(REPO / "configs", tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "lenet5_standard" in printed and "0.1" in printed


def test_config_reference_mentions_every_field_of_every_config_dataclass() -> None:
    module = inspect.getmodule(StudyConfig)
    classes = [cls for _, cls in inspect.getmembers(module, dataclasses.is_dataclass)
               if cls.__module__ == module.__name__]
    documented = {cls for _, cls, _ in update_docs.config_sections()}
    assert set(classes) <= documented, f"not reachable from StudyConfig: {set(classes) - documented}"
    reference = _read(REPO / "docs" / "config.md")
    for cls in classes:
        section = reference.split(f"\n`{cls.__name__}`", 1)[1].split("\n## ", 1)[0]
        for field in dataclasses.fields(cls):
            assert f"| `{field.name}` |" in section, f"docs/config.md lacks {cls.__name__}.{field.name}"
