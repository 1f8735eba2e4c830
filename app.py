"""Robustness Atlas: explore adversarial-robustness results. Run with `streamlit run app.py`."""

import streamlit as st

from ui.sidebar import results_dir_input

st.set_page_config(page_title="Robustness Atlas", layout="wide")
# The page scripts live in app_pages/, not pages/: a folder named pages/ next to this file switches
# Streamlit to its older multipage mode whenever a session starts on a page URL (and in every AppTest
# run), which then runs the page without this script: no sidebar, no page config.
page = st.navigation([
    st.Page("app_pages/overview.py", title="Overview", icon=":material/info:", default=True),
    st.Page("app_pages/accuracy.py", title="Robust accuracy", icon=":material/grid_on:"),
])
st.sidebar.title("Robustness Atlas")
results_dir_input()
page.run()
