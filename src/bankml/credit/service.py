"""Credit use cases the faces call: train and register, decide one application, the notice.

A model version on disk is a directory with the LightGBM booster, ``model.json`` and
``serving.json`` (config, reason-code catalogue, reason baseline, feature scales, mapping,
lineage hashes): everything needed to decide, explain, find recourse and replay.

``CreditService.decide`` is one user action: check the typed ``Application`` against the
champion's features, evaluate (the same path replay uses), ledger the decision with the
customer tokenized (and the age rule's outcome, never the age), queue a referral for a credit
officer in the same transaction, and answer decision, PD, score, reasons, contributions,
recourse, model version and decision id.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bankml.core.clock import Clock, SystemClock
from bankml.core.errors import ConflictError, NotFoundError
from bankml.core.files import atomic_write_text
from bankml.core.identity import Role, User
from bankml.core.pii import PIITokenizer
from bankml.credit.config import CreditConfig, ReasonCatalogue, default_catalogue
from bankml.credit.decision import (
    MIN_AGE_FACT,
    Application,
    CreditModelVersion,
    load_version,
)
from bankml.credit.notice import AdverseActionNotice, build_notice
from bankml.credit.review import ReferralQueue, referral_row
from bankml.credit.training import (
    CreditMapping,
    CreditTraining,
    file_sha256,
    save_training,
    train_credit,
)
from bankml.governance.ledger import DecisionLedger, Event, LedgerEntry
from bankml.governance.registry import (
    ModelRegistry,
    ModelVersionInfo,
    code_version,
    library_versions,
)

__all__ = [
    "DECISION_EVENT",
    "MODEL_NAME",
    "CreditService",
    "CreditTrainOutcome",
    "applications_from_frame",
    "decision_payload",
    "load_replayer",
    "train_and_register",
]

log = logging.getLogger(__name__)

MODEL_NAME = "credit"
DECISION_EVENT = "credit.decided"
DECIDER_ROLES = (Role.SERVICE, Role.CREDIT_OFFICER, Role.ADMIN)
SCORE_RANGE_PD = (0.0001, 0.9999)
READER_ROLES = (Role.CREDIT_OFFICER, Role.ADMIN, Role.AUDITOR)


@dataclass
class CreditTrainOutcome:
    """A finished training run: what it measured, where it is, the registered version."""

    training: CreditTraining
    model_dir: Path
    version: ModelVersionInfo | None
    data_sha256: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The JSON ``bankml credit train --json`` prints."""
        return {
            "model": MODEL_NAME,
            "version": self.version.version if self.version else None,
            **self.training.summary(),
            "data_sha256": self.data_sha256,
            "model_dir": str(self.model_dir),
            "warnings": self.warnings,
        }


