"""Maker-checker approvals: the lifecycle of a model version, from registered to retired.

    registered ──submit──► submitted ──validation passed──► validated ──approve──► approved
                             ▲  │                              │                     │
                             │  └──reject──► rejected ◄─reject─┘            promote  │
                             └──── validation failed ◄─────────┘                     ▼
                                                   retired ◄──replaced / rolled back── champion

bankml's own tables (``model_versions``, ``model_transitions``, ``champion_history``, in
``governance/tables.py``) are the authority, each transition and champion change carrying the
sequence and hash of its ledger entry (``governance.provenance`` checks them); MLflow only
mirrors them (version tag ``bankml.state`` and friends, alias ``champion``), because
open-source MLflow has no approval step, lets a model's creator set its aliases and keeps no
alias history.

The mirror is eventually consistent and never on a lifecycle step's path: importing MLflow and
preparing its store costs seconds, the step itself milliseconds. A step mirrors at once only
in a process already connected to MLflow (the API server); otherwise :meth:`sync_registry`
brings MLflow up to date later: the wiring runs it when a process first connects to MLflow
(train, triage, serve, replay, validate, docs) and ``bankml model sync`` runs it on demand.
Its watermark is the registered model's tag ``bankml.mirrored_seq``: the ledger sequence and
hash of the newest transition already mirrored (a watermark this database's ledger does not
hold means "mirror everything"). A sync with nothing to do is one MLflow read per model, and
the pending work needs no table of its own.

Every transition re-checks the state, appends
its ledger entry and updates the tables in one transaction under the ledger's lock, so a
transition never exists without its ledger entry, nor an entry without its transition; a
concurrent transition that changed the state first makes the later one fail cleanly.

Rules enforced here (the faces only parse and render):
- only ``model_developer`` or ``admin`` (or the version's trainer) may submit;
- only ``validator`` may approve or reject, never the user who trained or submitted it;
- a version can be approved only when it is ``validated`` *and* its latest stored validation
  (``model_validations``, written by ``governance.gates.ValidationStore``) passed;
- approve, reject and rollback need a rationale;
- only ``admin`` or ``model_developer`` may promote (an ``approved`` version only) or roll back.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Connection, RowMapping, insert, select, update

from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from bankml.core.identity import Role, User
from bankml.core.pii import redact_free_text
from bankml.core.storage import Database
from bankml.core.text import has_visible_text
from bankml.governance.ledger import DecisionLedger, Event, LedgerEntry
from bankml.governance.registry import ModelVersionInfo
from bankml.governance.tables import (
    champion_history,
    model_transitions,
    model_validations,
    model_versions,
)

__all__ = [
    "CHAMPION_ALIAS",
    "MIRRORED_SEQ_TAG",
    "ChampionChange",
    "ModelGovernance",
    "ModelState",
    "RegistryMirror",
    "Transition",
    "ValidationSummary",
    "VersionRecord",
    "check_model_name",
]

log = logging.getLogger(__name__)

CHAMPION_ALIAS = "champion"
STATE_TAG = "bankml.state"
MIRRORED_SEQ_TAG = "bankml.mirrored_seq"
UNKNOWN_TRAINER = "unknown"
_MAX_RATIONALE = 4000
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# Error messages, built in one place so tests and docs can rely on them. One line each.
_ERR_UNKNOWN = "{name} has no version {version}; list versions with `bankml model list {name}`"
_ERR_WRONG_STATE = "{name} v{version} is {state}; only {wanted} version can be {action}"
_ERR_MAKER_CHECKER = "{user} {did} {name} v{version}; a different validator must approve it"
_ERR_SUBMIT_ROLE = (
    "user {user} is {role}; only the trainer ({trainer}), a model_developer or an admin "
    "can submit {name} v{version}"
)
_ERR_RATIONALE = "a rationale is required to {action} {name} v{version}; pass --rationale TEXT"
_ERR_NO_VALIDATION = (
    "{name} v{version} has no stored validation; run `bankml model validate {name} {version}`"
)
_ERR_NO_PASSING_VALIDATION = (
    "{name} v{version} has no stored passing validation; "
    "run `bankml model validate {name} {version}` first"
)
_ERR_WRONG_POLICY = (
    "{name} v{version} was last validated against policy {used}…, not the official gate "
    "policy {official}…; validate it against the official policy before approving"
)
_ERR_FAILED_GATES = (
    "{name} v{version} failed its latest validation (run {ran_at} by {ran_by}); "
    "a version with a failed gate cannot be approved"
)
_ERR_ALREADY_CHAMPION = "{name} v{version} is already the champion"
_ERR_NO_PREVIOUS = "{name} has no previous champion to roll back to"
_ERR_MODEL_NAME = (
    "invalid model name {name!r}: use letters, digits, '.', '_' or '-' (at most 64 characters)"
)
_ERR_RACE = "{name} v{version} changed state while this {action} ran; check its state and retry"


class ModelState(StrEnum):
    """Where a model version is in its lifecycle."""

    REGISTERED = "registered"
    SUBMITTED = "submitted"
    VALIDATED = "validated"
    APPROVED = "approved"
    CHAMPION = "champion"
    RETIRED = "retired"
    REJECTED = "rejected"


class RegistryMirror(Protocol):
    """What governance needs from the model registry: read versions, mirror tags and aliases.

    ``governance.registry.ModelRegistry`` is the real adapter; tests may pass a fake.
    """

    def get(self, name: str, version: int) -> ModelVersionInfo:
        """One version; NotFoundError when the registry does not have it."""
        ...

    def versions(self, name: str | None = None) -> list[ModelVersionInfo]:
        """All versions of a model, oldest first."""
        ...

    def set_tag(self, name: str, version: int, key: str, value: str) -> None:
        """Set a version tag."""
        ...

    def set_alias(self, name: str, alias: str, version: int) -> None:
        """Point an alias at a version."""
        ...

    @property
    def connected(self) -> bool:
        """Whether talking to the registry now costs nothing more (its client is loaded)."""
        ...

    def model_tags(self, name: str) -> dict[str, str] | None:
        """The registered model's tags; None when the registry has no such model."""
        ...

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        """Set a tag on the registered model."""
        ...


