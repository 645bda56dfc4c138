"""``leakage_scan``: columns that give the label away (it catches some leakage, not all)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bankml.data.quality._helpers import epoch_us, ident, pct
from bankml.data.quality.constants import (
    AUC_FOLDS,
    AUC_MIN_CLASS_ROWS,
    AUC_SMOOTHING,
    LEAKAGE_HIGH_AUC,
    LEAKAGE_POST_EVENT_TIME,
    LEAKAGE_TARGET_NAME,
    LOW_CARDINALITY_MAX,
    MSG_LEAK_AUC,
    MSG_LEAK_NAME,
    MSG_LEAK_POST_TIME,
    POST_EVENT_SHARE,
    SKIP_LEAKAGE_ROLES,
    TARGET_NAME_PATTERN,
)

if TYPE_CHECKING:
    from bankml.data.quality.checks import Checker

logger = logging.getLogger(__name__)


def leakage_scan(ck: Checker) -> None:
    """Run the three leakage checks: target-like names, post-event times, single-feature AUC."""
    _leak_names(ck)
    _leak_post_event_time(ck)
    _leak_auc(ck)


def _leak_names(ck: Checker) -> None:
    for name in ck.src.names:
        spec = ck.schema.column(name)
        role = ck.schema.role_of(name)
        if role in ("label", "label_time") or (spec is not None and spec.role is not None):
            continue
        match = TARGET_NAME_PATTERN.search(name)
        if match:
            ck.add(
                LEAKAGE_TARGET_NAME,
                "blocking",
                name,
                MSG_LEAK_NAME.format(column=name),
                matched=match.group(0),
            )


def _leak_post_event_time(ck: Checker) -> None:
    anchor = ck.schema.event_time
    if not ck.usable(anchor, ("date", "timestamp")):
        anchor = ck.schema.label_time
        if not ck.usable(anchor, ("date", "timestamp")):
            return
    if anchor is None:  # narrowed by usable(); kept explicit for the type checker
        return
    both: dict[str, str] = {}
    after: dict[str, str] = {}
    skip = {anchor, ck.schema.event_time, ck.schema.label_time}
    for name in ck.src.names:
        if name in skip or ck.kind(name) not in ("date", "timestamp"):
            continue
        if ck.schema.role_of(name) in ("label", "label_time", "event_time"):
            continue
        both[name] = f"{ident(name)} IS NOT NULL AND {ident(anchor)} IS NOT NULL"
        after[name] = (
            f"{epoch_us(name, ck.src.arrow_schema.field(name).type)}"
            f" > {epoch_us(anchor, ck.src.arrow_schema.field(anchor).type)}"
        )
    if not both:
        return
    counts = ck.counts(
        {
            **{f"both:{k}": v for k, v in both.items()},
            **{f"after:{k}": v for k, v in after.items()},
        }
    )
    for name in both:
        comparable, later = counts[f"both:{name}"], counts[f"after:{name}"]
        if comparable and later / comparable > POST_EVENT_SHARE:
            ck.add(
                LEAKAGE_POST_EVENT_TIME,
                "blocking",
                name,
                MSG_LEAK_POST_TIME.format(
                    column=name, anchor=anchor, share=pct(later / comparable)
                ),
                anchor=anchor,
                rows_later=later,
                rows_compared=comparable,
            )


def _leak_auc(ck: Checker) -> None:
    label = ck.schema.label
    if label is None or not ck.usable(label, ("bool", "int", "float")):
        return
    features: list[str] = []
    for name in ck.src.names:
        if name == label or ck.schema.role_of(name) in SKIP_LEAKAGE_ROLES:
            continue
        kind = ck.kind(name)
        distinct = ck.stats[name].distinct_count or 0
        if kind in ("int", "float", "bool") or (
            kind == "string" and distinct <= LOW_CARDINALITY_MAX
        ):
            features.append(name)
    if not features:
        return
    table = ck.src.read([label, *features])
    if ck.sample_rows is not None and table.num_rows > ck.sample_rows:
        rng = np.random.default_rng(ck.seed)
        idx = np.sort(rng.choice(table.num_rows, size=ck.sample_rows, replace=False))
        table = table.take(pa.array(idx))
    y_raw = pc.cast(table.column(label), pa.float64()).to_numpy(zero_copy_only=False)
    keep = ~np.isnan(y_raw)
    y_raw = y_raw[keep]
    if not np.isin(y_raw, (0.0, 1.0)).all():
        logger.info("leakage AUC skipped: label %s is not binary 0/1", label)
        return
    y = y_raw.astype(np.int8)
    positives = int(y.sum())
    if min(positives, len(y) - positives) < AUC_MIN_CLASS_ROWS:
        logger.info("leakage AUC skipped: too few rows of one class in %s", label)
        return
    ck.leakage_sample_rows = len(y)
    keep_idx = pa.array(np.flatnonzero(keep))
    for name in features:
        column = table.column(name).take(keep_idx)
        if ck.kind(name) == "string":
            auc = _categorical_auc(column, y, seed=ck.seed)
            method = "out-of-fold target mean"
        else:
            auc = _numeric_auc(column, y)
            method = "rank of value"
        if auc is None or auc <= ck.threshold:
            continue
        ck.add(
            LEAKAGE_HIGH_AUC,
            "warning",
            name,
            MSG_LEAK_AUC.format(column=name, label=label, auc=auc, threshold=ck.threshold),
            auc=auc,
            threshold=ck.threshold,
            method=method,
            rows=len(y),
        )


def _auc_from_groups(score: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC AUC from per-group (score, positives, negatives); equal scores count as ties."""
    levels, inverse = np.unique(score, return_inverse=True)
    p = np.bincount(inverse, weights=pos, minlength=len(levels))
    n = np.bincount(inverse, weights=neg, minlength=len(levels))
    below = np.cumsum(n) - n
    return float((p * (below + 0.5 * n)).sum() / (p.sum() * n.sum()))


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) identity, ties counted as half.

    Equals sklearn's ``roc_auc_score`` but avoids its import and validation cost: one sort of
    the distinct values, then counting.
    """
    levels, inverse = np.unique(score, return_inverse=True)
    total = np.bincount(inverse, minlength=len(levels)).astype(float)
    pos = np.bincount(inverse, weights=y, minlength=len(levels))
    return _auc_from_groups(levels, pos, total - pos)


def _numeric_auc(column: pa.ChunkedArray, y: np.ndarray) -> float | None:
    """max(AUC, 1 - AUC) of the raw value; missing values rank below every real value."""
    x = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    finite = np.isfinite(x)
    if not finite.any():
        return None
    x = np.where(finite, x, x[finite].min() - 1.0)
    if np.ptp(x) == 0:
        return None
    auc = _auc(y, x)
    return max(auc, 1.0 - auc)


def _categorical_auc(column: pa.ChunkedArray, y: np.ndarray, *, seed: int) -> float | None:
    """AUC of an out-of-fold, smoothed per-category target mean.

    Out-of-fold so a category seen once cannot "predict" its own row: an ID-like column
    scores about 0.5, a genuinely label-derived one close to 1. Computed on (fold, category)
    counts, so the cost is two passes over the rows whatever the number of folds.
    """
    encoded = column.combine_chunks().dictionary_encode()
    width = len(encoded.dictionary) + 1  # the last code stands for "missing"
    codes = pc.fill_null(encoded.indices, width - 1).to_numpy(zero_copy_only=False)
    codes = codes.astype(np.int64)
    if len(np.unique(codes)) < 2:
        return None
    folds = np.random.default_rng(seed).integers(0, AUC_FOLDS, size=len(y))
    cell = folds * width + codes
    size = AUC_FOLDS * width
    rows = np.bincount(cell, minlength=size).astype(float).reshape(AUC_FOLDS, width)
    pos = np.bincount(cell, weights=y, minlength=size).reshape(AUC_FOLDS, width)
    # Statistics from the other folds: totals minus this fold.
    train_rows = rows.sum(axis=0) - rows
    train_pos = pos.sum(axis=0) - pos
    prior = train_pos.sum(axis=1, keepdims=True) / np.maximum(
        train_rows.sum(axis=1, keepdims=True), 1.0
    )
    mean = (train_pos + AUC_SMOOTHING * prior) / (train_rows + AUC_SMOOTHING)
    used = rows.ravel() > 0
    score, p = mean.ravel()[used], pos.ravel()[used]
    n = rows.ravel()[used] - p
    if np.ptp(score) == 0:
        return None
    auc = _auc_from_groups(score, p, n)
    return max(auc, 1.0 - auc)