def train_and_register(
    frame_source: tuple[Any, list[Path]],
    mapping: CreditMapping,
    config: CreditConfig,
    *,
    registry: ModelRegistry | None,
    ledger: DecisionLedger,
    actor: str,
    out_dir: Path,
    cv: int | None = None,
    catalogue: ReasonCatalogue | None = None,
) -> CreditTrainOutcome:
    """Train -> evaluate -> fairness -> save -> register -> ledger.

    ``frame_source`` is the applications frame and the files it was read from (hashed and
    recorded, so validation can retrain from exactly them).
    """
    frame, paths = frame_source
    catalogue = catalogue or default_catalogue()
    hashes = {str(p.resolve()): file_sha256(p) for p in paths}
    training = train_credit(
        frame, mapping, config, catalogue=catalogue, cv=cv, source=", ".join(map(str, paths))
    )
    model_dir = out_dir / "model"
    save_training(
        training,
        model_dir,
        {
            "data_paths": hashes,
            "config_source": "credit.toml",
            "cv": cv,
        },
    )
    eval_dir = out_dir / "evaluation"
    atomic_write_text(
        eval_dir / "evaluation.json",
        json.dumps(training.summary(), indent=2, sort_keys=True, default=str),
    )
    version = None
    if registry is not None:
        m = training.metrics
        version = registry.register(
            MODEL_NAME,
            model_dir,
            params={**config.to_dict(), "features": ",".join(config.features)},
            metrics={
                k: float(m[k])
                for k in ("roc_auc", "gini", "brier", "ece", "approval_rate", "decline_rate")
                if m.get(k) is not None
            },
            tags={
                "data_sha256": json.dumps(hashes, sort_keys=True),
                "code_version": code_version(),
                "library_versions": json.dumps(library_versions(), sort_keys=True),
                "trained_by": actor,
                "bankml.state": "registered",
            },
            extra_artifacts=eval_dir,
        )
    ledger.append(
        "model.registered",
        actor,
        f"model:{MODEL_NAME}/{version.version if version else 'unregistered'}",
        {
            "data_sha256": hashes,
            "metrics": {"roc_auc": training.metrics["roc_auc"], "ece": training.metrics["ece"]},
            "config": config.to_dict(),
            "catalogue_sha256": catalogue.sha256,
        },
    )
    return CreditTrainOutcome(training, model_dir, version, hashes)


def load_replayer(model_dir: Path) -> CreditModelVersion:
    """Load a credit model version for replay (the loader governance calls)."""
    return load_version(model_dir)


def decision_payload(
    version: CreditModelVersion,
    app: Application,
    values: Mapping[str, Any],
    out: Mapping[str, Any],
    customer_token: str,
    min_age_met: bool | None,
) -> dict[str, Any]:
    """What the ledger records for one credit decision: enough to look it up and replay it.

    The customer arrives tokenized; the age is reduced to whether the age rule was met.
    """
    features: dict[str, Any] = dict(values)
    if min_age_met is not None:
        features[MIN_AGE_FACT] = min_age_met
    if app.explain_approval:
        features["policy:explain_approval"] = True
    return {
        "model": {"name": version.name, "version": version.version},
        "application_id": app.application_id,
        "customer_token": customer_token,
        "features": features,
        "pd": out["pd"],
        "score": out["score"],
        "decision": out["decision"],
        "rules_failed": out["rules_failed"],
        "cutoffs": {
            "approve_max_pd": version.config.approve_max_pd,
            "decline_min_pd": version.config.decline_min_pd,
        },
        # The scale's range for the notice (PD 99.99% .. 0.01%), whole points.
        "score_range": [
            int(version.config.scale.score(SCORE_RANGE_PD[1])),
            int(version.config.scale.score(SCORE_RANGE_PD[0])),
        ],
        "explanation": {
            "contributions": out["contributions"],
            "bias": out["bias"],
            "reasons": out["reasons"],
            "baseline": version.meta["baseline"]["description"],
        },
        "recourse": out["recourse"],
    }


