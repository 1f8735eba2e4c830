"""The README's figures are the shipped files' figures."""

from pathlib import Path

from engine.summary import study_summary

REPO = Path(__file__).resolve().parents[1]


def block(text: str, name: str) -> str:
    start, end = f"<!-- {name} -->\n", f"<!-- /{name} -->"
    return text.split(start, 1)[1].split(end, 1)[0]


def test_shipped_study_section_is_the_summary_of_precomputed() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert block(readme, "shipped-study") == study_summary(REPO / "precomputed" / "fashion_mnist")


def test_bench_section_is_the_committed_bench_output() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert block(readme, "bench") == (REPO / "benchmarks" / "bench.md").read_text(encoding="utf-8")


def test_training_modes_section_is_the_summary_of_precomputed() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert block(readme, "training-modes") == study_summary(REPO / "precomputed" / "training_modes")
