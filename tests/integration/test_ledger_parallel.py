"""Parallel ledger verify: worker processes over sequence ranges, stitched in the parent.

Every test runs the single walk (``workers=1``) and the parallel one on the same tampered
ledger and asks for the same report; the expected problem is written out, so a change that
broke both paths alike would fail too. 40 entries in 3 ranges: #1-#13, #14-#26, #27-#40
(``parallel_from=1`` forces workers on for a ledger this small).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from bankml.core.errors import IntegrityError, UnavailableError
from bankml.core.storage import Database
from bankml.governance.ledger import (
    GENESIS_HASH,
    DecisionLedger,
    Event,
    VerifyReport,
    _RangePlan,
    _run_workers,
    entry_hash,
)

N = 40
WORKERS = 3  # ranges (0, 13], (13, 26], (26, 40]


def _fill(ledger: DecisionLedger, n: int = N) -> None:
    ledger.append_many(
        [Event("fraud.scored", "svc", f"decision:{i}", {"score": i / 100}) for i in range(n)]
    )


def _both(
    ledger: DecisionLedger,
    *,
    anchors: dict[int, str] | None = None,
    expect_head: str | None = None,
) -> VerifyReport:
    """The parallel report, after checking it is exactly the single walk's."""
    single = ledger.verify(workers=1, anchors=anchors, expect_head=expect_head)
    parallel = ledger.verify(
        workers=WORKERS, parallel_from=1, anchors=anchors, expect_head=expect_head
    )
    assert parallel == single
    return parallel


def _sql(db: Database, *statements: str) -> None:
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _relink(conn: Connection, start: int, stop: int, *, head: bool) -> None:
    """Recompute the hashes of entries ``start..stop`` from their (edited) contents, each
    linked to the one before: what someone rewriting history with database access does."""
    prev = conn.execute(text("SELECT hash FROM ledger_entries WHERE seq = :s"), {"s": start - 1})
    link = prev.scalar_one()
    rows = conn.execute(
        text("SELECT * FROM ledger_entries WHERE seq BETWEEN :a AND :b ORDER BY seq"),
        {"a": start, "b": stop},
    ).all()
    for r in rows:
        digest = entry_hash(r.seq, r.ts, r.kind, r.actor, r.subject, r.payload, link)
        conn.execute(
            text("UPDATE ledger_entries SET prev_hash = :p, hash = :h WHERE seq = :s"),
            {"p": link, "h": digest, "s": r.seq},
        )
        link = digest
    if head:
        conn.execute(text("UPDATE ledger_head SET hash = :h WHERE id = 1"), {"h": link})


def test_a_clean_ledger_gives_the_same_report_and_aggregate_progress(db: Database) -> None:
    ledger = DecisionLedger(db)
    _fill(ledger)
    seen: list[tuple[int, int]] = []
    report = ledger.verify(workers=WORKERS, parallel_from=1, progress=lambda *a: seen.append(a))
    assert report == ledger.verify(workers=1)
    assert report.ok and report.entries == N and report.head_seq == N
    # One call per worker batch, counts summed over the workers, ending at the whole ledger.
    assert len(seen) == WORKERS and seen[-1] == (N, N)
    assert sorted(done for done, _ in seen) == [done for done, _ in seen]


def test_below_the_threshold_no_worker_is_started(sqlite_db: Database) -> None:
    ledger = DecisionLedger(sqlite_db, verify_workers=WORKERS, parallel_verify_from=N + 1)
    _fill(ledger)
    seen: list[tuple[int, int]] = []
    assert ledger.verify(progress=lambda *a: seen.append(a)).ok
    assert seen == [(N, N)]  # one batch of the single walk, not one per worker


