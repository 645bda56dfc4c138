"""Data: the synthetic bank, table schemas, data-quality and leakage checks, the feature engine.

Names load lazily (PEP 562): ``import bankml.data`` does not pull in pandas, pyarrow or DuckDB
until something that needs them is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "BankManifest": "bankml.data.generator",
    "generate_bank": "bankml.data.generator",
    "load_manifest": "bankml.data.generator",
    "ColumnSpec": "bankml.data.schemas",
    "TableSchema": "bankml.data.schemas",
    "list_schemas": "bankml.data.schemas",
    "load_schema": "bankml.data.schemas",
    "Finding": "bankml.data.quality",
    "QualityReport": "bankml.data.quality",
    "check_table": "bankml.data.quality",
    "FeatureDef": "bankml.data.features",
    "compute_features": "bankml.data.features",
    "definitions_hash": "bankml.data.features",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'bankml.data' has no attribute {name!r}")
