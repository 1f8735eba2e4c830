"""Robustness Atlas: explore adversarial-robustness results. Run with `streamlit run app.py`."""

import streamlit as st

from ui.sidebar import results_dir_input
from ui.state import sync_url

st.set_page_config(page_title="Robustness Atlas", layout="wide")
# The page scripts live in app_pages/, not pages/: a folder named pages/ next to this file switches
# Streamlit to its older multipage mode whenever a session starts on a page URL (and in every AppTest
# run), which then runs the page without this script: no sidebar, no page config.
page = st.navigation([
    st.Page("app_pages/overview.py", title="Overview", icon=":material/info:", default=True),
    st.Page("app_pages/accuracy.py", title="Robust accuracy", icon=":material/grid_on:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("app_pages/losses.py", title="Loss distributions", icon=":material/bar_chart:"),
    st.Page("app_pages/latent.py", title="Latent space", icon=":material/scatter_plot:"),
    st.Page("app_pages/svcca.py", title="SVCCA", icon=":material/stacked_line_chart:"),
    st.Page("app_pages/norms.py", title="Norms and boundary", icon=":material/straighten:"),
    st.Page("app_pages/training.py", title="Training curves", icon=":material/show_chart:"),
    st.Page("app_pages/playground.py", title="Attack playground", icon=":material/bolt:"),
])
st.sidebar.title("Robustness Atlas")
results_dir_input()
sync_url()
page.run()
