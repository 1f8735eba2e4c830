"""The one Markdown table renderer of the generated documents (study summary, findings, bench).

``table(header, rows)`` writes exactly what ``summary._markdown`` and ``findings._markdown`` wrote:
``| a | b |``, then the rule ``|---|---|``, then one line per row. ``bench._markdown_table`` wrote its
rule as a row of ``---`` cells (``| --- | --- |``); ``padded_rule=True`` keeps that form, so
``benchmarks/bench.md`` stays byte-identical without rerunning the benchmark.
"""

from __future__ import annotations

from collections.abc import Iterable


def _line(cells: Iterable[object]) -> str:
    return "| " + " | ".join(map(str, cells)) + " |"


def table(header: Iterable[object], rows: Iterable[Iterable[object]], *, padded_rule: bool = False) -> str:
    """A GitHub-flavoured Markdown table, lines joined by ``\\n`` with no trailing newline; every
    header and cell goes through ``str`` as it is (format numbers before). Cells are not escaped:
    a ``|`` inside one splits it."""
    header = list(header)
    rule = _line("---" for _ in header) if padded_rule else "|" + "---|" * len(header)
    return "\n".join([_line(header), rule, *(_line(row) for row in rows)])
