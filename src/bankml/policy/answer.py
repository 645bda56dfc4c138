"""Composing answers from permitted chunks, and the output check every answer must pass.

``ExtractiveAnswerer`` needs no model: it picks the sentences of the retrieved chunks that
cover the question best and cites each one, so an answer is grounded by construction.
``check_grounding`` does not trust that: whoever wrote the answer (this answerer or an LLM),
every sentence must carry a citation, every citation must point at a retrieved, permitted
chunk and quote it verbatim, and the sentence's words and numbers must come from the cited
text. Anything else is refused upstream (abstain, or send to review).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bankml.policy.index import STOPWORDS, IndexedChunk, SearchHit, stem
from bankml.policy.structure import chunk_structure, question_refs

__all__ = [
    "ABSTAIN_MESSAGE",
    "AnswerSentence",
    "Citation",
    "Draft",
    "ExtractiveAnswerer",
    "GroundingReport",
    "check_grounding",
    "split_sentences",
    "support_terms",
]

ABSTAIN_MESSAGE = "I can't find this in the policies you can access."
# Words that shape a question but are not what it is about ("how long", "how many days").
_QUESTION_WORDS_TEXT = """
long many much often soon quickly fast need needs needed required require requires do does
happen happens allowed allow permitted ok okay rule rules apply applies applicable
expected procedure process steps step handle handled bank banks staff employee employees
"""
_QUESTION_WORDS = frozenset(_QUESTION_WORDS_TEXT.split())
_WORD_RE = re.compile(r"[A-Za-z0-9]+")
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")
_LIST_MARK_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)]|\d+(?:\.\d+)+\.?|\*\*\d+(?:\.\d+)*\.?\*\*)\s+")
_XREF_RE = re.compile(r"^\s*(?:[-*+]\s*)?[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+\s*§")
_MARKER_RE = re.compile(r"\s*\[(\d+)\]")


@dataclass(frozen=True)
class Citation:
    """Where an answer sentence comes from: the chunk and the verbatim quote."""

    doc_id: str
    chunk_id: str
    section: str
    quote: str
    kind: str = "rule"  # rule, definition, guidance or commentary (policy.structure)


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer and the (1-based) citations that support it."""

    text: str
    cites: tuple[int, ...]


@dataclass(frozen=True)
class Draft:
    """An answer before the output check: sentences, citations, and how well it is supported."""

    sentences: tuple[AnswerSentence, ...]
    citations: tuple[Citation, ...]
    support: float  # 0..1: share of the question's content words the answer covers
    abstained: bool = False

    @property
    def text(self) -> str:
        """The sentences with their citation markers, e.g. ``Records are kept 5 years. [1]``."""
        return " ".join(
            f"{s.text} " + "".join(f"[{i}]" for i in s.cites) for s in self.sentences
        ).strip()


@dataclass(frozen=True)
class GroundingReport:
    """Outcome of the output check: ok, or the reasons it failed."""

    ok: bool
    problems: tuple[str, ...] = field(default_factory=tuple)


