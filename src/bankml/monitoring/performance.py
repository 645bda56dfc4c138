"""How well a champion really does: estimated from its own scores now, realised as labels arrive.

**Realised** (delayed labels: dispositions, chargebacks, defaults): average precision,
precision@k, card precision@k (rank cards by their highest score, the share of the top k
that are compromised), expected calibration error and the reliability curve. Each figure
carries its **label completeness** (labelled rows / rows): a day whose labels are 20% in is
not the same evidence as one that is complete.

**Estimated** before labels arrive (confidence-based performance estimation, the idea of
NannyML's CBPE): if the scores are calibrated, a row scored p is a positive with
probability p, so the expected true positives among the alerts are the sum of the alerted
scores. Hence estimated precision = sum(p | alerted) / alerts, recall = sum(p | alerted) /
sum(p), and AP's first-order expectation sum_r p_r * precision_r / sum(p) over rows ranked by
score. The estimate is only as good as the calibration: once labels are in, it is shown
beside the realised figure with its error. The expected alert volume is set against the
review team's capacity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "EstimatedPerformance",
    "RealisedPerformance",
    "average_precision",
    "estimate_performance",
    "expected_calibration_error",
    "realised_performance",
    "reliability",
]


def average_precision(label: np.ndarray, score: np.ndarray) -> float:
    """Average precision (as scikit-learn's: step-wise, ties broken by grouping scores)."""
    y = np.asarray(label, dtype=np.float64)
    s = np.asarray(score, dtype=np.float64)
    if y.size == 0 or y.sum() == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    # Thresholds at the distinct scores: cumulative counts at the last row of each tie group.
    last = np.r_[np.flatnonzero(np.diff(s)), y.size - 1]
    tp = np.cumsum(y)[last]
    seen = last + 1
    precision = tp / seen
    recall = tp / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def reliability(
    label: np.ndarray, score: np.ndarray, bins: int = 10
) -> list[dict[str, float | int]]:
    """Mean score vs observed rate in equal-width score bins (the non-empty ones)."""
    y = np.asarray(label, dtype=np.float64)
    s = np.asarray(score, dtype=np.float64)
    idx = np.clip((s * bins).astype(int), 0, bins - 1)
    out: list[dict[str, float | int]] = []
    for b in range(bins):
        m = idx == b
        n = int(m.sum())
        if n:
            out.append(
                {"bin": b, "n": n, "mean_score": float(s[m].mean()), "rate": float(y[m].mean())}
            )
    return out


def expected_calibration_error(label: np.ndarray, score: np.ndarray, bins: int = 10) -> float:
    """Row-weighted mean gap between mean score and observed rate over equal-width bins."""
    s = np.asarray(score, dtype=np.float64)
    if s.size == 0:
        return float("nan")
    rows = reliability(label, s, bins)
    return float(sum(r["n"] * abs(r["mean_score"] - r["rate"]) for r in rows) / s.size)


@dataclass(frozen=True)
class RealisedPerformance:
    """Figures from the labels known so far, with how complete those labels are."""

    rows: int
    labelled: int
    completeness: float
    positives: int
    average_precision: float
    precision_at_k: float
    card_precision_at_k: float
    precision: float
    recall: float
    ece: float
    reliability: list[dict[str, float | int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (NaN stays NaN: the store turns it into null)."""
        return asdict(self)


def realised_performance(
    score: np.ndarray,
    label: np.ndarray,
    *,
    k: int,
    threshold: float,
    entity: np.ndarray | None = None,
) -> RealisedPerformance:
    """Realised figures on one day's decisions; ``label`` is 1, 0 or NaN (not known yet)."""
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(label, dtype=np.float64)
    known = ~np.isnan(y)
    n, n_known = s.size, int(known.sum())
    nan = float("nan")
    if n_known == 0:
        return RealisedPerformance(n, 0, 0.0, 0, nan, nan, nan, nan, nan, nan)
    sk, yk = s[known], y[known]
    positives = int(yk.sum())
    # precision@k over the day's top k by score, counting only rows whose label is known
    top = np.argsort(-s, kind="mergesort")[:k]
    top_known = known[top]
    p_at_k = float(y[top][top_known].mean()) if top_known.any() else nan
    card_p = nan
    if entity is not None:
        card_p = _card_precision(s, y, np.asarray(entity), k)
    alerted = sk >= threshold
    precision = float(yk[alerted].mean()) if alerted.any() else nan
    recall = float(yk[alerted].sum() / positives) if positives else nan
    return RealisedPerformance(
        rows=n,
        labelled=n_known,
        completeness=n_known / n if n else 0.0,
        positives=positives,
        average_precision=average_precision(yk, sk),
        precision_at_k=p_at_k,
        card_precision_at_k=card_p,
        precision=precision,
        recall=recall,
        ece=expected_calibration_error(yk, sk),
        reliability=reliability(yk, sk),
    )


def _card_precision(s: np.ndarray, y: np.ndarray, entity: np.ndarray, k: int) -> float:
    codes, inverse = np.unique(entity, return_inverse=True)
    best = np.full(codes.size, -np.inf)
    np.maximum.at(best, inverse, s)
    fraud = np.zeros(codes.size)
    known = np.zeros(codes.size, dtype=bool)
    yk = ~np.isnan(y)
    np.maximum.at(fraud, inverse[yk], y[yk])
    known[inverse[yk]] = True
    top = np.argsort(-best, kind="mergesort")[:k]
    top = top[known[top]]
    return float(fraud[top].mean()) if top.size else float("nan")


@dataclass(frozen=True)
class EstimatedPerformance:
    """Confidence-based estimates from calibrated scores, and the alert volume vs capacity."""

    rows: int
    expected_positives: float
    alerts: int
    capacity: int | None
    capacity_use: float | None
    precision: float
    recall: float
    average_precision: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return asdict(self)


def estimate_performance(
    score: np.ndarray, *, threshold: float, capacity: int | None = None
) -> EstimatedPerformance:
    """CBPE-style estimates on unlabelled traffic (scores must be calibrated probabilities)."""
    p = np.clip(np.asarray(score, dtype=np.float64), 0.0, 1.0)
    nan = float("nan")
    alerted = p >= threshold
    alerts = int(alerted.sum())
    expected = float(p.sum())
    use = alerts / capacity if capacity else None
    if p.size == 0 or expected == 0:
        return EstimatedPerformance(int(p.size), expected, alerts, capacity, use, nan, nan, nan)
    tp = float(p[alerted].sum())
    ranked = np.sort(p)[::-1]
    prec_at_rank = np.cumsum(ranked) / np.arange(1, ranked.size + 1)
    est_ap = float(np.sum(ranked * prec_at_rank) / expected)
    return EstimatedPerformance(
        rows=int(p.size),
        expected_positives=expected,
        alerts=alerts,
        capacity=capacity,
        capacity_use=use,
        precision=tp / alerts if alerts else nan,
        recall=tp / expected,
        average_precision=est_ap,
    )