TAMPERS: list[tuple[str, list[str], int, str]] = [
    (
        "first entry of the first range",
        ["UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 1"],
        1,
        "entry #1 was altered (hash mismatch)",
    ),
    (
        "last entry of the first range",
        ["UPDATE ledger_entries SET subject = 'decision:x' WHERE seq = 13"],
        13,
        "entry #13 was altered (hash mismatch)",
    ),
    (
        "first entry of the second range (the stitch boundary)",
        ["UPDATE ledger_entries SET payload = replace(payload, 'score', 'scorf') WHERE seq = 14"],
        14,
        "entry #14 was altered (hash mismatch)",
    ),
    (
        "the link across the boundary",
        ["UPDATE ledger_entries SET prev_hash = hash WHERE seq = 14"],
        14,
        "entry #14 does not link to entry #13",
    ),
    (
        "middle of the second range",
        ["UPDATE ledger_entries SET ts = '2020-01-01T00:00:00.000000Z' WHERE seq = 20"],
        20,
        "entry #20 was altered (hash mismatch)",
    ),
    (
        "last entry of the ledger",
        ["UPDATE ledger_entries SET kind = 'credit.decided' WHERE seq = 40"],
        40,
        "entry #40 was altered (hash mismatch)",
    ),
    (
        "the entry after a boundary deleted",
        ["DELETE FROM ledger_entries WHERE seq = 14"],
        14,
        "entry #14 is missing",
    ),
    (
        "the entry before a boundary deleted",
        ["DELETE FROM ledger_entries WHERE seq = 26"],
        26,
        "entry #26 is missing",
    ),
    (
        "a whole range deleted",
        ["DELETE FROM ledger_entries WHERE seq BETWEEN 14 AND 26"],
        14,
        "entry #14 is missing",
    ),
    (
        "the tail deleted",
        ["DELETE FROM ledger_entries WHERE seq > 33"],
        34,
        "the chain ends at #33 but the head row records #40 (entries removed, or the head "
        "row was edited)",
    ),
    (
        "the head row moved back (rows above the head)",
        ["UPDATE ledger_head SET seq = 30"],
        31,
        "the chain ends at #40 but the head row records #30 (entries removed, or the head "
        "row was edited)",
    ),
    (
        "the head row's hash",
        ["UPDATE ledger_head SET hash = (SELECT hash FROM ledger_entries WHERE seq = 39)"],
        40,
        "the head row's hash does not match entry #40: the head row is corrupted (or the last "
        "entry was replaced)",
    ),
    (
        "two entries swapped across the boundary",
        [
            "UPDATE ledger_entries SET seq = -1 WHERE seq = 13",
            "UPDATE ledger_entries SET seq = 13 WHERE seq = 14",
            "UPDATE ledger_entries SET seq = 14 WHERE seq = -1",
        ],
        13,
        "entry #13 does not link to entry #12",
    ),
]


@pytest.mark.parametrize(
    ("statements", "first_bad", "problem"),
    [t[1:] for t in TAMPERS],
    ids=[t[0] for t in TAMPERS],
)
def test_a_tamper_in_any_range_gets_the_single_walks_report(
    db: Database, statements: list[str], first_bad: int, problem: str
) -> None:
    ledger = DecisionLedger(db)
    _fill(ledger)
    _sql(db, *statements)
    report = _both(ledger)
    assert not report.ok
    assert (report.first_bad_seq, report.problem) == (first_bad, problem)


def test_a_rewritten_and_relinked_suffix_breaks_at_the_next_range(db: Database) -> None:
    # The second range rewritten and re-hashed in itself; the third still names the old #26.
    ledger = DecisionLedger(db)
    _fill(ledger)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 14"))
        _relink(conn, 14, 26, head=False)
    report = _both(ledger)
    assert (report.first_bad_seq, report.problem) == (27, "entry #27 does not link to entry #26")
    assert report.entries == 26


def test_a_relinked_suffix_to_the_head_is_caught_only_by_an_anchor(db: Database) -> None:
    ledger = DecisionLedger(db)
    _fill(ledger)
    old_head = ledger.head()[1]
    signed = {13: ledger.get(13).hash, 30: ledger.get(30).hash}
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 14"))
        _relink(conn, 14, N, head=True)
    assert _both(ledger).ok  # the chain alone agrees with itself, both ways
    report = _both(ledger, anchors=signed)
    assert (report.first_bad_seq, report.problem) == (
        30,
        "entry #30 is not the entry the checkpoint of #30 signed (the history before it was "
        "rewritten)",
    )
    report = _both(ledger, expect_head=old_head)
    assert report.problem == "the anchored head hash is not in the chain (history rewritten)"


def test_anchors_and_an_expected_head_in_a_middle_range(db: Database) -> None:
    ledger = DecisionLedger(db)
    _fill(ledger)
    signed = {13: ledger.get(13).hash, 27: ledger.get(27).hash}
    report = _both(ledger, anchors=signed, expect_head=ledger.get(20).hash)
    assert report.ok and report.anchored_seq == 27 and report.unanchored == 13
    report = _both(ledger, anchors={**signed, 45: "0" * 64})
    assert (report.first_bad_seq, report.problem) == (
        41,
        "the ledger ends at #40 but a signed checkpoint anchored #45 (truncated)",
    )


