"""``PolicyAssistant``: the one object the CLI, the API and the demo call.

It wires the document store, the index, the guards, the answerer (and optional generator),
the output check and the review queue, and writes every step to the decision ledger with the
question redacted. Order of the checks in ``ask``, and why:

1. redact the question (nothing downstream ever sees raw PII);
2. direct-injection scan: an instruction aimed at the assistant is refused, not obeyed;
3. a reviewed answer for the same question, if the asker may read everything it cites;
4. retrieval with the ACL inside the query, then the documents' *current* groups re-checked
   (defence in depth if the index lags a re-permissioning);
5. flagged chunks withheld (indirect injection), with a finding for the document's owner;
6. extractive draft (or generator), then ``check_grounding``: fail -> abstain + review.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import BankmlError, DataFileError, InputError, NotFoundError
from bankml.core.identity import User
from bankml.core.pii import redact_text
from bankml.core.storage import Database
from bankml.governance.ledger import DecisionLedger
from bankml.policy.answer import (
    ABSTAIN_MESSAGE,
    AnswerSentence,
    Citation,
    Draft,
    ExtractiveAnswerer,
    check_grounding,
    parse_generated,
    split_sentences,
    support_terms,
)
from bankml.policy.documents import (
    AccessMetadata,
    PolicyDocument,
    chunk_document,
    discover_files,
    load_document,
)
from bankml.policy.generator import UNANSWERABLE, AnswerGenerator
from bankml.policy.guards import InjectionGuard
from bankml.policy.index import ChunkIndex, IndexedChunk, SearchHit
from bankml.policy.review import ReviewQueue, question_key
from bankml.policy.store import AnswerRecord, Finding, PolicyStore
from bankml.policy.text import check_free_text, check_id

__all__ = [
    "COMMENTARY_NOTICE",
    "DIRECT_INJECTION_MESSAGE",
    "WITHHELD_NOTICE",
    "IngestReport",
    "PolicyAnswer",
    "PolicyAssistant",
    "SearchResult",
]

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2_000
DIRECT_INJECTION_MESSAGE = (
    "I can't act on instructions inside a question. Ask about what the policies say."
)
WITHHELD_NOTICE = (
    "{n} source(s) were withheld because they contain instructions aimed at the assistant; "
    "the document owner has been notified."
)
COMMENTARY_NOTICE = "Citation(s) {refs} quote commentary or guidance, not the binding rule text."
WEAK_SUPPORT = 0.75  # answers covering less than this share of the question go to review
NEAR_MISS = 0.4  # abstentions at or above this support go to review (a gap in the policies?)


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    chunks: int = 0
    pages: int = 0
    flagged_chunks: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class SearchResult:
    """One search result as a user may see it."""

    doc_id: str
    chunk_id: str
    section: str
    title: str
    score: float
    text: str
    flagged: bool

    def to_dict(self) -> dict[str, Any]:
        """The documented ``--json`` shape plus ``flagged``."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class PolicyAnswer:
    """An answer as returned to the asker (never carries anything they may not read)."""

    answer_id: str
    answer: str
    citations: list[dict[str, str]]
    abstained: bool
    flags: list[str]
    review_id: int | None
    reviewed: dict[str, Any] | None = None
    support: float = 0.0
    retrieved: list[str] = field(default_factory=list)  # chunk ids, for evaluation

    def to_dict(self) -> dict[str, Any]:
        """The documented ``--json`` shape (plus answer_id and review provenance)."""
        return {
            "answer_id": self.answer_id,
            "answer": self.answer,
            "citations": self.citations,
            "abstained": self.abstained,
            "flags": self.flags,
            "review_id": self.review_id,
            "reviewed": self.reviewed,
        }


_SECONDARY_KINDS = ("commentary", "guidance")


@dataclass
class _IngestRun:
    """What one ingest run has seen so far."""

    known: dict[str, str]
    errors: list[str]
    seen: dict[str, str] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changed: dict[str, list[IndexedChunk]] = field(default_factory=dict)
    chunks: int = 0
    pages: int = 0
    flagged: int = 0

    def report(self, seconds: float) -> IngestReport:
        return IngestReport(
            added=self.added,
            updated=self.updated,
            unchanged=self.unchanged,
            removed=self.removed,
            warnings=self.warnings,
            errors=self.errors,
            chunks=self.chunks,
            pages=self.pages,
            flagged_chunks=self.flagged,
            seconds=seconds,
        )


