"""The Compute panel: fill a cell the study's config did not ask for (a model a sweep skips, an eps it does not
list), or extend a curve until the attack succeeds, from the page, with the engine's own jobs (``python -m
engine compute`` / ``extend``), queued per server."""

from __future__ import annotations

import math
import os

import pandas as pd
import streamlit as st

from engine.attacks.registry import sweep_key
from engine.config.schema import AttackSweep, ConfigError, StudyConfig
from engine.results.lock import is_locked
from engine.study.cells import Cell, added_models, cell_job, sweep_for, with_added
from engine.study.extension import MAX_CELLS, TOLERANCE
from engine.study.validate import study_from_dict
from ui.compute import CANCELLED, DONE, FAILED, QUEUED, RUNNING, ComputeQueue, Extension, Request, Task, describe
from ui.loaders import load_table
from ui.state import select_more
from ui.study import Study

STARTUP_SECONDS = 4.0  # a child process importing torch and the engine, and loading the model, on 2 CPU cores
ANALYSIS_COST = 3.0  # an analysis cell's time against its attack's: the attack, representations, SVCCA, PCA
MINE_KEY = "compute_mine"  # session state: request key -> (attack, norm) of the cells this session asked for


@st.cache_resource
def compute_queue() -> ComputeQueue:
    """The server's one queue, shared by every session."""
    return ComputeQueue()


@st.cache_data(show_spinner=False, max_entries=8)
def _config(manifest: dict) -> StudyConfig | None:
    """The study's config with the models added after its run, or None when the manifest holds none valid."""
    try:
        return with_added(study_from_dict(manifest.get("config", {})), added_models(manifest))
    except (ConfigError, KeyError, TypeError, ValueError):
        return None


def estimate_seconds(results: pd.DataFrame, sweep: str) -> float:
    """Expected seconds for one eps of ``sweep``: the median attack time of its rows so far, plus start-up."""
    seconds = results.loc[results.sweep == sweep, "seconds"].dropna()
    return STARTUP_SECONDS + (float(seconds.median()) if len(seconds) else 0.0)


def missing_eps(results: pd.DataFrame, sweep: AttackSweep, model_id: str) -> list[float]:
    """The sweep's eps that ``model_id`` has no row for (all of them for a model the sweep skips)."""
    key = sweep_key(sweep)
    done = set(results.loc[(results.sweep == key) & (results.model_id == model_id), "eps"])
    return [eps for eps in sweep.eps if eps not in done]


def compute_panel(study: Study) -> None:
    """The panel, closed by default; it says why computing is off when the study cannot take new results."""
    config = _config(study.manifest)
    with st.expander("Compute a missing cell or a new eps", icon=":material/calculate:"):
        reason = _blocked(study, config)
        if reason or config is None:
            st.info(reason or "This study's config cannot be read back from its manifest.")
        else:
            _form(study, config)
        _status(study)


def analysis_panel(study: Study) -> None:
    """The panel of the analysis pages: the analyses (losses, A-distance, SVCCA, PCA, norm ratios) of one eps of
    a white-box sweep on one model that the study lacks, computed like ``compute_panel``'s cells."""
    config = _config(study.manifest)
    with st.expander("Analyse a missing cell or a new eps", icon=":material/calculate:"):
        reason = _blocked(study, config)
        if not reason and config is not None and not config.analysis.samples:
            reason = "This study runs no analyses (its config's `[analysis] samples` is 0)."
        if reason or config is None:
            st.info(reason or "This study's config cannot be read back from its manifest.")
        else:
            _analysis_form(study, config)
        _status(study)


def _analysis_form(study: Study, config: StudyConfig) -> None:
    keys = list(dict.fromkeys(sweep_key(sweep) for sweep in config.attacks if not sweep.source))
    model_col, sweep_col, eps_col = st.columns([2, 3, 1])
    model_id = model_col.selectbox("Model to analyse", [model.id for model in config.models], key="analyse_model")
    key = sweep_col.selectbox("White-box sweep", keys, key="analyse_sweep")
    sweep = sweep_for(config, key, model_id)
    lacking = [eps for eps in missing_eps(study.table("a_distance"), sweep, model_id) if 0 < eps < math.inf]
    eps = eps_col.number_input("Eps", min_value=0.0, value=lacking[0] if lacking else None, format="%g",
                               key=f"analyse_eps_{key}_{model_id}")
    estimate = STARTUP_SECONDS + ANALYSIS_COST * (estimate_seconds(study.robust_accuracy, key) - STARTUP_SECONDS)
    shown = ", ".join(f"{value:g}" for value in lacking) or "none of its eps"
    st.caption(f"{model_id} has no analyses of {key} at {shown}; any other eps > 0 may be typed. The engine's own "
               f"analysis job on the first {config.analysis.samples} test images: about {estimate:.0f} s.")
    if st.button("Analyse", icon=":material/play_arrow:", disabled=eps is None, key="analyse_go") and eps is not None:
        cell = Cell(model_id, key, float(eps), analysis=True)
        try:
            cell_job(config, cell)
        except ConfigError as error:
            st.error(f"Not computed: {error}")
            return
        compute_queue().submit(study.path, cell, estimate)
        st.rerun()


def _blocked(study: Study, config: StudyConfig | None) -> str:
    queue_busy = any(request.state == RUNNING for request in compute_queue().requests(study.path))
    if not study.finished:
        return "The study's run has not finished: computing here starts once it has."
    if is_locked(study.path) and not queue_busy:
        return "A runner is writing this study now: it is read-only here until the runner finishes."
    if not os.access(study.path, os.W_OK):
        return (f"The app server may not write `{study.path}`: computing is off for this study. Copy it to a "
                "folder the server can write, under a study root, to compute there.")
    if config is not None and not config.attacks:
        return "This study has no attack sweeps to extend."
    return ""


