"""Rewrite the README's generated sections from the shipped files (`make readme`, after `make study`
or `python -m engine bench`); tests/test_readme.py and tests/test_findings.py fail until it is run."""

from __future__ import annotations

from pathlib import Path

from engine.findings import findings_markdown
from engine.summary import study_summary

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "precomputed" / "fashion_mnist"
SECTIONS = {
    "shipped-study": lambda: study_summary(SHIPPED),
    "findings": lambda: findings_markdown(SHIPPED),
    "bench": lambda: (REPO / "benchmarks" / "bench.md").read_text(encoding="utf-8"),
}


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with the lines between ``<!-- name -->`` and ``<!-- /name -->`` replaced by ``body``."""
    start, end = f"<!-- {name} -->\n", f"<!-- /{name} -->"
    head, rest = text.split(start, 1)
    return head + start + body + end + rest.split(end, 1)[1]


def main() -> None:
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    for name, build in SECTIONS.items():
        text = replace_section(text, name, build())
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
