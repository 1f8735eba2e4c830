"""Command line: ``python -m engine COMMAND ...`` (also installed as ``atlas``)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from engine.bench import BenchOptions, markdown, run_bench, write_report
from engine.config.schema import ConfigError, ModelConfig
from engine.core.device import DeviceError
from engine.core.fs import DiskFullError
from engine.data.loaders import ROOT_ENV, CorruptDataError, DataNotFoundError
from engine.reporting.findings import findings_markdown
from engine.reporting.noise import DRAWS
from engine.reporting.paper_report import papers_markdown
from engine.reporting.sanity import report, study_checks
from engine.reporting.summary import study_summary
from engine.results import SchemaError
from engine.results.io import NotAStudyError
from engine.results.lock import StudyLockedError, StudyPathError
from engine.study.cells import Cell
from engine.study.extension import MAX_CELLS, extend_curve
from engine.study.integrity import DamagedManifestError, audit, audit_report, is_done
from engine.study.jobs import expand
from engine.study.on_demand import add_model, compute_cell
from engine.study.ray_backend import BackendError
from engine.study.runner import run_study
from engine.study.validate import load_study
from engine.training.loop import TrainingDivergedError

log = logging.getLogger("engine")


def _cmd_run(args: argparse.Namespace) -> int:
    study = load_study(args.config)
    if args.dry_run:
        for job in expand(study):
            state = "done" if is_done(job, study, args.out) else "todo"
            print(f"{state}  {job.kind:6s}  {job.id}")
        return 0
    summary = run_study(study, args.out, args.data_root, args.device, not args.quiet, args.config, args.backend,
                        args.address)
    print(f"{study.name}: ran {len(summary.ran)} jobs, skipped {len(summary.skipped)} finished ones -> {args.out}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    attacks = tuple(name for name in args.attacks.split(",") if name)
    options = BenchOptions(args.out, args.images, args.repeats, attacks, args.model, args.data_root, args.device,
                           args.reference_images, args.memory_batch, args.training_images)
    report = run_bench(options)
    write_report(report, options.out)
    print(markdown(report))
    return 0


def _cmd_compute(args: argparse.Namespace) -> int:
    cell = Cell(args.model, args.sweep, args.eps, args.analysis)
    ran = compute_cell(Path(args.study), cell, args.by, args.data_root, args.device)
    what = "the analyses of " if args.analysis else ""
    print(f"{args.study}: {what}{args.sweep} at eps {args.eps:g} on {args.model} "
          f"{'computed' if ran else 'were there already' if args.analysis else 'was there already'}")
    return 0


def _cmd_extend(args: argparse.Namespace) -> int:
    computed = extend_curve(Path(args.study), args.model, args.sweep, args.level, args.max_cells, args.by,
                            args.data_root, args.device)
    shown = ", ".join(f"{eps:g}" for eps in computed) or "none (the curve was complete)"
    print(f"{args.study}: {args.sweep} on {args.model}, eps computed: {shown}")
    return 0


def _cmd_add_model(args: argparse.Namespace) -> int:
    model = ModelConfig(args.id, args.arch, checkpoint=args.checkpoint)
    add_model(Path(args.study), model, args.by, args.data_root, args.device)
    print(f"{args.study}: {args.id} added; compute its cells in the app "
          "(Robust accuracy, Compute) or with python -m engine compute")
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    print(study_summary(args.study), end="")
    return 0


def _cmd_findings(args: argparse.Namespace) -> int:
    print(findings_markdown(args.study), end="")
    return 0


def _draws(text: str) -> int:
    """``--draws``: a whole number >= 0, or argparse's usage error before any work."""
    try:
        draws = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if draws < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {draws}")
    return draws


