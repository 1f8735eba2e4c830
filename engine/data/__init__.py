"""Datasets: one spec per dataset (``datasets``), in-memory splits (``split``), loaders from disk
(``loaders``), Park & So's augmentation (``augment``) and hostile-upload decoding (``uploads``)."""
