"""The app on damaged studies (issue 17, items 8 and 10): a garbage, looping, long-named or directory part, a
manifest whose fields have the wrong types, and a truncated, pickled or mismatched checkpoint each give an
error in the page that names the file and the repair commands, never a traceback; a results directory that is
a file, missing or unreadable is explained without telling which paths exist."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers import REPO
from streamlit.testing.v1 import AppTest

from engine.core.fs import read_json
from engine.data.split import Split
from ui.models import load_model
from ui.study import StudyError

APP = str(REPO / "app.py")
SHIPPED = REPO / "precomputed" / "fashion_mnist"  # copied: cheaper than running the smoke study
OVERVIEW, ACCURACY, SVCCA, LATENT = (f"app_pages/{name}.py" for name in ("overview", "accuracy", "svcca", "latent"))
PLAYGROUND = "app_pages/playground.py"
ALL_PAGES = [OVERVIEW, ACCURACY, "app_pages/compare.py", "app_pages/losses.py", LATENT, SVCCA,
             "app_pages/norms.py", "app_pages/training.py", "app_pages/robust_datasets.py", PLAYGROUND]
MODEL = "standard"  # a LeNet5 of the shipped study
LONG_NAME = "x" * 300 + ".parquet"  # over the 255 bytes a file name may have


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """A private copy of the shipped study that a test may damage."""
    return Path(shutil.copytree(SHIPPED, tmp_path / "study"))


@pytest.fixture(autouse=True)
def study_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without the shell's ATLAS_RESULTS and ATLAS_STUDY_ROOTS; monkeypatch puts them back
    after it, also when ``open_app`` has set ATLAS_RESULTS."""
    for name in ("ATLAS_RESULTS", "ATLAS_STUDY_ROOTS"):
        monkeypatch.setenv(name, "")  # records the shell's value (or its absence) for the undo
        monkeypatch.delenv(name)


def open_app(results_dir: Path, page: str = OVERVIEW) -> AppTest:
    """The app after its first run on ``page``, pointed at ``results_dir``: the sidebar offers only the
    server's studies, so it is served as the server's own study, ``$ATLAS_RESULTS`` (which is offered even
    when it is missing or damaged; restored after the test by ``study_environment``)."""
    os.environ["ATLAS_RESULTS"] = str(results_dir)
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page != OVERVIEW:
        at.switch_page(page)
    at = at.run()
    assert at.sidebar.selectbox[0].value == str(results_dir)  # the study the test damaged, not another one
    return at


def repair_hint(study: Path) -> list[str]:
    """The commands an error about a damaged file of ``study`` must give."""
    return [f"python -m engine run CONFIG --out {study}", f"python -m engine check {study}"]


def assert_damage_shown(at: AppTest, path: Path, study: Path, *reason: str) -> str:
    """The page shows one error naming ``path`` as damaged, with ``reason`` and the repair commands, and
    raised no exception; returns the error."""
    assert not at.exception, [exception.value for exception in at.exception]
    assert len(at.error) == 1, [error.value for error in at.error]
    message = at.error[0].value
    for expected in (f"`{path}` is damaged: ", *reason, *repair_hint(study)):
        assert expected in message, f"{expected!r} not in {message!r}"
    return message


def first_part(study: Path, table: str) -> Path:
    return sorted((study / table).glob("*.parquet"))[0]


# Each damage replaces the first part of a table (or the table's folder) and returns the path to name.
def _garbage(study: Path, table: str) -> Path:
    part = first_part(study, table)
    part.write_bytes(b"not parquet at all")
    return part


def _link_loop(study: Path, table: str) -> Path:
    part = first_part(study, table)
    part.unlink()
    part.symlink_to(part.name)  # relative: the link points at itself
    return part


def _directory(study: Path, table: str) -> Path:
    part = first_part(study, table)
    part.unlink()
    part.mkdir()
    return part


def _long_path(study: Path, table: str) -> Path:
    part = first_part(study, table)
    part.unlink()
    part.symlink_to(LONG_NAME)
    return part


def _folder_loop(study: Path, table: str) -> Path:
    shutil.rmtree(study / table)
    (study / table).symlink_to(table)
    return study / table


