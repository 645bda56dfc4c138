"""``MonitoringService.run_day``: one day of monitoring for every champion of every kind.

For each registered kind with a ``MonitorSpec`` and each model version that decided that
day (the champion always), the service reads the day's decision entries from the ledger
(they carry the features and the score), compares them with the version's training
reference, and stores one row of flat metrics plus the detail:

    ledger decisions ─► live frame ─┬─► drift (per feature, the score, rolling window)
    training reference (cached) ────┤─► data quality (missing, range, categories, volume)
                                    ├─► estimated performance (CBPE) vs capacity
    delayed labels (kind's hook) ───┴─► realised performance (+ completeness, estimate error)
                                              │
                           alert rules ◄──────┘──► ledger "monitoring.alert" + webhook

Realised figures of the previous ``label_lookback_days`` days are refreshed on each run, so
labels that arrive late (chargebacks weeks after) reach the figures and the estimate's error.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, delete, func, insert, select, update

from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import InputError
from bankml.core.storage import Database
from bankml.governance.kinds import (
    KindRegistry,
    LiveDecision,
    ModelKind,
    MonitorContext,
    MonitorReference,
    MonitorSpec,
)
from bankml.governance.ledger import DecisionLedger, Event
from bankml.monitoring.alerts import ALERT_EVENT, AlertRecord, AlertRule, evaluate_rules
from bankml.monitoring.alerts import post_webhook as _post_webhook
from bankml.monitoring.drift import DriftConfig, column_drift, detect_drift
from bankml.monitoring.performance import estimate_performance, realised_performance
from bankml.monitoring.quality import TrainingProfile, check_day, profile_frame
from bankml.monitoring.tables import monitoring_alerts, monitoring_days

__all__ = ["DAY_METRICS", "DayResult", "MonitoringService", "StoredDay"]

log = logging.getLogger(__name__)

ACTOR = "monitoring"

# The flat metrics a day row holds (what alert rules can name).
DAY_METRICS = (
    "rows",
    "drift.share_drifted",
    "drift.dataset_drift",
    "drift.max_psi",
    "drift.score_psi",
    "drift.score_drifted",
    "drift.rolling_share_drifted",
    "quality.max_missing_jump",
    "quality.max_out_of_range",
    "quality.unseen_category_columns",
    "quality.schema_mismatches",
    "quality.volume_z_abs",
    "quality.volume_anomaly",
    "estimated.alerts",
    "estimated.capacity_use",
    "estimated.precision",
    "estimated.recall",
    "estimated.average_precision",
    "realised.completeness",
    "realised.average_precision",
    "realised.precision_at_k",
    "realised.card_precision_at_k",
    "realised.precision",
    "realised.recall",
    "realised.ece",
    "error.precision",
    "error.recall",
    "error.average_precision",
)


@dataclass(frozen=True)
class DayResult:
    """What one run computed for one model version on one day."""

    kind: str
    version: int
    day: str
    rows: int
    metrics: dict[str, float]
    alerts: list[AlertRecord] = field(default_factory=list)
    deliveries: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "kind": self.kind,
            "version": self.version,
            "day": self.day,
            "rows": self.rows,
            "metrics": self.metrics,
            "alerts": [a.to_dict() for a in self.alerts],
            "deliveries": self.deliveries,
        }


@dataclass(frozen=True)
class StoredDay:
    """A stored day row, read back for reports."""

    kind: str
    version: int
    day: str
    rows: int
    metrics: dict[str, float]
    detail: dict[str, Any]


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(v) for v in value]
    if isinstance(value, np.generic):
        return _nan_to_none(value.item())
    return value


def _dumps(value: Any) -> str:
    return json.dumps(_nan_to_none(value), sort_keys=True, allow_nan=False)


def _metrics_from_json(text: str) -> dict[str, float]:
    raw = json.loads(text)
    return {k: (float("nan") if v is None else float(v)) for k, v in raw.items()}


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), UTC)
    return start, start + timedelta(days=1) - timedelta(microseconds=1)


@dataclass
class _Reference:
    ref: MonitorReference
    frame: pd.DataFrame
    columns: list[str]
    profile: TrainingProfile


class MonitoringService:
    """Computes, stores and alerts on one day of monitoring per champion and kind."""

    def __init__(
        self,
        kinds: KindRegistry,
        *,
        db: Database,
        ledger: DecisionLedger,
        governance: Any,
        registry: Any,
        rules: Sequence[AlertRule] = (),
        webhook_url: str | None = None,
        cache_dir: Path | None = None,
        clock: Clock | None = None,
        drift_config: DriftConfig | None = None,
        rolling_days: int = 7,
        label_lookback_days: int = 35,
        webhook_timeout: float = 3.0,
    ) -> None:
        self._kinds = kinds
        self._db = db
        self._ledger = ledger
        self._governance = governance
        self._registry = registry
        self._rules = list(rules)
        self._webhook_url = webhook_url
        self._cache_dir = cache_dir
        self._clock = clock or SystemClock()
        self._drift = drift_config or DriftConfig()
        self._rolling_days = rolling_days
        self._lookback = label_lookback_days
        self._webhook_timeout = webhook_timeout
        self._references: dict[tuple[str, int], _Reference] = {}

    # --- inputs ---------------------------------------------------------------------------
    def _monitored(self) -> list[tuple[ModelKind, MonitorSpec]]:
        return [(k, k.monitor) for k in self._kinds if k.monitor is not None]

    def _decisions(self, kind: ModelKind, first: date, last: date) -> list[tuple[str, Any]]:
        since, _ = _day_bounds(first)
        _, until = _day_bounds(last)
        out: list[tuple[str, Any]] = []
        for event in kind.decision_events:
            out.extend(
                (e.ts[:10], e.payload)
                for e in self._ledger.entries(kind=event, since=since, until=until)
            )
        return out

    def _reference(self, kind: ModelKind, spec: MonitorSpec, version: int) -> _Reference:
        key = (kind.name, version)
        if key in self._references:
            return self._references[key]
        ctx = MonitorContext(self._registry, self._db, kind.name, version)
        cached = self._cache_file(kind.name, version)
        if cached is not None and cached.with_suffix(".json").exists() and cached.exists():
            meta = json.loads(cached.with_suffix(".json").read_text())
            frame = pd.read_parquet(cached)
            ref = MonitorReference(frame, float(meta["threshold"]), meta.get("capacity"))
        else:
            ref = spec.reference(ctx)
            frame = ref.frame
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_suffix(".tmp")
                frame.to_parquet(tmp)
                tmp.replace(cached)
                cached.with_suffix(".json").write_text(
                    json.dumps({"threshold": ref.threshold, "capacity": ref.capacity})
                )
        if "score" not in frame.columns:
            raise InputError(f"{kind.name} v{version}: the monitoring reference has no score")
        columns = [c for c in frame.columns if c not in ("score", "label", "day")]
        profile = profile_frame(
            frame,
            columns=columns,
            categorical=spec.categorical,
            day=frame["day"] if "day" in frame.columns else None,
        )
        out = _Reference(ref, frame, columns, profile)
        self._references[key] = out
        return out

    def _cache_file(self, name: str, version: int) -> Path | None:
        if self._cache_dir is None:
            return None
        return self._cache_dir / f"{name}-v{version}.parquet"

    @staticmethod
    def _live_frame(rows: Sequence[LiveDecision], columns: Sequence[str]) -> pd.DataFrame:
        frame = pd.DataFrame.from_records([dict(r.features) for r in rows])
        for c in frame.columns:
            if frame[c].dtype == object:
                converted = pd.to_numeric(frame[c], errors="coerce")
                if converted.notna().sum() == frame[c].notna().sum():
                    frame[c] = converted
        if frame.empty and columns:
            frame = pd.DataFrame({c: pd.Series(dtype=np.float64) for c in columns})
        return frame

    # --- one day ----------------------------------------------------------------------------
    def run_day(self, day: date, *, actor: str = ACTOR) -> list[DayResult]:
        """Monitor ``day`` for every champion (and any other version that decided that day).

        ``actor`` is who runs it (recorded on the alerts' ledger entries).
        """
        if day > self._clock.now().date():
            raise InputError(f"cannot monitor {day}: it is in the future")
        results = []
        for kind, spec in self._monitored():
            window_start = day - timedelta(days=self._rolling_days - 1)
            decisions = self._decisions(kind, window_start, day)
            live_all = [(d, spec.live(p)) for d, p in decisions]
            champion = self._governance.champion(kind.name)
            versions = {r.version for d, r in live_all if d == day.isoformat()}
            if champion is not None:
                versions.add(int(champion))
            for version in sorted(versions):
                today = [r for d, r in live_all if d == day.isoformat() and r.version == version]
                window = [r for _d, r in live_all if r.version == version]
                results.append(self._run_version(kind, spec, version, day, today, window, actor))
                self._refresh_realised(kind, spec, version, day)
        return results

    def _run_version(
        self,
        kind: ModelKind,
        spec: MonitorSpec,
        version: int,
        day: date,
        today: list[LiveDecision],
        window: list[LiveDecision],
        actor: str = ACTOR,
    ) -> DayResult:
        ref = self._reference(kind, spec, version)
        live = self._live_frame(today, ref.columns)
        scores = np.array([r.score for r in today], dtype=np.float64)
        metrics: dict[str, float] = {"rows": float(len(today))}
        detail: dict[str, Any] = {}

        feature_cols = [c for c in ref.columns if c in live.columns]
        drift = detect_drift(
            ref.frame, live, columns=feature_cols, categorical=spec.categorical, config=self._drift
        )
        score_drift = column_drift("score", ref.frame["score"], scores, config=self._drift)
        win_frame = self._live_frame(window, ref.columns)
        rolling = detect_drift(
            ref.frame,
            win_frame,
            columns=[c for c in ref.columns if c in win_frame.columns],
            categorical=spec.categorical,
            config=self._drift,
        )
        metrics["drift.share_drifted"] = drift.share_drifted
        metrics["drift.dataset_drift"] = float(drift.dataset_drift)
        metrics["drift.max_psi"] = max((c.psi for c in drift.columns), default=0.0)
        metrics["drift.score_psi"] = score_drift.psi
        metrics["drift.score_drifted"] = float(score_drift.drifted)
        metrics["drift.rolling_share_drifted"] = rolling.share_drifted
        detail["drift"] = drift.to_dict()
        detail["score_drift"] = score_drift.to_dict()
        detail["rolling_drift"] = {"days": self._rolling_days, **rolling.to_dict()}
        detail["score_histogram"] = _histogram(scores, ref.frame["score"].to_numpy(np.float64))

        quality = check_day(ref.profile, live)
        metrics["quality.max_missing_jump"] = quality.max_missing_jump
        metrics["quality.max_out_of_range"] = quality.max_out_of_range
        metrics["quality.unseen_category_columns"] = float(len(quality.unseen_categories))
        metrics["quality.schema_mismatches"] = float(len(quality.schema_mismatches))
        metrics["quality.volume_z_abs"] = abs(quality.volume_z)
        metrics["quality.volume_anomaly"] = float(quality.volume_anomaly)
        detail["quality"] = quality.to_dict()

        estimated = estimate_performance(
            scores, threshold=ref.ref.threshold, capacity=ref.ref.capacity
        )
        for key in ("alerts", "capacity_use", "precision", "recall", "average_precision"):
            value = getattr(estimated, key)
            metrics[f"estimated.{key}"] = float("nan") if value is None else float(value)
        detail["estimated"] = estimated.to_dict()
        metrics.update(self._realised_metrics(spec, ref, today, detail))

        self._store_day(kind.name, version, day, len(today), metrics, detail)
        history = self._history(kind.name, version, day)
        alerts = evaluate_rules(
            self._rules, history, kind=kind.name, version=version, day=day.isoformat()
        )
        deliveries = self._raise(alerts, actor)
        return DayResult(
            kind.name, version, day.isoformat(), len(today), metrics, alerts, deliveries
        )

    def _realised_metrics(
        self,
        spec: MonitorSpec,
        ref: _Reference,
        rows: list[LiveDecision],
        detail: dict[str, Any],
    ) -> dict[str, float]:
        out: dict[str, float] = {}
        if spec.labels is None:
            return out
        keys = [r.key for r in rows]
        known = spec.labels(self._db, keys, self._clock.now()) if keys else {}
        label = np.array(
            [float(known[k]) if k in known else np.nan for k in keys], dtype=np.float64
        )
        scores = np.array([r.score for r in rows], dtype=np.float64)
        entity = (
            np.array([r.entity or r.key for r in rows], dtype=str)
            if any(r.entity for r in rows)
            else None
        )
        k = spec.k or ref.ref.capacity or 100
        realised = realised_performance(
            scores, label, k=k, threshold=ref.ref.threshold, entity=entity
        )
        for key in (
            "completeness",
            "average_precision",
            "precision_at_k",
            "card_precision_at_k",
            "precision",
            "recall",
            "ece",
        ):
            out[f"realised.{key}"] = float(getattr(realised, key))
        for key in ("precision", "recall", "average_precision"):
            est = detail.get("estimated", {}).get(key)
            real = out[f"realised.{key}"]
            out[f"error.{key}"] = (
                float("nan") if est is None or math.isnan(real) else float(est) - real
            )
        detail["realised"] = realised.to_dict()
        return out

    def _refresh_realised(
        self, kind: ModelKind, spec: MonitorSpec, version: int, day: date
    ) -> None:
        """Late labels: recompute realised figures of earlier stored days, keep the rest."""
        if spec.labels is None:
            return
        first = (day - timedelta(days=self._lookback)).isoformat()
        with self._db.engine.connect() as conn:
            rows = conn.execute(
                select(monitoring_days).where(
                    and_(
                        monitoring_days.c.model_name == kind.name,
                        monitoring_days.c.version == version,
                        monitoring_days.c.day >= first,
                        monitoring_days.c.day < day.isoformat(),
                    )
                )
            ).all()
        ref = self._reference(kind, spec, version)
        for row in rows:
            metrics = _metrics_from_json(row.metrics)
            if metrics.get("realised.completeness", 0.0) >= 1.0:
                continue
            d = date.fromisoformat(row.day)
            today = [spec.live(p) for _d, p in self._decisions(kind, d, d)]
            today = [r for r in today if r.version == version]
            detail = json.loads(row.detail)
            metrics.update(self._realised_metrics(spec, ref, today, detail))
            with self._db.write_lock() as conn:
                conn.execute(
                    update(monitoring_days)
                    .where(monitoring_days.c.id == row.id)
                    .values(metrics=_dumps(metrics), detail=_dumps(detail))
                )

    # --- storage ------------------------------------------------------------------------------
    def _store_day(
        self,
        name: str,
        version: int,
        day: date,
        rows: int,
        metrics: dict[str, float],
        detail: dict[str, Any],
    ) -> None:
        where = and_(
            monitoring_days.c.model_name == name,
            monitoring_days.c.version == version,
            monitoring_days.c.day == day.isoformat(),
        )
        with self._db.write_lock() as conn:
            conn.execute(delete(monitoring_days).where(where))
            conn.execute(
                insert(monitoring_days).values(
                    model_name=name,
                    version=version,
                    day=day.isoformat(),
                    rows=rows,
                    computed_at=utc_iso(self._clock.now()),
                    metrics=_dumps(metrics),
                    detail=_dumps(detail),
                )
            )

    def _history(self, name: str, version: int, day: date) -> list[dict[str, float]]:
        longest = max((r.window for r in self._rules), default=1)
        with self._db.engine.connect() as conn:
            rows = conn.execute(
                select(monitoring_days.c.metrics)
                .where(
                    and_(
                        monitoring_days.c.model_name == name,
                        monitoring_days.c.version == version,
                        monitoring_days.c.day <= day.isoformat(),
                    )
                )
                .order_by(monitoring_days.c.day.desc())
                .limit(longest)
            ).all()
        return [_metrics_from_json(r.metrics) for r in reversed(rows)]

    def _raise(self, alerts: list[AlertRecord], actor: str = ACTOR) -> list[str]:
        """Ledger entry and table row together; a day's rule already raised is not raised twice."""
        deliveries = []
        for alert in alerts:
            with self._db.write_lock() as conn:
                exists = conn.execute(
                    select(monitoring_alerts.c.id).where(
                        and_(
                            monitoring_alerts.c.model_name == alert.kind,
                            monitoring_alerts.c.version == alert.version,
                            monitoring_alerts.c.day == alert.day,
                            monitoring_alerts.c.rule == alert.rule,
                        )
                    )
                ).first()
                if exists is not None:
                    continue
                entry = self._ledger.append_in(
                    conn,
                    [
                        Event(
                            ALERT_EVENT,
                            actor,
                            f"model:{alert.kind}/{alert.version}",
                            alert.to_dict(),
                        )
                    ],
                )[0]
                inserted = conn.execute(
                    insert(monitoring_alerts).values(
                        model_name=alert.kind,
                        version=alert.version,
                        day=alert.day,
                        rule=alert.rule,
                        metric=alert.metric,
                        value=alert.value,
                        threshold=alert.threshold,
                        severity=alert.severity,
                        raised_at=entry.ts,
                        ledger_seq=entry.seq,
                        delivery="not configured" if self._webhook_url is None else "pending",
                    )
                )
                alert_id = (
                    inserted.inserted_primary_key[0] if inserted.inserted_primary_key else None
                )
            log.warning("monitoring alert: %s", alert.message)
            if self._webhook_url is not None:
                outcome = _post_webhook(self._webhook_url, alert, timeout=self._webhook_timeout)
                with self._db.write_lock() as conn:
                    conn.execute(
                        update(monitoring_alerts)
                        .where(monitoring_alerts.c.id == alert_id)
                        .values(delivery=outcome)
                    )
                deliveries.append(outcome)
        return deliveries

    # --- reading back ---------------------------------------------------------------------------
    def days(self, name: str | None = None) -> list[StoredDay]:
        """Stored day rows, oldest first."""
        query = select(monitoring_days).order_by(
            monitoring_days.c.model_name, monitoring_days.c.version, monitoring_days.c.day
        )
        if name is not None:
            query = query.where(monitoring_days.c.model_name == name)
        with self._db.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            StoredDay(
                r.model_name,
                int(r.version),
                r.day,
                int(r.rows),
                _metrics_from_json(r.metrics),
                json.loads(r.detail),
            )
            for r in rows
        ]

    def latest_metrics(self) -> dict[tuple[str, int], dict[str, float | None]]:
        """The newest stored day's metrics per (kind, version), for the service's gauges."""
        newest = (
            select(
                monitoring_days.c.model_name,
                monitoring_days.c.version,
                func.max(monitoring_days.c.day).label("day"),
            )
            .group_by(monitoring_days.c.model_name, monitoring_days.c.version)
            .subquery()
        )
        query = select(
            monitoring_days.c.model_name, monitoring_days.c.version, monitoring_days.c.metrics
        ).join(
            newest,
            and_(
                monitoring_days.c.model_name == newest.c.model_name,
                monitoring_days.c.version == newest.c.version,
                monitoring_days.c.day == newest.c.day,
            ),
        )
        with self._db.engine.connect() as conn:
            rows = conn.execute(query).all()
        return {(r.model_name, int(r.version)): json.loads(r.metrics) for r in rows}

    def alerts(self, name: str | None = None) -> list[dict[str, Any]]:
        """Raised alerts, oldest first."""
        query = select(monitoring_alerts).order_by(monitoring_alerts.c.id)
        if name is not None:
            query = query.where(monitoring_alerts.c.model_name == name)
        with self._db.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]


def _histogram(live: np.ndarray, reference: np.ndarray, bins: int = 20) -> dict[str, list[float]]:
    """Shares of live and reference scores on the reference's score-quantile bins."""
    ref = reference[np.isfinite(reference)]
    if ref.size == 0:
        return {"edges": [], "live": [], "reference": []}
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    inner = edges[1:-1]
    live_counts = np.bincount(np.searchsorted(inner, live, side="right"), minlength=inner.size + 1)
    ref_counts = np.bincount(np.searchsorted(inner, ref, side="right"), minlength=inner.size + 1)
    return {
        "edges": edges.tolist(),
        "live": (live_counts / max(live.size, 1)).tolist(),
        "reference": (ref_counts / ref.size).tolist(),
    }
