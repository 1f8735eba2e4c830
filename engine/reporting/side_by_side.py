"""A paper's table or figure next to its counterpart in a study: the shared record, the verdict rule and
the cell formats of ``garaev_counterparts`` and ``parkso_counterparts``.

Every comparative claim is tested by a list of named checks that each counterpart module runs on the
paper's own transcribed numbers and on ours alike, so a reader sees that the test holds on the paper's data
before it is applied to ours. The verdict is "agrees" when every check holds on ours, "disagrees" when none
does, "partly" otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pandas as pd

from engine.evaluation.intervals import interval_text
from engine.reporting.findings import MissingResult, Study
from engine.reporting.papers import Cell, PaperFigure, Source

AGREES, PARTLY, DISAGREES = "agrees", "partly", "disagrees"
NOT_HERE = "not reproducible here"  # by the study's design: data, scale or a figure of images
NOT_IN_STUDY = "not in this study"  # the study at hand lacks a model or a result the counterpart needs

FASHION = "Fashion-MNIST (28 x 28 x 1, d = 784), small nets trained on a CPU"


@dataclass(frozen=True)
class View:
    """An app view that shows the evidence: the page's script stem (``ui.pages``) and the URL query that
    selects the models, sweeps and eps of the counterpart."""

    page: str  # e.g. "svcca"
    label: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def url(self) -> str:
        """The view's path and query relative to the app's root, e.g. ``svcca?svcca_model=standard``."""
        return self.page + (f"?{urlencode(self.params, safe=',')}" if self.params else "")


@dataclass(frozen=True)
class Check:
    """One comparison the paper makes, evaluated on the paper's numbers and on ours."""

    name: str
    paper: bool | None  # None: the paper's numbers do not allow it
    ours: bool
    holds_in: float | None = None  # share of redraws of our accuracies in which ours holds (engine.reporting.noise)


@dataclass(frozen=True)
class Counterpart:
    """A paper's table or figure and what the study makes of it. ``table`` is the paper's layout (same rows and
    columns, cells as text) with ours beside or inside each cell; empty when there is nothing to set beside."""

    source: Source
    verdict: str  # AGREES, PARTLY, DISAGREES, NOT_HERE or NOT_IN_STUDY
    claim: str  # the paper's claim, as tested
    ours: str  # the deciding numbers, in words, or why not reproduced
    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    checks: tuple[Check, ...] = ()
    evidence: str = ""  # which result table and query
    setting: str = ""  # how our setting differs from the paper's
    views: tuple[View, ...] = ()


def verdict(checks: Sequence[Check]) -> str:
    """AGREES when every check holds on ours, DISAGREES when none does, PARTLY otherwise."""
    held = sum(check.ours for check in checks)
    return AGREES if held == len(checks) else DISAGREES if held == 0 else PARTLY


def checked(source: Source, claim: str, ours: str, table: pd.DataFrame, checks: Sequence[Check], evidence: str,
            setting: str, views: Sequence[View]) -> Counterpart:
    """The counterpart whose verdict is ``verdict(checks)``."""
    return Counterpart(source, verdict(checks), claim, ours, table, tuple(checks), evidence, setting, tuple(views))


def not_here(source: Source, why: str, config: str) -> Counterpart:
    """A counterpart the study cannot reproduce: ``why``, and the paper config that runs it where the data is."""
    runs = f" `{config}` runs it on a machine with the data and a GPU." if config else ""
    return Counterpart(source, NOT_HERE, "", f"{why}.{runs}", paper_frame(source))


def paper_frame(source: Source) -> pd.DataFrame:
    """The paper's own table as text cells, or an empty frame for a figure."""
    if isinstance(source, PaperFigure):
        return pd.DataFrame()
    return source.frame()


Builder = Callable[[Study], Counterpart]


def guarded(source: Source, build: Builder) -> Builder:
    """``build``, answering NOT_IN_STUDY (with the paper's table alone) when the study lacks what it needs."""
    def run(study: Study) -> Counterpart:
        try:
            return build(study)
        except MissingResult as error:
            return Counterpart(source, NOT_IN_STUDY, "", f"not in this study (needs {error})", paper_frame(source))
    return run


def share(value: float) -> str:
    """A share in [0, 1] as a percent with one decimal, e.g. "48.3%"."""
    return f"{value:.1%}"


def accuracy(study: Study, model: str, attack: str, norm: str, eps: float, source: str | None = None) -> str:
    """Our accuracy with its 95 % Wilson interval; ``MissingResult`` when the study has no such row."""
    return interval_text(*study.measured(model, attack, norm, eps, source))


def clean(study: Study, model: str) -> float:
    """The model's clean test accuracy (share), from the models table."""
    return float(study.models.loc[model, "clean_accuracy"])


def beside(paper: Cell, ours: str) -> str:
    """A cell holding the paper's number and ours: "99.42 / 98.10"."""
    return f"{paper} / {ours}"