DAMAGES: dict[str, tuple[Callable[[Path, str], Path], str]] = {
    "garbage": (_garbage, "not a readable parquet file"),
    "link loop": (_link_loop, "the part cannot be opened (Too many levels of symbolic links)"),
    "directory": (_directory, "the part is a directory, not a parquet file"),
    "long path": (_long_path, "the part cannot be opened (File name too long)"),
    "folder loop": (_folder_loop, "the table's folder cannot be listed (Too many levels of symbolic links)"),
}


class TestDamagedParts:
    """A table part that cannot be read is named, with the repair commands, on the Overview (which reads the
    core tables and, for the papers' findings, every analysis table) and on the table's own page."""

    @pytest.mark.parametrize(("damage", "table", "page"), [
        ("garbage", "svcca", OVERVIEW), ("garbage", "svcca", SVCCA),  # the case
        ("link loop", "svcca", OVERVIEW), ("link loop", "robust_accuracy", ACCURACY),
        ("directory", "robust_accuracy", OVERVIEW), ("directory", "pca", LATENT),
        ("long path", "pca", OVERVIEW), ("long path", "models", PLAYGROUND),
        ("folder loop", "svcca", OVERVIEW), ("folder loop", "pca", LATENT),
    ])
    def test_the_page_names_the_damaged_part(self, study: Path, damage: str, table: str, page: str) -> None:
        """One error naming the part (or folder), the reason and the repair commands; no exception."""
        make, reason = DAMAGES[damage]
        path = make(study, table)
        assert_damage_shown(open_app(study, page), path, study, reason)


def _set(manifest: dict[str, Any], where: str, value: object) -> dict[str, Any]:
    """``manifest`` with the field at dotted path ``where`` (numbers index lists) set to ``value``."""
    *parents, last = where.split(".")
    node: Any = manifest
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value
    return manifest


class TestDamagedManifest:
    """A manifest field of the wrong type is named with its value, in the page, instead of a traceback in
    whichever page first dereferences it."""

    @pytest.mark.parametrize(("where", "value", "reason"), [
        ("config", [], "field `config` is a list [], not an object"),
        ("config", None, "field `config` is null, not an object"),
        ("config.models", {"id": "m"}, 'field `config.models` is an object {"id": "m"}, not a list'),
        ("config.models.3.id", 7, "field `config.models[3].id` is an integer 7, not a string"),
        ("config.models.0.training", "pgd", 'field `config.models[0].training` is a string "pgd", not an object'),
        ("config.data.dataset", ["fashion_mnist"], 'field `config.data.dataset` is a list ["fashion_mnist"]'),
        ("config.evaluation.samples", 1.5, "field `config.evaluation.samples` is a number 1.5, not an integer"),
        ("config.attacks.0.norm", None, "field `config.attacks[0].norm` is null, not a string"),
        ("config.findings.roles.attacker", 1, "field `config.findings.roles.attacker` is an integer 1"),
        ("finished", "yes", 'field `finished` is a string "yes", not a boolean'),
        ("libraries", ["torch"], 'field `libraries` is a list ["torch"], not an object'),
        ("seeds", 0, "field `seeds` is an integer 0, not a list"),
        ("study", True, "field `study` is a boolean true, not a string"),
    ])
    def test_a_field_of_the_wrong_type_is_named_on_the_overview(self, study: Path, where: str, value: object,
                                                                reason: str) -> None:
        """The error names the field by its path, with its JSON kind and value."""
        manifest = study / "manifest.json"
        manifest.write_text(json.dumps(_set(read_json(manifest), where, value)))
        assert_damage_shown(open_app(study), manifest, study, reason)

    @pytest.mark.parametrize("page", ALL_PAGES[1:])
    def test_a_null_config_is_named_on_every_page(self, study: Path, page: str) -> None:
        """Every page opens the study through the same check."""
        manifest = study / "manifest.json"
        manifest.write_text(json.dumps({**read_json(manifest), "config": None}))
        assert_damage_shown(open_app(study, page), manifest, study, "field `config` is null, not an object")

    @pytest.mark.parametrize(("content", "reason"), [
        ("[1, 2]", "it is a list [1, 2], not a JSON object"),
        ('"study"', 'it is a string "study", not a JSON object'),
        ("{not json", "it cannot be read as JSON"),
    ])
    def test_a_manifest_that_is_not_an_object_is_named(self, study: Path, content: str, reason: str) -> None:
        """Valid JSON that is not an object, and invalid JSON, are named too."""
        (study / "manifest.json").write_text(content)
        assert_damage_shown(open_app(study), study / "manifest.json", study, reason)

    def test_a_schema_version_written_as_text_reads_as_text(self, study: Path) -> None:
        """Item 10: "2" (a string) read "written with version 2; this app reads version 2"."""
        manifest = study / "manifest.json"
        manifest.write_text(json.dumps({**read_json(manifest), "schema_version": "2"}))
        message = assert_damage_shown(open_app(study), manifest, study,
                                      'field `schema_version` is a string "2", not an integer')
        assert "this app reads version" not in message


