"""The command line answers hostile input and a hostile machine with one message and its own exit status,
never a traceback: a full disk, a diverging model, damaged data, paths it cannot use, Ctrl-C while it
starts. What was finished before stays, and a rerun goes on from there."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO, SMOKE

from engine.cli import main
from engine.core.fs import DiskFullError, atomic_write
from engine.data.loaders import CorruptDataError, load_split

TINY = """name = "tiny"
[data]
train_subset = 256
[evaluation]
samples = 64
[analysis]
samples = 0
[[models]]
id = "m"
arch = "lenet5"
training = {{ epochs = 1, batch_size = 64, optimizer = "sgd", {optimiser} }}
[[attacks]]
name = "fgsm"
norm = "Linf"
eps = [0.1]
"""


def tiny_config(tmp_path: Path, optimiser: str = "lr = 0.01, momentum = 0.0") -> Path:
    """A one-model study on 256 real training images, with ``optimiser`` settings."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(optimiser=optimiser))
    return path


@pytest.mark.skipif(not Path("/dev/full").is_char_device(), reason="needs the kernel's /dev/full device")
def test_a_write_that_fills_the_disk_says_so_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "part.parquet"
    target.write_bytes(b"the old part")

    def write(temp: str) -> None:
        with open("/dev/full", "wb") as device:  # the kernel's always-full device: ENOSPC on flush
            device.write(b"rows")

    with pytest.raises(DiskFullError, match=rf"no space left to write {target} \(.* MiB free on that file system\)"):
        atomic_write(target, write)
    assert target.read_bytes() == b"the old part" and [p.name for p in tmp_path.iterdir()] == ["part.parquet"]


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                           capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs user namespaces to mount a small tmpfs (unshare -rm)")
def test_a_run_on_a_full_file_system_exits_7_and_resumes_once_there_is_room(tmp_path: Path) -> None:
    """A real 300 KB file system (a tmpfs in a private mount namespace): the run stops at the first
    file that does not fit, with exit status 7 and a message; after the file system grows, the same
    command finishes the study."""
    disk, config = tmp_path / "disk", tiny_config(tmp_path)
    disk.mkdir()
    run = f"{sys.executable} -m engine run {config} --out {disk}/study -q"
    script = (f"mount -t tmpfs -o size=300k tmpfs {disk} && "
              f"{{ {run} 2> {tmp_path}/full.err; echo $? > {tmp_path}/rc; }} && "
              f"mount -o remount,size=50m {disk} && {run} && cp -r {disk}/study {tmp_path}/kept")
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, check=False,
                          cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr
    error = (tmp_path / "full.err").read_text()
    assert (tmp_path / "rc").read_text().strip() == "7"
    assert error.startswith("disk full: no space left to write") and "Traceback" not in error, error
    assert (tmp_path / "kept" / "models" / "m.parquet").is_file()
    assert main(["check", str(tmp_path / "kept")]) == 0


def test_a_diverging_model_stops_the_run_and_is_not_marked_done(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "study"
    assert main(["run", str(tiny_config(tmp_path, "lr = 1e30, momentum = 0.0")), "--out", str(out), "-q"]) == 8
    error = capsys.readouterr().err
    assert error.startswith("training error: model 'm' diverged in epoch 1") and "lr 1e+30" in error
    assert not (out / "models" / "m.parquet").exists() and not (out / "checkpoints" / "m.safetensors").exists()
    assert '"finished": true' not in (out / "manifest.json").read_text()


@pytest.mark.parametrize(("optimiser", "name"), [("lr = inf", "lr"), ("lr = nan", "lr"),
                                                 ("lr = 0.01, momentum = nan", "momentum")])
def test_non_finite_optimiser_settings_never_reach_training(tmp_path: Path, optimiser: str, name: str,
                                                            capsys: pytest.CaptureFixture) -> None:
    config = tiny_config(tmp_path, optimiser)
    assert main(["run", str(config), "--out", str(tmp_path / "study"), "-q"]) == 2
    assert f"models[0].training.{name}: must be a finite number" in capsys.readouterr().err
    assert not (tmp_path / "study").exists()


@pytest.mark.parametrize("case", ["directory", "deep arrays", "deep tables", "not utf-8"])
def test_config_files_that_are_not_configs_get_a_message(tmp_path: Path, case: str,
                                                         capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "config.toml"
    if case == "directory":
        path.mkdir()
    else:
        path.write_bytes({"deep arrays": b"a = " + b"[" * 5000 + b"]" * 5000,
                          "deep tables": b"a = " + b"{b = " * 5000 + b"1" + b"}" * 5000,
                          "not utf-8": b"name = \"\xff\xfe\""}[case])
    assert main(["run", str(path), "--out", str(tmp_path / "study"), "-q"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"config error: {path}") and "Traceback" not in error
    assert not (tmp_path / "study").exists()


@pytest.mark.parametrize("where", ["under a file", "under /proc"])
def test_an_out_that_cannot_be_created_gets_a_message(tmp_path: Path, where: str,
                                                      capsys: pytest.CaptureFixture) -> None:
    parent = tmp_path / "file.txt"
    parent.write_text("keep")
    out = parent / "study" if where == "under a file" else Path("/proc/atlas-test/study")
    assert main(["run", str(SMOKE), "--out", str(out), "-q"]) == 4
    assert f"results error: cannot write the study directory {out}" in capsys.readouterr().err
    assert parent.read_text() == "keep"


def test_corrupt_cifar10_batches_are_refused_before_unpickling(tmp_path: Path) -> None:
    batches = tmp_path / "cifar-10-batches-py"
    batches.mkdir()
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch",
                 "batches.meta"):
        (batches / name).write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")  # a pickle that would run a command
    with pytest.raises(CorruptDataError, match="fail their checksums"):
        load_split("cifar10", "train", tmp_path)


def test_corrupt_idx_files_name_themselves(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "fashion_mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        (folder / name).write_bytes(b"\x1f\x8b\x08\x00truncated")
    with pytest.raises(CorruptDataError, match="train-images-idx3-ubyte.gz.*cannot be read"):
        load_split("fashion_mnist", "train", tmp_path)


def _restore_default_ctrl_c() -> None:
    """In the child before exec: SIGINT back to its default, as at a terminal. A runner that ignores SIGINT
    (a background CI job) passes that on, and Python then never raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_until_torch_is_loading(pid: int, timeout_s: float = 60.0) -> None:
    """Block until the process at ``pid`` has mapped a torch library, i.e. it is importing torch."""
    deadline = time.monotonic() + timeout_s
    maps = Path(f"/proc/{pid}/maps")
    while time.monotonic() < deadline:
        try:
            if "torch" in maps.read_text():
                return
        except OSError:
            pass
        time.sleep(0.005)
    raise AssertionError(f"the command line did not start importing torch within {timeout_s:.0f} s")


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc to see the import")
def test_ctrl_c_while_the_command_line_starts_gives_no_traceback(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "engine", "run", str(SMOKE), "--out", str(tmp_path / "s"),
                                "--dry-run"], cwd=REPO, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=_restore_default_ctrl_c)
    _wait_until_torch_is_loading(process.pid)
    process.send_signal(signal.SIGINT)
    _, error = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in error, error
    assert error.startswith("interrupted")
