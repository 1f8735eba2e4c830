"""Command line: ``python -m engine COMMAND ...`` (also installed as ``atlas``)."""

from __future__ import annotations

import argparse
import logging
import sys

from engine.config import ConfigError, load_study
from engine.data import ROOT_ENV, DataNotFoundError

log = logging.getLogger("engine")


def _cmd_run(args: argparse.Namespace) -> int:
    from engine.jobs import expand, is_done
    from engine.runner import run_study

    study = load_study(args.config)
    if args.dry_run:
        for job in expand(study):
            state = "done" if is_done(job, study, args.out) else "todo"
            print(f"{state}  {job.kind:6s}  {job.id}")
        return 0
    summary = run_study(study, args.out, args.data_root, args.device, progress=not args.quiet)
    print(f"{study.name}: ran {len(summary.ran)} jobs, skipped {len(summary.skipped)} finished ones -> {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engine",
        description="Robustness Atlas engine: train classifiers, attack them, write parquet results.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every epoch and attack result")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="run a study from a TOML config (resumable: finished jobs are skipped)",
        description="Expand the study into jobs (train each model, then run each attack sweep on it), "
                    "run the unfinished ones and write tidy parquet tables plus manifest.json into OUT.")
    run.add_argument("config", help="study config, e.g. configs/smoke.toml")
    run.add_argument("--out", required=True, help="study directory to write (created if missing)")
    run.add_argument("--data-root", default=None,
                     help=f"where datasets live (default: ${ROOT_ENV} or ~/.cache/robustness-atlas/data)")
    run.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1 ...")
    run.add_argument("--dry-run", action="store_true", help="list the jobs and whether each is done; run nothing")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    run.set_defaults(handler=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        return args.handler(args)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    except DataNotFoundError as error:
        print(f"data error: {error}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted: finished jobs are kept; rerun the same command to resume", file=sys.stderr)
        return 130
