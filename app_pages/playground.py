"""Attack playground: one image (a test image or an upload) attacked live on each chosen model, a summary row
per model, then each model's details with downloads of its adversarial image and perturbation."""

import math

import streamlit as st
import torch

from engine.attacks.registry import ATTACKS, validate_attack
from engine.config.schema import AttackConfig
from engine.data.datasets import DATASETS
from engine.data.loaders import DataNotFoundError
from engine.data.split import to_unit
from engine.data.uploads import FORMATS, MAX_UPLOAD_BYTES, ImageError, decode_upload, preview, to_model_input
from engine.evaluation.playground import PlaygroundResult, amplified, attack_image
from ui.charts import export_name, show_chart
from ui.figures.labels import ModelLabels, number_label
from ui.figures.playground import probability_bars, summary_table
from ui.models import load_model, test_split
from ui.pictures import SHOWN_PIXELS, picture, tensor_picture
from ui.state import shared_number, shared_radio, shared_selectbox, shared_toggle
from ui.study import Study, StudyError, require_study
from ui.widgets import model_select

PLAYGROUND_ATTACKS = ("fgsm", "pgd", "apgd", "deepfool", "cw", "jsma", "noise")
DEFAULT_EPS = {"Linf": 0.1, "L2": 1.0, "L1": 10.0, "L0": 20.0}
OPEN_DETAILS_UP_TO = 4  # more models than this: their details start collapsed


def _chosen_image(dataset: str) -> tuple[torch.Tensor, int | None]:
    """The model input [1, C, H, W] the user picked and its true class when known; stops the page otherwise. The
    choice of a test image is in the URL; an upload is not (a link cannot carry the file)."""
    source = shared_radio(st.container(), "Image", "pg_image", ["A test image", "Upload an image"], horizontal=True,
                          key="pg_source")
    classes = DATASETS[dataset].classes
    if source == "A test image":
        try:
            split = test_split(dataset)
        except DataNotFoundError as error:
            st.warning(f"The {dataset} test set is not on this machine ({error}). Upload an image instead.")
            st.stop()
        index = shared_number(st.container(), f"Test image (0-{len(split) - 1})", "pg_index", 0, len(split) - 1, 0,
                              key="pg_index")
        label, x = int(split.labels[index]), to_unit(split.images[index:index + 1])
        st.image(tensor_picture(x), caption=f"Test image {index}; true class: {classes[label]}", width=SHOWN_PIXELS)
        return x, label
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
    model_input.image(tensor_picture(x), caption=f"Model input ({channels} x {height} x {width})")
    known = st.selectbox("True class (optional)", ["unknown", *classes], key="pg_label")
    return x, None if known == "unknown" else classes.index(known)


def _attack_settings() -> AttackConfig:
    """The attack, norm, eps, steps and random start chosen, each in the URL; eps per norm."""
    name_col, norm_col, eps_col, steps_col = st.columns(4)
    name = shared_selectbox(name_col, "Attack", "pg_attack", PLAYGROUND_ATTACKS, initial="pgd", key="pg_attack")
    spec = ATTACKS[name]
    norm = shared_selectbox(norm_col, "Norm", "pg_norm", spec.norms, key=f"pg_norm_{name}")
    unbounded = spec.minimal and shared_toggle(eps_col, "No eps limit", "pg_unbounded", True, key="pg_unbounded",
                                               help="Minimal-perturbation attack: keep whatever it finds.")
    eps = math.inf if unbounded else shared_number(eps_col, "eps", f"pg_eps_{norm}", 0.0, 1e4, DEFAULT_EPS[norm],
                                                   key=f"pg_eps_{norm}", format="%g")
    steps = 1 if spec.one_step else shared_number(steps_col, "Steps (0 = default)", "pg_steps", 0, 1000, 0,
                                                  key="pg_steps")
    random_start = name == "pgd" and shared_toggle(steps_col, "Random start", "pg_random_start", True,
                                                   key="pg_random_start")
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


def _summary(results: dict[str, PlaygroundResult], labels: ModelLabels, classes: tuple[str, ...],
             true_label: int | None, cfg: AttackConfig) -> None:
    """The one-row-per-model table of the attack's results."""
    st.caption(f"True class: **{classes[true_label]}**" if true_label is not None else
               "True class unknown: each verdict compares a model's prediction on the adversarial image with its "
               "own prediction on the original.")
    table = summary_table(results, labels, classes, cfg.norm)
    st.dataframe(table, hide_index=True, column_config={
        name: st.column_config.NumberColumn(name, format="%.0f" if name == "ms" else "%.3f")
        for name in table.select_dtypes("number").columns})


def _downloads(result: PlaygroundResult, model_id: str, cfg: AttackConfig) -> None:
    """The adversarial image (PNG at the model's input size) and the perturbation x_adv - x (.npy, [C, H, W])."""
    stem = export_name(model_id, f"{cfg.name}_{cfg.norm}_eps{number_label(cfg.eps)}")
    png, npy = st.columns(2)
    png.download_button("Adversarial image (PNG)", result.adversarial_png(), f"{stem}_adversarial.png", "image/png",
                        key=f"pg_png_{model_id}", on_click="ignore", icon=":material/download:")
    npy.download_button("Perturbation (.npy)", result.perturbation_npy(), f"{stem}_perturbation.npy",
                        "application/octet-stream", key=f"pg_npy_{model_id}", on_click="ignore",
                        icon=":material/download:")


def _show(model_id: str, result: PlaygroundResult, classes: tuple[str, ...], cfg: AttackConfig,
          study_name: str) -> None:
    """One model's original, adversarial and amplified perturbation, verdict, downloads and class probabilities."""
    pictures, bars = st.columns(2)
    before, after, change = pictures.columns(3)
    before.image(tensor_picture(result.x), caption=f"prediction on the original: {classes[result.clean_pred]}",
                 width="stretch")
    after.image(tensor_picture(result.x_adv), caption=f"prediction on the adversarial: {classes[result.adv_pred]}",
                width="stretch")
    change.image(picture(amplified(result.x, result.x_adv)), caption="perturbation, amplified", width="stretch")
    with pictures:
        st.caption(f"{result.verdict}; ||d||_{cfg.norm.removeprefix('L')} = {result.perturbation:.4g}; "
                   f"attack took {result.seconds * 1000:.0f} ms")
        _downloads(result, model_id, cfg)
    show_chart(probability_bars(classes, result.clean_probs, result.adv_probs), study_name,
               f"probabilities_{model_id}", bars)


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
    labels, classes, results = ModelLabels(study.models), DATASETS[study.dataset].classes, stored[1]
    _summary(results, labels, classes, label, cfg)
    for model_id, result in results.items():
        with st.expander(f"**{labels(model_id)}**: {result.verdict}", expanded=len(results) <= OPEN_DETAILS_UP_TO):
            _show(model_id, result, classes, cfg, study.name)
elif stored:
    st.caption("The settings changed: press Attack to run them.")
