"""Plotly figure builders of the app's pages: tidy result tables (``engine.results.schema``) in, ``go.Figure`` out.

Pure functions of their DataFrames, free of Streamlit (tested without AppTest): ``accuracy`` (robust-accuracy
heatmaps and curves, transfer), ``analysis`` (losses, latent space, SVCCA, norms, boundary, training curves),
``playground`` (class probabilities), ``labels`` (how models are named) and ``layout`` (what they share).
"""
