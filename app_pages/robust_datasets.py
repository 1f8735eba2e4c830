"""Robust datasets: how closely each re-drawn training image matches its target's robust features, and samples
of the re-drawn images next to the images they stand for."""

from pathlib import Path

import numpy as np
import streamlit as st
import torch
from safetensors import SafetensorError

from engine.data.datasets import DATASETS
from engine.data.split import Split, read_split
from engine.reporting.robust_datasets import robust_dataset_summary
from engine.study.artifacts import robust_preview_path
from ui.charts import cached_figure, show_chart
from ui.figures.labels import ModelLabels
from ui.figures.robust_datasets import feature_distance_boxes
from ui.pictures import picture
from ui.state import shared_number, shared_selectbox
from ui.study import RUN_HINT, damaged, require_study
from ui.widgets import csv_download, model_select

PAIR_PIXELS = 84  # width of each image of a pair
COLUMNS = 8  # pairs per row

study = require_study()
st.title("Robust datasets")
st.caption(
    "Ilyas et al. 2019 (§3.1), as Garaev et al. 2024 replicate it: each training image x is re-drawn as an image "
    "x_r whose penultimate features g(x_r), under an adversarially trained source model, match g(x); x_r starts "
    "from another training image and keeps x's label. A model trained on the re-drawn set can only learn the "
    "source's robust features, and only if the search converged. Below: the feature distance left per image, "
    "relative to ||g(x)|| (0: matched; about 1: still an unrelated image), next to where the search started.")
rows = study.table("robust_datasets")
robust_models = study.models.model_id[study.models.training_mode == "robust_dataset"].tolist()
if rows.empty:
    st.info("This study trains no model on a robust dataset." if not robust_models else
            f"This study's robust-dataset models ({', '.join(robust_models)}) were trained before the engine measured "
            f"how closely their images match: run `{RUN_HINT.format(dir=study.path)}` with its config to measure them.",
            icon=":material/info:")
    st.stop()

model_col, _ = st.columns([3, 2])
model_ids = model_select(model_col, rows, study.models)
chosen = rows[rows.model_id.isin(model_ids)]
show_chart(cached_figure(feature_distance_boxes)(chosen, study.models), study.name, "robust_datasets")
rank = {model_id: index for index, model_id in enumerate(model_ids)}
summary = robust_dataset_summary(chosen).sort_values("model_id", key=lambda ids: ids.map(rank))
st.dataframe(summary, hide_index=True, column_config={
    "model_id": "model", "source_model_id": "source model",
    "median_relative": st.column_config.NumberColumn("median distance left", format="%.3f"),
    "p90_relative": st.column_config.NumberColumn("90th percentile", format="%.3f"),
    "median_start_relative": st.column_config.NumberColumn("median at the start", format="%.3f"),
    "source_agrees": st.column_config.NumberColumn("source predicts the label", format="percent"),
})
csv_download(chosen, f"{study.name}_robust_datasets.csv", "Download the per-image distances (CSV)")

st.subheader("Samples")
labels = ModelLabels(study.models)
shown_model = shared_selectbox(st.container(), "Model", "robust_model", model_ids or list(dict.fromkeys(rows.model_id)),
                               format_func=labels)
redrawn_path = robust_preview_path(study.path, shown_model)
original_path = robust_preview_path(study.path, shown_model, original=True)
if not (redrawn_path.is_file() and original_path.is_file()):
    st.info(f"No samples of {labels(shown_model)} are kept in this study (`{redrawn_path.name}` and "
            f"`{original_path.name}` under `robust_sets/`).", icon=":material/info:")
    st.stop()
spec = DATASETS.get(study.dataset)
classes = spec.classes if spec else ()


def _preview(path: Path) -> Split:
    """A kept preview of images; a damaged file ends the page with what is wrong and how to rebuild it."""
    try:
        split = read_split(path, classes)
    except (SafetensorError, OSError, ValueError, KeyError) as error:
        raise damaged(path, f"it cannot be read as a set of images ({type(error).__name__})", study.path) from None
    if split.images.dtype != torch.uint8 or split.images.ndim != 4 or len(split.images) != len(split.labels):
        raise damaged(path, "it does not hold uint8 images [N, C, H, W] with a label each", study.path)
    return split


redrawn, original = _preview(redrawn_path), _preview(original_path)
if redrawn.images.shape[1:] != original.images.shape[1:] or len(redrawn) != len(original):
    raise damaged(original_path, f"its images do not pair with those of `{redrawn_path.name}`", study.path)
count = shared_number(st.container(), f"Pairs shown (of {len(redrawn)} kept)", "robust_pairs", 1, len(redrawn),
                      min(16, len(redrawn)))
of_model = rows[rows.model_id == shown_model].set_index("sample")
st.caption("Each pair: the training image x (left) and its re-drawn x_r (right), with x's label and the feature "
           "distance left.")
for start in range(0, count, COLUMNS):
    for column, index in zip(st.columns(COLUMNS), range(start, min(start + COLUMNS, count)), strict=False):
        pair = np.concatenate([original.images[index], redrawn.images[index]], axis=2)  # [C, H, 2W] uint8
        label = int(redrawn.labels[index])
        name = classes[label] if label < len(classes) else f"class {label}"
        distance = of_model.relative_distance.get(index)
        column.image(picture(pair.transpose(1, 2, 0) / 255, 2 * PAIR_PIXELS),
                     caption=f"{name}; {distance:.3f}" if distance is not None else name)
