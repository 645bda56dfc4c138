"""The human review queue for answers, and the corrections it produces.

Answers with weak support, guard flags or a user's "this is wrong" land here. Compliance
reviewers approve, correct or reject them; approvals and corrections are shown to later askers
of the same (normalized) question, with who reviewed it and when.

Two access rules keep the queue from becoming a side door: a reviewer only sees items whose
cited documents they may read themselves, and a stored correction is shown only to askers who
may read every document it cites (checked against the documents' current groups, so
re-permissioning a document hides corrections built on it). A reviewer cannot review their own
question (maker-checker).
"""

from __future__ import annotations

import builtins
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from bankml.core.identity import Role, User
from bankml.core.pii import redact_text
from bankml.core.storage import Database
from bankml.governance.ledger import DecisionLedger
from bankml.policy.index import IndexedChunk
from bankml.policy.store import AnswerRecord, PolicyStore
from bankml.policy.tables import policy_corrections, policy_review_items
from bankml.policy.text import check_free_text, check_id

__all__ = ["Correction", "ReviewItem", "ReviewQueue", "ground_correction", "question_key"]

log = logging.getLogger(__name__)

STATUSES = ("open", "approved", "corrected", "rejected")
_NOT_VISIBLE = "no review item #{id} in your queue"


def question_key(redacted_question: str) -> str:
    """Hash of a question with case, punctuation and spacing normalized."""
    norm = " ".join(re.findall(r"[a-z0-9\[\]]+", redacted_question.lower()))
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ReviewItem:
    """An answer waiting for (or past) human review."""

    id: int
    answer: AnswerRecord
    reason: str
    note: str
    doc_ids: tuple[str, ...]
    status: str
    created_at: str
    resolved_by: str | None
    resolved_at: str | None
    resolution_note: str | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view for reviewers."""
        return {
            "id": self.id,
            "answer_id": self.answer.id,
            "asked_by": self.answer.asked_by,
            "question": self.answer.question,
            "answer": self.answer.answer,
            "citations": self.answer.citations,
            "abstained": self.answer.abstained,
            "flags": list(self.answer.flags),
            "reason": self.reason,
            "note": self.note,
            "status": self.status,
            "created_at": self.created_at,
            "resolved_by": self.resolved_by,
            "resolved_at": self.resolved_at,
            "resolution_note": self.resolution_note,
        }


@dataclass(frozen=True)
class Correction:
    """A reviewed answer for a question, with its provenance."""

    id: int
    review_item_id: int
    kind: str
    answer: str
    citations: list[dict[str, Any]]
    reviewed_by: str
    reviewed_at: str


class ReviewQueue:
    """Opens, lists and resolves review items; finds corrections for a question."""

    def __init__(
        self, db: Database, store: PolicyStore, ledger: DecisionLedger, clock: Clock | None = None
    ) -> None:
        self._db = db
        self._store = store
        self._ledger = ledger
        self._clock = clock or SystemClock()

    def submit(self, answer: AnswerRecord, reason: str, note: str = "") -> int:
        """Queue an answer for review; returns the item id."""
        doc_ids = sorted({str(c["doc_id"]) for c in answer.citations})
        note = redact_text(_optional_note(note))[:2000]
        with self._db.engine.begin() as conn:
            result = conn.execute(
                insert(policy_review_items).values(
                    answer_id=answer.id,
                    reason=reason,
                    note=note,
                    doc_ids=",".join(doc_ids),
                    status="open",
                    created_at=utc_iso(self._clock.now()),
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # an INSERT always returns its new primary key
            item_id = int(key[0])
        self._ledger.append(
            "policy.review_opened",
            answer.asked_by,
            f"policy.review:{item_id}",
            {"answer_id": answer.id, "reason": reason, "note": note},
        )
        return item_id

    def _rows(self, status: str | None) -> list[Any]:
        query = select(policy_review_items).order_by(policy_review_items.c.id)
        if status:
            query = query.where(policy_review_items.c.status == status)
        with self._db.engine.connect() as conn:
            return [r._mapping for r in conn.execute(query)]

    def _visible(self, reviewer: User, rows: list[Any]) -> list[ReviewItem]:
        all_docs = {d for r in rows for d in str(r["doc_ids"]).split(",") if d}
        readable = self._store.readable_doc_ids(reviewer.reading_groups, all_docs)
        items = []
        for r in rows:
            docs = tuple(d for d in str(r["doc_ids"]).split(",") if d)
            if not set(docs) <= readable:
                continue  # the reviewer may not read what this answer cites: not theirs
            answer = self._store.get_answer(str(r["answer_id"]))
            if answer is None:
                continue
            items.append(
                ReviewItem(
                    int(r["id"]),
                    answer,
                    str(r["reason"]),
                    str(r["note"]),
                    docs,
                    str(r["status"]),
                    str(r["created_at"]),
                    r["resolved_by"],
                    r["resolved_at"],
                    r["resolution_note"],
                )
            )
        return items

    def list(self, reviewer: User, status: str | None = "open") -> list[ReviewItem]:
        """Items the reviewer may see (compliance reviewers only)."""
        reviewer.require(Role.COMPLIANCE_REVIEWER)
        if status is not None and status not in STATUSES:
            raise InputError(f"unknown status {status!r}; choose one of: {', '.join(STATUSES)}")
        return self._visible(reviewer, self._rows(status))

    def get(self, item_id: int, reviewer: User) -> ReviewItem:
        """One item; an item the reviewer may not see reads exactly like a missing one."""
        reviewer.require(Role.COMPLIANCE_REVIEWER)
        for item in self._visible(
            reviewer, [r for r in self._rows(None) if int(r["id"]) == item_id]
        ):
            return item
        raise NotFoundError(_NOT_VISIBLE.format(id=item_id))

    def _open_item(self, item_id: int, reviewer: User) -> ReviewItem:
        item = self.get(item_id, reviewer)
        if item.status != "open":
            raise ConflictError(f"review item #{item_id} is already {item.status}")
        if item.answer.asked_by == reviewer.name:
            raise PermissionDeniedError("reviewers cannot review answers to their own questions")
        return item

    def _resolve(self, item: ReviewItem, reviewer: User, status: str, note: str) -> None:
        with self._db.engine.begin() as conn:
            result = conn.execute(
                update(policy_review_items)
                .where(policy_review_items.c.id == item.id, policy_review_items.c.status == "open")
                .values(
                    status=status,
                    resolved_by=reviewer.name,
                    resolved_at=utc_iso(self._clock.now()),
                    resolution_note=note,
                )
            )
            if result.rowcount != 1:
                raise ConflictError(f"review item #{item.id} was resolved by someone else")

    def _store_correction(
        self,
        item: ReviewItem,
        reviewer: User,
        kind: str,
        answer: str,
        citations: builtins.list[dict[str, Any]],
    ) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(
                insert(policy_corrections).values(
                    question_key=item.answer.question_key,
                    review_item_id=item.id,
                    kind=kind,
                    answer=answer,
                    citations=json.dumps(citations, sort_keys=True),
                    doc_ids=",".join(sorted({str(c["doc_id"]) for c in citations})),
                    reviewed_by=reviewer.name,
                    reviewed_at=utc_iso(self._clock.now()),
                )
            )

    def approve(self, item_id: int, reviewer: User, note: str = "") -> ReviewItem:
        """Confirm the answer; later identical questions get it as a reviewed answer."""
        item = self._open_item(item_id, reviewer)
        note = redact_text(_optional_note(note))
        self._resolve(item, reviewer, "approved", note)
        if not item.answer.abstained and item.answer.citations:
            self._store_correction(
                item, reviewer, "approved", item.answer.answer, item.answer.citations
            )
        self._ledger.append(
            "policy.review_approved",
            reviewer.name,
            f"policy.review:{item_id}",
            {"answer_id": item.answer.id, "note": note},
        )
        return self.get(item_id, reviewer)

    def correct(
        self,
        item_id: int,
        reviewer: User,
        answer: str,
        cite: builtins.list[str] | None = None,
        note: str = "",
    ) -> ReviewItem:
        """Replace the answer with the reviewer's, citing chunks the reviewer may read.

        Without ``cite`` the original citations stay. A correction must cite something: an
        uncited correction could not be checked, nor shown safely to anyone.
        """
        item = self._open_item(item_id, reviewer)
        text = redact_text(check_free_text(answer, "corrected answer"))
        chunk_ids = (
            list(dict.fromkeys(check_id(c, "cited chunk id") for c in cite))
            if cite
            else [str(c["chunk_id"]) for c in item.answer.citations]
        )
        if not chunk_ids:
            raise InputError("a correction must cite at least one chunk (--cite CHUNK_ID)")
        chunks = self._store.chunks_by_id(chunk_ids)
        readable = self._store.readable_doc_ids(
            reviewer.reading_groups, {c.doc_id for c in chunks.values()}
        )
        if any(c not in chunks or chunks[c].doc_id not in readable for c in chunk_ids):
            # Same words for "missing" and "not yours": no probing chunk ids through here.
            raise InputError("cite chunk ids from `bankml policy search` that you can read")
        cited = [chunks[c] for c in chunk_ids]
        quotes = ground_correction(text, cited)
        citations = [
            {
                "doc_id": c.doc_id,
                "chunk_id": c.chunk_id,
                "section": c.section,
                "quote": " ".join(quotes[c.chunk_id]) or c.text[:300],
            }
            for c in cited
        ]
        note = redact_text(_optional_note(note))
        self._resolve(item, reviewer, "corrected", note)
        self._store_correction(item, reviewer, "corrected", text, citations)
        self._ledger.append(
            "policy.review_corrected",
            reviewer.name,
            f"policy.review:{item_id}",
            {
                "answer_id": item.answer.id,
                "answer": text,
                "note": note,
                "citations": [c["chunk_id"] for c in citations],
            },
        )
        return self.get(item_id, reviewer)

    def reject(self, item_id: int, reviewer: User, note: str = "") -> ReviewItem:
        """Mark the answer wrong without a replacement."""
        item = self._open_item(item_id, reviewer)
        note = redact_text(_optional_note(note))
        self._resolve(item, reviewer, "rejected", note)
        self._ledger.append(
            "policy.review_rejected",
            reviewer.name,
            f"policy.review:{item_id}",
            {"answer_id": item.answer.id, "note": note},
        )
        return self.get(item_id, reviewer)

    def correction_for(self, key: str, reading_groups: frozenset[str]) -> Correction | None:
        """The newest reviewed answer for this question that the asker may read in full."""
        with self._db.engine.connect() as conn:
            rows = [
                r._mapping
                for r in conn.execute(
                    select(policy_corrections)
                    .where(policy_corrections.c.question_key == key)
                    .order_by(policy_corrections.c.id.desc())
                )
            ]
        for r in rows:
            docs = {d for d in str(r["doc_ids"]).split(",") if d}
            if not docs or self._store.readable_doc_ids(reading_groups, docs) != docs:
                continue
            correction = Correction(
                int(r["id"]),
                int(r["review_item_id"]),
                str(r["kind"]),
                str(r["answer"]),
                json.loads(str(r["citations"])),
                str(r["reviewed_by"]),
                str(r["reviewed_at"]),
            )
            if correction.kind == "corrected" and not self._still_grounded(correction, docs):
                continue
            return correction
        return None

    def _still_grounded(self, correction: Correction, docs: set[str]) -> bool:
        """Re-check a stored correction against the cited chunks as they are today.

        A correction stored before corrections were grounded, or whose cited text has since
        changed, is not served: its sentences might come from somewhere else.
        """
        ids = [str(c.get("chunk_id", "")) for c in correction.citations]
        chunks = self._store.chunks_by_id(ids)
        if any(i not in chunks or chunks[i].doc_id not in docs for i in ids):
            return False
        try:
            ground_correction(correction.answer, [chunks[i] for i in ids])
        except InputError:
            log.warning("correction #%s no longer quotes its cited text; not served", correction.id)
            return False
        return True


_MARKER_RE = re.compile(r"\[(\d+)\]")
_PIECE_RE = re.compile(r"(?<=[.!?\]])\s+|\n+")
_LIST_MARK_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)]|\*\*\d+(?:\.\d+)*\.?\*\*)\s+")


def _optional_note(note: str | None) -> str:
    return check_free_text(note, "note") if (note or "").strip() else ""


def _norm_quote(text: str) -> str:
    text = _LIST_MARK_RE.sub("", text)
    text = re.sub(r"[*_`]+", "", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def ground_correction(answer: str, cited: Sequence[IndexedChunk]) -> dict[str, list[str]]:
    """Check that every sentence of a correction quotes the chunk it cites.

    Sentences are split as answers are; ``[n]`` names the n-th cited chunk, and a sentence
    without a marker must quote one of the cited chunks. Returns the quoted sentences per
    chunk id; raises ``InputError`` naming the first sentence that quotes none. Why so strict:
    a correction is shown to later askers as a reviewed answer, so words that are not in a
    chunk they may read are exactly how restricted text would leak (issue 9, item 6).
    """
    # Finer than answer sentences (every line and sentence end), keeping even one-word pieces:
    # a piece of a quote is still a quote, and nothing escapes the check for being short.
    sentences = [p for p in _PIECE_RE.split(answer) if p.strip()]
    quotes: dict[str, list[str]] = {c.chunk_id: [] for c in cited}
    bodies = [_norm_quote(c.text) for c in cited]
    for n, sentence in enumerate(sentences, start=1):
        marks = [int(m) for m in _MARKER_RE.findall(sentence)]
        plain = _MARKER_RE.sub("", sentence).strip()
        if not _norm_quote(plain):
            continue
        if any(not 1 <= m <= len(cited) for m in marks):
            raise InputError(
                f"correction sentence {n} cites [{marks[0]}], but only "
                f"{len(cited)} chunk(s) are cited"
            )
        candidates = [m - 1 for m in marks] if marks else list(range(len(cited)))
        # A quote may end where the reviewer's sentence ends: trailing punctuation is free.
        wanted = _norm_quote(plain).rstrip(".!?;:, ")
        hit = next((i for i in candidates if wanted in bodies[i]), None)
        if hit is None:
            raise InputError(
                f"correction sentence {n} is not a quote of the chunk it cites "
                f"({', '.join(cited[i].chunk_id for i in candidates)}): a correction may only "
                "quote the policy text it cites, word for word"
            )
        quotes[cited[hit].chunk_id].append(plain)
    return quotes
