"""``python -m engine`` (and the ``atlas`` script): the command line, where Ctrl-C during the slow
imports (torch) is answered like Ctrl-C later, without a traceback."""

import sys


def run() -> int:
    try:
        from engine.cli import main
    except KeyboardInterrupt:
        print("interrupted while starting: nothing was run", file=sys.stderr)
        return 130
    return main()


if __name__ == "__main__":
    raise SystemExit(run())
