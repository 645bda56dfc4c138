"""The ledger's verify loop, and the worker process that runs it over one range of entries.

Stdlib only (PostgreSQL workers import psycopg, nothing else): ``bankml audit verify`` starts
its workers as fresh interpreters (``python -m bankml.governance.chainwalk``), and each one
must be reading rows within tens of milliseconds, not importing SQLAlchemy.

``walk`` is the one loop both paths run: ``DecisionLedger.verify`` walks the whole table with
it in one process, and each worker walks its range ``after < seq <= upto`` with it. A worker
does not know the hash its range must link to (the previous range is being hashed at the same
time), so it adopts the stored ``prev_hash`` of its first entry, reports it, and leaves that
one link to the parent, which stitches the ranges in order (see ``DecisionLedger.verify``).

The worker protocol: one JSON job on stdin, so a database password never appears in a
process listing (with ``hashes_to``, a checkpoint's: the file the worker writes the hashes it
computed to); on stdout, a line with the running count after each batch, then one line ``=``
+ the JSON result; a failure is ``!`` + one line of error, exit status 1.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from json.encoder import encode_basestring  # C-accelerated, as json.dumps uses
from typing import Any

__all__ = [
    "BATCH",
    "HASHED_SQL",
    "RangeWalk",
    "main",
    "msg_altered",
    "msg_missing",
    "msg_no_link",
    "msg_not_anchored",
    "msg_not_text",
    "run_job",
    "walk",
]

BATCH = 5_000
# The columns an entry hash covers, in the order ``walk`` unpacks them.
HASHED_SQL = "seq, ts, kind, actor, subject, payload, prev_hash, hash"
_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f-]{1,64}$")  # pg_export_snapshot(): 00000003-0000001B-1
_ADOPT = object()  # "take the first entry's stored prev_hash" (a worker's range)


def msg_missing(seq: int) -> str:
    """The problem when the walk expects entry ``seq`` and finds another (or none)."""
    return f"entry #{seq} is missing"


def msg_no_link(seq: int) -> str:
    """The problem when entry ``seq`` does not name the hash of ``seq - 1`` as its previous."""
    return f"entry #{seq} does not link to entry #{seq - 1}"


def msg_altered(seq: int) -> str:
    """The problem when entry ``seq`` no longer hashes to its stored hash."""
    return f"entry #{seq} was altered (hash mismatch)"


def msg_not_text(seq: int) -> str:
    """The problem when a column of entry ``seq`` was edited to a non-text value."""
    return f"entry #{seq} was altered (not text)"


def msg_not_anchored(seq: int) -> str:
    """The problem when a signed checkpoint names another hash for entry ``seq``."""
    return (
        f"entry #{seq} is not the entry the checkpoint of #{seq} signed "
        "(the history before it was rewritten)"
    )


@dataclass
class RangeWalk:
    """What walking ``after < seq <= upto`` found.

    ``count`` entries from ``after + 1`` on checked out (each linked to the one before and
    hashing to its stored hash; the first linked to ``prev`` unless the walk adopted it);
    ``last_hash`` is the computed hash of the last of them. ``bad_seq``/``problem``: the first
    entry that did not, if any, exactly as the sequential walk words it. ``first_prev``: the
    stored ``prev_hash`` of entry ``after + 1`` when the walk adopted it (None when that is not
    text); ``rows``: whether the range held any row at all; ``found_head``: whether a computed
    hash equalled ``expect_head``.
    """

    after: int
    count: int = 0
    last_hash: str = ""
    bad_seq: int | None = None
    problem: str | None = None
    first_prev: str | None = None
    rows: bool = False
    found_head: bool = False
    cpu_s: float = 0.0  # a worker's CPU time (for logs and the bench): the parallel critical path


def walk(
    batches: Iterable[list[Any]],
    after: int,
    prev: str | None,
    *,
    anchors: Mapping[int, str] | None = None,
    expect_head: str | None = None,
    on_batch: Callable[[int], None] | None = None,
    collect: list[str] | None = None,
) -> RangeWalk:
    """Re-hash the rows of ``batches`` (``HASHED_SQL`` columns, seq order, from ``after + 1``)
    and stop at the first entry that is missing, unlinked, altered or not what a checkpoint
    signed. ``prev`` is the hash entry ``after`` must have; None adopts the first row's stored
    ``prev_hash`` (a worker's range: the parent checks that link). ``on_batch(count)`` after
    each batch; ``collect`` gets each hash that checked out (a checkpoint's Merkle leaves).
    """
    out = RangeWalk(after=after)
    expected, count, found = after + 1, 0, expect_head is None
    link: object = _ADOPT if prev is None else prev
    bad: tuple[int, str] | None = None
    sha256, enc = hashlib.sha256, encode_basestring
    for rows in batches:
        out.rows = out.rows or bool(rows)
        try:
            for seq, ts, kind, actor, subject, payload, prev_hash, stored in rows:
                if seq != expected:
                    bad = expected, msg_missing(expected)
                    break
                if prev_hash != link:
                    if link is not _ADOPT:
                        bad = seq, msg_no_link(seq)
                        break
                    link = prev_hash
                    out.first_prev = prev_hash if isinstance(prev_hash, str) else None
                # entry_hash, inlined: this loop runs once per entry of the whole ledger.
                digest = sha256(
                    f'{link}\n{{"actor":{enc(actor)},"kind":{enc(kind)},'
                    f'"payload":{enc(payload)},"seq":{seq},"subject":{enc(subject)},'
                    f'"ts":{enc(ts)}}}'.encode()
                ).hexdigest()
                if digest != stored:
                    bad = seq, msg_altered(seq)
                    break
                if anchors and seq in anchors and anchors[seq] != digest:
                    bad = seq, msg_not_anchored(seq)
                    break
                if not found and digest == expect_head:
                    found = True
                if collect is not None:
                    collect.append(digest)
                link, expected, count = digest, expected + 1, count + 1
        except (TypeError, AttributeError):  # a column edited to a non-text value
            bad = expected, msg_not_text(expected)
        if bad is not None:
            out.bad_seq, out.problem = bad
            break
        if on_batch is not None:
            on_batch(count)
    out.count, out.found_head = count, found
    out.last_hash = link if isinstance(link, str) else ""
    return out


# --- the worker process ---------------------------------------------------------------------
def _sqlite_batches(job: Mapping[str, Any]) -> Iterable[list[Any]]:
    import sqlite3

    conn = sqlite3.connect(
        job["connect"]["database"],
        uri=bool(job["connect"].get("uri")),
        timeout=float(job["connect"].get("timeout", 60)),
        isolation_level=None,
    )
    try:
        conn.execute("PRAGMA query_only = ON")  # verify never writes
        conn.execute("BEGIN")
        cur = conn.execute(
            f"SELECT {HASHED_SQL} FROM ledger_entries WHERE seq > ? AND seq <= ? ORDER BY seq",
            (job["after"], job["upto"]),
        )
        while rows := cur.fetchmany(BATCH):
            yield rows
        conn.execute("COMMIT")
    finally:
        conn.close()


def _postgres_batches(job: Mapping[str, Any]) -> Iterable[list[Any]]:
    import psycopg

    snapshot = job.get("snapshot")
    if snapshot is not None and not _SNAPSHOT_ID.match(snapshot):
        raise ValueError("not a PostgreSQL snapshot id")
    with psycopg.connect(**job["connect"]) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        if snapshot is not None:
            # The parent's exported snapshot: every worker reads the one state the parent
            # read the head from (what parallel pg_dump does).
            conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # checked above
        with conn.cursor(name="bankml_ledger_verify_range") as cur:
            cur.execute(
                f"SELECT {HASHED_SQL} FROM ledger_entries WHERE seq > %s AND seq <= %s "
                "ORDER BY seq",
                (job["after"], job["upto"]),
            )
            while rows := cur.fetchmany(BATCH):
                yield rows


def run_job(job: Mapping[str, Any], emit: Callable[[str], None]) -> RangeWalk:
    """Walk one range as the job says; ``emit`` gets a progress line after each batch."""
    source = _sqlite_batches if job["backend"] == "sqlite" else _postgres_batches
    anchors = {int(k): str(v) for k, v in (job.get("anchors") or {}).items()}
    batches = source(job)
    hashes: list[str] | None = None if job.get("hashes_to") is None else []
    with contextlib.ExitStack() as stack:
        if hashes is not None:
            sink = stack.enter_context(open(job["hashes_to"], "w", encoding="ascii"))

        def on_batch(n: int) -> None:
            if hashes is not None:  # 64 hex digits each, no separator, in seq order
                sink.write("".join(hashes))
                hashes.clear()
            emit(str(n))

        try:
            result = walk(
                batches,
                int(job["after"]),
                None,
                anchors=anchors,
                expect_head=job.get("expect_head"),
                on_batch=on_batch,
                collect=hashes,
            )
            result.cpu_s = time.process_time()
            return result
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()  # end the read transaction even when the walk stopped early


def main() -> int:
    """``python -m bankml.governance.chainwalk``: one job on stdin, results on stdout."""
    out = sys.stdout

    def emit(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    try:
        result = run_job(json.load(sys.stdin), emit)
    except Exception as exc:  # reported to the parent as one line; it raises there
        emit("!" + f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500])
        return 1
    emit("=" + json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
