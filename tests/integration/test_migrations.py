"""A home made by the previous release (schema revision 0004, with rows in every slice's
tables) migrates forward without losing data, on SQLite and PostgreSQL; the governance rows
are back-filled with their ledger entries' hashes, so the old history still proves itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bankml.app import SCHEMA
from bankml.core.storage import Database
from bankml.governance.ledger import DecisionLedger
from bankml.governance.provenance import GovernanceProof

TS = "2026-11-28T10:00:0{}.000000Z"
HASHES = [f"{c}" * 64 for c in "abcdef"]

# Rows as the 0004 release wrote them (literal SQL against the 0004 layout).
OLD_ROWS = [
    "INSERT INTO users (id, name, role, groups, created_at) VALUES "
    "(1, 'maria', 'model_developer', '', '2026-11-28T09:00:00.000000Z')",
    "INSERT INTO api_keys (id, user_id, prefix, key_hash, created_at) VALUES "
    "(1, 1, 'bk_abc', '" + "9" * 64 + "', '2026-11-28T09:00:00.000000Z')",
    *[
        "INSERT INTO ledger_entries (seq, ts, kind, actor, subject, payload, prev_hash, hash) "
        f"VALUES ({i + 1}, '{TS.format(i)}', '{kind}', 'maria', 'model:fraud/1', "
        f"'{{\"to\":\"{to}\"}}', '{'0' * 64 if i == 0 else HASHES[i - 1]}', '{HASHES[i]}')"
        for i, (kind, to) in enumerate(
            [
                ("model.inventoried", "registered"),
                ("model.submitted", "submitted"),
                ("model.validated", "validated"),
                ("model.approved", "approved"),
                ("model.promoted", "champion"),
            ]
        )
    ],
    f"INSERT INTO ledger_head (id, seq, hash) VALUES (1, 5, '{HASHES[4]}')",
    "INSERT INTO model_versions (model_name, version, state, trained_by, submitted_by, "
    "registered_at, updated_at) VALUES ('fraud', 1, 'champion', 'maria', 'maria', "
    f"'{TS.format(0)}', '{TS.format(4)}')",
    *[
        "INSERT INTO model_transitions (model_name, version, from_state, to_state, actor, "
        f"rationale, at, ledger_seq) VALUES ('fraud', 1, {frm}, '{to}', 'maria', '', "
        f"'{TS.format(i)}', {i + 1})"
        for i, (frm, to) in enumerate(
            [
                ("NULL", "registered"),
                ("'registered'", "submitted"),
                ("'submitted'", "validated"),
                ("'validated'", "approved"),
                ("'approved'", "champion"),
            ]
        )
    ],
    "INSERT INTO champion_history (model_name, version, previous_version, action, actor, "
    f"rationale, at) VALUES ('fraud', 1, NULL, 'promote', 'maria', 'go-live', '{TS.format(4)}')",
    "INSERT INTO model_validations (model_name, version, ran_at, ran_by, passed, "
    "policy_sha256, results, evidence) VALUES ('fraud', 1, "
    f"'{TS.format(2)}', 'victor', TRUE, '" + "7" * 64 + "', '[]', '{}')",
    "INSERT INTO fraud_alerts (alert_id, transaction_id, day, rank, score, threshold, "
    "model_name, model_version, card_token, amount, reasons, status, created_at) VALUES "
    "('a1', 42, '2026-03-01', 1, 0.9, 0.5, 'fraud', 1, 'tok_x', 12.5, '[]', 'open', "
    f"'{TS.format(5)}')",
    "INSERT INTO fraud_labels (transaction_id, is_fraud, known_at, source) VALUES "
    f"(42, TRUE, '{TS.format(5)}', 'disposition:a1')",
    "INSERT INTO policy_documents (doc_id, title, owner, classification, allowed_groups, "
    "effective_date, source, format, pages, content_hash, ingested_at) VALUES "
    "('p1', 'Travel', 'hr', 'internal', 'everyone', NULL, 'p1.md', 'md', 1, '"
    + "5" * 64
    + f"', '{TS.format(1)}')",
]
COUNTS = {
    "users": 1,
    "api_keys": 1,
    "ledger_entries": 5,
    "model_versions": 1,
    "model_transitions": 5,
    "champion_history": 1,
    "model_validations": 1,
    "fraud_alerts": 1,
    "fraud_labels": 1,
    "policy_documents": 1,
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_schema_url")
    )
    db = Database(url, SCHEMA)
    db.migrate("0004")
    with db.engine.begin() as conn:
        for sql in OLD_ROWS:
            conn.execute(text(sql))
    yield db
    db.dispose()


def test_a_0004_home_migrates_forward_without_losing_rows(old_home: Database) -> None:
    assert old_home.current_revision() == "0004"
    old_home.migrate()
    assert old_home.current_revision() != "0004"
    with old_home.engine.connect() as conn:
        for table, n in COUNTS.items():
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == n, table
        hashes = conn.execute(
            text("SELECT ledger_seq, ledger_hash FROM model_transitions ORDER BY id")
        ).all()
        champion = conn.execute(text("SELECT ledger_seq, ledger_hash FROM champion_history")).one()
        alert = conn.execute(text("SELECT card_token, amount FROM fraud_alerts")).one()
    # Back-filled from the ledger: each transition's hash is its entry's; the champion row
    # points at the promotion entry (#5).
    assert [(s, h) for s, h in hashes] == [(i + 1, HASHES[i]) for i in range(5)]
    assert tuple(champion) == (5, HASHES[4])
    assert tuple(alert) == ("tok_x", 12.5)
    # The old governance history is provable after the upgrade (no row lacks its entry).
    assert GovernanceProof(old_home, DecisionLedger(old_home)).cross_check() == []
