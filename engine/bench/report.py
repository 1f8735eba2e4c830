"""The bench's report: the 60,000-example extrapolation next to Park & So's times, the Markdown
rendering and the files ``bench.json`` and ``bench.md``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.bench.measure import Measurement
from engine.bench.memory import MemoryRow
from engine.bench.rows import BenchRow, PeerResult
from engine.core.fs import atomic_write
from engine.reporting.markdown import table
from engine.reporting.papers import PARK_SO_EXAMPLES, PARK_SO_SECONDS
from engine.training.costs import EpochCost

ROW_HEADERS = ("attack", "norm", "eps", "steps", "ours img/s", "passes", "limit img/s", "efficiency", "ours success",
               "fastest peer", "peer img/s", "ours / fastest", "peer success")
PEER_HEADERS = ("attack", "norm", "eps", "steps", "implementation", "images", "img/s", "ours / this", "efficiency",
                "success", "median norm of the fooled")


@dataclass(frozen=True)
class SixtyThousandRow:
    attack: str
    norm: str
    ours_seconds: float
    peer: str | None  # the fastest peer of the row; None: no peer has the attack
    peer_seconds: float | None
    park_so_seconds: float  # LeNet5 on an RTX 2080Ti


def _fastest(row: BenchRow) -> PeerResult | None:
    return next((p for p in row.peers if p.name == row.fastest_peer), None)


def sixty_thousand(rows: list[BenchRow]) -> list[SixtyThousandRow]:
    """Time to generate 60,000 examples at the measured rates, next to Park & So's GPU figures."""
    found: dict[tuple[str, str], BenchRow] = {}
    for each in rows:
        found.setdefault((each.attack, each.norm), each)
    result = []
    for (name, norm), paper in PARK_SO_SECONDS.items():
        if (row := found.get((name, norm))) is not None:
            fastest = _fastest(row)
            theirs = None if fastest is None or fastest.measurement is None else fastest.measurement
            result.append(SixtyThousandRow(name, norm, PARK_SO_EXAMPLES / row.ours.images_per_second, row.fastest_peer,
                                           None if theirs is None else PARK_SO_EXAMPLES / theirs.images_per_second,
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


def _setting_cells(row: BenchRow) -> tuple[str, ...]:
    return row.attack, row.norm, "∞" if row.eps is None else format(row.eps, "g"), str(row.steps)


def _row_cells(row: BenchRow) -> tuple[str, ...]:
    fastest = _fastest(row)
    theirs = None if fastest is None else fastest.measurement
    their_rate, their_success = (None, None) if theirs is None else (theirs.images_per_second, theirs.success)
    return (*_setting_cells(row), _number(row.ours.images_per_second, ",.1f"), _number(row.passes, "g"),
            _number(row.limit_images_per_second, ",.1f"), _number(row.efficiency, ".2f"),
            _number(row.ours.success, ".1%"), row.fastest_peer or "—", _number(their_rate, ",.1f"),
            _number(row.ours_over_fastest, ".2f"), _number(their_success, ".1%"))


def _rows_section(rows: list[BenchRow]) -> str:
    return table(ROW_HEADERS, [_row_cells(r) for r in rows], padded_rule=True)


def _implementation_cells(row: BenchRow, name: str, run: Measurement | None, ratio: float | None,
                          run_efficiency: float | None) -> tuple[str, ...]:
    if run is None:
        return (*_setting_cells(row), name, *("—",) * (len(PEER_HEADERS) - 5))
    return (*_setting_cells(row), name, str(run.images), _number(run.images_per_second, ",.1f"),
            _number(ratio, ".2f"), _number(run_efficiency, ".2f"), _number(run.success, ".1%"),
            _number(run.median_norm, ".4g"))


def _peers_section(rows: list[BenchRow]) -> str:
    """Ours, then every peer, per row that has a peer."""
    lines = []
    for row in (r for r in rows if r.peers):
        lines.append(_implementation_cells(row, "ours", row.ours, 1.0, row.efficiency))
        lines += [_implementation_cells(row, p.name, p.measurement, p.ours_over_peer, p.efficiency) for p in row.peers]
    return table(PEER_HEADERS, lines, padded_rule=True)


def _memory_section(memory: list[MemoryRow]) -> str:
    lines = [(m.attack, m.batch, f"{m.peak_mib:,.1f}", f"{m.seconds:,.1f}") for m in memory]
    return table(("attack", "batch (3×32×32)", "peak RSS MiB", "seconds"), lines, padded_rule=True)


def _sixty_section(rows: list[SixtyThousandRow]) -> str:
    lines = [(r.attack, r.norm, f"{r.ours_seconds:,.0f}", r.peer or "—", _number(r.peer_seconds, ",.0f"),
              f"{r.park_so_seconds:,.0f}") for r in rows]
    return table(("attack", "norm", "ours s", "fastest peer", "peer s", "Park & So 2080Ti s"), lines,
                 padded_rule=True)


def _training_section(costs: list[EpochCost]) -> str:
    lines = [(c.mode, f"{c.seconds:.2f}", f"{c.ratio:.2f}", f"{c.bound:g}") for c in costs]
    return table(("training mode", "epoch s", "ratio to standard", "target ratio <="), lines, padded_rule=True)


def _notes(report: BenchReport) -> list[str]:
    setup = report.setup
    peers = ", ".join(f"{peer} {version or '(not installed)'}" for peer, version in setup["peers"].items())
    lines = [f"{setup['arch']} on {setup['dataset']}, {setup['images']} test images as one batch "
             f"(clean accuracy {setup['clean_accuracy']:.1%}), {setup['device']}, {setup['torch_threads']} "
             f"torch threads; peers: {peers}. Every repeat times ours, then each peer, on the same model and "
             f"images; the median of {setup['repeats']} repeats after a warm-up counts. passes x one input-gradient "
             "forward+backward (timed in every round, its median) is the limit; efficiency = limit time / the "
             "run's time.",
             "success: share of the images misclassified after the attack, judged by the engine (budget checked, "
             "then prediction != label); median norm: of x_adv - x in the row's norm, over the fooled images. "
             "C&W's passes are the Adam iterations as run (early abort shrinks the batch).",
             *(f"{r.attack} {r.norm} steps={r.steps}, ours: {r.ours.note}" for r in report.rows if r.ours.note),
             *(f"{r.attack} {r.norm} steps={r.steps}, {p.name}: {p.note}" for r in report.rows for p in r.peers
               if p.note)]
    return lines + report.notes


def markdown(report: BenchReport) -> str:
    """The report as Markdown: the attack table, every peer, notes, peak memory, the 60,000-example times,
    epoch costs."""
    parts = [_rows_section(report.rows)]
    if any(r.peers for r in report.rows):
        parts += ["", "Every implementation, per setting:", "", _peers_section(report.rows)]
    parts += ["", *(f"- {line}" for line in _notes(report))]
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
