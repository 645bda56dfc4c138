"""Alert rules: a metric, a limit, a window and a severity, read from a TOML file.

    [[rule]]
    name = "feature drift"          # what the operator reads
    metric = "drift.share_drifted"  # a key of the day's flat metrics (see service.DAY_METRICS)
    above = 0.3                     # or below = ...
    window = 1                      # days: the mean over the last N monitored days
    severity = "warning"            # info | warning | critical

A breach becomes an ``AlertRecord``; the service writes it to the ledger (event
``monitoring.alert``) and to its own table, and optionally POSTs it to a webhook. The webhook
call is bounded (timeout) and its failure never loses the alert: the ledger entry is written
first and the delivery outcome is kept beside it.
"""

from __future__ import annotations

import logging
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bankml.core.errors import InputError

__all__ = [
    "ALERT_EVENT",
    "SEVERITIES",
    "AlertRecord",
    "AlertRule",
    "evaluate_rules",
    "load_rules",
    "post_webhook",
]

log = logging.getLogger(__name__)

ALERT_EVENT = "monitoring.alert"
SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class AlertRule:
    """One limit on one metric."""

    name: str
    metric: str
    threshold: float
    direction: str  # "above" or "below"
    window: int = 1
    severity: str = "warning"

    def breached(self, value: float) -> bool:
        """True when ``value`` is past the limit (a missing value never breaches)."""
        if math.isnan(value):
            return False
        return value > self.threshold if self.direction == "above" else value < self.threshold


@dataclass(frozen=True)
class AlertRecord:
    """A breached rule on one day for one model version."""

    kind: str
    version: int
    day: str
    rule: str
    metric: str
    value: float
    threshold: float
    direction: str
    window: int
    severity: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (what the ledger and the webhook receive)."""
        return asdict(self)

    @property
    def message(self) -> str:
        """One line for people."""
        return (
            f"[{self.severity}] {self.kind} v{self.version} {self.day}: {self.rule}: "
            f"{self.metric} = {self.value:.4g} ({self.direction} {self.threshold:g}"
            f"{f', {self.window}-day mean' if self.window > 1 else ''})"
        )


def _rule(raw: Mapping[str, Any], where: str) -> AlertRule:
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: a rule must be a table")
    unknown = set(raw) - {"name", "metric", "above", "below", "window", "severity"}
    if unknown:
        raise InputError(f"{where}: unknown key(s) {sorted(unknown)}")
    name, metric = raw.get("name"), raw.get("metric")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{where}: needs a name")
    if not isinstance(metric, str) or not metric.strip():
        raise InputError(f"{where} ({name}): needs a metric")
    if ("above" in raw) == ("below" in raw):
        raise InputError(f"{where} ({name}): give exactly one of 'above' or 'below'")
    direction = "above" if "above" in raw else "below"
    threshold = raw[direction]
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise InputError(f"{where} ({name}): {direction} must be a number")
    window = raw.get("window", 1)
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 90:
        raise InputError(f"{where} ({name}): window must be a whole number of days, 1-90")
    severity = raw.get("severity", "warning")
    if severity not in SEVERITIES:
        raise InputError(f"{where} ({name}): severity must be one of {', '.join(SEVERITIES)}")
    return AlertRule(name, metric, float(threshold), direction, window, severity)


def load_rules(path: Path) -> list[AlertRule]:
    """Rules from a TOML file; a malformed file is one clear error naming the rule."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"monitoring rules file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read monitoring rules {path}: {exc}") from None
    raw = data.get("rule", [])
    if not isinstance(raw, list):
        raise InputError(f"{path}: 'rule' must be an array of tables ([[rule]])")
    rules = [_rule(r, f"{path.name} rule {i + 1}") for i, r in enumerate(raw)]
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise InputError(f"{path}: rule names must be unique")
    return rules


def evaluate_rules(
    rules: Sequence[AlertRule],
    history: Sequence[Mapping[str, float]],
    *,
    kind: str,
    version: int,
    day: str,
) -> list[AlertRecord]:
    """Breaches on the newest day. ``history`` holds the day metrics oldest first, newest last.

    A windowed rule reads the mean of the metric over the last ``window`` days that have it;
    it waits until that many days exist, so one day's noise cannot trip a weekly rule.
    """
    out = []
    for rule in rules:
        values = [
            float(h[rule.metric])
            for h in history[-rule.window :]
            if rule.metric in h and h[rule.metric] is not None and not math.isnan(h[rule.metric])
        ]
        if len(values) < rule.window or not history or rule.metric not in history[-1]:
            continue
        value = sum(values) / len(values)
        if rule.breached(value):
            out.append(
                AlertRecord(
                    kind,
                    version,
                    day,
                    rule.name,
                    rule.metric,
                    value,
                    rule.threshold,
                    rule.direction,
                    rule.window,
                    rule.severity,
                )
            )
    return out


def post_webhook(url: str, alert: AlertRecord, *, timeout: float = 3.0) -> str:
    """POST one alert as JSON; returns "delivered (HTTP n)" or why it failed. Never raises."""
    import httpx

    try:
        response = httpx.post(
            url,
            json={"event": ALERT_EVENT, "message": alert.message, "alert": alert.to_dict()},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        log.warning("monitoring webhook failed: %s", type(exc).__name__)
        return f"failed ({type(exc).__name__})"
    if response.status_code >= 400:
        log.warning("monitoring webhook answered HTTP %s", response.status_code)
        return f"failed (HTTP {response.status_code})"
    return f"delivered (HTTP {response.status_code})"
