"""Robustness Atlas engine: train, attack and analyse image classifiers; write parquet results.

The engine never imports Streamlit. Inputs live in [0, 1]; normalisation is a layer of the model.
"""

__version__ = "0.1.0"
