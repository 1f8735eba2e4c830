"""Study results: the schema (``schema``), atomic parquet I/O (``io``) and provenance (``manifest``)."""

from engine.results.io import read_table, write_part
from engine.results.schema import TABLES, SchemaError

__all__ = ["TABLES", "SchemaError", "read_table", "write_part"]
