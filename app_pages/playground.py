"""Attack playground: one image (a test image or an upload) attacked live on each chosen model."""

import math

import numpy as np
import streamlit as st
import torch
from PIL import Image

from engine.attacks.registry import ATTACKS, validate_attack
from engine.config.schema import AttackConfig
from engine.data.datasets import DATASETS
from engine.data.loaders import DataNotFoundError
from engine.data.split import to_unit
from engine.data.uploads import FORMATS, MAX_UPLOAD_BYTES, ImageError, decode_upload, preview, to_model_input
from engine.evaluation.playground import PlaygroundResult, amplified, attack_image
from ui.charts import show_chart
from ui.figures.labels import ModelLabels
from ui.figures.playground import probability_bars
from ui.models import load_model, test_split
from ui.study import Study, StudyError, require_study
from ui.widgets import model_select

PLAYGROUND_ATTACKS = ("fgsm", "pgd", "apgd", "deepfool", "cw", "jsma", "noise")
DEFAULT_EPS = {"Linf": 0.1, "L2": 1.0, "L1": 10.0, "L0": 20.0}
SHOWN_PIXELS = 168


def _picture(x: np.ndarray) -> Image.Image:
    """[H, W, C] in [0, 1] as a picture enlarged with square pixels."""
    pixels = np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8)
    image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    return image.resize((SHOWN_PIXELS, SHOWN_PIXELS * image.height // image.width), Image.Resampling.NEAREST)


def _as_picture(x: torch.Tensor) -> Image.Image:
    return _picture(x[0].permute(1, 2, 0).cpu().numpy())


def _chosen_image(dataset: str) -> tuple[torch.Tensor, int | None]:
    """The model input [1, C, H, W] the user picked and its true class when known; stops the page otherwise."""
    source = st.radio("Image", ["A test image", "Upload an image"], horizontal=True, key="pg_source")
    classes = DATASETS[dataset].classes
    if source == "A test image":
        try:
            split = test_split(dataset)
        except DataNotFoundError as error:
            st.warning(f"The {dataset} test set is not on this machine ({error}). Upload an image instead.")
            st.stop()
        index = int(st.number_input(f"Test image (0-{len(split) - 1})", 0, len(split) - 1, 0, key="pg_index"))
        label = int(split.labels[index])
        st.caption(f"True class: **{classes[label]}**")
        return to_unit(split.images[index:index + 1]), label
    # Any file type is taken, so that a refused file is explained here, in the page, not in the uploader's tooltip.
    upload = st.file_uploader(f"An image ({', '.join(FORMATS)}; at most {MAX_UPLOAD_BYTES // 2**20} MB)",
                              key="pg_upload")
    if upload is None:
        st.info("Upload an image: it is turned into the model's input (grey, resized, optionally inverted).")
        st.stop()
    try:
        decoded = decode_upload(upload.getvalue())
    except ImageError as error:
        st.error(f"`{upload.name}` cannot be used: {error}", icon=":material/broken_image:")
        st.stop()
    image = decoded.image
    channels, height, width = DATASETS[dataset].shape
    light_background = float(to_model_input(image, (channels, height, width)).flatten()[0]) > 0.5
    invert = st.checkbox("Invert (the dataset shows light objects on a dark background)",
                         value=channels == 1 and light_background, key="pg_invert")
    x = to_model_input(image, (channels, height, width), invert)
    original, model_input = st.columns(2)
    file_width, file_height = decoded.size
    original.image(preview(image), caption=f"Uploaded {decoded.format} ({file_width} x {file_height}, "
                                           f"{decoded.mode})", width=SHOWN_PIXELS)
    model_input.image(_as_picture(x), caption=f"Model input ({channels} x {height} x {width})")
    known = st.selectbox("True class (optional)", ["unknown", *classes], key="pg_label")
    return x, None if known == "unknown" else classes.index(known)


def _attack_settings() -> AttackConfig:
    name_col, norm_col, eps_col, steps_col = st.columns(4)
    name = name_col.selectbox("Attack", PLAYGROUND_ATTACKS, index=1, key="pg_attack")
    spec = ATTACKS[name]
    norm = norm_col.selectbox("Norm", spec.norms, key=f"pg_norm_{name}")
    unbounded = spec.minimal and eps_col.checkbox("No eps limit", value=True, key="pg_unbounded",
                                                    help="Minimal-perturbation attack: keep whatever it finds.")
    eps = math.inf if unbounded else eps_col.number_input("eps", 0.0, 1e4, DEFAULT_EPS[norm], key=f"pg_eps_{norm}",
                                                          format="%g")
    steps = 1 if spec.one_step else int(steps_col.number_input("Steps (0 = default)", 0, 1000, 0,
                                                                  key="pg_steps"))
    random_start = name == "pgd" and steps_col.checkbox("Random start", value=True, key="pg_random_start")
    return AttackConfig(name, norm, eps, steps=0 if spec.one_step else steps, random_start=random_start)


def _run(study: Study, model_ids: list[str], x: torch.Tensor, label: int | None,
         cfg: AttackConfig) -> dict[str, PlaygroundResult]:
    """The attack of x [1, C, H, W] on each model, with progress; models run under their locks."""
    checkpoints = study.models.set_index("model_id").checkpoint
    results, progress = {}, st.progress(0.0, "Attacking...")
    try:
        for done, model_id in enumerate(model_ids, start=1):
            shared = load_model(study.path, checkpoints[model_id], study.dataset)
            with shared.lock:  # the cached model is shared by every session
                results[model_id] = attack_image(shared.model, x, cfg, label)
            progress.progress(done / len(model_ids), f"Attacked on {done} of {len(model_ids)} models")
    finally:
        progress.empty()
    return results


def _show(result: PlaygroundResult, classes: tuple[str, ...], cfg: AttackConfig, study_name: str,
          key: str) -> None:
    before, after, change = st.columns(3)
    before.image(_as_picture(result.x), caption=f"original: {classes[result.clean_pred]}", width="stretch")
    after.image(_as_picture(result.x_adv), caption=f"adversarial: {classes[result.adv_pred]}", width="stretch")
    change.image(_picture(amplified(result.x, result.x_adv)), caption="perturbation, amplified", width="stretch")
    fooled = "fooled" if result.adv_pred != result.label else "not fooled"
    st.caption(f"{fooled}; ||d||_{cfg.norm.removeprefix('L')} = {result.perturbation:.4g}; "
               f"attack took {result.seconds * 1000:.0f} ms")
    show_chart(probability_bars(classes, result.clean_probs, result.adv_probs), study_name, key)


study = require_study()
st.title("Attack playground")
if study.models.empty or study.dataset not in DATASETS:
    st.info("This study has no trained model to attack yet.")
    st.stop()
x, label = _chosen_image(study.dataset)
cfg = _attack_settings()
model_ids = model_select(st.container(), study.models, study.models, "Models to attack")
request = (x.numpy().tobytes(), label, cfg, tuple(model_ids), str(study.path))
if st.button("Attack", type="primary", icon=":material/bolt:", disabled=not model_ids):
    try:
        validate_attack(cfg, "attack")
        st.session_state["pg_result"] = (request, _run(study, model_ids, x, label, cfg))
    except StudyError as error:
        st.error(str(error), icon=":material/error:")
    except (ValueError, OSError) as error:
        st.error(f"The attack could not run: {error}", icon=":material/error:")
stored = st.session_state.get("pg_result")
if stored and stored[0] == request:
    labels, classes = ModelLabels(study.models), DATASETS[study.dataset].classes
    columns = st.columns(min(len(model_ids), 2))  # three images per model need half the width
    for index, (model_id, result) in enumerate(stored[1].items()):
        with columns[index % len(columns)]:
            st.markdown(f"**{labels(model_id)}**")
            _show(result, classes, cfg, study.name, f"probabilities_{model_id}")
elif stored:
    st.caption("The settings changed: press Attack to run them.")