@dataclass(frozen=True)
class VersionRecord:
    """bankml's record of one model version's lifecycle."""

    name: str
    version: int
    state: ModelState
    trained_by: str
    submitted_by: str | None
    registered_at: str
    updated_at: str
    # The registry run's metrics as recorded at registration; None when not recorded
    # (rows from before migration 0013; ``remember_metrics`` back-fills them).
    metrics: dict[str, float] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "name": self.name,
            "version": self.version,
            "state": self.state.value,
            "trained_by": self.trained_by,
            "submitted_by": self.submitted_by,
            "registered_at": self.registered_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class Transition:
    """One lifecycle step, with who took it, why, and its ledger entry."""

    name: str
    version: int
    from_state: ModelState | None
    to_state: ModelState
    actor: str
    rationale: str
    at: str
    ledger_seq: int
    ledger_hash: str | None = None  # None only on rows from before migration 0005

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "name": self.name,
            "version": self.version,
            "from_state": self.from_state.value if self.from_state else None,
            "to_state": self.to_state.value,
            "actor": self.actor,
            "rationale": self.rationale,
            "at": self.at,
            "ledger_seq": self.ledger_seq,
            "ledger_hash": self.ledger_hash,
        }


@dataclass(frozen=True)
class ChampionChange:
    """One promotion or rollback: which version became champion, replacing which."""

    name: str
    version: int
    previous_version: int | None
    action: str  # promote | rollback
    actor: str
    rationale: str
    at: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "name": self.name,
            "version": self.version,
            "previous_version": self.previous_version,
            "action": self.action,
            "actor": self.actor,
            "rationale": self.rationale,
            "at": self.at,
        }


@dataclass(frozen=True)
class ValidationSummary:
    """The headline of one stored validation run (the gate details stay in the store)."""

    id: int
    ran_at: str
    ran_by: str
    passed: bool
    policy_sha256: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "id": self.id,
            "ran_at": self.ran_at,
            "ran_by": self.ran_by,
            "passed": self.passed,
            "policy_sha256": self.policy_sha256,
        }


@dataclass(frozen=True)
class _Step:
    """A state change of one version inside a (possibly multi-version) transition."""

    version: int
    expect: frozenset[ModelState]
    to: ModelState
    kind: str
    extra: dict[str, Any]


def check_model_name(name: str) -> str:
    """Return ``name`` when it is a usable model name, else raise InputError.

    Names reach MLflow filter strings and ledger subjects, so anything beyond a plain
    identifier (a quote, a slash) is refused at the door.
    """
    if not _MODEL_NAME.match(name):
        raise InputError(_ERR_MODEL_NAME.format(name=name))
    return name


