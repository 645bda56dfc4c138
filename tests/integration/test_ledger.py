"""The decision ledger on SQLite and PostgreSQL: chaining, tamper detection, concurrency."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from bankml.core.clock import FixedClock
from bankml.core.errors import IntegrityError
from bankml.core.storage import Database
from bankml.governance.ledger import GENESIS_HASH, DecisionLedger, Event, entry_hash


def _fill(ledger: DecisionLedger, n: int) -> None:
    ledger.append_many(
        [
            Event("fraud.scored", "svc", f"decision:{i}", {"score": i / 100, "i": i})
            for i in range(n)
        ]
    )


def test_entries_chain_from_genesis_and_verify(db: Database) -> None:
    ledger = DecisionLedger(db)
    first = ledger.append("model.submitted", "maria", "model:fraud/1", {"note": "first"})
    second = ledger.append("model.approved", "victor", "model:fraud/1", {"rationale": "ok"})
    assert first.seq == 1 and first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    expected = entry_hash(
        1, first.ts, first.kind, first.actor, first.subject, first.payload_json, GENESIS_HASH
    )
    assert first.hash == expected
    report = ledger.verify()
    assert report.ok and report.entries == 2 and report.head_hash == second.hash


def test_empty_ledger_verifies(db: Database) -> None:
    report = DecisionLedger(db).verify()
    assert report.ok and report.entries == 0 and report.head_hash == GENESIS_HASH


@pytest.mark.parametrize(
    ("statement", "first_bad"),
    [
        ("UPDATE ledger_entries SET payload = replace(payload, '0.03', '0.99') WHERE seq = 4", 4),
        ("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 2", 2),
        ("UPDATE ledger_entries SET ts = '2020-01-01T00:00:00.000000Z' WHERE seq = 5", 5),
        ("DELETE FROM ledger_entries WHERE seq = 3", 3),
        ("DELETE FROM ledger_entries WHERE seq = 6", 6),  # the tail: caught by the head row
    ],
)
def test_verify_names_the_first_bad_entry(db: Database, statement: str, first_bad: int) -> None:
    ledger = DecisionLedger(db)
    _fill(ledger, 6)
    with db.engine.begin() as conn:
        conn.execute(text(statement))
    report = ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == first_bad


def test_verify_checks_the_chain_across_read_batches(db: Database) -> None:
    # More entries than one read batch of the streamed scan (5,000), and the edit in the third.
    ledger = DecisionLedger(db)
    _fill(ledger, 12_345)
    seen: list[tuple[int, int]] = []
    report = ledger.verify(progress=lambda done, total: seen.append((done, total)))
    assert report.ok and report.entries == 12_345 and report.head_seq == 12_345
    assert seen[-1] == (12_345, 12_345) and len(seen) == 3
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 10001"))
    report = ledger.verify()
    assert not report.ok and report.first_bad_seq == 10_001 and report.entries == 10_000
    assert report.problem == "entry #10001 was altered (hash mismatch)"
    with pytest.raises(IntegrityError, match="entry #10001 is missing, altered or does not link"):
        for _ in ledger.chain_hashes(9_000, 12_345, ledger.get(9_000).hash):
            pass


def test_a_column_edited_to_a_non_text_value_is_reported_not_raised(sqlite_db: Database) -> None:
    ledger = DecisionLedger(sqlite_db)
    _fill(ledger, 5)
    with sqlite_db.engine.begin() as conn:  # SQLite keeps a blob a blob, even in a text column
        conn.execute(text("UPDATE ledger_entries SET payload = X'7b7d' WHERE seq = 3"))
    report = ledger.verify()
    assert not report.ok and report.first_bad_seq == 3
    assert report.problem == "entry #3 was altered (not text)"


def test_verify_detects_reordering(db: Database) -> None:
    ledger = DecisionLedger(db)
    _fill(ledger, 5)
    with db.engine.begin() as conn:
        rows = {r.seq: r for r in conn.execute(text("SELECT * FROM ledger_entries"))}
        # Swap entries 2 and 3 whole, each keeping its own stored hashes.
        conn.execute(text("UPDATE ledger_entries SET hash = 'tmp-' || seq WHERE seq IN (2, 3)"))
        for a, b in ((2, 3), (3, 2)):
            src = rows[b]
            conn.execute(
                text(
                    "UPDATE ledger_entries SET ts=:t, kind=:k, actor=:a, subject=:s, payload=:p, "
                    "hash=:h, prev_hash=:ph WHERE seq=:seq"
                ),
                {
                    "t": src.ts,
                    "k": src.kind,
                    "a": src.actor,
                    "s": src.subject,
                    "p": src.payload,
                    "h": src.hash,
                    "ph": src.prev_hash,
                    "seq": a,
                },
            )
    report = ledger.verify()
    assert not report.ok and report.first_bad_seq == 2


def test_verify_detects_an_inserted_entry(db: Database) -> None:
    ledger = DecisionLedger(db)
    _fill(ledger, 4)
    with db.engine.begin() as conn:
        # Shift entries 3..4 up by one and slip a forged entry in at #3.
        for seq in (4, 3):
            conn.execute(text("UPDATE ledger_entries SET seq = seq + 1 WHERE seq = :s"), {"s": seq})
        forged = entry_hash(
            3, "2026-01-01T00:00:00.000000Z", "fraud.scored", "svc", "decision:x", "{}", "f" * 64
        )
        conn.execute(
            text(
                "INSERT INTO ledger_entries VALUES (3, '2026-01-01T00:00:00.000000Z', "
                "'fraud.scored', 'svc', 'decision:x', '{}', :ph, :h)"
            ),
            {"ph": "f" * 64, "h": forged},
        )
    report = ledger.verify()
    assert not report.ok and report.first_bad_seq == 3


def test_anchor_catches_a_rewritten_history(db: Database) -> None:
    ledger = DecisionLedger(db)
    _fill(ledger, 3)
    _, anchor = ledger.head()
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries"))
        conn.execute(text("DELETE FROM ledger_head"))
    _fill(ledger, 3)  # a fully consistent, but different, history
    assert ledger.verify().ok
    report = ledger.verify(expect_head=anchor)
    assert not report.ok and "anchored" in (report.problem or "")


def test_payload_pii_is_redacted_before_hashing(db: Database) -> None:
    ledger = DecisionLedger(db)
    entry = ledger.append(
        "policy.asked",
        "cora",
        "question:1",
        {"question": "why was card 4111 1111 1111 1111 declined?"},
    )
    assert "4111" not in entry.payload_json
    assert "[PAN]" in entry.payload["question"]
    assert ledger.verify().ok


def test_lookup_by_time_kind_and_subject(db: Database) -> None:
    clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    ledger = DecisionLedger(db, clock)
    ledger.append("fraud.scored", "svc", "decision:a")
    clock.advance(timedelta(minutes=3))
    ledger.append("fraud.scored", "svc", "decision:b")
    ledger.append("model.promoted", "ada", "model:fraud/2")
    clock.advance(timedelta(hours=1))
    ledger.append("fraud.scored", "svc", "decision:c")
    window = ledger.entries(
        kind="fraud.scored",
        since=datetime(2026, 11, 24, 14, 2, tzinfo=UTC),
        until=datetime(2026, 11, 24, 14, 5, tzinfo=UTC),
    )
    assert [e.subject for e in window] == ["decision:b"]
    assert [e.seq for e in ledger.entries(subject="decision:c")] == [4]
    assert [e.seq for e in ledger.entries(limit=2, newest_first=True)] == [4, 3]


def test_concurrent_threads_never_fork_the_chain(db: Database) -> None:
    ledger = DecisionLedger(db)
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(25):
                ledger.append("fraud.scored", f"worker{w}", f"decision:{w}-{i}", {"i": i})
        except BaseException as exc:  # surfaced below; a thread cannot raise into the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = ledger.verify()
    assert report.ok and report.entries == 150


def _process_writer(url: str, w: int) -> None:
    db = Database(url)
    ledger = DecisionLedger(db)
    for i in range(20):
        ledger.append("fraud.scored", f"proc{w}", f"decision:{w}-{i}", {"i": i})
    db.dispose()


def test_concurrent_processes_never_fork_the_chain(db: Database) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_writer, args=(url, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert all(p.exitcode == 0 for p in procs)
    report = DecisionLedger(db).verify()
    assert report.ok and report.entries == 80


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seq=st.integers(1, 5),
    column=st.sampled_from(["ts", "kind", "actor", "subject", "payload", "prev_hash", "hash"]),
    pos=st.integers(0, 200),
    byte=st.integers(33, 126),
)
def test_any_single_byte_edit_is_detected(
    sqlite_db: Database, seq: int, column: str, pos: int, byte: int
) -> None:
    with sqlite_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries"))
        conn.execute(text("DELETE FROM ledger_head"))
    ledger = DecisionLedger(sqlite_db)
    _fill(ledger, 5)
    with sqlite_db.engine.begin() as conn:
        value = conn.execute(
            text(f"SELECT {column} FROM ledger_entries WHERE seq = :s"), {"s": seq}
        ).scalar_one()
        i = pos % len(value)
        edited = value[:i] + chr(byte) + value[i + 1 :]
        assume(edited != value)
        conn.execute(
            text(f"UPDATE ledger_entries SET {column} = :v WHERE seq = :s"), {"v": edited, "s": seq}
        )
    report = ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == seq


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(
        st.one_of(
            st.text(st.characters(codec="utf-8"), max_size=40),
            st.text(st.sampled_from('"\\{}:,a1 \n'), max_size=40),  # JSON's own characters
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
        ),
        min_size=8,
        max_size=8,
    )
)
def test_verify_hashes_any_stored_text_exactly_as_entry_hash_does(
    sqlite_db: Database, texts: list[str]
) -> None:
    # Rows written straight into the table (quotes, backslashes, control characters, NUL,
    # any unicode), chained with the reference entry_hash: verify's own hashing must agree.
    with sqlite_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries"))
        conn.execute(text("DELETE FROM ledger_head"))
        prev = GENESIS_HASH
        for seq, (a, b) in enumerate(zip(texts[::2], texts[1::2], strict=True), start=1):
            ts, kind, subject, payload = "2026-11-30T12:00:00.000000Z", "k" + a[:5], b, a + b
            digest = entry_hash(seq, ts, kind, "svc", subject, payload, prev)
            row = {"seq": seq, "ts": ts, "kind": kind, "actor": "svc", "subject": subject,
                   "payload": payload, "prev": prev, "hash": digest}  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO ledger_entries VALUES "
                    "(:seq, :ts, :kind, :actor, :subject, :payload, :prev, :hash)"
                ),
                row,
            )
            prev = digest
        conn.execute(text("INSERT INTO ledger_head VALUES (1, 4, :h)"), {"h": prev})
    report = DecisionLedger(sqlite_db).verify()
    assert report.ok and report.entries == 4, report


def test_decisions_naming_an_unregistered_model_version_are_found_by_the_database(
    db: Database,
) -> None:
    # `audit verify` lists decisions whose model version the registry lacks; the database
    # groups decisions by the version they name, and the answer must equal a plain scan.
    from bankml.governance.decisions import unknown_model_versions

    ledger = DecisionLedger(db)
    events = []
    for i in range(30):
        version: object = (1, 2, 7)[i % 3]
        if i == 29:
            version = "2"  # an older payload with the version as text counts as version 2
        events.append(
            Event(
                "fraud.scored",
                "svc",
                f"decision:{i}",
                {"model": {"name": "fraud", "version": version}},
            )
        )
    events.append(
        Event("credit.decided", "svc", "decision:c", {"model": {"name": "credit", "version": 3}})
    )
    events.append(
        Event("model.approved", "v", "model:fraud/7", {"model": {"name": "fraud", "version": 9}})
    )
    events.append(Event("fraud.scored", "svc", "decision:nomodel", {"score": 0.5}))
    ledger.append_many(events)
    decision_kinds = {"fraud.scored", "credit.decided"}

    assert ledger.models_named(decision_kinds) == {
        ("fraud", 1): [1],
        ("fraud", 2): [2],
        ("fraud", 7): [3],
        ("credit", 3): [31],
        ("", 0): [33],
    }
    registered = {("fraud", 1), ("fraud", 2), ("credit", 3)}
    missing = unknown_model_versions(ledger, lambda n, v: (n, v) in registered, decision_kinds)
    brute = [
        (
            str(e.payload.get("model", {}).get("name", "")),
            int(e.payload.get("model", {}).get("version", 0)),
            e.seq,
        )
        for e in ledger.entries()
        if e.kind in decision_kinds
    ]
    assert missing == [m for m in brute if (m[0], m[1]) not in registered]
    assert [m[2] for m in missing] == [
        3,
        6,
        9,
        12,
        15,
        18,
        21,
        24,
        27,
        33,
    ]  # model.approved is no decision
    db.dispose()


def test_an_unreadable_payload_does_not_stop_the_model_version_check(db: Database) -> None:
    ledger = DecisionLedger(db)
    ledger.append_many(
        [
            Event(
                "fraud.scored", "svc", f"decision:{i}", {"model": {"name": "fraud", "version": 1}}
            )
            for i in range(3)
        ]
    )
    with db.engine.begin() as conn:  # someone wrote into the table by hand (verify names it)
        conn.execute(text("UPDATE ledger_entries SET payload = 'not json' WHERE seq = 2"))
    assert ledger.models_named({"fraud.scored"}) == {("fraud", 1): [1], ("", 0): [2]}
    db.dispose()