def _opened(at: AppTest) -> str:
    assert not at.exception, [exception.value for exception in at.exception]
    assert len(at.error) == 1, [error.value for error in at.error]
    return at.error[0].value


@pytest.fixture
def unreadable(study: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The study, with its directory's permissions taken away. Root may read it anyway, so there listing it
    fails as it does for anyone else (PermissionError)."""
    listing = os.scandir

    def refused(path: Any = ".") -> Any:
        if Path(path) == study:
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    study.chmod(0)
    if os.geteuid() == 0:
        monkeypatch.setattr(os, "scandir", refused)
    yield study
    study.chmod(0o755)


class TestResultsDirectory:
    """Item 10: what the page says about a results directory that is not a readable study directory."""

    def test_a_file_is_said_to_be_a_file(self, study: Path) -> None:

        """A file served as the results directory is called a file, not missing."""
        message = _opened(open_app(study / "manifest.json"))
        assert f"`{study / 'manifest.json'}` is a file, not a directory" in message
        assert "does not exist" not in message

    def test_missing_unreadable_looping_and_overlong_directories_read_the_same(self, tmp_path: Path,
                                                                                unreadable: Path) -> None:
        """One message for all, so that the page does not tell which paths exist on the server."""
        loop = tmp_path / "loop"
        loop.symlink_to("loop")
        paths = [tmp_path / "missing", unreadable, loop, tmp_path / ("d" * 300)]
        messages = {_opened(open_app(path)).replace(str(path), "DIR") for path in paths}
        assert len(messages) == 1, messages
        assert messages.pop().startswith("There is no readable study directory at `DIR`: it does not exist, or ")


class _Marker:
    """An object whose unpickling creates the file ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return open, (str(self.path), "w")


def _truncated(weights: Path, marker: Path) -> tuple[Path, str]:
    weights.write_bytes(weights.read_bytes()[:1000])
    return weights, "not a complete safetensors file"


PICKLED = "a pickle (torch.save) file, not safetensors: it is refused, never unpickled"


def _pickle(weights: Path, marker: Path) -> tuple[Path, str]:
    weights.write_bytes(pickle.dumps({"conv1.weight": _Marker(marker)}, protocol=4))
    return weights, PICKLED


def _torch_save(weights: Path, marker: Path) -> tuple[Path, str]:
    torch.save({"conv1.weight": _Marker(marker)}, weights)
    return weights, PICKLED


def _sidecar_edit(**fields: object) -> Callable[[Path, Path], tuple[Path, str]]:
    def edit(weights: Path, marker: Path) -> tuple[Path, str]:
        sidecar = weights.with_suffix(".json")
        sidecar.write_text(json.dumps({**read_json(sidecar), **fields}))
        return sidecar, ""
    return edit


def _other_arch(weights: Path, marker: Path) -> tuple[Path, str]:
    _sidecar_edit(arch="resnet_small")(weights, marker)
    return weights, "the weights do not fit the 'resnet_small' model for 'fashion_mnist' that its sidecar " \
                    f"{MODEL}.json describes"


def _unknown_arch(weights: Path, marker: Path) -> tuple[Path, str]:
    return _sidecar_edit(arch="vgg99")(weights, marker)[0], "vgg99"


def _other_dataset(weights: Path, marker: Path) -> tuple[Path, str]:
    return _sidecar_edit(dataset="mnist")(weights, marker)[0], "it describes a mnist model, the study is on " \
                                                                "fashion_mnist"


def _sidecar_not_json(weights: Path, marker: Path) -> tuple[Path, str]:
    weights.with_suffix(".json").write_text("{")
    return weights.with_suffix(".json"), "the checkpoint's sidecar cannot be read"


def _sidecar_without_arch(weights: Path, marker: Path) -> tuple[Path, str]:
    weights.with_suffix(".json").write_text(json.dumps({"arch": None, "dataset": "fashion_mnist"}))
    return weights.with_suffix(".json"), "the checkpoint's sidecar does not name its arch and dataset as text"


def _dangling_link(weights: Path, marker: Path) -> tuple[Path, str]:
    """The link is named, not its missing target (nor a sidecar named after the target)."""
    weights.unlink()
    weights.symlink_to("lost.safetensors")
    return weights, "not a complete safetensors file (No such file or directory"


def _weights_link_loop(weights: Path, marker: Path) -> tuple[Path, str]:
    weights.unlink()
    weights.symlink_to(weights.name)
    return weights, "its path cannot be resolved"


CHECKPOINT_DAMAGES = {
    "truncated": _truncated, "pickle": _pickle, "torch.save": _torch_save, "other arch": _other_arch,
    "unknown arch": _unknown_arch, "other dataset": _other_dataset, "sidecar not json": _sidecar_not_json,
    "sidecar without arch": _sidecar_without_arch, "dangling link": _dangling_link,
    "link loop": _weights_link_loop,
}


def _refuse(*_: object, **__: object) -> None:
    pytest.fail("a checkpoint was unpickled")


@pytest.fixture
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to unpickle fails the test (the marker file catches unpicklers these do not cover)."""
    for module, name in ((pickle, "load"), (pickle, "loads"), (torch, "load")):
        monkeypatch.setattr(module, name, _refuse)


class TestDamagedCheckpoints:
    """The playground's model loading names a damaged checkpoint or sidecar, and never unpickles a file."""

    @pytest.mark.parametrize("damage", CHECKPOINT_DAMAGES)
    def test_load_model_names_the_file(self, study: Path, tmp_path: Path, damage: str,
                                       no_unpickling: None) -> None:
        """StudyError names the weights or sidecar at fault and why; the marker file shows nothing was unpickled."""
        marker = tmp_path / "unpickled"
        weights = study / "checkpoints" / f"{MODEL}.safetensors"
        named, reason = CHECKPOINT_DAMAGES[damage](weights, marker)
        with pytest.raises(StudyError) as caught:
            load_model(study, f"checkpoints/{MODEL}.safetensors", "fashion_mnist")
        message = str(caught.value)
        for expected in (f"`{named}` is damaged: ", reason, *repair_hint(study)):
            assert expected in message, f"{expected!r} not in {message!r}"
        assert not marker.exists()

    @pytest.mark.parametrize(("checkpoint", "reason"), [
        (None, "a model's checkpoint is None, not a path"),
        ("../elsewhere.safetensors", "checkpoint '../elsewhere.safetensors' lies outside the study directory"),
    ])
    def test_a_bad_checkpoint_entry_names_the_models_table(self, study: Path, checkpoint: object,
                                                           reason: str) -> None:
        """An entry that is not a path, or leads outside the study, is the models table's fault."""
        with pytest.raises(StudyError, match="is damaged") as caught:
            load_model(study, checkpoint, "fashion_mnist")
        assert f"`{study / 'models'}` is damaged: {reason}" in str(caught.value)

    def test_the_undamaged_checkpoint_loads(self, study: Path) -> None:
        """The damages above are what fails: the same call on the intact copy gives the model."""
        shared = load_model(study, f"checkpoints/{MODEL}.safetensors", "fashion_mnist")
        assert shared.dataset == "fashion_mnist" and not shared.model.training

    @pytest.mark.parametrize("damage", ["truncated", "torch.save", "other arch"])
    def test_the_playground_shows_the_error_in_the_page(self, study: Path, tmp_path: Path, damage: str,
                                                        fmnist_test: Split, monkeypatch: pytest.MonkeyPatch) -> None:
        """The page's own path, on a test image; Streamlit's caches unpickle their values, so only torch.load is
        refused here and the marker file shows that the checkpoint was not unpickled."""
        monkeypatch.setattr(torch, "load", _refuse)
        marker = tmp_path / "unpickled"
        named, reason = CHECKPOINT_DAMAGES[damage](study / "checkpoints" / f"{MODEL}.safetensors", marker)
        at = open_app(study, PLAYGROUND)
        at.multiselect[0].set_value([MODEL]).run()
        at.button[0].click().run()
        assert_damage_shown(at, named, study, reason)
        assert not at.get("plotly_chart") and not marker.exists()
