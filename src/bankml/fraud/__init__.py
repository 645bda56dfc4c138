"""Fraud triage: point-in-time features, the capacity-aware model, the review queue, scoring.

Names are imported lazily (PEP 562), so ``import bankml.fraud`` stays cheap: DuckDB,
pandas and the model libraries load only when something that needs them is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bankml.fraud.features import (
        FEATURE_NAMES,
        FRAUD_FEATURES,
        FeatureFrame,
        build_fraud_features,
        resolve,
    )
    from bankml.fraud.mapping import DEFAULT_MAPPING, ColumnMapping, load_mapping
    from bankml.fraud.online import OnlineFeatureStore
    from bankml.fraud.transaction import Transaction

__all__ = [
    "DEFAULT_MAPPING",
    "FEATURE_NAMES",
    "FRAUD_FEATURES",
    "ColumnMapping",
    "FeatureFrame",
    "OnlineFeatureStore",
    "Transaction",
    "build_fraud_features",
    "load_mapping",
    "resolve",
]

_HOME = {
    "DEFAULT_MAPPING": "bankml.fraud.mapping",
    "ColumnMapping": "bankml.fraud.mapping",
    "load_mapping": "bankml.fraud.mapping",
    "resolve": "bankml.fraud.features",
    "FEATURE_NAMES": "bankml.fraud.features",
    "FRAUD_FEATURES": "bankml.fraud.features",
    "FeatureFrame": "bankml.fraud.features",
    "build_fraud_features": "bankml.fraud.features",
    "OnlineFeatureStore": "bankml.fraud.online",
    "Transaction": "bankml.fraud.transaction",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'bankml.fraud' has no attribute {name!r}")
    return getattr(import_module(module), name)
