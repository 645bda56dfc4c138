"""Maker-checker approvals on SQLite and PostgreSQL against a real MLflow registry.

Two small model versions are registered once per module (the registry only needs a folder of
files); each test gets a fresh app database, so the lifecycle starts from scratch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bankml.core.clock import FixedClock, utc_iso
from bankml.core.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from bankml.core.identity import Role, User, UserDirectory
from bankml.core.storage import Database
from bankml.governance.approvals import ModelGovernance, ModelState
from bankml.governance.ledger import DecisionLedger
from bankml.governance.registry import ModelRegistry
from bankml.governance.tables import model_validations

NAME = "fraud"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelRegistry]:
    root = tmp_path_factory.mktemp("registry")
    # ModelRegistry sets MLFLOW_TRACKING_URI in os.environ on first use; keep that from
    # leaking into later tests' settings.
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        reg = ModelRegistry(f"sqlite:///{root / 'mlflow.db'}", root)
        for n in (1, 2):
            model_dir = root / f"model{n}"
            model_dir.mkdir()
            (model_dir / "model.txt").write_text(f"tiny model {n}\n")
            reg.register(
                NAME,
                model_dir,
                params={"n": n},
                metrics={"roc_auc": 0.9 + n / 100},
                tags={"trained_by": "maria", "bankml.state": "registered"},
            )
        yield reg


class World:
    """A fresh governance over the shared registry, with people in each role."""

    def __init__(self, db: Database, registry: ModelRegistry) -> None:
        self.db = db
        self.registry = registry
        self.clock = FixedClock(T0)
        self.ledger = DecisionLedger(db, self.clock)
        self.gov = ModelGovernance(db, self.ledger, registry, self.clock)
        people = UserDirectory(db, self.clock)
        self.maria = people.add("maria", Role.MODEL_DEVELOPER)  # trained both versions
        self.sam = people.add("sam", Role.MODEL_DEVELOPER)
        self.vera = people.add("vera", Role.VALIDATOR)
        self.victor = people.add("victor", Role.VALIDATOR)
        self.fiona = people.add("fiona", Role.FRAUD_ANALYST)
        self.olga = people.add("olga", Role.ADMIN)

    def tick(self, minutes: int = 1) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    def store_validation(self, version: int, *, passed: bool, by: str = "vera") -> None:
        with self.db.engine.begin() as conn:
            conn.execute(
                insert(model_validations).values(
                    model_name=NAME,
                    version=version,
                    ran_at=utc_iso(self.clock.now()),
                    ran_by=by,
                    passed=passed,
                    policy_sha256="ab" * 32,
                    results=json.dumps([{"gate": "roc_auc", "passed": passed}]),
                    evidence="{}",
                )
            )

    def validate(self, version: int, *, passed: bool = True) -> None:
        self.store_validation(version, passed=passed)
        self.gov.record_validation(NAME, version, passed, "vera")

    def to_approved(self, version: int, submitter: User, approver: User) -> None:
        self.gov.submit(NAME, version, submitter)
        self.validate(version)
        self.gov.approve(NAME, version, approver, "evidence meets the fraud policy")


@pytest.fixture
def w(db: Database, registry: ModelRegistry) -> World:
    return World(db, registry)


def test_versions_are_adopted_from_mlflow_with_their_trainer(w: World) -> None:
    records = w.gov.versions(NAME)
    assert [(r.version, r.state, r.trained_by) for r in records] == [
        (1, ModelState.REGISTERED, "maria"),
        (2, ModelState.REGISTERED, "maria"),
    ]
    assert w.gov.register(NAME, 1, "someone-else").trained_by == "maria"  # idempotent
    assert len(w.ledger.entries(kind="model.inventoried")) == 2


def test_unknown_version_says_how_to_list_versions(w: World) -> None:
    with pytest.raises(NotFoundError, match=r"fraud has no version 9; list versions with"):
        w.gov.state(NAME, 9)


def test_only_developers_admins_or_the_trainer_can_submit(w: World) -> None:
    with pytest.raises(PermissionDeniedError, match="fiona is fraud_analyst"):
        w.gov.submit(NAME, 1, w.fiona)
    t = w.gov.submit(NAME, 1, w.sam)
    assert (t.from_state, t.to_state, t.actor) == (
        ModelState.REGISTERED,
        ModelState.SUBMITTED,
        "sam",
    )
    with pytest.raises(ConflictError, match="fraud v1 is submitted; only a registered version"):
        w.gov.submit(NAME, 1, w.maria)


def test_trainer_cannot_approve_own_model(w: World) -> None:
    maria_as_validator = User(99, "maria", Role.VALIDATOR, frozenset(), "")
    w.gov.submit(NAME, 1, w.sam)
    w.validate(1)
    with pytest.raises(
        PermissionDeniedError, match=r"^maria trained fraud v1; a different validator must approve"
    ):
        w.gov.approve(NAME, 1, maria_as_validator, "looks fine to me")


def test_submitter_cannot_approve_and_non_validators_cannot_either(w: World) -> None:
    vera_submits = User(w.vera.id, "vera", Role.MODEL_DEVELOPER, frozenset(), "")
    w.gov.submit(NAME, 1, vera_submits)  # say vera submitted it while acting as developer
    w.validate(1)
    with pytest.raises(PermissionDeniedError, match=r"^vera submitted fraud v1; a different"):
        w.gov.approve(NAME, 1, w.vera, "ok")
    for outsider in (w.sam, w.olga, w.fiona):
        with pytest.raises(PermissionDeniedError, match="needs validator"):
            w.gov.approve(NAME, 1, outsider, "ok")
    assert w.gov.state(NAME, 1) is ModelState.VALIDATED


def test_approval_needs_a_rationale_and_a_passing_validation(w: World) -> None:
    w.gov.submit(NAME, 1, w.maria)
    with pytest.raises(ConflictError, match="fraud v1 is submitted; only a validated version"):
        w.gov.approve(NAME, 1, w.vera, "premature")
    with pytest.raises(ConflictError, match="no stored passing validation"):
        w.gov.record_validation(NAME, 1, True, "vera")  # no evidence stored: refused
    w.validate(1)
    with pytest.raises(InputError, match="a rationale is required to approve fraud v1"):
        w.gov.approve(NAME, 1, w.vera, "   ")
    t = w.gov.approve(NAME, 1, w.vera, "all gates pass; capacity fits")
    assert t.to_state is ModelState.APPROVED and t.rationale == "all gates pass; capacity fits"
    assert w.registry.get(NAME, 1).tags["bankml.approved_by"] == "vera"


def test_a_failed_gate_blocks_approval_until_a_later_validation_passes(w: World) -> None:
    w.gov.submit(NAME, 1, w.maria)
    w.validate(1)
    w.tick()
    w.validate(1, passed=False)  # a re-run fails: back to submitted, marked failed
    assert w.gov.state(NAME, 1) is ModelState.SUBMITTED
    with pytest.raises(ConflictError, match=r"failed its latest validation.*cannot be approved"):
        w.gov.approve(NAME, 1, w.vera, "ship it")
    w.tick()
    w.validate(1)
    assert w.gov.approve(NAME, 1, w.vera, "fixed").to_state is ModelState.APPROVED


def test_failed_evidence_stored_without_state_change_still_blocks_approval(w: World) -> None:
    w.gov.submit(NAME, 1, w.maria)
    w.validate(1)
    w.store_validation(1, passed=False)  # stored, but nobody recorded the outcome yet
    with pytest.raises(ConflictError, match="failed its latest validation"):
        w.gov.approve(NAME, 1, w.vera, "ship it")


def test_reject_needs_a_validator_and_a_rationale_and_is_final(w: World) -> None:
    w.gov.submit(NAME, 2, w.maria)
    with pytest.raises(PermissionDeniedError):
        w.gov.reject(NAME, 2, w.sam, "no")
    with pytest.raises(InputError, match="rationale is required to reject"):
        w.gov.reject(NAME, 2, w.vera, "")
    assert w.gov.reject(NAME, 2, w.vera, "PSI of amount is 0.4").to_state is ModelState.REJECTED
    w.store_validation(2, passed=True)
    with pytest.raises(ConflictError, match="fraud v2 is rejected"):
        w.gov.record_validation(NAME, 2, True, "vera")


def test_full_lifecycle_promote_replace_and_roll_back(w: World) -> None:
    w.to_approved(1, w.maria, w.vera)
    with pytest.raises(PermissionDeniedError, match="needs admin or model_developer"):
        w.gov.promote(NAME, 1, w.vera)
    with pytest.raises(ConflictError, match="no previous champion"):
        w.gov.rollback(NAME, w.olga, "nothing to go back to")
    w.tick()
    w.gov.promote(NAME, 1, w.maria, "first champion")
    assert w.gov.champion(NAME) == 1 and w.gov.state(NAME, 1) is ModelState.CHAMPION
    assert w.registry.get(NAME, 1).aliases == ("champion",)
    first_promoted = w.clock.now()

    with pytest.raises(ConflictError, match="fraud v2 is registered; only an approved version"):
        w.gov.promote(NAME, 2, w.maria)
    w.tick(60)
    w.to_approved(2, w.sam, w.victor)
    w.tick()
    w.gov.promote(NAME, 2, w.olga)
    second_promoted = w.clock.now()
    assert w.gov.champion(NAME) == 2
    assert w.gov.state(NAME, 1) is ModelState.RETIRED
    assert w.registry.get(NAME, 2).aliases == ("champion",)
    assert w.registry.get(NAME, 1).tags["bankml.state"] == "retired"

    with pytest.raises(InputError, match="rationale is required to roll back"):
        w.gov.rollback(NAME, w.olga, "")
    with pytest.raises(PermissionDeniedError):
        w.gov.rollback(NAME, w.fiona, "alerts doubled")
    w.tick()
    t = w.gov.rollback(NAME, w.olga, "v2 doubled false alerts overnight")
    assert (t.version, t.from_state, t.to_state) == (1, ModelState.RETIRED, ModelState.CHAMPION)
    assert w.gov.champion(NAME) == 1
    assert w.gov.state(NAME, 2) is ModelState.RETIRED
    assert w.registry.get(NAME, 1).aliases == ("champion",)
    with pytest.raises(ConflictError, match="no previous champion"):
        w.gov.rollback(NAME, w.olga, "again")  # v1 was the first champion: nothing before it
    with pytest.raises(ConflictError, match="only an approved version can be promoted"):
        w.gov.promote(NAME, 2, w.olga)  # a retired version does not come back by promotion

    assert w.gov.champion_at(NAME, T0) is None
    assert w.gov.champion_at(NAME, first_promoted) == 1
    assert w.gov.champion_at(NAME, second_promoted) == 2
    assert w.gov.champion_at(NAME, w.clock.now()) == 1
    history = w.gov.champion_history(NAME)
    assert [(c.action, c.version, c.previous_version) for c in history] == [
        ("promote", 1, None),
        ("promote", 2, 1),
        ("rollback", 1, 2),
    ]
    assert history[-1].rationale == "v2 doubled false alerts overnight"

    steps = [(t.from_state, t.to_state) for t in w.gov.transitions(NAME, 1)]
    assert [s[1].value for s in steps] == [
        "registered",
        "submitted",
        "validated",
        "approved",
        "champion",
        "retired",
        "champion",
    ]
    kinds = [e.kind for e in w.ledger.entries() if e.subject.startswith("model:")]
    for kind in (
        "model.inventoried",
        "model.submitted",
        "model.validated",
        "model.approved",
        "model.promoted",
        "model.retired",
        "model.rolled_back",
    ):
        assert kind in kinds
    # Every transition row points at its own ledger entry.
    for version in (1, 2):
        for t in w.gov.transitions(NAME, version):
            entry = w.ledger.get(t.ledger_seq)
            assert entry.subject == f"model:{NAME}/{version}"
            assert entry.payload["to"] == t.to_state.value
    assert w.ledger.verify().ok
