"""Reasons in words: the features that pushed a transaction's score up, as an analyst reads them.

Contributions are LightGBM's exact per-feature TreeSHAP values (``pred_contrib``), in
log-odds; a reason is only given for a feature that *raised* the score.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from bankml.fraud.features import GAP_CAP_HOURS

__all__ = ["Reason", "reason_text", "top_reasons"]

_WINDOW_WORDS = {
    "1d": "24 hours",
    "7d": "7 days",
    "30d": "30 days",
    "10m": "10 minutes",
    "1h": "hour",
}
_WINDOWED = re.compile(r"^(?P<base>.+)_(?P<w>\d+[mhd])$")


@dataclass(frozen=True)
class Reason:
    """One reason: the feature, its value, how much it raised the score, and the words."""

    feature: str
    value: float
    contribution: float
    text: str


def _gap(hours: float) -> str:
    """A time gap in the unit an analyst would say it in."""
    if hours < 1:
        return f"{max(hours * 60, 0):.0f} minutes"
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.0f} days"


def _times(ratio: float, of: str) -> str:
    """An amount against a reference: "3.2x the ...", or a share when it is below it."""
    return f"amount is {ratio:.1f}x {of}" if ratio >= 0.95 else f"amount is {ratio:.0%} of {of}"


def reason_text(feature: str, value: float) -> str:
    """A short sentence for a feature's value, in the fraud team's words."""
    if math.isnan(value):
        return f"{feature} unknown"
    m = _WINDOWED.match(feature)
    base, window = (m["base"], _WINDOW_WORDS.get(m["w"], m["w"])) if m else (feature, "")
    if feature.startswith("hours_since_"):  # hours_since_{customer,terminal}_txn
        who = feature.removeprefix("hours_since_").removesuffix("_txn")
        if value >= GAP_CAP_HOURS:
            return f"no earlier transaction by the {who} in the last {GAP_CAP_HOURS / 24:.0f} days"
        return f"{_gap(value)} since the {who}'s previous transaction"
    span = window.replace(" ", "-").removesuffix("s")  # "30 days" -> "30-day"
    texts = {
        "amount": f"amount {value:,.2f}",
        "amount_to_customer_mean": _times(value, f"the customer's {span} average"),
        "amount_to_customer_median": _times(value, f"the customer's {span} median"),
        "customer_txn_count": f"{value:.0f} transactions by the customer in the last {window}",
        "customer_mean_amount": f"customer's mean amount over the last {window} is {value:,.2f}",
        "terminal_txn_count": f"{value:.0f} transactions at this terminal in the last {window}",
        "terminal_fraud_rate": f"terminal's confirmed fraud rate over {window} is {value:.1%}",
        "card_small_txn_count": f"{value:.0f} small-amount transactions on the card in the last "
        f"{window} (card-testing pattern)",
        "card_new_terminal": "first use of this terminal by the card"
        if value >= 0.5
        else "card has used this terminal before",
        "terminal_known_frauds": f"{value:.0f} confirmed frauds at this terminal in the last "
        f"{window}",
        "amount_zscore_customer": f"amount is {abs(value):.1f} standard deviations "
        f"{'above' if value >= 0 else 'below'} the customer's {span} mean",
        "customer_new_terminal": "first transaction by the customer at this terminal"
        if value >= 0.5
        else "customer has used this terminal before",
        "card_new_country": "first transaction in this country for the card"
        if value >= 0.5
        else "card has been used in this country before",
        "is_night": "night-time transaction (00:00-06:00 UTC)" if value >= 0.5 else "daytime",
        "is_weekend": "weekend transaction" if value >= 0.5 else "weekday transaction",
    }
    return texts.get(base, f"{feature} = {value:g}")


def top_reasons(
    values: NDArray[np.float64],
    contributions: NDArray[np.float64],
    feature_names: list[str],
    n: int = 3,
) -> list[Reason]:
    """The ``n`` features with the largest positive contributions, as reasons.

    One reason per feature family: "5 small transactions in the last 10 minutes" and "... in
    the last hour" say the same thing to an analyst, so only the stronger one is kept.
    """
    order = np.argsort(-contributions[: len(feature_names)], kind="stable")
    out: list[Reason] = []
    families: set[str] = set()
    for i in order:
        c = float(contributions[i])
        if c <= 0 or len(out) == n:
            break
        m = _WINDOWED.match(feature_names[i])
        family = m["base"] if m else feature_names[i]
        if family in families:
            continue
        families.add(family)
        out.append(
            Reason(
                feature_names[i],
                float(values[i]),
                c,
                reason_text(feature_names[i], float(values[i])),
            )
        )
    return out
