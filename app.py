"""Robustness Atlas: explore adversarial-robustness results. Run with `streamlit run app.py`."""

import streamlit as st

from ui.charts import export_format_select
from ui.pages import PAGES
from ui.sidebar import results_dir_input
from ui.state import finish_page, share_view, start_page
from ui.study import run_page

st.set_page_config(page_title="Robustness Atlas", layout="wide")
# The page scripts live in app_pages/, not pages/: with a pages/ folder next to this file, Streamlit 1.67 runs
# a page URL without this script (no sidebar, no page config) until st.navigation has run once in the server
# process, and on every AppTest run. Measured with app_pages/ renamed to pages/: /svcca as the first request of
# a fresh server drew the v1 sidebar without the study input; AppTest's switch_page found 0 sidebar inputs
# (1 with app_pages/). client.showSidebarNavigation=false hides the navigation but keeps the fallback.
page = st.navigation([st.Page(entry.script, title=entry.title, icon=entry.icon, default=entry.default)
                      for entry in PAGES])
st.sidebar.title("Robustness Atlas")
results_dir_input()
export_format_select(st.sidebar)
start_page(next(entry.name for entry in PAGES if entry.title == page.title))
share_view(st.sidebar)  # the link's place, below the sidebar's controls: filled once the page has drawn
try:
    run_page(page)  # a damaged study is explained in the page body, not as a traceback
finally:  # also when the page stops early (st.stop)
    finish_page()  # the URL is now this page's view, and only it: the link shows it