def _subject(name: str, version: int) -> str:
    return f"model:{name}/{version}"


def _article(state: ModelState) -> str:
    return f"an {state.value}" if state.value[0] in "aeiou" else f"a {state.value}"


def _to_record(m: RowMapping) -> VersionRecord:
    return VersionRecord(
        name=str(m["model_name"]),
        version=int(m["version"]),
        state=ModelState(m["state"]),
        trained_by=str(m["trained_by"]),
        submitted_by=None if m["submitted_by"] is None else str(m["submitted_by"]),
        registered_at=str(m["registered_at"]),
        updated_at=str(m["updated_at"]),
        metrics=_load_metrics(m.get("metrics")),
    )


def _dump_metrics(metrics: dict[str, float]) -> str:
    """Finite numeric metrics as canonical JSON (NaN/inf are not JSON)."""
    clean = {
        str(k): float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }
    return json.dumps(clean, sort_keys=True)


def _load_metrics(text: Any) -> dict[str, float] | None:
    if text is None:
        return None
    loaded = json.loads(str(text))
    return {str(k): float(v) for k, v in loaded.items()}


def _to_transition(m: RowMapping) -> Transition:
    return Transition(
        name=str(m["model_name"]),
        version=int(m["version"]),
        from_state=None if m["from_state"] is None else ModelState(m["from_state"]),
        to_state=ModelState(m["to_state"]),
        actor=str(m["actor"]),
        rationale=str(m["rationale"]),
        at=str(m["at"]),
        ledger_seq=int(m["ledger_seq"]),
        ledger_hash=None if m["ledger_hash"] is None else str(m["ledger_hash"]),
    )


def _to_change(m: RowMapping) -> ChampionChange:
    prev = m["previous_version"]
    return ChampionChange(
        name=str(m["model_name"]),
        version=int(m["version"]),
        previous_version=None if prev is None else int(prev),
        action=str(m["action"]),
        actor=str(m["actor"]),
        rationale=str(m["rationale"]),
        at=str(m["at"]),
    )


