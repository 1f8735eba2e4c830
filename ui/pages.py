"""The app's pages, defined once: app.py's navigation, the AppTest and browser tests and the latency
benchmark all read this list. Plain data, so that the tests and the benchmark need no Streamlit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = "app_pages"  # not pages/: see the comment in app.py


@dataclass(frozen=True)
class Page:
    """One page: its script (relative to app.py), its title and its sidebar icon."""

    script: str
    title: str
    icon: str
    default: bool = False

    @property
    def name(self) -> str:
        """The script's stem, e.g. "svcca"."""
        return Path(self.script).stem

    @property
    def url_path(self) -> str:
        """The page's path in the app's URL: "" for the default page, else the script's stem."""
        return "" if self.default else self.name


PAGES = (
    Page(f"{PAGES_DIR}/overview.py", "Overview", ":material/info:", default=True),
    Page(f"{PAGES_DIR}/accuracy.py", "Robust accuracy", ":material/grid_on:"),
    Page(f"{PAGES_DIR}/compare.py", "Compare", ":material/compare_arrows:"),
    Page(f"{PAGES_DIR}/losses.py", "Loss distributions", ":material/bar_chart:"),
    Page(f"{PAGES_DIR}/latent.py", "Latent space", ":material/scatter_plot:"),
    Page(f"{PAGES_DIR}/svcca.py", "SVCCA", ":material/stacked_line_chart:"),
    Page(f"{PAGES_DIR}/norms.py", "Norms and boundary", ":material/straighten:"),
    Page(f"{PAGES_DIR}/training.py", "Training curves", ":material/show_chart:"),
    Page(f"{PAGES_DIR}/robust_datasets.py", "Robust datasets", ":material/auto_fix_high:"),
    Page(f"{PAGES_DIR}/playground.py", "Attack playground", ":material/bolt:"),
    Page(f"{PAGES_DIR}/papers.py", "Papers", ":material/menu_book:"),
)
