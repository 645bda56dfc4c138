"""How monitoring reads fraud: ``FRAUD_MONITOR`` is fraud's ``ModelKind.monitor``.

* live decisions: the ``fraud.scored`` payloads (features, score, model version, tokenized card);
* reference: the version's own test period (out of sample, labelled in full), scored by that
  version, with the serving threshold and the review team's daily capacity;
* labels: ``fraud_labels`` rows known at the time monitoring runs (dispositions, chargebacks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bankml.core.clock import utc_iso
from bankml.fraud.tables import fraud_labels
from bankml.governance.kinds import LiveDecision, MonitorContext, MonitorReference, MonitorSpec

__all__ = ["FRAUD_MONITOR", "fraud_labels_known", "fraud_live", "fraud_reference"]

_CHUNK = 500


def fraud_live(payload: Mapping[str, Any]) -> LiveDecision:
    """A ``fraud.scored`` payload as monitoring reads it."""
    return LiveDecision(
        key=str(payload.get("transaction_id")),
        version=int(payload["model"]["version"]),
        score=float(payload["score"]),
        features=dict(payload.get("features", {})),
        entity=payload.get("card_token"),
    )


def fraud_reference(ctx: MonitorContext) -> MonitorReference:
    """The version's test period, scored by it: the traffic it was validated on."""
    import pandas as pd

    from bankml.fraud.features import build_fraud_features
    from bankml.fraud.service import load_serving
    from bankml.fraud.training import TrainConfig, split

    serving = load_serving(ctx.registry.download(ctx.name, ctx.version), ctx.name, ctx.version)
    meta = serving.meta
    features = build_fraud_features(
        Path(meta["data_path"]),
        serving.mapping,
        label_delay_days=int(meta["label_delay_days"]),
    )
    raw = dict(meta["config"])
    raw["train_start"] = pd.Timestamp(raw["train_start"]).date()
    config = TrainConfig(**raw)
    _train, _gap, test = split(features.frame, config)
    names = serving.feature_names
    frame = test[names].astype("float64").reset_index(drop=True)
    frame["score"] = serving.model.predict_proba(frame[names].to_numpy("float64"))[:, 1]
    frame["label"] = test["label"].to_numpy(dtype=float)
    frame["day"] = pd.to_datetime(test["timestamp"], utc=True).dt.strftime("%Y-%m-%d").to_numpy()
    return MonitorReference(frame, serving.threshold, int(meta.get("capacity") or 0) or None)


def fraud_labels_known(db: Any, keys: Sequence[str], as_of: datetime) -> Mapping[str, bool]:
    """Labels of these transactions known at ``as_of``."""
    ids = sorted({int(k) for k in keys if k.lstrip("-").isdigit()})
    out: dict[str, bool] = {}
    with db.engine.connect() as conn:
        for i in range(0, len(ids), _CHUNK):
            rows = conn.execute(
                select(fraud_labels.c.transaction_id, fraud_labels.c.is_fraud).where(
                    fraud_labels.c.transaction_id.in_(ids[i : i + _CHUNK]),
                    fraud_labels.c.known_at <= utc_iso(as_of),
                )
            )
            out.update({str(r.transaction_id): bool(r.is_fraud) for r in rows})
    return out


FRAUD_MONITOR = MonitorSpec(live=fraud_live, reference=fraud_reference, labels=fraud_labels_known)