class ModelGovernance:
    """The maker-checker lifecycle of model versions, recorded in bankml and the ledger."""

    def __init__(
        self,
        db: Database,
        ledger: DecisionLedger,
        registry: RegistryMirror,
        clock: Clock | None = None,
    ) -> None:
        self._db = db
        self._ledger = ledger
        self._registry = registry
        self._clock = clock or SystemClock()
        self.mirrored: dict[str, int] = {}
        """Versions this object mirrored to MLflow so far, per model (see sync_registry)."""

    # --- inventory ------------------------------------------------------------------------

    def register(self, name: str, version: int, trained_by: str) -> VersionRecord:
        """Enter a version into bankml's inventory as ``registered``; idempotent.

        The version must exist in the registry. Registering it again returns the existing
        record unchanged (the first trainer recorded stays the maker).
        """
        existing = self._find(check_model_name(name), version)
        if existing is not None:
            return existing
        info = self._registry_info(name, version)  # NotFoundError when MLflow does not know it
        return self._enter(name, version, trained_by, info.metrics)

    def _enter(
        self, name: str, version: int, trained_by: str, metrics: dict[str, float] | None = None
    ) -> VersionRecord:
        trained_by = trained_by.strip()[:64] or UNKNOWN_TRAINER
        with self._db.write_lock() as conn:
            # Re-checked under the lock: another process may have entered it a moment ago.
            if self._state_in(conn, name, version) is None:
                (entry,) = self._ledger.append_in(
                    conn,
                    [
                        Event(
                            "model.inventoried",
                            trained_by,
                            _subject(name, version),
                            {
                                "model": name,
                                "version": version,
                                "trained_by": trained_by,
                                "to": "registered",
                            },
                        )
                    ],
                )
                conn.execute(
                    insert(model_versions).values(
                        model_name=name,
                        version=version,
                        state=ModelState.REGISTERED.value,
                        trained_by=trained_by,
                        submitted_by=None,
                        registered_at=entry.ts,
                        updated_at=entry.ts,
                        metrics=None if metrics is None else _dump_metrics(metrics),
                    )
                )
                self._insert_transition(
                    conn, name, version, None, ModelState.REGISTERED, trained_by, "", entry
                )
        record = self._get(name, version)
        self._mirror_soon(name)
        return record

    def _adopt(self, name: str, version: int) -> VersionRecord:
        """A version's record, entering it from MLflow (trainer from its tag) when new."""
        existing = self._find(check_model_name(name), version)
        if existing is not None:
            return existing
        info = self._registry_info(name, version)
        return self._enter(
            name, version, info.tags.get("trained_by", UNKNOWN_TRAINER), info.metrics
        )

    def _registry_info(self, name: str, version: int) -> ModelVersionInfo:
        try:
            return self._registry.get(name, version)
        except NotFoundError:
            raise NotFoundError(_ERR_UNKNOWN.format(name=name, version=version)) from None

    # --- transitions ----------------------------------------------------------------------

    def submit(self, name: str, version: int, user: User) -> Transition:
        """Submit a registered version for validation and approval (the maker's step)."""
        record = self._adopt(name, version)
        if user.name != record.trained_by and user.role not in (
            Role.MODEL_DEVELOPER,
            Role.ADMIN,
        ):
            raise PermissionDeniedError(
                _ERR_SUBMIT_ROLE.format(
                    user=user.name,
                    role=user.role.value,
                    trainer=record.trained_by,
                    name=name,
                    version=version,
                )
            )
        self._require_state(record, "submitted", ModelState.REGISTERED)
        return self._apply(
            name,
            user.name,
            "",
            [
                _Step(
                    version,
                    frozenset({ModelState.REGISTERED}),
                    ModelState.SUBMITTED,
                    "model.submitted",
                    {"submitted_by": user.name},
                )
            ],
            row_updates={version: {"submitted_by": user.name}},
        )[0]

    def record_validation(self, name: str, version: int, passed: bool, actor: str) -> Transition:
        """Record the outcome of a validation run whose report is already stored.

        Passed: ``submitted`` (or ``validated``) becomes ``validated``; this needs the latest
        stored validation to have passed, so the state can never claim evidence that does not
        exist. Failed: the version stays (or returns) to ``submitted``, and its failed latest
        validation blocks approval until a later run passes.
        """
        record = self._adopt(name, version)
        self._require_state(record, "validated", ModelState.SUBMITTED, ModelState.VALIDATED)
        latest = self.latest_validation(name, version)
        if passed and (latest is None or not latest.passed):
            raise ConflictError(_ERR_NO_PASSING_VALIDATION.format(name=name, version=version))
        to = ModelState.VALIDATED if passed else ModelState.SUBMITTED
        kind = "model.validated" if passed else "model.validation_failed"
        extra: dict[str, Any] = {"passed": passed}
        note = "validation " + ("passed" if passed else "failed")
        if latest is not None:
            extra.update(validation_id=latest.id, policy_sha256=latest.policy_sha256)
            note = f"validation #{latest.id} " + ("passed" if passed else "failed")
        return self._apply(
            name,
            actor[:64],
            note,
            [
                _Step(
                    version,
                    frozenset({ModelState.SUBMITTED, ModelState.VALIDATED}),
                    to,
                    kind,
                    extra,
                )
            ],
        )[0]

    def approve(
        self,
        name: str,
        version: int,
        user: User,
        rationale: str,
        *,
        required_policy_sha256: str | None = None,
    ) -> Transition:
        """Approve a validated version (the checker's step): a validator who is not its maker.

        The latest stored validation must have passed; the approval names it in the ledger, so
        the evidence it was judged on is fixed. With ``required_policy_sha256`` (the model's
        official gate policy), a validation run against any other policy file does not count:
        nobody can pass a model by validating it against laxer limits.
        """
        user.require(Role.VALIDATOR)
        record = self._adopt(name, version)
        self._check_not_maker(record, user)
        why = self._rationale(rationale, "approve", name, version)
        latest = self.latest_validation(name, version)
        if latest is not None and not latest.passed:
            raise ConflictError(
                _ERR_FAILED_GATES.format(
                    name=name, version=version, ran_at=latest.ran_at, ran_by=latest.ran_by
                )
            )
        self._require_state(record, "approved", ModelState.VALIDATED)
        if latest is None:
            raise ConflictError(_ERR_NO_VALIDATION.format(name=name, version=version))
        if required_policy_sha256 is not None and latest.policy_sha256 != required_policy_sha256:
            raise ConflictError(
                _ERR_WRONG_POLICY.format(
                    name=name,
                    version=version,
                    used=latest.policy_sha256[:12],
                    official=required_policy_sha256[:12],
                )
            )
        return self._apply(
            name,
            user.name,
            why,
            [
                _Step(
                    version,
                    frozenset({ModelState.VALIDATED}),
                    ModelState.APPROVED,
                    "model.approved",
                    {"validation_id": latest.id, "policy_sha256": latest.policy_sha256},
                )
            ],
        )[0]

    def reject(self, name: str, version: int, user: User, rationale: str) -> Transition:
        """Reject a submitted or validated version: a validator, with a rationale.

        Rejection is final for that version; the developer trains and submits a new one.
        """
        user.require(Role.VALIDATOR)
        record = self._adopt(name, version)
        why = self._rationale(rationale, "reject", name, version)
        self._require_state(record, "rejected", ModelState.SUBMITTED, ModelState.VALIDATED)
        allowed = frozenset({ModelState.SUBMITTED, ModelState.VALIDATED})
        return self._apply(
            name,
            user.name,
            why,
            [_Step(version, allowed, ModelState.REJECTED, "model.rejected", {})],
        )[0]

    def promote(self, name: str, version: int, user: User, rationale: str = "") -> Transition:
        """Make an approved version the champion; the previous champion is retired.

        Records the change in ``champion_history``, which (not MLflow's ``champion`` alias,
        a mirror moved by :meth:`sync_registry`) answers "what was champion when".
        """
        user.require(Role.ADMIN, Role.MODEL_DEVELOPER)
        record = self._adopt(name, version)
        if record.state is ModelState.CHAMPION:
            raise ConflictError(_ERR_ALREADY_CHAMPION.format(name=name, version=version))
        self._require_state(record, "promoted", ModelState.APPROVED)
        why = redact_free_text(rationale, "the rationale", _MAX_RATIONALE)
        current = self.champion(name)
        steps = [
            _Step(
                version,
                frozenset({ModelState.APPROVED}),
                ModelState.CHAMPION,
                "model.promoted",
                {"previous_version": current},
            )
        ]
        if current is not None:
            steps.append(
                _Step(
                    current,
                    frozenset({ModelState.CHAMPION}),
                    ModelState.RETIRED,
                    "model.retired",
                    {"replaced_by": version},
                )
            )
        return self._apply(name, user.name, why, steps, champion=(version, current, "promote"))[0]

    def rollback(self, name: str, user: User, rationale: str) -> Transition:
        """Return to the previous champion in one step; the current champion is retired.

        "Previous" follows the champion history as a stack: promotions push, rollbacks pop,
        so rolling back twice after three promotions lands on the first champion, and a
        version that was rolled back is never silently restored by a second rollback.
        """
        user.require(Role.ADMIN, Role.MODEL_DEVELOPER)
        stack = self._champion_stack(check_model_name(name))
        if len(stack) < 2:
            raise ConflictError(_ERR_NO_PREVIOUS.format(name=name))
        current, target = stack[-1], stack[-2]
        why = self._rationale(rationale, "roll back", name, current)
        steps = [
            _Step(
                target,
                frozenset({ModelState.RETIRED}),
                ModelState.CHAMPION,
                "model.rolled_back",
                {"replaced": current},
            ),
            _Step(
                current,
                frozenset({ModelState.CHAMPION}),
                ModelState.RETIRED,
                "model.retired",
                {"replaced_by": target, "rolled_back": True},
            ),
        ]
        return self._apply(name, user.name, why, steps, champion=(target, current, "rollback"))[0]

    # --- queries --------------------------------------------------------------------------

    def state(self, name: str, version: int) -> ModelState:
        """The version's current state (entering it from MLflow first when new to bankml)."""
        return self._adopt(name, version).state

    def record(self, name: str, version: int) -> VersionRecord:
        """The version's full record (entering it from MLflow first when new to bankml)."""
        return self._adopt(name, version)

    def champion(self, name: str) -> int | None:
        """The current champion version per bankml's records (not the MLflow alias)."""
        stack = self._champion_stack(name)
        return stack[-1] if stack else None

    def champion_at(self, name: str, when: datetime) -> int | None:
        """The champion version at a moment in time, from the champion history."""
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(champion_history.c.version)
                .where(
                    champion_history.c.model_name == name,
                    champion_history.c.at <= utc_iso(when),
                )
                .order_by(champion_history.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else int(row.version)

    def versions(self, name: str) -> list[VersionRecord]:
        """Every version of a model, oldest first.

        Versions MLflow has but bankml has not seen yet (trained elsewhere, or before
        governance existed) are entered into the inventory first, trainer read from the tag.
        """
        known = {r.version for r in self._records(check_model_name(name))}
        for info in self._registry.versions(name):
            if info.version not in known:
                trainer = info.tags.get("trained_by", UNKNOWN_TRAINER)
                self._enter(name, info.version, trainer, info.metrics)
        return self._records(name)

    def inventory(self, name: str | None = None) -> list[VersionRecord]:
        """Every version bankml has recorded (of one model or all), from this database only.

        No registry round trip: any home or replica on the shared database lists the same
        versions, with the metrics recorded at registration.
        """
        query = select(model_versions).order_by(
            model_versions.c.model_name, model_versions.c.version
        )
        if name is not None:
            query = query.where(model_versions.c.model_name == check_model_name(name))
        with self._db.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_to_record(r._mapping) for r in rows]

    def remember_metrics(self, name: str, version: int, metrics: dict[str, float]) -> None:
        """Back-fill a version's metrics (rows recorded before they were kept here)."""
        with self._db.engine.begin() as conn:
            conn.execute(
                update(model_versions)
                .where(
                    model_versions.c.model_name == name,
                    model_versions.c.version == version,
                    model_versions.c.metrics.is_(None),
                )
                .values(metrics=_dump_metrics(metrics))
            )

    def transitions(self, name: str, version: int) -> list[Transition]:
        """The version's lifecycle steps, oldest first."""
        with self._db.engine.connect() as conn:
            rows = conn.execute(
                select(model_transitions)
                .where(
                    model_transitions.c.model_name == name,
                    model_transitions.c.version == version,
                )
                .order_by(model_transitions.c.id)
            ).all()
        return [_to_transition(r._mapping) for r in rows]

    def champion_history(self, name: str) -> list[ChampionChange]:
        """Every promotion and rollback of a model, oldest first."""
        with self._db.engine.connect() as conn:
            rows = conn.execute(
                select(champion_history)
                .where(champion_history.c.model_name == name)
                .order_by(champion_history.c.id)
            ).all()
        return [_to_change(r._mapping) for r in rows]

    def latest_validation(self, name: str, version: int) -> ValidationSummary | None:
        """The newest stored validation of a version (None when never validated)."""
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(
                    model_validations.c.id,
                    model_validations.c.ran_at,
                    model_validations.c.ran_by,
                    model_validations.c.passed,
                    model_validations.c.policy_sha256,
                )
                .where(
                    model_validations.c.model_name == name,
                    model_validations.c.version == version,
                )
                .order_by(model_validations.c.id.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        return ValidationSummary(
            id=int(row.id),
            ran_at=str(row.ran_at),
            ran_by=str(row.ran_by),
            passed=bool(row.passed),
            policy_sha256=str(row.policy_sha256),
        )

    def require_validatable(
        self, name: str, version: int, user: User | None = None
    ) -> VersionRecord:
        """Raise ConflictError unless the version may be validated now (submitted/validated),
        and PermissionDeniedError if ``user`` trained or submitted it (independent validation).

        Faces call this before running the (slow) gates, so nothing is stored in vain.
        """
        record = self._adopt(name, version)
        self._require_state(record, "validated", ModelState.SUBMITTED, ModelState.VALIDATED)
        if user is not None:
            self._check_not_maker(record, user)
        return record

    # --- internals ------------------------------------------------------------------------

    def _find(self, name: str, version: int) -> VersionRecord | None:
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(model_versions).where(
                    model_versions.c.model_name == name, model_versions.c.version == version
                )
            ).first()
        return None if row is None else _to_record(row._mapping)

    def _get(self, name: str, version: int) -> VersionRecord:
        record = self._find(name, version)
        if record is None:
            raise NotFoundError(_ERR_UNKNOWN.format(name=name, version=version))
        return record

    def _records(self, name: str) -> list[VersionRecord]:
        with self._db.engine.connect() as conn:
            rows = conn.execute(
                select(model_versions)
                .where(model_versions.c.model_name == name)
                .order_by(model_versions.c.version)
            ).all()
        return [_to_record(r._mapping) for r in rows]

    def _champion_stack(self, name: str) -> list[int]:
        stack: list[int] = []
        for change in self.champion_history(name):
            if change.action == "rollback":
                if stack:
                    stack.pop()
                if not stack or stack[-1] != change.version:
                    stack.append(change.version)
            else:
                stack.append(change.version)
        return stack

    @staticmethod
    def _require_state(record: VersionRecord, action: str, *allowed: ModelState) -> None:
        if record.state in allowed:
            return
        wanted = " or ".join(s.value for s in allowed)
        raise ConflictError(
            _ERR_WRONG_STATE.format(
                name=record.name,
                version=record.version,
                state=record.state.value,
                wanted=_article(allowed[0]) if len(allowed) == 1 else f"a {wanted}",
                action=action,
            )
        )

    @staticmethod
    def _check_not_maker(record: VersionRecord, user: User) -> None:
        did = None
        if user.name == record.trained_by:
            did = "trained"
        elif user.name == record.submitted_by:
            did = "submitted"
        if did is not None:
            raise PermissionDeniedError(
                _ERR_MAKER_CHECKER.format(
                    user=user.name, did=did, name=record.name, version=record.version
                )
            )

    def _rationale(self, rationale: str | None, action: str, name: str, version: int) -> str:
        # Issue 9 items 7-8: control characters refused, PII redacted before it is stored in
        # any table, and "\u200b" or spaces are not a rationale.
        why = redact_free_text(rationale or "", "the rationale", _MAX_RATIONALE)
        if not has_visible_text(why):
            raise InputError(_ERR_RATIONALE.format(action=action, name=name, version=version))
        return why

    def _apply(
        self,
        name: str,
        actor: str,
        rationale: str,
        steps: Sequence[_Step],
        *,
        row_updates: dict[int, dict[str, Any]] | None = None,
        champion: tuple[int, int | None, str] | None = None,
    ) -> list[Transition]:
        """Ledger first, then the tables in one serialised transaction that re-checks state."""
        events = [
            Event(
                s.kind,
                actor,
                _subject(name, s.version),
                {
                    "model": name,
                    "version": s.version,
                    "to": s.to.value,
                    "rationale": rationale,
                    **s.extra,
                },
            )
            for s in steps
        ]
        out: list[Transition] = []
        # One transaction under the ledger's lock: the states are re-checked, then the ledger
        # entries and the table rows are written together, so neither exists without the other.
        with self._db.write_lock() as conn:
            befores = []
            for step in steps:
                before = self._state_in(conn, name, step.version)
                if before is None or before not in step.expect:
                    raise ConflictError(
                        _ERR_RACE.format(name=name, version=step.version, action=step.kind)
                    )
                befores.append(before)
            entries = self._ledger.append_in(conn, events)
            for step, before, entry in zip(steps, befores, entries, strict=True):
                conn.execute(
                    update(model_versions)
                    .where(
                        model_versions.c.model_name == name,
                        model_versions.c.version == step.version,
                    )
                    .values(
                        state=step.to.value,
                        updated_at=entry.ts,
                        **(row_updates or {}).get(step.version, {}),
                    )
                )
                out.append(
                    self._insert_transition(
                        conn, name, step.version, before, step.to, actor, rationale, entry
                    )
                )
            if champion is not None:
                new, previous, action = champion
                conn.execute(
                    insert(champion_history).values(
                        model_name=name,
                        version=new,
                        previous_version=previous,
                        action=action,
                        actor=actor,
                        rationale=rationale,
                        at=entries[0].ts,
                        ledger_seq=entries[0].seq,
                        ledger_hash=entries[0].hash,
                    )
                )
        self._mirror_soon(name)
        return out

    @staticmethod
    def _state_in(conn: Connection, name: str, version: int) -> ModelState | None:
        row = conn.execute(
            select(model_versions.c.state).where(
                model_versions.c.model_name == name, model_versions.c.version == version
            )
        ).first()
        return None if row is None else ModelState(row.state)

    @staticmethod
    def _insert_transition(
        conn: Connection,
        name: str,
        version: int,
        before: ModelState | None,
        to: ModelState,
        actor: str,
        rationale: str,
        entry: LedgerEntry,
    ) -> Transition:
        t = Transition(name, version, before, to, actor, rationale, entry.ts, entry.seq, entry.hash)
        conn.execute(
            insert(model_transitions).values(
                model_name=name,
                version=version,
                from_state=None if before is None else before.value,
                to_state=to.value,
                actor=actor,
                rationale=rationale,
                at=entry.ts,
                ledger_seq=entry.seq,
                ledger_hash=entry.hash,
            )
        )
        return t

    # --- the MLflow mirror -----------------------------------------------------------------

    def sync_registry(self, name: str | None = None) -> dict[str, int]:
        """Bring MLflow's tags and ``champion`` alias up to bankml's records (of one model, or
        of every model in the inventory); return how many versions were mirrored per model.

        Idempotent: it writes the records' current state. A model MLflow does not know is
        skipped; a failure leaves its watermark where it was, so the next sync retries. Not
        serialised across processes: two syncs of one model racing (a slow one writing older
        tags after a newer one's watermark) can leave a stale tag until the model's next
        transition; MLflow is a view for people, nothing in bankml reads it back.
        """
        names = [check_model_name(name)] if name else sorted({r.name for r in self.inventory()})
        done: dict[str, int] = {}
        for model in names:
            head = self._mirror_head(model)
            if head is None:
                continue
            tags = self._registry.model_tags(model)
            if tags is None:
                log.warning("MLflow has no model %s: nothing to mirror its governance onto", model)
                continue
            mirrored = self._mirrored_seq(model, tags.get(MIRRORED_SEQ_TAG, ""))
            if head[0] <= mirrored:
                continue
            versions = self._versions_changed_since(model, mirrored)
            for version in versions:
                self._mirror_state(self._get(model, version))
            champion = self.champion(model)
            if champion is not None:
                self._registry.set_alias(model, CHAMPION_ALIAS, champion)
            self._registry.set_model_tag(model, MIRRORED_SEQ_TAG, f"{head[0]}:{head[1]}")
            done[model] = len(versions)
            self.mirrored[model] = self.mirrored.get(model, 0) + len(versions)
        return done

    def _mirror_soon(self, name: str) -> None:
        """Mirror now if this process already talks to MLflow (no import to pay), else leave
        it to the next :meth:`sync_registry`. bankml's tables are already committed: a mirror
        that fails (MLflow server down) is logged and retried by the next sync."""
        if not self._registry.connected:
            return
        try:
            self.sync_registry(name)
        except Exception as exc:  # MLflow raises its own exception types, not bankml's
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            log.warning("could not mirror governance state to MLflow: %s", first)

    def _mirror_head(self, name: str) -> tuple[int, str] | None:
        """Ledger sequence and hash of the model's newest transition (None: no transitions)."""
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(model_transitions.c.ledger_seq, model_transitions.c.ledger_hash)
                .where(model_transitions.c.model_name == name)
                .order_by(model_transitions.c.ledger_seq.desc())
                .limit(1)
            ).first()
        return None if row is None else (int(row.ledger_seq), str(row.ledger_hash))

    def _mirrored_seq(self, name: str, watermark: str) -> int:
        """The ledger sequence MLflow's mirror of ``name`` is up to, or 0 (mirror everything)
        when the watermark is missing or names an entry this database does not have (MLflow
        shared with another, or an older, database)."""
        seq, _, digest = watermark.partition(":")
        if not seq.isdigit():
            return 0
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(model_transitions.c.ledger_hash).where(
                    model_transitions.c.model_name == name,
                    model_transitions.c.ledger_seq == int(seq),
                )
            ).first()
        return int(seq) if row is not None and str(row.ledger_hash) == digest else 0

    def _versions_changed_since(self, name: str, seq: int) -> list[int]:
        with self._db.engine.connect() as conn:
            rows = conn.execute(
                select(model_transitions.c.version)
                .where(
                    model_transitions.c.model_name == name,
                    model_transitions.c.ledger_seq > seq,
                )
                .distinct()
            ).all()
        return sorted(int(r.version) for r in rows)

    def _mirror_state(self, record: VersionRecord) -> None:
        """Mirror the record onto MLflow version tags, so a bank's MLflow UI shows it too."""
        tags = {STATE_TAG: record.state.value}
        if record.submitted_by:
            tags["bankml.submitted_by"] = record.submitted_by
        last = self.transitions(record.name, record.version)
        for t in last:
            if t.to_state in (ModelState.APPROVED, ModelState.REJECTED):
                tags[f"bankml.{t.to_state.value}_by"] = t.actor
                tags[f"bankml.{t.to_state.value}_at"] = t.at
            elif t.to_state is ModelState.CHAMPION:
                tags["bankml.promoted_by"] = t.actor
                tags["bankml.promoted_at"] = t.at
        for key, value in tags.items():
            self._registry.set_tag(record.name, record.version, key, value)
