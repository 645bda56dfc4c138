"""Data quality of live traffic, one day at a time, against the training profile.

The profile is small (per column: type, missing rate, 0.1%/99.9% quantiles and range,
known categories; the daily volume's mean and spread) and is kept as JSON with each
monitored model version. A live day is then checked for:

* missing rate per column, and its jump over the training rate (a broken feed shows as a
  column going null);
* values outside the training range (below the 0.1% or above the 99.9% quantile, the
  training min/max widened by one inter-quantile width for tiny samples);
* categories never seen in training;
* schema mismatches: a column missing, an extra column, a numeric column carrying text;
* a volume anomaly: the day's row count more than ``volume_z`` standard deviations from the
  training days' mean (the spread at least a Poisson count's), and at least 50% away from it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ColumnProfile", "DayQuality", "TrainingProfile", "check_day", "profile_frame"]

_MAX_CATEGORIES = 200


@dataclass(frozen=True)
class ColumnProfile:
    """What training looked like for one column."""

    name: str
    column_type: str  # "num" or "cat"
    missing_rate: float
    low: float | None = None
    high: float | None = None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainingProfile:
    """The training data's shape, kept to judge live days."""

    columns: tuple[ColumnProfile, ...]
    rows: int
    daily_volume_mean: float
    daily_volume_std: float

    def column(self, name: str) -> ColumnProfile | None:
        """One column's profile, or None."""
        return next((c for c in self.columns if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingProfile:
        """Read back ``to_dict``."""
        cols = tuple(
            ColumnProfile(**{**c, "categories": tuple(c.get("categories", ()))})
            for c in data["columns"]
        )
        return cls(cols, int(data["rows"]), data["daily_volume_mean"], data["daily_volume_std"])


def profile_frame(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str],
    categorical: Sequence[str] = (),
    day: pd.Series | None = None,
) -> TrainingProfile:
    """Profile the reference ``frame``; ``day`` (a date per row) gives the daily volume."""
    cats = set(categorical)
    out = []
    for name in columns:
        s = frame[name]
        missing = float(s.isna().mean()) if len(s) else 0.0
        if name in cats:
            values = s.dropna().astype(str).value_counts()
            out.append(
                ColumnProfile(
                    name, "cat", missing, categories=tuple(sorted(values.index[:_MAX_CATEGORIES]))
                )
            )
            continue
        arr = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        arr = arr[np.isfinite(arr)]
        if arr.size == 0:
            out.append(ColumnProfile(name, "num", missing))
            continue
        lo, hi = np.quantile(arr, [0.001, 0.999])
        width = float(hi - lo)
        # Tiny samples: the quantiles sit at the extremes; widen so noise is not "out of range".
        if arr.size < 1000:
            lo, hi = float(arr.min()) - width, float(arr.max()) + width
        out.append(ColumnProfile(name, "num", missing, float(lo), float(hi)))
    if day is not None and len(day):
        counts = day.value_counts()
        mean, std = float(counts.mean()), float(counts.std(ddof=0))
    else:
        mean, std = float(len(frame)), 0.0
    return TrainingProfile(tuple(out), len(frame), mean, std)


@dataclass(frozen=True)
class DayQuality:
    """One live day's data-quality findings."""

    rows: int
    missing_rate: dict[str, float] = field(default_factory=dict)
    missing_jump: dict[str, float] = field(default_factory=dict)
    out_of_range: dict[str, float] = field(default_factory=dict)
    unseen_categories: dict[str, list[str]] = field(default_factory=dict)
    schema_mismatches: list[str] = field(default_factory=list)
    volume_z: float = 0.0
    volume_anomaly: bool = False

    @property
    def max_missing_jump(self) -> float:
        """The largest rise of a column's missing rate over training."""
        return max(self.missing_jump.values(), default=0.0)

    @property
    def max_out_of_range(self) -> float:
        """The largest share of out-of-range values in any column."""
        return max(self.out_of_range.values(), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return asdict(self)


def check_day(
    profile: TrainingProfile,
    frame: pd.DataFrame,
    *,
    volume_z: float = 4.0,
) -> DayQuality:
    """Check one live day's rows against the training profile."""
    rows = len(frame)
    missing: dict[str, float] = {}
    jump: dict[str, float] = {}
    oor: dict[str, float] = {}
    unseen: dict[str, list[str]] = {}
    schema: list[str] = []
    known = {c.name for c in profile.columns}
    for extra in sorted(set(frame.columns) - known):
        schema.append(f"unexpected column {extra!r}")
    for col in profile.columns:
        if col.name not in frame.columns:
            schema.append(f"missing column {col.name!r}")
            continue
        s = frame[col.name]
        rate = float(s.isna().mean()) if rows else 0.0
        missing[col.name] = rate
        jump[col.name] = max(rate - col.missing_rate, 0.0)
        present = s.dropna()
        if col.column_type == "cat":
            seen = set(col.categories)
            new = sorted({str(v) for v in present.unique()} - seen)
            if new and len(seen) < _MAX_CATEGORIES:
                unseen[col.name] = new[:20]
            continue
        numeric = pd.to_numeric(present, errors="coerce")
        if int(numeric.isna().sum()):
            schema.append(f"column {col.name!r} carries non-numeric values")
        arr = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
        arr = arr[np.isfinite(arr)]
        if arr.size and col.low is not None and col.high is not None:
            oor[col.name] = float(np.mean((arr < col.low) | (arr > col.high)))
    # Daily counts vary at least as a Poisson count would, even if training days were equal.
    spread = max(profile.daily_volume_std, math.sqrt(max(profile.daily_volume_mean, 0.0)))
    z = (rows - profile.daily_volume_mean) / spread if spread > 0 else 0.0
    far = abs(rows - profile.daily_volume_mean) >= 0.5 * profile.daily_volume_mean
    return DayQuality(
        rows, missing, jump, oor, unseen, schema, float(z), abs(z) >= volume_z and far
    )
