"""Reports written from a study directory's files: the Markdown summary (``summary``), the papers'
findings (``findings``), Carlini et al.'s sanity checks (``sanity``), training-mode comparisons
(``compare``) and the one Markdown table renderer (``markdown``)."""
