"""Canonical JSON: one byte string per value, so hashes are reproducible on every machine."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from bankml.core.clock import utc_iso
from bankml.core.errors import InputError

__all__ = ["canonical_json", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Convert common Python, numpy and pandas values into plain JSON types.

    Floats must be finite: NaN and infinity have no canonical JSON form, so they are refused
    rather than silently written as non-standard tokens.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"cannot record a non-finite number ({value}) in canonical JSON")
        return value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, Path):
        return str(value)
    item = getattr(value, "item", None)  # numpy / pandas scalars
    if callable(item):
        return to_jsonable(item())
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return to_jsonable(tolist())
    raise InputError(f"cannot record a value of type {type(value).__name__} in canonical JSON")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept as is, finite numbers only."""
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
