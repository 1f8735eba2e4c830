"""Study configuration as pure data: the dataclasses (``schema``) and the TOML reader (``toml``).

This package imports nothing else of the engine; the registries' checks live in ``engine.study.validate``.
"""