def _cmd_papers(args: argparse.Namespace) -> int:
    print(papers_markdown(args.study, args.draws), end="")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    damage = audit(Path(args.study))
    print(audit_report(damage, Path(args.study)), end="")
    checks = study_checks(args.study, args.tolerance)
    print(report(checks), end="")
    failed = int((~checks.passed).sum())
    print(f"{len(checks) - failed} of {len(checks)} comparisons passed" + (f", {failed} failed" if failed else ""))
    return 1 if damage or (failed and args.strict) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engine",
        description="Robustness Atlas engine: train classifiers, attack them, write parquet results.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every epoch and attack result")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    machine = argparse.ArgumentParser(add_help=False)  # the options of commands that load data and models
    machine.add_argument("--data-root", default=None,
                         help=f"where datasets live (default: ${ROOT_ENV} or ~/.cache/robustness-atlas/data)")
    machine.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1 ...")

    run = commands.add_parser(
        "run", parents=[machine], help="run a study from a TOML config (resumable: finished jobs are skipped)",
        description="Expand the study into jobs (train each model, then run each attack sweep on it), "
                    "run the unfinished ones and write tidy parquet tables plus manifest.json into OUT.")
    run.add_argument("config", help="study config, e.g. configs/smoke.toml")
    run.add_argument("--out", required=True, help="study directory to write (created if missing)")
    run.add_argument("--dry-run", action="store_true", help="list the jobs and whether each is done; run nothing")
    run.add_argument("--backend", choices=("local", "ray"), default="local",
                     help="local: one job after another in this process (default); ray: jobs as Ray tasks "
                          "(pip install '.[ray]')")
    run.add_argument("--address", default=None,
                     help="Ray cluster to join: auto, or HOST:PORT of its head (default: start a local one)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    run.set_defaults(handler=_cmd_run)

    bench = commands.add_parser(
        "bench", parents=[machine],
        help="time our attacks against torchattacks', Foolbox's and ART's on one model and one batch",
        description="Train (once, cached) or load a standard LeNet5 on Fashion-MNIST, run every attack setting of "
                    "the bench table and its peers' counterparts (torchattacks, Foolbox, ART: those installed) on the "
                    "same test images, timed interleaved, and write OUT/bench.json and OUT/bench.md: "
                    "images/s, the forward+backward limit and efficiency, success rates, peak memory, and "
                    "the time to generate 60,000 examples next to Park & So 2020.")
    bench.add_argument("--out", required=True, help="directory for bench.json and bench.md")
    bench.add_argument("--images", type=int, default=1000, help="test images attacked as one batch")
    bench.add_argument("--repeats", type=int, default=3, help="timed runs per setting after a warm-up (median)")
    bench.add_argument("--attacks", default="", help="comma-separated attack names to run (default: all)")
    bench.add_argument("--model", default=None, help="checkpoint to attack (default: the cached standard LeNet5)")
    bench.add_argument("--reference-images", type=int, default=32,
                       help="images for the slow peers (torchattacks' per-image DeepFool and JSMA, ART's C&W)")
    bench.add_argument("--memory-batch", type=int, default=128,
                       help="batch of the peak-memory measurement of deepfool and jsma; 0 skips it")
    bench.add_argument("--training-images", type=int, default=10000,
                       help="training images of the epoch-cost comparison of training modes; 0 skips it")
    bench.set_defaults(handler=_cmd_bench)

    summary = commands.add_parser(
        "summary", help="print a Markdown summary of a study directory (models, accuracy per attack sweep)",
        description="Print the models table and, for each attack sweep, a models x eps accuracy table, "
                    "written from the study's parquet files (precomputed/<study>/SUMMARY.md).")
    summary.add_argument("study", help="study directory, e.g. precomputed/fashion_mnist")
    summary.set_defaults(handler=_cmd_summary)

    findings = commands.add_parser(
        "findings", help="print the shipped study's findings compared with Garaev et al. 2024 and Park & So 2020",
        description="Test each claim of the two papers that the shipped study reproduces on a study directory's "
                    "files and print the verdicts and numbers as Markdown (docs/findings.md).")
    findings.add_argument("study", help="study directory, e.g. precomputed/fashion_mnist")
    findings.set_defaults(handler=_cmd_findings)

    papers = commands.add_parser(
        "papers", help="print every table and figure of both papers beside its counterpart in a study",
        description="For each numbered table and figure of Garaev et al. 2024 and Park & So 2020: the paper's numbers "
                    "and the study's side by side in the paper's layout, the checks of its claim and the verdict, or "
                    "why it is not reproducible here, as Markdown (docs/papers.md).")
    papers.add_argument("study", help="study directory, e.g. precomputed/fashion_mnist")
    papers.add_argument("--draws", type=_draws, default=DRAWS,
                        help="redraws of the study's accuracies that test each check against sampling noise "
                             "(%(default)s; 0: none)")
    papers.set_defaults(handler=_cmd_papers)

    compute = commands.add_parser(
        "compute", help="compute one eps of one attack sweep on one model of a finished study",
        description="Fill a cell the config did not ask for: a model the sweep skips, or an eps it does not list. "
                    "The same attack, judging, sample count and seed as `engine run` for that sweep; the rows go to "
                    "their own part of robust_accuracy and the manifest records the cell (the app's Compute button "
                    "runs this command).")
    compute.add_argument("study", help="study directory, e.g. precomputed/fashion_mnist")
    compute.add_argument("--model", required=True, help="model id")
    compute.add_argument("--sweep", required=True, help="the sweep's key, e.g. pgd-Linf-20steps-rs (see summary)")
    compute.add_argument("--eps", required=True, type=float, help="the radius, e.g. 0.15 (inf for minimal attacks)")
    compute.add_argument("--analysis", action="store_true",
                         help="compute the analyses of that eps (losses, A-distance, SVCCA, PCA, norm ratios), not its "
                              "robust accuracy; white-box sweeps of a study with [analysis] samples only")
    _on_demand_options(compute)
    compute.set_defaults(handler=_cmd_compute)

    extend = commands.add_parser(
        "extend", help="extend a robustness curve until the attack succeeds on (almost) every image",
        description="Pick the next eps itself and compute each as a cell (as `engine compute`): double the largest "
                    "eps measured until the model's accuracy is at most --level, then bisect between the last eps "
                    "above it and the first at or below it until they are within 10 %% of each other.")
    extend.add_argument("study", help="study directory, e.g. precomputed/fashion_mnist")
    extend.add_argument("--model", required=True, help="model id")
    extend.add_argument("--sweep", required=True, help="the sweep's key, e.g. pgd-Linf-20steps-rs (see summary)")
    extend.add_argument("--level", type=float, default=0.01, help="accuracy to reach (default 0.01: 99 %% fooled)")
    extend.add_argument("--max-cells", type=int, default=MAX_CELLS, help="at most this many new eps (%(default)s)")
    _on_demand_options(extend)
    extend.set_defaults(handler=_cmd_extend)

    add = commands.add_parser(
        "add-model", help="import a model of yours (safetensors weights) into a finished study",
        description="Validate the model before any work (importable factory, output shape, weights that load "
                    "strictly; a pickle is refused), then write its row of the models table with its clean "
                    "accuracy and its clean analyses. The study's sweeps do not attack it: compute its cells in "
                    "the app or with `engine compute`. The manifest records it; a later `engine run` keeps it.")
    add.add_argument("study", help="study directory, e.g. precomputed/fashion_mnist")
    add.add_argument("--id", required=True, help="the model's id in the study's tables")
    add.add_argument("--arch", required=True,
                     help="package.module:factory (on PYTHONPATH), or a registry architecture such as lenet5")
    add.add_argument("--checkpoint", required=True, help="its weights, a safetensors file")
    _on_demand_options(add)
    add.set_defaults(handler=_cmd_add_model)

    check = commands.add_parser(
        "check", help="find damaged or missing files of a study, then sanity-check its results (Carlini et al. "
                      "2019)",
        description="First list every file of a finished job that is missing, unreadable or written for another "
                    "configuration (exit status 1 when there is one; a rerun of the config redoes those jobs). "
                    "Then check that accuracy falls with eps, iterative attacks beat FGSM, white-box beats transfer "
                    "and random noise, minimal-perturbation attacks succeed, large Linf eps reach chance and norm "
                    "ratios stay within their bounds. Every failure names the model, the attack and the numbers.")
    check.add_argument("study", help="study directory, e.g. precomputed/fashion_mnist")
    check.add_argument("--strict", action="store_true", help="exit with status 1 when any sanity check fails too")
    check.add_argument("--tolerance", type=float, default=0.01,
                       help="accuracy margin allowed for sampling noise (default 0.01)")
    check.set_defaults(handler=_cmd_check)
    return parser


def _on_demand_options(command: argparse.ArgumentParser) -> None:
    """The options of the commands that compute into a finished study: who asks, the data, the device."""
    command.add_argument("--by", default="command line", help="who asked, as the manifest records it")
    command.add_argument("--data-root", help=f"dataset folder (default: ${ROOT_ENV} or the Debian/torchvision paths)")
    command.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return args.handler(args)
    except (ConfigError, DeviceError) as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    except (DataNotFoundError, CorruptDataError) as error:
        print(f"data error: {error}", file=sys.stderr)
        return 3
    except (NotAStudyError, SchemaError, StudyPathError, DamagedManifestError) as error:
        print(f"results error: {error}", file=sys.stderr)
        return 4
    except StudyLockedError as error:
        print(f"busy: {error}", file=sys.stderr)
        return 5
    except BackendError as error:
        print(f"backend error: {error}", file=sys.stderr)
        return 6
    except DiskFullError as error:
        print(f"disk full: {error.strerror}", file=sys.stderr)
        return 7
    except TrainingDivergedError as error:
        print(f"training error: {error}", file=sys.stderr)
        return 8
    except BrokenPipeError:  # the reader of stdout stopped (``| head``): point stdout at nothing so exit is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted: finished jobs are kept; rerun the same command to resume", file=sys.stderr)
        return 130
