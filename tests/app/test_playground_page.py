"""The playground page on the shipped study, driven headless by AppTest: honest verdicts, the image before any
attack, a summary row per model before the details, downloads that decode, and uploads that replace each other."""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from helpers import REPO
from PIL import Image, ImageDraw
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from engine.data.loaders import load_split
from engine.data.split import to_unit
from engine.evaluation.predict import predict
from engine.models.checkpoints import load_checkpoint

SHIPPED = REPO / "precomputed" / "fashion_mnist"
PLAYGROUND = "app_pages/playground.py"
FIVE_MODELS = ["standard", "attacker_a", "pgd_linf", "robust_l2", "resnet_standard"]


@pytest.fixture(autouse=True)
def shipped_study(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ATLAS_RESULTS", "ATLAS_STUDY_ROOTS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def standard_test_images() -> tuple[int, int]:
    """The index of the first test image the shipped ``standard`` model classifies right, and of the first it gets
    wrong."""
    model, _ = load_checkpoint(SHIPPED / "checkpoints" / "standard.safetensors")
    split = load_split("fashion_mnist", "test").head(2000)
    right = (predict(model.eval(), to_unit(split.images)) == split.labels).numpy()
    return int(right.argmax()), int((~right).argmax())


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The bytes of every file the page hands to Streamlit's media storage, by the file name it offers."""
    stored: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self: MemoryMediaFileStorage, path_or_data: str | bytes, mimetype: str, kind: object,
               filename: str | None = None) -> str:
        if filename and isinstance(path_or_data, bytes):
            stored[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)  # type: ignore[arg-type]

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return stored


def _playground() -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    at.switch_page(PLAYGROUND)
    return at.run()


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, [exception.value for exception in at.exception]
    assert not at.error, [error.value for error in at.error]


def _choose(at: AppTest, models: list[str], attack: str, index: int | None = None) -> AppTest:
    if index is not None:
        at.number_input(key="pg_index").set_value(index).run()
    [models_widget] = [widget for widget in at.main.multiselect if widget.label == "Models to attack"]
    models_widget.set_value(models).run()
    at.selectbox(key="pg_attack").set_value(attack).run()
    return at


def _attack(at: AppTest) -> AppTest:
    [button] = [button for button in at.main.button if button.label == "Attack"]
    button.click().run()
    _assert_clean(at)
    return at


def _images(at: AppTest) -> list[str]:
    return [caption for image in at.main.get("image") for caption in image.captions]  # type: ignore[attr-defined]


def _order(at: AppTest) -> Iterator[str]:
    """The types of the main area's elements and blocks, in page order."""
    return (node.type for node in at.main)


def test_an_image_the_model_already_gets_wrong_is_never_called_fooled(standard_test_images: tuple[int, int]) -> None:
    at = _attack(_choose(_playground(), ["standard"], "cw", standard_test_images[1]))
    [summary] = at.main.dataframe
    assert summary.value.verdict.tolist() == ["already misclassified"]
    [true_class] = [caption.value for caption in at.main.caption if caption.value.startswith("True class: ")]
    assert true_class != f"True class: **{summary.value['clean prediction'][0]}**"
    captions = [caption.value for caption in at.main.caption if "attack took" in caption.value]
    assert len(captions) == 1 and captions[0].startswith("already misclassified;") and "fooled" not in captions[0]


def test_fgsm_fools_standard_on_an_image_it_gets_right_with_a_row_per_model_before_the_details(
        standard_test_images: tuple[int, int], downloads: dict[str, bytes]) -> None:
    at = _playground()
    at.number_input(key="pg_index").set_value(standard_test_images[0]).run()
    assert len(_images(at)) == 1 and "true class: " in _images(at)[0]  # shown before any attack
    _choose(at, FIVE_MODELS, "fgsm")
    at.number_input(key="pg_eps_Linf").set_value(0.3).run()
    _attack(at)
    [summary] = at.main.dataframe
    table = summary.value.set_index("model")
    assert len(table) == len(FIVE_MODELS) and table.index[0].startswith("standard")
    assert table.verdict.iloc[0] == "fooled" and set(table.verdict) <= {"fooled", "not fooled", "already misclassified"}
    assert np.allclose(table["perturbation (Linf)"], 0.3)
    order = list(_order(at))
    assert order.index("dataframe") < order.index("expander")
    expanders = at.main.get("expander")
    assert len(expanders) == len(FIVE_MODELS) and not any(block.proto.expanded for block in expanders)
    assert expanders[0].label.endswith(": fooled")  # type: ignore[attr-defined]
    assert "prediction on the original: " in _images(at)[1] and "prediction on the adversarial: " in _images(at)[2]
    _assert_downloads_decode(at, downloads, standard_test_images[0])


def _assert_downloads_decode(at: AppTest, downloads: dict[str, bytes], index: int) -> None:
    """The standard model's PNG is the 28 x 28 grey adversarial image, its .npy the [1, 28, 28] perturbation."""
    buttons = at.main.get("download_button")
    assert len(buttons) == 2 * len(FIVE_MODELS) and all(button.proto.ignore_rerun for button in buttons)
    png = downloads["standard_fgsm_Linf_eps0.3_adversarial.png"]
    delta = np.load(io.BytesIO(downloads["standard_fgsm_Linf_eps0.3_perturbation.npy"]), allow_pickle=False)
    picture = Image.open(io.BytesIO(png))
    assert picture.size == (28, 28) and picture.mode == "L"
    assert delta.dtype == np.float32 and delta.shape == (1, 28, 28) and np.abs(delta).max() == pytest.approx(0.3)
    x = to_unit(load_split("fashion_mnist", "test").images[index])
    adversarial = torch.from_numpy(np.asarray(picture, dtype=np.float32) / 255)
    assert float((adversarial - x[0] - torch.from_numpy(delta[0])).abs().max()) <= 1 / 255


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _shoe() -> bytes:
    photo = Image.new("RGB", (90, 60), "white")
    ImageDraw.Draw(photo).rectangle((30, 10, 60, 50), fill="black")
    return _png(photo)


def test_a_new_upload_replaces_the_previous_error_and_result() -> None:
    at = _playground()
    at.radio(key="pg_source").set_value("Upload an image").run()
    at.file_uploader(key="pg_upload").set_value(("notes.png", b"hello, this is text", "image/png")).run()
    assert "not a supported image" in at.error[0].value
    at.file_uploader(key="pg_upload").set_value(("shoe.png", _shoe(), "image/png")).run()
    _assert_clean(at)
    assert any(caption.startswith("Model input") for caption in _images(at))  # shown before any attack
    _attack(_choose(at, ["standard"], "fgsm"))
    assert at.main.dataframe[0].value.verdict.iloc[0] in {"prediction changed", "prediction kept"}
    assert any(caption.value.startswith("True class unknown") for caption in at.main.caption)
    assert [block.proto.expanded for block in at.main.get("expander")] == [True]  # few models: details open
    at.file_uploader(key="pg_upload").set_value(("cut.png", _shoe()[:100], "image/png")).run()
    assert len(at.error) == 1 and "cut.png" in at.error[0].value and not at.main.dataframe
    at.file_uploader(key="pg_upload").set_value(("boot.png", _png(Image.new("L", (40, 40), 30)), "image/png")).run()
    _assert_clean(at)
    assert not at.main.dataframe and not at.main.get("expander")  # the shoe's result is not shown for the boot
