"""Issue 9 items 2 and 3 on SQLite and PostgreSQL, with a toy model kind (no training):

- the official gate policy is pinned by an admin; a validation against any other policy
  (a lax file swapped into the policy directory) never counts for approval;
- every transition and champion change carries its ledger entry's sequence and hash; a row
  written straight into ``champion_history`` makes no version servable, and ``audit verify``'s
  cross-check names that row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from bankml.core.clock import FixedClock
from bankml.core.errors import ConflictError, IntegrityError, PermissionDeniedError
from bankml.core.identity import Role, UserDirectory
from bankml.core.pii import PIITokenizer
from bankml.core.storage import Database
from bankml.governance.approvals import ModelGovernance
from bankml.governance.gates import ValidationStore
from bankml.governance.kinds import DocSection, EvidenceContext, KindRegistry, ModelKind
from bankml.governance.ledger import DecisionLedger
from bankml.governance.lifecycle import ModelLifecycle, PolicyPins
from bankml.governance.provenance import GovernanceProof
from bankml.governance.registry import ModelRegistry
from bankml.governance.serving import ChampionServing, ServingContext
from bankml.governance.tables import champion_history, model_transitions

NAME = "toy"
OFFICIAL = '[model]\nname = "toy"\n[floors]\nroc_auc = 0.90\n'
FORGE_STATE = "UPDATE model_versions SET state = 'champion' WHERE model_name = :n AND version = 3"
LAX = '[model]\nname = "toy"\n[floors]\nroc_auc = 0.10\n'


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelRegistry]:
    root = tmp_path_factory.mktemp("toy-registry")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        reg = ModelRegistry(f"sqlite:///{root / 'mlflow.db'}", root)
        for n in (1, 2, 3):
            model_dir = root / f"model{n}"
            model_dir.mkdir()
            (model_dir / "model.txt").write_text(f"toy model {n}\n")
            reg.register(NAME, model_dir, params={}, metrics={}, tags={"trained_by": "maria"})
        yield reg


class ToyServer:
    """A served toy version (``ModelServer``)."""

    def __init__(self, version: int) -> None:
        self.version = version


def _toy_kind(roc_auc: dict[int, float]) -> ModelKind:
    def collect(ctx: EvidenceContext) -> dict[str, Any]:
        return {"metrics": {"roc_auc": roc_auc[ctx.version]}}

    def build(ctx: ServingContext, version: int, previous: Any) -> ToyServer:
        ctx.model_dir(NAME, version)  # hash-checked download
        return ToyServer(version)

    def sections(evidence: Any) -> list[DocSection]:
        return []

    return ModelKind(
        name=NAME,
        title="Toy",
        collect_evidence=collect,
        load_replayer=lambda _d: None,  # type: ignore[arg-type,return-value]
        doc_sections=sections,
        decision_events=("toy.decided",),
        build_server=build,
    )


class World:
    def __init__(self, db: Database, registry: ModelRegistry, tmp: Path) -> None:
        self.db = db
        clock = FixedClock(datetime(2026, 11, 30, 9, tzinfo=UTC))
        self.ledger = DecisionLedger(db, clock)
        self.gov = ModelGovernance(db, self.ledger, registry, clock)
        kinds = KindRegistry()
        # v1 and v3 are good (0.95), v2 is weak (0.5): it passes only the lax policy.
        kinds.register(_toy_kind({1: 0.95, 2: 0.5, 3: 0.95}))
        self.pins = PolicyPins(db, self.ledger)
        self.lifecycle = ModelLifecycle(
            kinds, self.gov, registry, ValidationStore(db), self.pins, clock
        )
        self.proof = GovernanceProof(db, self.ledger)
        self.serving = ChampionServing(
            kinds,
            self.gov,
            registry,
            self.proof,
            ledger=self.ledger,
            tokenizer=PIITokenizer(b"k" * 32),
            clock=clock,
        )
        people = UserDirectory(db, clock)
        self.maria = people.add("maria", Role.MODEL_DEVELOPER)
        self.victor = people.add("victor", Role.VALIDATOR)
        self.ada = people.add("ada", Role.ADMIN)
        self.official = tmp / "policies" / "toy.toml"
        self.official.parent.mkdir()
        self.official.write_text(OFFICIAL)
        self.lax = tmp / "lax-policies" / "toy.toml"
        self.lax.parent.mkdir()
        self.lax.write_text(LAX)

    def champion(self, version: int) -> None:
        self.gov.submit(NAME, version, self.maria)
        report, _ = self.lifecycle.validate(NAME, version, self.victor)
        assert report.passed
        self.lifecycle.approve(NAME, version, self.victor, "meets the pinned policy")
        self.gov.promote(NAME, version, self.ada, "go-live")


@pytest.fixture
def w(db: Database, registry: ModelRegistry, tmp_path: Path) -> World:
    return World(db, registry, tmp_path)


def test_only_an_admin_pins_the_official_policy_and_the_pin_is_ledgered(w: World) -> None:
    with pytest.raises(PermissionDeniedError):
        w.pins.install(NAME, w.official, w.victor)
    pinned = w.pins.install(NAME, w.official, w.ada)
    entry = w.ledger.get(pinned.ledger_seq)
    assert entry.kind == "model.policy_pinned" and entry.actor == "ada"
    # SHA-256 of the OFFICIAL bytes above (computed once with sha256sum, pinned here).
    official_sha = "37c418a8388170797bc00470007efed681df8099573320430f537d0ba204f770"
    assert pinned.sha256 == official_sha and entry.payload["sha256"] == official_sha
    assert w.proof.cross_check() == []


def test_approval_without_a_pinned_policy_is_refused(w: World) -> None:
    w.gov.submit(NAME, 1, w.maria)
    with pytest.raises(ConflictError, match="no official gate policy is pinned"):
        w.lifecycle.validate(NAME, 1, w.victor)


def test_a_lax_policy_swapped_in_at_approval_time_does_not_count(w: World) -> None:
    """The swap attack: BANKML_POLICY_DIR=./lax-policies bankml model validate/approve."""
    w.pins.install(NAME, w.official, w.ada)
    w.gov.submit(NAME, 2, w.maria)
    official_run, _ = w.lifecycle.validate(NAME, 2, w.victor)
    assert not official_run.passed  # the weak version fails the official floor
    lax_run, _ = w.lifecycle.validate(NAME, 2, w.victor, policy_path=w.lax)
    assert lax_run.passed  # ... and passes the lax one, which is stored as a what-if
    with pytest.raises(ConflictError, match="not the official gate policy"):
        w.lifecycle.approve(NAME, 2, w.victor, "passed, against whatever policy dir I had")
    # An admin re-pinning the official file changes nothing; only a new admin pin of the
    # lax file would, and that is itself a ledgered, attributable act.
    assert w.pins.pinned(NAME) is not None
    assert w.pins.pinned(NAME).sha256 == official_run.policy_sha256  # type: ignore[union-attr]


def test_transitions_and_champion_rows_carry_their_ledger_entry(w: World) -> None:
    w.pins.install(NAME, w.official, w.ada)
    w.champion(1)
    with w.db.engine.connect() as conn:
        rows = conn.execute(select(model_transitions)).all()
        champ = conn.execute(select(champion_history)).one()
    assert [r.to_state for r in rows] == [
        "registered",
        "submitted",
        "validated",
        "approved",
        "champion",
    ]
    for r in rows:
        assert w.ledger.get(r.ledger_seq).hash == r.ledger_hash
    promoted = w.ledger.get(champ.ledger_seq)
    assert promoted.kind == "model.promoted" and promoted.hash == champ.ledger_hash
    assert w.serving.server(NAME).version == 1
    assert w.proof.cross_check() == []


def test_a_champion_row_inserted_behind_governance_is_refused_and_named(w: World) -> None:
    """The table attack: INSERT INTO champion_history ... makes an unapproved version champion."""
    w.pins.install(NAME, w.official, w.ada)
    w.champion(1)
    w.gov.register(NAME, 3, "maria")  # registered, never submitted or approved
    with w.db.engine.begin() as conn:
        conn.execute(
            insert(champion_history).values(
                model_name=NAME,
                version=3,
                previous_version=1,
                action="promote",
                actor="mallory",
                rationale="",
                at="2026-11-30T10:00:00.000000Z",
            )
        )
        conn.execute(
            text(
                "UPDATE model_versions SET state = 'champion' WHERE model_name = :n AND version = 3"
            ),
            {"n": NAME},
        )
        forged_id = conn.execute(text("SELECT max(id) FROM champion_history")).scalar_one()
    assert w.gov.champion(NAME) == 3  # the tables now claim v3 ...
    with pytest.raises(IntegrityError, match="refusing to serve toy v3"):
        w.serving.server(NAME)  # ... but the ledger holds no approved path for it
    problems = w.proof.cross_check()
    assert [(p.table, p.row_id) for p in problems] == [("champion_history", forged_id)]
    assert "records no ledger entry" in problems[0].message


def test_a_forged_row_pointing_at_a_real_entry_is_still_refused(w: World) -> None:
    """Copying the seq/hash of v1's promotion onto a v3 row: the entry is about v1."""
    w.pins.install(NAME, w.official, w.ada)
    w.champion(1)
    w.gov.register(NAME, 3, "maria")
    with w.db.engine.begin() as conn:
        real = conn.execute(select(champion_history)).one()
        conn.execute(
            insert(champion_history).values(
                model_name=NAME,
                version=3,
                previous_version=1,
                action="promote",
                actor="mallory",
                rationale="",
                at="2026-11-30T10:00:00.000000Z",
                ledger_seq=real.ledger_seq,
                ledger_hash=real.ledger_hash,
            )
        )
        conn.execute(
            text(
                "UPDATE model_versions SET state = 'champion' WHERE model_name = :n AND version = 3"
            ),
            {"n": NAME},
        )
    with pytest.raises(IntegrityError, match="is about model:toy/1"):
        w.serving.server(NAME)
    (problem,) = w.proof.cross_check()
    assert problem.table == "champion_history" and "model:toy/1" in problem.message


def test_rollback_keeps_the_previous_champion_provable(w: World) -> None:
    w.pins.install(NAME, w.official, w.ada)
    w.champion(1)
    w.champion(3)
    assert w.serving.refresh(NAME) == 3
    w.gov.rollback(NAME, w.ada, "v3 misbehaves")
    assert w.serving.refresh(NAME) == 1
    assert w.proof.cross_check() == []
