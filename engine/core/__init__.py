"""Leaf utilities every stage may use: atomic files, content hashes, device choice, tensor shapes.

Nothing here imports another part of the engine.
"""
