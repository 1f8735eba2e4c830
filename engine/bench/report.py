"""The bench's report: the 60,000-example extrapolation next to Park & So's times, the Markdown
rendering and the files ``bench.json`` and ``bench.md``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.bench.memory import MemoryRow
from engine.bench.rows import BenchRow
from engine.core.fs import atomic_write
from engine.reporting.markdown import table
from engine.reporting.papers import PARK_SO_EXAMPLES, PARK_SO_SECONDS
from engine.training.costs import EpochCost

ROW_HEADERS = ("attack", "norm", "eps", "ours img/s", "torchattacks img/s", "speed-up", "passes",
               "limit img/s", "efficiency", "torchattacks efficiency", "ours success", "torchattacks success")


@dataclass(frozen=True)
class SixtyThousandRow:
    attack: str
    norm: str
    ours_seconds: float
    torchattacks_seconds: float | None
    park_so_seconds: float  # LeNet5 on an RTX 2080Ti


def sixty_thousand(rows: list[BenchRow]) -> list[SixtyThousandRow]:
    """Time to generate 60,000 examples at the measured rates, next to Park & So's GPU figures."""
    found = {(r.attack, r.norm): r for r in rows}
    result = []
    for (name, norm), paper in PARK_SO_SECONDS.items():
        if (row := found.get((name, norm))) is not None:
            theirs = None if row.torchattacks is None else PARK_SO_EXAMPLES / row.torchattacks.images_per_second
            result.append(SixtyThousandRow(name, norm, PARK_SO_EXAMPLES / row.ours.images_per_second, theirs,
                                           float(paper)))
    return result


@dataclass
class BenchReport:
    setup: dict[str, Any]
    rows: list[BenchRow]
    memory: list[MemoryRow]
    sixty_thousand: list[SixtyThousandRow]
    notes: list[str]
    training: list[EpochCost] = field(default_factory=list)


def _number(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def _row_cells(row: BenchRow) -> tuple[str, ...]:
    theirs = row.torchattacks
    their_rate, their_success = (None, None) if theirs is None else (theirs.images_per_second, theirs.success)
    return (row.attack, row.norm, "∞" if row.eps is None else format(row.eps, "g"),
            _number(row.ours.images_per_second, ",.1f"), _number(their_rate, ",.1f"),
            _number(row.speedup, ".2f"), _number(row.passes, "g"), _number(row.limit_images_per_second, ",.1f"),
            _number(row.efficiency, ".2f"), _number(row.torchattacks_efficiency, ".2f"),
            _number(row.ours.success, ".1%"), _number(their_success, ".1%"))


def _rows_section(rows: list[BenchRow]) -> str:
    return table(ROW_HEADERS, [_row_cells(r) for r in rows], padded_rule=True)


def _memory_section(memory: list[MemoryRow]) -> str:
    lines = [(m.attack, m.batch, f"{m.peak_mib:,.1f}", f"{m.seconds:,.1f}") for m in memory]
    return table(("attack", "batch (3×32×32)", "peak RSS MiB", "seconds"), lines, padded_rule=True)


def _sixty_section(rows: list[SixtyThousandRow]) -> str:
    lines = [(r.attack, r.norm, f"{r.ours_seconds:,.0f}", _number(r.torchattacks_seconds, ",.0f"),
              f"{r.park_so_seconds:,.0f}") for r in rows]
    return table(("attack", "norm", "ours s", "torchattacks s", "Park & So 2080Ti s"), lines, padded_rule=True)


def _training_section(costs: list[EpochCost]) -> str:
    lines = [(c.mode, f"{c.seconds:.2f}", f"{c.ratio:.2f}", f"{c.bound:g}") for c in costs]
    return table(("training mode", "epoch s", "ratio to standard", "target ratio <="), lines, padded_rule=True)


def _notes(report: BenchReport) -> list[str]:
    setup = report.setup
    lines = [f"{setup['arch']} on {setup['dataset']}, {setup['images']} test images as one batch "
             f"(clean accuracy {setup['clean_accuracy']:.1%}), {setup['device']}, {setup['torch_threads']} "
             f"torch threads; median of {setup['repeats']} runs after a warm-up. passes x one input-gradient "
             "forward+backward (measured before each setting) is the limit; efficiency = limit time / our time.",
             "success: share of the images misclassified after the attack, judged by the engine "
             "(budget checked, then prediction != label). C&W: ours searches c (search_steps x steps "
             "iterations), torchattacks' runs once at c = 1; passes are the Adam iterations as run (early "
             "abort shrinks the batch), so compare C&W per iteration, by efficiency."]
    lines += [f"{r.attack} {r.norm}: {r.note}" for r in report.rows if r.note]
    lines += [f"{r.attack} {r.norm}: {m.note}" for r in report.rows for m in (r.ours, r.torchattacks) if m and m.note]
    return lines + report.notes


def markdown(report: BenchReport) -> str:
    """The report as Markdown: the attack table, notes, peak memory, the 60,000-example times, epoch costs."""
    parts = [_rows_section(report.rows), "", *(f"- {line}" for line in _notes(report))]
    if report.memory:
        parts += ["", "Peak memory (untrained resnet_small, CIFAR-10 shape):", "", _memory_section(report.memory)]
    if report.sixty_thousand:
        parts += ["", f"Time to generate 60,000 examples, extrapolated from this run's rates on "
                      f"{report.setup['device']} (Park & So's figures: LeNet5 on an RTX 2080Ti):", "",
                  _sixty_section(report.sixty_thousand)]
    if report.training:
        parts += ["", f"One training epoch on {report.setup['training_images']:,} images per mode, side by side "
                      f"(median of {report.setup['repeats']}):", "", _training_section(report.training)]
    return "\n".join(parts) + "\n"


def write_report(report: BenchReport, out: str | Path) -> None:
    """``out/bench.json`` (strict JSON: no NaN or infinity) and ``out/bench.md``, written atomically."""
    text = json.dumps(asdict(report), indent=2, allow_nan=False)
    atomic_write(Path(out) / "bench.json", lambda temp: Path(temp).write_text(text, encoding="utf-8"))
    atomic_write(Path(out) / "bench.md", lambda temp: Path(temp).write_text(markdown(report), encoding="utf-8"))