def _form(study: Study, config: StudyConfig) -> None:
    results = study.robust_accuracy
    keys = list(dict.fromkeys(sweep_key(sweep) for sweep in config.attacks))
    model_col, sweep_col, eps_col = st.columns([2, 3, 1])
    model_id = model_col.selectbox("Model", [model.id for model in config.models], key="compute_model")
    key = sweep_col.selectbox("Attack sweep", keys, key="compute_sweep")
    sweep = sweep_for(config, key, model_id)
    lacking = missing_eps(results, sweep, model_id) if model_id != sweep.source else []
    default = next((eps for eps in lacking if math.isfinite(eps)), None)
    eps = eps_col.number_input("Eps", min_value=0.0, value=default, format="%g", key=f"compute_eps_{key}_{model_id}")
    samples = sweep.samples or config.evaluation.samples
    estimate = estimate_seconds(results, key)
    st.caption(f"The sweep's eps: {', '.join(f'{value:g}' for value in sweep.eps)}; "
               f"{model_id} lacks {', '.join(f'{value:g}' for value in lacking) or 'none of them'}. "
               f"Any other eps may be typed. The engine's own job: {samples} test images, the sweep's settings and "
               f"seed; about {estimate:.0f} s from its measured rate.")
    one_col, all_col = st.columns([1, 3])
    asked: list[float] = []
    if one_col.button("Compute", icon=":material/play_arrow:", disabled=eps is None, key="compute_go"):
        asked = [float(eps)] if eps is not None else []
    if len(lacking) > 1 and all_col.button(f"Compute all {len(lacking)} missing eps", key="compute_all"):
        asked = lacking
    cells = [Cell(model_id, key, value) for value in asked]
    try:
        for cell in cells:
            cell_job(config, cell)
    except ConfigError as error:
        st.error(f"Not computed: {error}")
        return
    level_col, extend_col = st.columns([1, 3])
    level = level_col.number_input("Accuracy to reach (%)", 0.0, 50.0, 1.0, step=0.5, key="compute_level")
    tasks: list[Task] = list(cells)
    if extend_col.button(f"Extend this curve until at most {level:g} % of the images resist", key="compute_extend",
                         help=f"The engine picks the eps: it doubles the largest one measured until the accuracy "
                              f"is at most {level:g} %, then bisects to within {TOLERANCE:.0%}; at most "
                              f"{MAX_CELLS} new eps, each computed like one above."):
        tasks = [Extension(model_id, key, level / 100)]
        estimate = STARTUP_SECONDS + MAX_CELLS * (estimate - STARTUP_SECONDS)
    for task in tasks:
        request = compute_queue().submit(study.path, task, estimate)
        st.session_state.setdefault(MINE_KEY, {})[request.key] = (sweep.name, sweep.norm)
    if tasks:
        st.rerun()


def _status(study: Study) -> None:
    """Every request of this session's study: queued (with its place), running (progress, Cancel), ended."""
    requests = compute_queue().requests(study.path)
    active = any(request.state in (QUEUED, RUNNING) for request in requests)

    @st.fragment(run_every=1.0 if active else None)
    def poll() -> None:
        requests = compute_queue().requests(study.path)
        for request in requests:
            _show(request)
        revealed = [request for request in requests if _reveal(request)]
        if revealed or (active and not any(request.state in (QUEUED, RUNNING) for request in requests)):
            st.rerun(scope="app")  # the new part is on disk: redraw the charts with it

    poll()


def _show(request: Request) -> None:
    what = describe(request.task)
    if request.state == QUEUED:
        st.info(f"{what}: waiting, number {compute_queue().position(request)} in the queue.")
    elif request.state == RUNNING:
        done = min(request.elapsed() / request.estimate, 0.99) if request.estimate else 0.0
        progress_col, cancel_col = st.columns([5, 1])
        progress_col.progress(done, text=f"{what}: {request.elapsed():.0f} s of about {request.estimate:.0f} s")
        if cancel_col.button("Cancel", key=f"cancel_{request.task}"):
            compute_queue().cancel(request)
            st.rerun(scope="app")
    elif request.state == DONE:
        st.success(f"{what}: computed in {request.elapsed():.1f} s; the charts above include it.")
    elif request.state == FAILED:
        st.error(f"{what}: not computed. {request.message}")
    elif request.state == CANCELLED:
        kept = "the eps finished before were kept, " if isinstance(request.task, Extension) else ""
        st.info(f"{what}: cancelled; {kept}nothing of the computation under way was kept.")


def _reveal(request: Request) -> bool:
    """Add a cell this session computed to the page's selection (model, attack, norm and eps), once, so that
    the charts show it; whether it did."""
    mine = st.session_state.get(MINE_KEY, {})
    if request.state != DONE or request.key not in mine:
        return False
    attack, norm = mine.pop(request.key)
    task = request.task
    if isinstance(task, Cell):
        eps = [task.eps]
    else:  # every eps of the curve, the ones the engine picked included
        rows = load_table(request.study, "robust_accuracy")
        eps = sorted(set(rows.eps[(rows.model_id == task.model_id) & (rows.sweep == task.sweep)]))
    for name, values in (("models", [task.model_id]), ("attacks", [attack]), ("norms", [norm]), (f"eps_{norm}", eps)):
        select_more(name, values)
    return True
