"""Fairness report of a credit model: approval rates, error rates and calibration by group.

Computed with fairlearn's ``MetricFrame`` on a held-out set, for every protected attribute
(sex, age band, and any configured group; a numeric age is banded first). In credit the
favourable outcome is *approval*, so:

* **approval-rate ratio** = lowest group approval rate / highest (the four-fifths rule of
  thumb: >= 0.8), fairlearn's ``demographic_parity_ratio`` on the approve decision;
* **TPR** = approval rate among applicants who did *not* default (qualified applicants), and
  the **equal-opportunity difference** is its largest gap between groups;
* **FPR** = approval rate among applicants who defaulted;
* **PD calibration by group**: mean predicted PD vs observed default rate per group;
* **proxy scan**: for each feature, how well it alone predicts each protected attribute
  (single-feature ROC-AUC, one-vs-rest for several groups; category default-rate encoding for
  categoricals). A feature over ``proxy_auc_threshold`` is a *candidate* proxy for a person to
  review; the bank lists the ones it flags in ``[protected] proxies`` and reasons never name
  them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["AGE_BANDS", "age_band", "fairness_report", "proxy_scan"]

log = logging.getLogger(__name__)

AGE_BANDS = ((18, 25, "18-25"), (26, 40, "26-40"), (41, 60, "41-60"), (61, 200, "61+"))
_MIN_GROUP = 30  # smaller groups are reported but flagged as too small to judge


def age_band(age: pd.Series) -> pd.Series:
    """Band a numeric age as the synthetic bank does (18-25, 26-40, 41-60, 61+)."""
    a = pd.to_numeric(age, errors="coerce")
    out = pd.Series("unknown", index=age.index, dtype=object)
    for lo, hi, label in AGE_BANDS:
        out[(a >= lo) & (a <= hi)] = label
    out[a < 18] = "under 18"
    return out


def _groups(frame: pd.DataFrame, attr: str) -> pd.Series:
    col = frame[attr]
    if pd.api.types.is_numeric_dtype(col) and col.nunique() > 12:
        return age_band(col)
    return col.astype(str).fillna("unknown")


def _safe(value: Any) -> float | None:
    v = float(value)
    return v if np.isfinite(v) else None


def fairness_report(
    protected: pd.DataFrame,
    y_true: NDArray[np.int8],
    pd_pred: NDArray[np.float64],
    approved: NDArray[np.bool_],
    *,
    age_attributes: Sequence[str] = ("age", "age_band"),
    elderly_group: str = "61+",
) -> dict[str, Any]:
    """The ``fairness`` evidence section: per attribute, the gate figures and the group table.

    ``attributes`` is what the fairness gates judge; ``reported`` is every attribute's full
    group table. For an age attribute the gated comparison is Reg B's: 12 CFR
    1002.6(b)(2)(ii)/(iv) lets an empirically derived system use age-related information as
    long as applicants aged 62 or older are not disadvantaged, so the gate compares the
    elderly group with everyone younger (``age_band: 61+ vs younger``). The all-band ratio
    stays in ``reported`` and in the documentation for the validator to read.
    """
    y = np.asarray(y_true, np.int8)
    good = 1 - y  # qualified applicant = did not default; approval is the favourable outcome
    appr = np.asarray(approved, np.int8)
    attributes: dict[str, Any] = {}
    reported: dict[str, Any] = {}
    for attr in protected.columns:
        g = _groups(protected, attr).to_numpy()
        if len(set(g)) < 2:
            continue
        if attr in age_attributes and elderly_group in set(g):
            elder = np.where(g == elderly_group, elderly_group, f"under {elderly_group[:-1]}")
            m = _attribute(elder, good, appr, y, pd_pred)
            m["comparison"] = "Reg B 1002.6(b)(2): the elderly group against everyone younger"
            attributes[f"{attr}: {elderly_group} vs younger"] = m
            reported[str(attr)] = _attribute(g, good, appr, y, pd_pred)
            continue
        attributes[str(attr)] = reported[str(attr)] = _attribute(g, good, appr, y, pd_pred)
    return {
        "favourable_outcome": "approve",
        "rows": len(y),
        "attributes": attributes,
        "reported": reported,
    }


def _attribute(
    g: NDArray[Any],
    good: NDArray[np.int8],
    appr: NDArray[np.int8],
    y: NDArray[np.int8],
    pd_pred: NDArray[np.float64],
) -> dict[str, Any]:
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_ratio,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    mf = MetricFrame(
        metrics={
            "approval_rate": selection_rate,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
        },
        y_true=good,
        y_pred=appr,
        sensitive_features=g,
    )
    by = mf.by_group
    calib = (
        pd.DataFrame({"g": g, "pd": pd_pred, "y": y})
        .groupby("g")
        .agg(n=("y", "size"), mean_pd=("pd", "mean"), default_rate=("y", "mean"))
    )
    groups = []
    for name in sorted(by.index, key=str):
        row, c = by.loc[name], calib.loc[name]
        groups.append(
            {
                "group": str(name),
                "n": int(c["n"]),
                "approval_rate": _safe(row["approval_rate"]),
                "tpr": _safe(row["tpr"]),
                "fpr": _safe(row["fpr"]),
                "mean_pd": _safe(c["mean_pd"]),
                "default_rate": _safe(c["default_rate"]),
                "calibration_gap": _safe(c["mean_pd"] - c["default_rate"]),
                "small": bool(c["n"] < _MIN_GROUP),
            }
        )
    worst_gap = 0.0
    for x in groups:
        gap = x["calibration_gap"]
        if isinstance(gap, float):
            worst_gap = max(worst_gap, abs(gap))
    tpr = by["tpr"].astype(float)
    fpr = by["fpr"].astype(float)
    return {
        "approval_rate_ratio": _safe(
            demographic_parity_ratio(good, appr, sensitive_features=g, method="between_groups")
        ),
        "equal_opportunity_difference": _safe(tpr.max() - tpr.min()),
        "fpr_difference": _safe(fpr.max() - fpr.min()),
        "max_calibration_gap": worst_gap,
        "groups": groups,
    }


def _auc(y: NDArray[np.int8], x: NDArray[np.float64]) -> float | None:
    from sklearn.metrics import roc_auc_score

    ok = ~np.isnan(x)
    if ok.sum() < 2 or y[ok].min() == y[ok].max() or np.ptp(x[ok]) == 0:
        return None
    auc = float(roc_auc_score(y[ok], x[ok]))
    return max(auc, 1.0 - auc)


def proxy_scan(
    features: pd.DataFrame,
    categorical: Sequence[str],
    protected: pd.DataFrame,
    threshold: float,
    flagged: Sequence[str] = (),
) -> dict[str, Any]:
    """How well each feature alone predicts each protected attribute (see module docstring)."""
    scores: dict[str, dict[str, float | None]] = {}
    candidates = []
    for attr in protected.columns:
        g = _groups(protected, attr).to_numpy()
        levels = sorted(set(g), key=str)
        if len(levels) < 2:
            continue
        for feat in features.columns:
            col = features[feat]
            best: float | None = None
            for level in levels if len(levels) > 2 else levels[:1]:
                y = (g == level).astype(np.int8)
                if feat in categorical:
                    rates = pd.Series(y).groupby(col.astype(str).to_numpy()).mean()
                    x = col.astype(str).map(rates).to_numpy(np.float64)
                else:
                    x = pd.to_numeric(col, errors="coerce").to_numpy(np.float64)
                auc = _auc(y, x)
                if auc is not None and (best is None or auc > best):
                    best = auc
            scores.setdefault(str(feat), {})[str(attr)] = best
            if best is not None and best > threshold:
                candidates.append(
                    {
                        "feature": str(feat),
                        "attribute": str(attr),
                        "auc": best,
                        "flagged": feat in flagged,
                    }
                )
    return {
        "auc_threshold": threshold,
        "auc": scores,
        "candidates": sorted(candidates, key=lambda c: -c["auc"]),
        "flagged": list(flagged),
    }


def summary_rows(fairness: Mapping[str, Any]) -> list[list[Any]]:
    """Rows of the fairness table the CLI and the documentation print."""
    rows = []
    for attr, m in (fairness.get("reported") or fairness.get("attributes", {})).items():
        for g in m["groups"]:
            rows.append(
                [
                    attr,
                    g["group"],
                    g["n"],
                    g["approval_rate"],
                    g["tpr"],
                    g["fpr"],
                    g["mean_pd"],
                    g["default_rate"],
                ]
            )
    return rows