class CreditService:
    """Decide applications with the champion; read decisions and their notices back.

    ``server`` returns the champion ``CreditModelVersion`` governance serves (loaded once,
    checked against the ledger and its registered hash, hot-reloaded on promotion).
    """

    def __init__(
        self,
        *,
        ledger: DecisionLedger,
        tokenizer: PIITokenizer,
        referrals: ReferralQueue,
        server: Callable[[], Any],
        clock: Clock | None = None,
    ) -> None:
        self._ledger = ledger
        self._tokenizer = tokenizer
        self.referrals = referrals
        self._server = server
        self._clock = clock or SystemClock()

    @property
    def served(self) -> CreditModelVersion:
        """The champion being served (a ``CreditModelVersion``, built by the credit kind)."""
        served: CreditModelVersion = self._server()
        return served

    def model_card(self) -> dict[str, Any]:
        """What a caller needs to build a request: the served model's features and policy."""
        v = self.served
        return {
            "model": {"name": v.name, "version": v.version},
            "features": {
                "numeric": list(v.config.numeric),
                "categorical": {c: v.model.categories_.get(c, []) for c in v.config.categorical},
            },
            "cutoffs": {
                "approve_max_pd": v.config.approve_max_pd,
                "decline_min_pd": v.config.decline_min_pd,
            },
            "score_scale": v.config.to_dict()["scale"],
            "rules": v.config.to_dict()["rules"],
        }

    def decide(self, app: Application, user: User) -> dict[str, Any]:
        """Decide one application and ledger it (see the module docstring)."""
        user.require(*DECIDER_ROLES)
        version = self.served
        values = version.check_values(app.values)
        met = version.min_age_met(app.applicant_age)
        out = version.evaluate(values, min_age_met=met, explain_approval=app.explain_approval)
        decision_id = str(uuid.uuid4())
        token = self._tokenizer.token(app.customer_id, "customer")
        payload = decision_payload(version, app, values, out, token, met)
        model = {"name": version.name, "version": version.version}
        referral = (
            referral_row(decision_id, app.application_id, token, model, out, out["reasons"])
            if out["decision"] == "refer"
            else None
        )
        entry = self.referrals.record(
            Event(DECISION_EVENT, user.name, f"decision:{decision_id}", payload), referral
        )
        return {
            "decision_id": decision_id,
            "application_id": app.application_id,
            "decision": out["decision"],
            "pd": out["pd"],
            "score": out["score"],
            "reasons": out["reasons"],
            "contributions": out["contributions"],
            "recourse": out["recourse"],
            "rules_failed": out["rules_failed"],
            "model": model,
            "ledger_seq": entry.seq,
        }

    def decision(self, decision_id: str) -> LedgerEntry:
        """The ledger entry of one credit decision."""
        found = [
            e
            for e in self._ledger.entries(subject=f"decision:{decision_id}")
            if e.kind == DECISION_EVENT
        ]
        if not found:
            raise NotFoundError(f"no credit decision {decision_id!r} in the ledger")
        return found[0]

    def notice(self, decision_id: str, user: User, *, lender: str = "") -> AdverseActionNotice:
        """The adverse-action notice of a declined application (or a referral an officer
        declined); an approval or an open referral has none."""
        user.require(*READER_ROLES, Role.SERVICE)
        entry = self.decision(decision_id)
        p = entry.payload
        decision = str(p["decision"])
        if decision == "refer":
            ref = self.referrals.for_decision(decision_id)
            if ref is None or ref.outcome is None:
                raise ConflictError(
                    f"decision {decision_id} was referred and no credit officer has decided it "
                    "yet; there is no adverse action to notify"
                )
            decision = ref.outcome
        if decision != "decline":
            raise ConflictError(f"decision {decision_id} approved the application: no notice")
        return build_notice(
            decision_id=decision_id,
            application_id=str(p.get("application_id", "")),
            decided_at=entry.ts,
            reasons=p["explanation"]["reasons"],
            score=float(p["score"]),
            recourse=p.get("recourse"),
            lender=lender,
            score_range=tuple(p.get("score_range", (300, 850))),
        )


def _plain(value: Any) -> Any:
    """A JSON-plain value of a frame cell (NaN -> None, numpy scalars -> Python)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def applications_from_frame(
    frame: Any,
    feature_names: list[str],
    *,
    id_column: str = "application_id",
    customer_column: str = "customer_id",
    age_column: str | None = "age",
) -> list[Application]:
    """Typed applications from rows of a table (the synthetic bank's, or a mapped file)."""
    out = []
    for i, row in enumerate(frame.to_dict("records")):
        age = _plain(row.get(age_column)) if age_column else None
        out.append(
            Application(
                application_id=str(_plain(row.get(id_column, i))),
                customer_id=str(_plain(row.get(customer_column, i))),
                values={n: _plain(row.get(n)) for n in feature_names},
                applicant_age=int(age) if age is not None else None,
            )
        )
    return out
