"""Every numbered table and figure of both papers with its counterpart in a study, as one Markdown document:
``python -m engine papers STUDY_DIR``, and ``docs/papers.md`` for the shipped study (``make docs``, kept equal by
a test). Each item is reproduced (the paper's layout with ours beside it, the checks of its claim on the paper's
numbers and on ours, the verdict, the evidence and the app views) or says why it is not reproducible here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from engine.reporting import garaev_counterparts, parkso_counterparts
from engine.reporting.findings import Study
from engine.reporting.markdown import table
from engine.reporting.noise import DRAWS, holding_shares, rests_on_noise
from engine.reporting.papers import GARAEV, PARK_SO
from engine.reporting.side_by_side import DISAGREES, Check, Counterpart

COUNTERPARTS = garaev_counterparts.COUNTERPARTS + parkso_counterparts.COUNTERPARTS  # in the papers' order


def counterparts(study: Study) -> list[Counterpart]:
    """Each table and figure of both papers, in order, with its counterpart in ``study``."""
    return [build(study) for _, build in COUNTERPARTS]


def verdict_text(verdict: str) -> str:
    """The verdict as the documents print it: a disagreement in bold, so that it stays visible."""
    return f"**{verdict}**" if verdict == DISAGREES else verdict


def _yes(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "stated, no numbers"}[value]


def _ours(check: Check) -> str:
    """Our outcome, with the share of redraws in which it holds when that share leaves it to noise."""
    if check.holds_in is None or not rests_on_noise(check.holds_in):
        return _yes(check.ours)
    return f"{_yes(check.ours)} (holds in {check.holds_in:.0%} of redraws)"


def _checks(checks: tuple[Check, ...]) -> str:
    return table(["check", "paper", "ours"], [[c.name, _yes(c.paper), _ours(c)] for c in checks])


def _noise_line(c: Counterpart) -> str:
    """A sentence naming the checks that rest on sampling noise ("" when none does or none was measured)."""
    shaky = [check for check in c.checks if check.holds_in is not None and rests_on_noise(check.holds_in)]
    if not shaky:
        return ""
    return (f"- Noise: {len(shaky)} of {len(c.checks)} checks rest on differences inside the 95 % intervals: "
            + "; ".join(f"\"{check.name}\" holds in {check.holds_in:.0%} of {DRAWS} redraws of our accuracies"
                        for check in shaky) + ".")


def frame_markdown(frame: pd.DataFrame) -> str:
    """A DataFrame of text cells as a Markdown table (a ``|`` inside a cell is escaped)."""
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|")

    return table([cell(c) for c in frame.columns], ([cell(v) for v in row] for row in frame.itertuples(index=False)))


def overview(found: list[Counterpart]) -> str:
    """One line per table and figure: paper, item, verdict (the README's verdict block)."""
    return table(["paper", "item", "verdict"], [[c.source.paper, c.source.number, verdict_text(c.verdict)]
                                               for c in found])


def _section(c: Counterpart) -> str:
    lines = [f"### {c.source.number}: {verdict_text(c.verdict)}", "", f"*{c.source.caption}*", ""]
    if c.claim:
        lines.append(f"- Paper: {c.claim}")
    lines.append(f"- Ours: {c.ours}")
    if c.setting:
        lines.append(f"- Setting: {c.setting}")
    if c.evidence:
        lines.append(f"- Evidence: {c.evidence}")
    if c.views:
        lines.append("- App: " + "; ".join(f"{v.label} (`/{v.url}`)" for v in c.views))
    if noise := _noise_line(c):
        lines.append(noise)
    parts = ["\n".join(lines)]
    if not c.table.empty:
        parts.append(frame_markdown(c.table))
    if c.checks:
        parts.append(_checks(c.checks))
    return "\n\n".join(parts)


def render(found: list[Counterpart]) -> str:
    """Markdown: the overview, then per paper each item's section."""
    parts = [overview(found)]
    for paper in (GARAEV, PARK_SO):
        parts.append(f"## {paper}")
        parts += [_section(c) for c in found if c.source.paper == paper]
    return "\n\n".join(parts) + "\n"


def with_noise(study: Study, found: list[Counterpart], draws: int = DRAWS) -> list[Counterpart]:
    """``found`` (``counterparts(study)``) with each check's share of ``draws`` redraws of the study's accuracies
    in which it holds on ours (``engine.reporting.noise``)."""
    shares = holding_shares(study, [build for _, build in COUNTERPARTS], draws)
    return [replace(c, checks=tuple(replace(check, holds_in=share) for check, share in zip(c.checks, held,
                                                                                          strict=True)))
            for c, held in zip(found, shares, strict=True)]


def papers_markdown(study_dir: str | Path, draws: int = DRAWS) -> str:
    """The document (``docs/papers.md`` without its intro) for the study in ``study_dir``; each check is also
    run on ``draws`` redraws of the study's accuracies (none when 0) to show which rest on sampling noise."""
    study = Study.read(study_dir)
    found = counterparts(study)
    return render(with_noise(study, found, draws) if draws else found)