def split_sentences(text: str) -> list[str]:
    """Sentences of a chunk: each line (list items, numbered rules) then sentence ends."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("|---"):
            continue
        for piece in _SENTENCE_SPLIT_RE.split(line):
            piece = piece.strip()
            if len(_WORD_RE.findall(piece)) >= 3:
                out.append(piece)
    return out


def support_terms(text: str) -> set[str]:
    """Stemmed content words of a text (what support is measured in)."""
    return {
        stem(w)
        for w in _WORD_RE.findall(text.lower())
        if w not in STOPWORDS and (len(w) > 1 or w.isdigit())
    }


def _question_terms(question: str) -> set[str]:
    terms = support_terms(question)
    focused = {t for t in terms if t not in {stem(w) for w in _QUESTION_WORDS}}
    return focused or terms


def _clean(sentence: str) -> str:
    return _LIST_MARK_RE.sub("", sentence).strip()


_LINE_REF_RE = re.compile(r"^\s*(?:[-*+]\s+)?\**\s*(\d+(?:\.\d+)+[A-Za-z]?|\([a-z0-9]{1,4}\))")


def _names_reference(
    sentence: str, numbers: Sequence[str], doc_id: str, doc_ids: frozenset[str]
) -> bool:
    """True when the sentence starts with a rule number the question names exactly."""
    if not numbers or (doc_ids and doc_id not in doc_ids):
        return False
    m = _LINE_REF_RE.match(sentence)
    return m is not None and m.group(1).lower() in numbers


class ExtractiveAnswerer:
    """Answers with up to ``max_sentences`` cited sentences taken verbatim from the chunks.

    ``min_support`` is the share of the question's content words that the chosen sentence
    together with its section heading and title must cover; below it the answerer abstains.
    The thresholds were set on the shipped evaluation suite (see docs/policy.md).
    """

    def __init__(
        self,
        *,
        min_support: float = 0.6,
        max_sentences: int = 2,
        embedder: Any = None,
        min_similarity: float = 0.5,
        semantic_hits: int = 2,
    ) -> None:
        self.min_support = min_support
        self.max_sentences = max_sentences
        # With an embedder (hybrid retrieval), a question phrased in other words than the
        # policy can still be answered: the sentence of the top hits nearest in meaning, if
        # its cosine similarity reaches ``min_similarity``. Still one verbatim, cited sentence,
        # still checked by ``check_grounding``; its word support stays low, so it goes to review.
        self.embedder = embedder
        self.min_similarity = min_similarity
        self.semantic_hits = semantic_hits

    def answer(self, question: str, hits: Sequence[SearchHit]) -> Draft:
        """A draft from the permitted, unflagged hits; abstains when nothing covers the question."""
        q = _question_terms(question)
        if not q or not hits:
            return Draft((), (), 0.0, abstained=True)
        candidates: list[tuple[float, float, float, str, IndexedChunk]] = []
        refs = question_refs(question)
        for hit in hits:
            context = support_terms(f"{hit.chunk.title} {hit.chunk.section}")
            shape = chunk_structure(hit.chunk)
            # The most specific citation: binding rule text before commentary or guidance
            # when both support a sentence, and the narrower (deeper) section first.
            preference = (0.0 if shape.kind in ("rule", "definition") else -0.05) + (
                0.01 * shape.depth
            )
            for pos, sentence in enumerate(split_sentences(hit.chunk.text)):
                if _XREF_RE.match(sentence):
                    continue  # "POL-AML-002 §5: customer due diligence" points, it does not say
                words = support_terms(sentence)
                own = len(q & words) / len(q)
                covered = len(q & (words | context)) / len(q)
                if _names_reference(sentence, refs.numbers, hit.chunk.doc_id, refs.doc_ids):
                    # The sentence *is* the rule the question names ("POL-AML-004 §4.2").
                    covered, own = max(covered, 1.0), max(own, 1.0)
                # Rank by coverage first, then retrieval rank, then position in the chunk.
                key = covered + 0.5 * own - 0.02 * hit.rank - 0.001 * pos + preference
                candidates.append((key, covered, own, sentence, hit.chunk))
        if not candidates:
            return Draft((), (), 0.0, abstained=True)
        candidates.sort(key=lambda c: -c[0])
        best_cover, best_own = candidates[0][1], candidates[0][2]
        if best_cover < self.min_support:
            return self._by_meaning(question, hits, best_cover)
        chosen: list[tuple[str, IndexedChunk]] = [(candidates[0][3], candidates[0][4])]
        for _key, covered, own, sentence, chunk in candidates[1:]:
            if len(chosen) >= self.max_sentences:
                break
            # A further sentence must match the question on its own words at least as well
            # as the first: sentences carried only by their heading drift off topic.
            if (
                covered >= self.min_support
                and own >= max(best_own, 0.5)
                and all(sentence != s for s, _ in chosen)
            ):
                chosen.append((sentence, chunk))
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        for sentence, chunk in chosen:
            kind = chunk_structure(chunk).kind
            citations.append(Citation(chunk.doc_id, chunk.chunk_id, chunk.section, sentence, kind))
            sentences.append(AnswerSentence(_clean(sentence), (len(citations),)))
        return Draft(tuple(sentences), tuple(citations), best_cover)

    def _by_meaning(self, question: str, hits: Sequence[SearchHit], cover: float) -> Draft:
        """One sentence of the top hits nearest the question in meaning, or abstain."""
        if self.embedder is None:
            return Draft((), (), cover, abstained=True)
        options = [
            (sentence, hit.chunk)
            for hit in hits[: self.semantic_hits]
            for sentence in split_sentences(hit.chunk.text)
            if not _XREF_RE.match(sentence)
        ]
        if not options:
            return Draft((), (), cover, abstained=True)
        vectors = self.embedder.encode(
            [question, *(f"{c.section}: {_clean(s)}" for s, c in options)]
        )
        similarity = vectors[1:] @ vectors[0]
        best = int(similarity.argmax())
        if float(similarity[best]) < self.min_similarity:
            return Draft((), (), cover, abstained=True)
        sentence, chunk = options[best]
        kind = chunk_structure(chunk).kind
        return Draft(
            (AnswerSentence(_clean(sentence), (1,)),),
            (Citation(chunk.doc_id, chunk.chunk_id, chunk.section, sentence, kind),),
            cover,
        )


def parse_generated(text: str) -> list[AnswerSentence]:
    """Split generated text into sentences with their ``[n]`` markers."""
    out: list[AnswerSentence] = []
    for raw in re.split(r"(?<=[.!?\]])\s+(?=[A-Z(\"'])", text.strip()):
        cites = tuple(int(n) for n in re.findall(r"\[(\d+)\]", raw))
        clean = _MARKER_RE.sub("", raw).strip()
        if clean:
            out.append(AnswerSentence(clean, cites))
    return out


def _norm_ws(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def check_grounding(
    sentences: Sequence[AnswerSentence],
    citations: Sequence[Citation],
    permitted: dict[str, IndexedChunk],
    *,
    min_overlap: float = 0.8,
) -> GroundingReport:
    """Check every sentence against its cited, retrieved, permitted chunks.

    ``permitted`` maps chunk ids to the chunks that were retrieved for this caller and not
    withheld. The overlap rule lets a generator rephrase lightly but not add facts: 80% of a
    sentence's content words, and every number in it, must appear in the cited text.
    """
    problems: list[str] = []
    for i, c in enumerate(citations, start=1):
        chunk = permitted.get(c.chunk_id)
        if chunk is None:
            problems.append(f"citation [{i}] points at a chunk that was not retrieved for you")
        elif _norm_ws(c.quote) not in _norm_ws(chunk.text):
            problems.append(f"citation [{i}] does not quote its chunk")
    if not sentences:
        problems.append("the answer has no sentences")
    for s in sentences:
        if not s.cites:
            problems.append(f"uncited sentence: {s.text[:60]!r}")
            continue
        sources: list[str] = []
        for n in s.cites:
            if not 1 <= n <= len(citations) or citations[n - 1].chunk_id not in permitted:
                problems.append(f"sentence cites [{n}], which is not a permitted citation")
                break
            sources.append(permitted[citations[n - 1].chunk_id].text)
        else:
            source = " ".join(sources)
            words = support_terms(s.text)
            have = support_terms(source)
            if words and len(words & have) / len(words) < min_overlap:
                problems.append(f"unsupported sentence: {s.text[:60]!r}")
            elif any(n not in source for n in _NUMBER_RE.findall(s.text)):
                problems.append(f"a number in {s.text[:40]!r} is not in the cited text")
    return GroundingReport(not problems, tuple(problems))
