"""Small formatting and SQL helpers shared by the checks, the profile and the report."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa

from bankml.data.quality.constants import BUCKET_WIDTHS, MISSINGNESS_MIN_GROUP_ROWS


def plain_json(value: Any) -> Any:
    """Convert numpy/Decimal/datetime values (recursively) into JSON-serialisable ones."""
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_json(v) for v in value]
    if isinstance(value, np.generic):
        return plain_json(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def pct(rate: float) -> str:
    if 0 < rate < 0.01:
        return f"{rate:.2%}"
    return f"{rate:.1%}"


def us_to_iso(us: int | None) -> str | None:
    if us is None:
        return None
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))).isoformat()


def day_to_iso(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=int(day))).isoformat()


def days_text(first_day: int, last_day: int) -> str:
    if first_day == last_day:
        return f"on {day_to_iso(first_day)}"
    return f"between {day_to_iso(first_day)} and {day_to_iso(last_day)}"


def bucket_days(rows: int, span_days: float) -> int:
    """Period length for the time-missingness test: the shortest with enough rows per period.

    Days for a busy transaction table, weeks to quarters for a small application table, so
    each period has a fair chance of ``MISSINGNESS_MIN_GROUP_ROWS`` rows.
    """
    per_day = rows / max(span_days, 1.0)
    for width in BUCKET_WIDTHS:
        if per_day * width >= 2 * MISSINGNESS_MIN_GROUP_ROWS:
            return width
    return BUCKET_WIDTHS[-1]


def examples_text(values: Iterable[Any]) -> str:
    return ", ".join(repr(plain_json(v)) for v in values) or "-"


def null_pred(col: str, kind: str) -> str:
    """SQL that is true where the value is missing (NaN counts as missing for floats)."""
    q = ident(col)
    return f"({q} IS NULL OR isnan({q}))" if kind == "float" else f"({q} IS NULL)"


def epoch_us(col: str, dtype: pa.DataType) -> str:
    """SQL for microseconds since 1970-01-01 UTC of a date or timestamp column.

    Casting first makes every unit (s/ms/us/ns) and zone work; a naive timestamp is read as
    UTC wall time, which is the only reading available (and the naive check flags it).
    """
    q = ident(col)
    if pa.types.is_date(dtype):
        return f"epoch_us({q})"
    target = "TIMESTAMP" if dtype.tz is None else "TIMESTAMPTZ"
    return f"epoch_us(CAST({q} AS {target}))"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def reason_text(exc: BaseException) -> str:
    """The first line of an exception, printable and short enough for a one-line message."""
    text = str(exc) or type(exc).__name__
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text if len(text) <= 160 else text[:157] + "..."


def kind_of(dtype: pa.DataType) -> str:
    """Map an Arrow type to the schema's vocabulary (plus ``null`` and ``other``)."""
    if pa.types.is_dictionary(dtype):
        return kind_of(dtype.value_type)
    if pa.types.is_boolean(dtype):
        return "bool"
    if pa.types.is_integer(dtype):
        return "int"
    if pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "float"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if getattr(pa.types, "is_string_view", lambda _t: False)(dtype):
        return "string"
    if pa.types.is_date(dtype):
        return "date"
    if pa.types.is_timestamp(dtype):
        return "timestamp"
    if pa.types.is_null(dtype):
        return "null"
    return "other"


def type_label(dtype: pa.DataType) -> str:
    return str(dtype.value_type) if pa.types.is_dictionary(dtype) else str(dtype)


def is_naive(dtype: pa.DataType) -> bool:
    return pa.types.is_timestamp(dtype) and dtype.tz is None


def compatible(found: str, expected: str) -> bool:
    """Whether a column of kind ``found`` satisfies a schema dtype (int widens to float)."""
    return found == expected or found == "null" or (expected == "float" and found == "int")