@pytest.mark.parametrize(
    ("statement", "first_bad", "problem"),
    [
        (
            "UPDATE ledger_entries SET payload = X'7b7d' WHERE seq = 14",
            14,
            "entry #14 was altered (not text)",
        ),
        (
            "UPDATE ledger_entries SET prev_hash = CAST(prev_hash AS BLOB) WHERE seq = 14",
            14,
            "entry #14 does not link to entry #13",
        ),
        ("UPDATE ledger_entries SET seq = 'x' WHERE seq = 20", 20, "entry #20 is missing"),
        ("UPDATE ledger_entries SET seq = 13.5 WHERE seq = 14", 14, "entry #14 is missing"),
        ("UPDATE ledger_entries SET seq = 0 WHERE seq = 1", 1, "entry #1 is missing"),
    ],
)
def test_sqlite_values_of_the_wrong_type_get_the_single_walks_report(
    sqlite_db: Database, statement: str, first_bad: int, problem: str
) -> None:
    # SQLite keeps what it is given, in any column (``seq`` is a BIGINT key, not a rowid).
    ledger = DecisionLedger(sqlite_db)
    _fill(ledger)
    _sql(sqlite_db, statement)
    report = _both(ledger)
    assert (report.first_bad_seq, report.problem) == (first_bad, problem)


def test_a_worker_that_cannot_read_is_one_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "bankml.db"
    plan = _RangePlan({"backend": "sqlite", "database": str(missing)}, [0, 10, 20], None)
    with pytest.raises(UnavailableError, match=r"^a ledger verify worker failed: Operational"):
        _run_workers(plan, {}, None, 20, None)


_EDITS: list[Callable[[int], str]] = [
    lambda s: f"UPDATE ledger_entries SET actor = 'mallory' WHERE seq = {s}",
    lambda s: f"UPDATE ledger_entries SET prev_hash = 'f' || substr(prev_hash, 2) WHERE seq = {s}",
    lambda s: f"UPDATE ledger_entries SET hash = 'f' || substr(hash, 2) WHERE seq = {s}",
    lambda s: f"DELETE FROM ledger_entries WHERE seq = {s}",
    lambda s: f"DELETE FROM ledger_entries WHERE seq >= {s}",
    lambda s: f"UPDATE ledger_head SET seq = {s}",
    lambda s: f"UPDATE ledger_entries SET seq = seq + 100 WHERE seq = {s}",
]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    n=st.integers(1, 30),
    workers=st.integers(2, 4),
    edits=st.lists(st.tuples(st.integers(0, len(_EDITS) - 1), st.integers(1, 30)), max_size=2),
)
def test_parallel_and_single_walks_agree_on_any_small_ledger(
    sqlite_db: Database, n: int, workers: int, edits: list[tuple[int, int]]
) -> None:
    _sql(sqlite_db, "DELETE FROM ledger_entries", "DELETE FROM ledger_head")
    ledger = DecisionLedger(sqlite_db)
    _fill(ledger, n)
    _sql(sqlite_db, *(_EDITS[e](min(s, n)) for e, s in edits))
    single = ledger.verify(workers=1)
    assert ledger.verify(workers=workers, parallel_from=1) == single
    if not edits:
        assert single.ok and single.entries == n


def _chain(ledger: DecisionLedger, after: int, upto: int, workers: int) -> list[str] | str:
    """The hashes ``chain_hashes`` yields, or the IntegrityError it raises."""
    try:
        return [
            h
            for batch in ledger.chain_hash_batches(
                after, upto, ledger.get(after).hash if after else GENESIS_HASH,
                workers=workers, parallel_from=1,
            )
            for h in batch
        ]  # fmt: skip
    except IntegrityError as exc:
        return str(exc)


@pytest.mark.parametrize(
    ("statement", "after", "expected"),
    [
        (None, 0, None),
        (None, 5, None),
        ("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 14", 0, "entry #14 is missing, "
         "altered or does not link; run bankml audit verify"),
        ("UPDATE ledger_entries SET prev_hash = hash WHERE seq = 27", 5, "entry #27 is missing, "
         "altered or does not link; run bankml audit verify"),
        ("DELETE FROM ledger_entries WHERE seq = 20", 0, "entry #20 is missing, altered or does "
         "not link; run bankml audit verify"),
        ("DELETE FROM ledger_entries WHERE seq > 35", 5, "entry #36 is missing; run bankml audit "
         "verify"),
    ],
)  # fmt: skip
def test_checkpoint_hashes_from_workers_are_the_single_walks(
    db: Database, statement: str | None, after: int, expected: str | None
) -> None:
    ledger = DecisionLedger(db)
    _fill(ledger)
    clean = [ledger.get(seq).hash for seq in range(after + 1, N + 1)]  # as stored, untouched
    if statement is not None:
        _sql(db, statement)
    single, parallel = _chain(ledger, after, N, 1), _chain(ledger, after, N, WORKERS)
    assert parallel == single
    assert parallel == (clean if expected is None else expected)
