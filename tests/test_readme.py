"""The README's figures are the shipped files' figures."""

from helpers import REPO, readme_block

from engine.summary import study_summary


def test_shipped_study_section_is_the_summary_of_precomputed() -> None:
    assert readme_block("shipped-study") == study_summary(REPO / "precomputed" / "fashion_mnist")


def test_bench_section_is_the_committed_bench_output() -> None:
    assert readme_block("bench") == (REPO / "benchmarks" / "bench.md").read_text(encoding="utf-8")