@dataclass
class _Outcome:
    """What one ``ask`` decided, before it is recorded."""

    body: str = ""
    citations: list[Citation] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    review_reason: str | None = None
    support: float = 0.0
    reviewed: dict[str, Any] | None = None
    retrieved: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


class PolicyAssistant:
    """Ingest, search, ask, feedback, findings and review for the policy corpus."""

    def __init__(
        self,
        db: Database,
        ledger: DecisionLedger,
        index: ChunkIndex,
        *,
        clock: Clock | None = None,
        generator: AnswerGenerator | None = None,
        answerer: ExtractiveAnswerer | None = None,
        guard: InjectionGuard | None = None,
        fingerprint_file: Path | None = None,
        k: int = 8,
    ) -> None:
        self._clock = clock or SystemClock()
        self.store = PolicyStore(db, self._clock)
        self.ledger = ledger
        self.index = index
        self.review = ReviewQueue(db, self.store, ledger, self._clock)
        self.generator = generator
        dense = getattr(index, "dense", None)  # a hybrid index: answer by meaning too
        self.answerer = answerer or ExtractiveAnswerer(embedder=getattr(dense, "embedder", None))
        self.guard = guard or InjectionGuard()
        self.k = k
        self._fingerprint_file = fingerprint_file
        self._memory_fingerprint: str | None = None
        self._index_checked = False

    # -- index upkeep -------------------------------------------------------------------------
    def _read_fingerprint(self) -> str | None:
        if self._fingerprint_file is None:
            return self._memory_fingerprint
        try:
            return self._fingerprint_file.read_text(encoding="utf-8").strip()
        except OSError:
            return None

    def _write_fingerprint(self, value: str) -> None:
        self._memory_fingerprint = value
        if self._fingerprint_file is not None:
            self._fingerprint_file.parent.mkdir(parents=True, exist_ok=True)
            self._fingerprint_file.write_text(value + "\n", encoding="utf-8")

    def _index_layout(self) -> str:
        # Part of the fingerprint: switching retrieval (BM25 -> hybrid) or embedding model
        # rebuilds the index, so a dense index is never silently empty.
        layout = getattr(self.index, "layout", None)
        return str(layout) if layout else type(self.index).__name__

    def ensure_index(self, *, force: bool = False) -> bool:
        """Rebuild the index from the document store when they disagree; True if rebuilt."""
        if self._index_checked and not force:
            return False
        current = f"{self._index_layout()}:{self.store.fingerprint()}"
        self._index_checked = True
        if not force and self._read_fingerprint() == current:
            return False
        log.info("rebuilding the policy index from the document store")
        self.index.clear()
        docs = self.store.indexed_chunks()
        if docs:
            self.index.replace_documents(dict(docs))
        self._write_fingerprint(current)
        return True

    # -- ingest -------------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[Path],
        *,
        defaults: AccessMetadata | None = None,
        actor: str = "cli",
        progress: Callable[[str, int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest files and folders; idempotent; one error line per unreadable file.

        Documents previously ingested from a folder named here whose file is gone are removed.
        The steps: read each file, store what changed (scanning its chunks for injections),
        remove withdrawn documents, re-index what changed, ledger the run.
        """
        started = time.perf_counter()
        self.ensure_index()
        files, errors = discover_files(list(paths))
        run = _IngestRun(known=self.store.document_hashes(), errors=errors)
        for i, path in enumerate(files, start=1):
            if progress:
                progress("ingesting policies", i, len(files))
            doc = self._read_document(path, defaults, run)
            if doc is not None:
                self._store_document(doc, actor, run)
        self._remove_withdrawn(paths, run)
        if run.changed:
            fresh = self.store.indexed_chunks(run.changed)
            self.index.replace_documents({d: fresh.get(d, []) for d in run.changed})
        self._write_fingerprint(f"{self._index_layout()}:{self.store.fingerprint()}")
        result = run.report(time.perf_counter() - started)
        self._ledger_ingest(result, actor)
        return result

    def _read_document(
        self, path: Path, defaults: AccessMetadata | None, run: _IngestRun
    ) -> PolicyDocument | None:
        """Load one file; None (with an error or 'unchanged' noted) when there is nothing to do."""
        try:
            doc = load_document(path.resolve(), defaults)
        except (DataFileError, InputError) as exc:
            run.errors.append(exc.message)
            return None
        if doc.doc_id in run.seen:
            run.errors.append(
                f"{path}: document id {doc.doc_id} is also used by {run.seen[doc.doc_id]}; skipped"
            )
            return None
        run.seen[doc.doc_id] = str(path)
        if not doc.allowed_groups:
            run.warnings.append(
                f"{path}: no allowed_groups (front matter, {path.name}.meta.toml or "
                "--groups); nobody can read it until you set them"
            )
        run.pages += doc.pages
        if run.known.get(doc.doc_id) == doc.content_hash:
            run.unchanged.append(doc.doc_id)
            return None
        return doc

    def _store_document(self, doc: PolicyDocument, actor: str, run: _IngestRun) -> None:
        """Chunk, scan every chunk for planted instructions, store; findings are ledgered."""
        chunks = chunk_document(doc)
        run.chunks += len(chunks)
        flags: dict[str, tuple[str, ...]] = {}
        for c in chunks:
            signals = self.guard.scan(c.text)
            if not signals:
                continue
            flags[c.chunk_id] = tuple(sorted({s.kind for s in signals}))
            run.flagged += 1
            if self.store.record_finding(
                doc.doc_id,
                c.chunk_id,
                doc.owner,
                flags[c.chunk_id],
                redact_text(signals[0].excerpt),
                c.content_hash,
            ):
                self.ledger.append(
                    "policy.injection_found",
                    actor,
                    f"policy.doc:{doc.doc_id}",
                    {"chunk_id": c.chunk_id, "kinds": list(flags[c.chunk_id])},
                )
        self.store.save_document(doc, chunks, flags)
        (run.updated if doc.doc_id in run.known else run.added).append(doc.doc_id)
        run.changed[doc.doc_id] = []

    def _remove_withdrawn(self, paths: Sequence[Path], run: _IngestRun) -> None:
        """Folders are authoritative for what they contain: a file gone from one is a document
        withdrawn, and must stop being answerable."""
        folders = [str(p.resolve()) + "/" for p in paths if p.is_dir()]
        if not folders:
            return
        for stored in self.store.documents_from(folders):
            if stored.doc_id not in run.seen:
                self.store.delete_document(stored.doc_id)
                run.removed.append(stored.doc_id)
                run.changed[stored.doc_id] = []

    def _ledger_ingest(self, result: IngestReport, actor: str) -> None:
        self.ledger.append(
            "policy.ingested",
            actor,
            "policy.corpus",
            {
                "added": result.added,
                "updated": result.updated,
                "removed": result.removed,
                "unchanged": len(result.unchanged),
                "errors": len(result.errors),
                "flagged_chunks": result.flagged_chunks,
            },
        )

    # -- search -------------------------------------------------------------------------------
    def _permitted_hits(
        self, user: User, query: str, k: int, mode: str | None = None
    ) -> list[SearchHit]:
        self.ensure_index()
        groups = user.reading_groups
        if mode is None or mode == getattr(self.index, "mode", "bm25"):
            hits = self.index.search(query, groups, k)
        else:
            from bankml.policy.hybrid import HybridIndex

            if not isinstance(self.index, HybridIndex):
                raise InputError(f"retrieval mode {mode!r} needs the hybrid index")
            hits = self.index.search(query, groups, k, mode=mode)
        readable = self.store.readable_doc_ids(groups, {h.chunk.doc_id for h in hits})
        permitted = [h for h in hits if h.chunk.groups & groups and h.chunk.doc_id in readable]
        if len(permitted) != len(hits):
            # The index lags the store (a document was re-permissioned or removed elsewhere).
            log.warning(
                "dropped %s stale index hits; rebuilding the index", len(hits) - len(permitted)
            )
            self.ensure_index(force=True)
        return [replace(h, rank=i) for i, h in enumerate(permitted, start=1)]

    def retrieve(
        self, user: User, query: str, k: int = 10, mode: str | None = None
    ) -> list[SearchHit]:
        """Ranked permitted hits (no ledger entry): for evaluation and benchmarks.

        ``mode`` (``hybrid``, ``bm25``, ``dense``) overrides the index's retrieval when it is
        a hybrid index; a BM25-only index answers ``bm25`` and refuses the others.
        """
        return self._permitted_hits(user, redact_text(_check_text(query, "query")), k, mode)

    def search(self, user: User, query: str, k: int = 10) -> list[SearchResult]:
        """Ranked chunks the user may read; flagged chunks show no text."""
        text = _check_text(query, "query")
        if not 1 <= k <= 100:
            raise InputError("k must be between 1 and 100")
        redacted = redact_text(text)
        out = []
        for rank, h in enumerate(self._permitted_hits(user, redacted, k), start=1):
            flagged = bool(h.chunk.flags) or self.guard.is_injection(h.chunk.text)
            out.append(
                SearchResult(
                    h.chunk.doc_id,
                    h.chunk.chunk_id,
                    h.chunk.section,
                    h.chunk.title,
                    # Reciprocal rank, not the raw BM25 score: BM25's term statistics span the
                    # whole index, so a raw score moves when restricted documents are added.
                    round(1.0 / rank, 4),
                    "[withheld: this passage contains instructions aimed at the assistant]"
                    if flagged
                    else redact_text(h.chunk.text),
                    flagged,
                )
            )
        self.ledger.append(
            "policy.searched",
            user.name,
            "policy.corpus",
            {"query": redacted, "results": [r.chunk_id for r in out]},
        )
        return out

    # -- ask ----------------------------------------------------------------------------------
    def ask(self, user: User, question: str) -> PolicyAnswer:
        """A grounded, cited answer from documents the user may read, or an abstention.

        The steps, in order (see the module docstring for why): check and redact the
        question; refuse a direct injection; serve a reviewed answer; otherwise retrieve,
        withhold flagged sources, draft, check grounding; then record, queue and ledger it.
        """
        raw = _check_text(question, "question")
        redacted = redact_text(raw)
        key = question_key(redacted)
        outcome = (
            self._refuse_direct_injection(raw)
            or self._reviewed_answer(key, user)
            or self._answer_from_sources(user, redacted)
        )
        record = self._record_answer(user, redacted, key, outcome)
        review_id = (
            self.review.submit(record, outcome.review_reason) if outcome.review_reason else None
        )
        self._ledger_answer(user, record, outcome, review_id)
        return PolicyAnswer(
            record.id,
            record.answer,
            record.citations,
            record.abstained,
            list(outcome.flags),
            review_id,
            outcome.reviewed,
            outcome.support,
            outcome.retrieved,
        )

    def _refuse_direct_injection(self, raw: str) -> _Outcome | None:
        """An instruction aimed at the assistant is refused, not obeyed.

        Scans the raw text: redaction would hide an exfiltration address from the guard. Only
        the signal kinds are kept; the raw question is stored nowhere.
        """
        signals = self.guard.scan(raw)
        if not signals:
            return None
        return _Outcome(
            body=DIRECT_INJECTION_MESSAGE,
            flags=["direct_injection", *sorted({f"injection:{s.kind}" for s in signals})],
            review_reason="direct_injection",
        )

    def _reviewed_answer(self, key: str, user: User) -> _Outcome | None:
        """A reviewer's answer to the same question, if the asker may read all it cites."""
        correction = self.review.correction_for(key, user.reading_groups)
        if correction is None:
            return None
        return _Outcome(
            body=correction.answer,
            citations=[Citation(**c) for c in correction.citations],
            flags=["reviewed"],
            support=1.0,
            reviewed={
                "kind": correction.kind,
                "reviewed_by": correction.reviewed_by,
                "reviewed_at": correction.reviewed_at,
                "review_id": correction.review_item_id,
            },
        )

    def _answer_from_sources(self, user: User, redacted: str) -> _Outcome:
        """Retrieve, withhold flagged sources, draft, check grounding, decide on review."""
        hits = self._permitted_hits(user, redacted, self.k)
        outcome = _Outcome(retrieved=[h.chunk.chunk_id for h in hits])
        withheld = [h for h in hits if h.chunk.flags or self.guard.is_injection(h.chunk.text)]
        usable = [h for h in hits if h not in withheld]
        if withheld:
            outcome.flags.append("source_withheld")
            outcome.notices.append(WITHHELD_NOTICE.format(n=len(withheld)))
            self._report_withheld(user, withheld)
        draft = self._draft(redacted, usable, outcome)
        if draft.abstained:
            if not outcome.review_reason and outcome.support >= NEAR_MISS and usable:
                outcome.flags.append("weak_support")
                outcome.review_reason = "weak_support"
        else:
            outcome.body, outcome.citations = draft.text, list(draft.citations)
            if outcome.support < WEAK_SUPPORT:
                outcome.flags.append("weak_support")
                outcome.review_reason = outcome.review_reason or "weak_support"
            quoted = [i for i, c in enumerate(draft.citations, 1) if c.kind in _SECONDARY_KINDS]
            if quoted:
                outcome.notices.append(
                    COMMENTARY_NOTICE.format(refs=" ".join(f"[{i}]" for i in quoted))
                )
        if withheld and not outcome.review_reason:
            outcome.review_reason = "source_withheld"
        return outcome

    def _draft(self, redacted: str, usable: list[SearchHit], outcome: _Outcome) -> Draft:
        """The extractive draft (or the generator's), kept only if it passes the check."""
        draft = self.answerer.answer(redacted, usable)
        outcome.support = draft.support
        if self.generator is not None and usable and not draft.abstained:
            draft, gen_flag = self._generate(redacted, usable)
            if gen_flag:
                outcome.flags.append(gen_flag)
                outcome.review_reason = gen_flag
        if draft.abstained:
            return draft
        permitted = {
            h.chunk.chunk_id: _redacted_chunk(h.chunk) if self.generator else h.chunk
            for h in usable
        }
        check = check_grounding(draft.sentences, draft.citations, permitted)
        if check.ok:
            return draft
        log.warning("answer failed the grounding check: %s", "; ".join(check.problems))
        outcome.flags.append("ungrounded")
        outcome.review_reason = outcome.review_reason or "ungrounded"
        return Draft((), (), draft.support, abstained=True)

    def _record_answer(
        self, user: User, redacted: str, key: str, outcome: _Outcome
    ) -> AnswerRecord:
        """Store the answer as the asker sees it (redacted, with its citations)."""
        answer_text = redact_text(" ".join([outcome.body or ABSTAIN_MESSAGE, *outcome.notices]))
        cites = [
            {
                "doc_id": c.doc_id,
                "chunk_id": c.chunk_id,
                "section": c.section,
                "quote": redact_text(c.quote),
                "kind": c.kind,
            }
            for c in outcome.citations
        ]
        record = AnswerRecord(
            id=uuid.uuid4().hex,
            asked_by=user.name,
            question=redacted,
            question_key=key,
            answer=answer_text,
            citations=cites,
            abstained=not cites,
            flags=tuple(outcome.flags),
            created_at=utc_iso(self._clock.now()),
        )
        self.store.save_answer(record)
        return record

    def _ledger_answer(
        self, user: User, record: AnswerRecord, outcome: _Outcome, review_id: int | None
    ) -> None:
        self.ledger.append(
            "policy.answered",
            user.name,
            f"policy.answer:{record.id}",
            {
                "question": record.question,
                "abstained": record.abstained,
                "flags": list(outcome.flags),
                "citations": [c["chunk_id"] for c in record.citations],
                "review_id": review_id,
                "support": round(outcome.support, 3),
                "answerer": "generator" if self.generator else "extractive",
            },
        )

    def _report_withheld(self, user: User, withheld: list[SearchHit]) -> None:
        owners = {
            d.doc_id: d.owner
            for d in self.store.documents()
            if d.doc_id in {h.chunk.doc_id for h in withheld}
        }
        for h in withheld:
            kinds = h.chunk.flags or tuple(sorted({s.kind for s in self.guard.scan(h.chunk.text)}))
            excerpt = next((s.excerpt for s in self.guard.scan(h.chunk.text)), "")
            content_hash = support_hash(h.chunk)
            self.store.record_finding(
                h.chunk.doc_id,
                h.chunk.chunk_id,
                owners.get(h.chunk.doc_id, "unassigned"),
                kinds,
                redact_text(excerpt),
                content_hash,
            )
        self.ledger.append(
            "policy.source_withheld",
            user.name,
            "policy.corpus",
            {"chunks": [h.chunk.chunk_id for h in withheld]},
        )

    def _generate(self, question: str, usable: list[SearchHit]) -> tuple[Draft, str | None]:
        """Ask the generator; map its [n] markers to citations with verbatim quotes."""
        assert self.generator is not None
        sources = [_redacted_chunk(h.chunk) for h in usable[:5]]
        try:
            text = self.generator.generate(question, sources)
        except BankmlError as exc:
            log.warning("generator failed: %s", exc.message)
            return Draft((), (), 0.0, abstained=True), "generator_error"
        if UNANSWERABLE in text:
            return Draft((), (), 0.0, abstained=True), None
        parsed = parse_generated(text)
        numbering: dict[int, int] = {}
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        for s in parsed:
            new_cites = []
            for n in s.cites:
                if not 1 <= n <= len(sources):
                    new_cites.append(len(citations) + 1000)  # invalid: fails the check
                    continue
                if n not in numbering:
                    chunk = sources[n - 1]
                    citing = " ".join(p.text for p in parsed if n in p.cites)
                    quote = _best_quote(chunk.text, citing)
                    citations.append(Citation(chunk.doc_id, chunk.chunk_id, chunk.section, quote))
                    numbering[n] = len(citations)
                new_cites.append(numbering[n])
            sentences.append(AnswerSentence(s.text, tuple(new_cites)))
        return Draft(tuple(sentences), tuple(citations), 1.0), None

    # -- feedback, findings, review ---------------------------------------------------------
    def feedback(self, user: User, answer_id: str, note: str) -> int:
        """The asker says an answer is wrong: queue it for review; returns the item id."""
        answer_id = check_id(answer_id, "answer id")
        if not (note or "").strip():
            raise InputError("say what is wrong with the answer (--note)")
        note = check_free_text(note, "note")
        # Resolved among the user's own answers only: others' ids stay invisible.
        try:
            full_id = self.store.resolve_answer(answer_id, user.name)
        except NotFoundError:
            raise _not_found_answer(answer_id) from None
        record = self.store.get_answer(full_id)
        if record is None or record.asked_by != user.name:
            # Only the asker may flag their answer; others get the same words as "no such".
            raise _not_found_answer(answer_id)
        return self.review.submit(record, "user_feedback", note)

    def findings(self, user: User, owner: str | None = None) -> list[Finding]:
        """Injection findings on documents the user may read."""
        if owner is not None:
            owner = check_free_text(owner, "owner", max_chars=200)
        return self.store.findings(user.reading_groups, owner)

    def passage(self, user: User, chunk_id: str) -> SearchResult:
        """One cited passage (redacted), if the user may read its document.

        A passage the user may not read reads exactly like a missing one, so its existence
        is not revealed either.
        """
        from bankml.core.errors import NotFoundError

        chunk = self.store.chunks_by_id([chunk_id.strip()]).get(chunk_id.strip())
        if chunk is None or not (chunk.groups & user.reading_groups):
            raise NotFoundError("no such passage in the policies you can read")
        shown = _redacted_chunk(chunk)
        return SearchResult(
            doc_id=shown.doc_id,
            chunk_id=shown.chunk_id,
            section=shown.section,
            title=shown.title,
            score=0.0,
            text=shown.text,
            flagged=bool(shown.flags),
        )


def _not_found_answer(answer_id: str) -> BankmlError:
    return NotFoundError(f"no answer {answer_id!r} of yours; use the answer_id `ask` printed")


def support_hash(chunk: IndexedChunk) -> str:
    """Content hash of an indexed chunk (matches ``Chunk.content_hash``)."""
    import hashlib

    return hashlib.sha256(f"{chunk.section}\x00{chunk.text}".encode()).hexdigest()


def _best_quote(chunk_text: str, answer_text: str) -> str:
    """The chunk sentence sharing the most content words with the answer text."""
    wanted = support_terms(answer_text)
    candidates = split_sentences(chunk_text) or [chunk_text]
    return max(candidates, key=lambda sent: len(support_terms(sent) & wanted))


def _redacted_chunk(chunk: IndexedChunk) -> IndexedChunk:
    return replace(chunk, text=redact_text(chunk.text))


def _check_text(value: str, what: str) -> str:
    return check_free_text(value, what, max_chars=MAX_QUESTION_CHARS)
