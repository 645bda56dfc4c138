"""Capacity planning: an operating threshold the review team can actually work.

The threshold is chosen on days the model has not been trained on and whose labels are not
needed: the *delay gap* between the training and test periods (labels there are not yet
known, but scores are). For each such day we take the score of the k-th highest transaction;
the threshold is a high quantile of those, so on most days no more than k alerts are raised.
The test period then reports how often capacity was exceeded in fact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from bankml.core.errors import InputError
from bankml.fraud.evaluation import CostModel, daily_alerts

__all__ = [
    "CapacityPlan",
    "TradeoffRow",
    "choose_threshold",
    "plan",
    "recall_cost",
    "tradeoff_table",
]


@dataclass(frozen=True)
class TradeoffRow:
    """What one threshold means for the review team and the bank."""

    threshold: float
    alerts_per_day: float
    max_alerts_per_day: int
    recall: float
    precision: float
    net_saving: float


@dataclass(frozen=True)
class CapacityPlan:
    """The chosen threshold, the evidence for it, and the trade-off around it."""

    capacity: int
    threshold: float
    quantile: float
    reference_days: int
    rows: tuple[TradeoffRow, ...]
    recall_plus_2pts: dict[str, float] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        out = asdict(self)
        out["rows"] = [asdict(r) for r in self.rows]
        return out


def choose_threshold(reference: pd.DataFrame, capacity: int, quantile: float = 0.9) -> float:
    """The ``quantile`` of the daily k-th highest score over the reference days."""
    if capacity < 1:
        raise InputError("capacity must be at least 1 alert per day")
    if reference.empty:
        raise InputError("no reference days to choose a threshold on")
    kth = []
    for _, day in reference.groupby(reference["timestamp"].dt.floor("D")):
        scores = np.sort(day["score"].to_numpy())[::-1]
        # Fewer transactions than capacity: every one can be reviewed that day.
        kth.append(scores[capacity - 1] if len(scores) >= capacity else 0.0)
    # Nudge up by one ulp so that ties at the k-th score do not push a day over capacity.
    return float(np.nextafter(np.quantile(kth, quantile), 1.0))


def tradeoff_table(
    scored: pd.DataFrame, thresholds: list[float], cost: CostModel | None = None
) -> list[TradeoffRow]:
    """Alerts/day, recall, precision and net saving for each threshold on labelled days."""
    cost = cost or CostModel()
    label = scored["label"].to_numpy(dtype=bool)
    score = scored["score"].to_numpy()
    amount = scored["amount"].to_numpy()
    frauds = max(int(label.sum()), 1)
    rows = []
    for t in sorted(set(thresholds), reverse=True):
        alert = score >= t
        tp = alert & label
        per_day = daily_alerts(scored, t)
        rows.append(
            TradeoffRow(
                threshold=float(t),
                alerts_per_day=float(per_day.mean()),
                max_alerts_per_day=int(per_day.max()),
                recall=float(tp.sum()) / frauds,
                precision=float(tp.sum()) / int(alert.sum()) if alert.any() else 0.0,
                net_saving=cost.net_saving(float(amount[tp].sum()), int(alert.sum())),
            )
        )
    return rows


def recall_cost(
    scored: pd.DataFrame, threshold: float, points: float = 0.02
) -> dict[str, float] | None:
    """What ``points`` more recall costs in daily review volume, from the test period.

    Returns None when no threshold reaches that recall.
    """
    label = scored["label"].to_numpy(dtype=bool)
    score = scored["score"].to_numpy()
    frauds = int(label.sum())
    if frauds == 0:
        return None
    recall_now = float((label & (score >= threshold)).sum()) / frauds
    target = recall_now + points
    fraud_scores = np.sort(score[label])[::-1]
    needed = int(np.ceil(target * frauds))
    if needed > frauds:
        return None
    new_threshold = float(fraud_scores[needed - 1])
    days = scored["timestamp"].dt.floor("D").nunique()
    return {
        "recall_now": recall_now,
        "recall_target": target,
        "threshold_now": float(threshold),
        "threshold_needed": new_threshold,
        "alerts_per_day_now": float((score >= threshold).sum()) / days,
        "alerts_per_day_needed": float((score >= new_threshold).sum()) / days,
    }


def plan(
    reference: pd.DataFrame,
    test: pd.DataFrame,
    capacity: int,
    *,
    quantile: float = 0.9,
    cost: CostModel | None = None,
) -> CapacityPlan:
    """Choose the threshold on ``reference`` days and lay out the trade-off on ``test`` days."""
    threshold = choose_threshold(reference, capacity, quantile)
    grid = list(np.quantile(test["score"], [0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999]))
    rows = tradeoff_table(test, [*grid, threshold], cost)
    return CapacityPlan(
        capacity=capacity,
        threshold=threshold,
        quantile=quantile,
        reference_days=int(reference["timestamp"].dt.floor("D").nunique()),
        rows=tuple(rows),
        recall_plus_2pts=recall_cost(test, threshold),
    )
