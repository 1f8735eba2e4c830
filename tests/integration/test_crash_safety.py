"""A study killed with SIGKILL at several moments and rerun ends with exactly the rows of an
uninterrupted run; two runners never write one directory at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, SMOKE, assert_same_results

from engine.cli import main
from engine.results.lock import StudyLockedError, study_lock
from engine.study.runner import run_study
from engine.study.validate import load_study

# Log lines on which successive attempts are killed: after a training epoch (its resume state
# saved), at the start of an attack job, of a clean analysis and of a sweep analysis.
KILL_ON = (" epoch 1: ", "running attack job", "running clean job", "running analysis job")


def _runner(out: Path) -> subprocess.Popen:
    """The smoke study run by the CLI in a subprocess with one torch thread, as the in-process fixture,
    logging every job and epoch to stderr."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "engine", "-v", "run", str(SMOKE), "--out", str(out), "-q"]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _killed_on(out: Path, event: str) -> bool:
    """Run the study and SIGKILL it as soon as its log shows ``event``; whether that happened."""
    runner = _runner(out)
    assert runner.stderr is not None
    for line in runner.stderr:
        if event in line.decode(errors="replace"):
            runner.send_signal(signal.SIGKILL)
            runner.wait()
            return True
    runner.wait()
    return False


def test_sigkill_at_any_moment_then_rerun_gives_the_uninterrupted_rows(smoke_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    killed = [event for event in KILL_ON if _killed_on(out, event)]
    assert killed == list(KILL_ON), "the study finished before these events: " + ", ".join(set(KILL_ON) - set(killed))
    final = _runner(out)
    log = final.communicate(timeout=600)[1].decode()
    assert final.returncode == 0, log
    assert assert_same_results(smoke_study, out) > 5_000
    assert not list(out.rglob(".tmp-*")) and not list(out.rglob("*.resume.safetensors"))


def test_a_second_runner_on_the_same_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "busy"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
                               "from engine.results.lock import study_lock\n"
                               f"with study_lock(Path({str(out)!r})):\n    print('held', flush=True)\n"
                               "    time.sleep(60)"], cwd=REPO, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"held"
        with pytest.raises(StudyLockedError, match=f"another runner \\(process {holder.pid}\\)"):
            run_study(load_study(SMOKE), out, progress=False)
        assert main(["run", str(SMOKE), "--out", str(out), "-q"]) == 5
        assert "busy:" in capsys.readouterr().err
    finally:
        holder.kill()
        holder.wait()
    with study_lock(out):  # the kernel released the killed holder's lock
        pass


def test_leftover_temp_files_are_removed_and_never_read(smoke_study: Path, tmp_path: Path) -> None:
    import shutil

    out = Path(shutil.copytree(smoke_study, tmp_path / "copy"))
    leftover = out / "robust_accuracy" / ".tmp-abc123.parquet"
    leftover.write_bytes(b"half a parquet file")
    summary = run_study(load_study(SMOKE), out, progress=False)
    assert summary.ran == [] and not leftover.exists()
