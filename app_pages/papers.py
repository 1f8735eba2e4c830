"""Papers: each numbered table and figure of Garaev et al. 2024 and Park & So 2020 beside the study's counterpart,
with the checks of the paper's claim, the verdict and links to the views that show the evidence."""

import pandas as pd
import streamlit as st

from engine.reporting.papers import GARAEV, PARK_SO
from engine.reporting.side_by_side import AGREES, DISAGREES, NOT_HERE, NOT_IN_STUDY, PARTLY, Counterpart
from ui.papers import load_counterparts, view_url
from ui.study import require_study

ICONS = {AGREES: ":material/check_circle:", PARTLY: ":material/contrast:", DISAGREES: ":material/cancel:",
         NOT_HERE: ":material/block:", NOT_IN_STUDY: ":material/help:"}
YES = {True: "yes", False: "no", None: "stated, no numbers"}

study = require_study()
st.title("Papers")
st.caption("Every numbered table and figure of the two papers, transcribed from their full texts, with ours beside "
           "it in the paper's own layout (cells read `paper / ours`; our model and eps named where they stand in "
           "for the paper's). Each claim is tested by checks run on the paper's numbers and on ours: the verdict "
           "is agrees when all hold on ours, disagrees when none does, partly otherwise. `python -m engine papers` "
           "prints the same; docs/papers.md is it for the shipped study.")

found = load_counterparts(study)
overview = pd.DataFrame({"paper": [c.source.paper for c in found], "item": [c.source.number for c in found],
                         "verdict": [c.verdict for c in found], "caption": [c.source.caption for c in found]})
st.dataframe(overview, hide_index=True, height=35 * (len(overview) + 1) + 3,  # every row, no inner scroll
             column_config={"caption": st.column_config.TextColumn(width="large")})


def show(item: Counterpart) -> None:
    """One table or figure: the paper's claim, ours, the side-by-side table, the checks and the evidence links."""
    with st.expander(f"{item.source.number}: {item.verdict}", icon=ICONS[item.verdict]):
        st.caption(item.source.caption)
        lines = ([f"**Paper:** {item.claim}"] if item.claim else []) + [f"**Ours:** {item.ours}"]
        lines += [f"**Setting:** {item.setting}"] if item.setting else []
        st.markdown("\n\n".join(lines))
        if not item.table.empty:
            st.dataframe(item.table, hide_index=True)
        if item.checks:
            st.dataframe(pd.DataFrame({"check": [c.name for c in item.checks],
                                       "paper": [YES[c.paper] for c in item.checks],
                                       "ours": [YES[c.ours] for c in item.checks]}), hide_index=True)
        if item.evidence:
            st.caption(f"Evidence: {item.evidence}")
        if item.views:
            st.markdown("Open the evidence: " + " · ".join(f"[{view.label}]({view_url(view)})" for view in item.views))


for tab, paper in zip(st.tabs([GARAEV, PARK_SO]), (GARAEV, PARK_SO), strict=True):
    with tab:
        for item in found:
            if item.source.paper == paper:
                show(item)
