"""What a chunk is within its document, and exact references in a question.

A chunk's structure is derived from its heading path and text, never from a model:

- ``kind``: ``rule`` (binding text), ``definition``, ``guidance`` or ``commentary`` (official
  interpretations, staff commentary, explanatory notes). Answers prefer rule text when both
  support a sentence, and say when they quote commentary.
- ``refs``: the section and rule numbers the chunk *contains*: ``3`` for "## 3. Internal
  reports", ``3.1`` for a line starting "**3.1**", ``1002.9(b)`` for "(b) ..." under
  "§ 1002.9", ``4.15.12`` for "Rule 4.15.12".
- ``terms``: the terms a definitions chunk defines (``**Beneficial owner**: ...``).

``question_refs`` finds exact references a user typed ("Rule 4.15.12", "§ 1002.9(b)",
"POL-AML-004 §3"); ``exact_matches`` returns the readable chunks that contain them, narrowest
first, so an exact reference is never left to word statistics. ``named_documents`` finds the
documents a question names by id or by full title ("What does the Consumer Credit
Underwriting Standards policy say about …"), and ``residual_question`` what the question asks
once those names are taken out: the title's words are in every chunk of that document, so
they say *which* document but not *where* in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bankml.policy.index import IndexedChunk

__all__ = [
    "KINDS",
    "ChunkStructure",
    "QuestionRefs",
    "StructureIndex",
    "chunk_structure",
    "exact_matches",
    "named_documents",
    "norm_words",
    "question_refs",
    "residual_question",
]

KINDS = ("rule", "definition", "guidance", "commentary")

_COMMENTARY_RE = re.compile(
    r"commentary|official interpretation|interpretations?\b|supplement i\b|staff comment|"
    r"explanatory|\bnotes? (?:on|to)\b|\bexamples?\b",
    re.IGNORECASE,
)
_GUIDANCE_RE = re.compile(r"guidance|guideline|good practice|q&a|faq", re.IGNORECASE)
_DEFINITION_RE = re.compile(r"definitions?|glossary|meaning of terms", re.IGNORECASE)

_NUM = r"\d+[A-Za-z]?(?:\.\d+[A-Za-z]?)*"
_PARA = r"(?:\s?\([A-Za-z0-9]{1,4}\))*"
# Heading numbers: "3. Internal reports", "§ 1002.9 Notifications", "Rule 4.15 Title".
_HEADING_NUM_RE = re.compile(
    rf"^\s*(?:§+\s*|(?:rule|section|article|part)\s+)?({_NUM})\b[.)]?", re.IGNORECASE
)
# A reference anywhere in a heading: "Official interpretation of Section 1002.9".
_HEADING_REF_RE = re.compile(rf"(?:§+\s*|\b(?:section|rule|article)\s+)({_NUM})\b", re.IGNORECASE)
# Line-start numbers: "**3.1** text", "3.1 text", "4.15.12 text".
_LINE_NUM_RE = re.compile(r"^\s*(?:[-*+]\s+)?\**\s*(?:§+\s*|rule\s+)?(\d+(?:\.\d+)+[A-Za-z]?)\b")
_LINE_PARA_RE = re.compile(r"^\s*(?:[-*+]\s+)?\(([a-z0-9]{1,4})\)\s", re.IGNORECASE)
_TERM_RE = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*([^*]{2,60})\*\*|\"([^\"]{2,60})\"|“([^”]{2,60})”)"
    r"\s*(?::|means\b|is\b|refers\b)",
    re.IGNORECASE,
)
_DOC_ID_RE = re.compile(r"\b[A-Z]{2,}(?:-[A-Z0-9]+)+\b")
_REF_RE = re.compile(
    rf"(?:§+\s*|\b(?:rule|section|sec\.|article|art\.|paragraph|para\.?|clause)\s+)"
    rf"({_NUM}{_PARA})",
    re.IGNORECASE,
)
_DEFINE_Q_RE = re.compile(
    r"\b(?:what is|what's|what are|what does|define|definition of|meaning of|who is|"
    r"who counts as|what counts as)\b",
    re.IGNORECASE,
)


def _norm_ref(ref: str) -> str:
    return re.sub(r"\s+", "", ref).lower()


def norm_words(text: str) -> str:
    """Lower-case words and numbers joined by single spaces (punctuation dropped)."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass(frozen=True)
class ChunkStructure:
    """Kind, contained references and defined terms of a chunk."""

    kind: str
    refs: frozenset[str]
    terms: frozenset[str]
    depth: int  # heading depth: deeper is narrower


def chunk_structure(chunk: IndexedChunk) -> ChunkStructure:
    """Derive a chunk's structure from its heading path and its lines."""
    headings = [h.strip() for h in chunk.section.split(" > ") if h.strip()]
    context = " ".join([chunk.title, *headings])
    last = headings[-1] if headings else ""
    if _DEFINITION_RE.search(last):
        kind = "definition"
    elif _COMMENTARY_RE.search(context):
        kind = "commentary"
    elif _GUIDANCE_RE.search(context):
        kind = "guidance"
    else:
        kind = "rule"
    refs: set[str] = set()
    base = ""
    for h in headings:
        m = _HEADING_NUM_RE.match(h) or _HEADING_REF_RE.search(h)
        if m and any(ch.isdigit() for ch in m.group(1)):
            base = _norm_ref(m.group(1))
            refs.add(base)
    terms: set[str] = set()
    for line in chunk.text.splitlines():
        if m := _LINE_NUM_RE.match(line):
            refs.add(_norm_ref(m.group(1)))
        elif base and (m := _LINE_PARA_RE.match(line)):
            refs.add(f"{base}({m.group(1).lower()})")
        if t := _TERM_RE.match(line):
            term = norm_words(next(g for g in t.groups() if g))
            if term:
                terms.add(term)
    if terms and kind == "rule":
        kind = "definition" if len(terms) * 2 >= len(chunk.text.splitlines()) else kind
    return ChunkStructure(kind, frozenset(refs), frozenset(terms), len(headings))


@dataclass(frozen=True)
class QuestionRefs:
    """Exact references found in a question."""

    doc_ids: frozenset[str]
    numbers: tuple[str, ...]
    wants_definition: bool
    words: str  # the question's normalized words, for defined-term lookups

    @property
    def empty(self) -> bool:
        """True when the question names no section, rule or document."""
        return not self.numbers and not self.doc_ids


def question_refs(question: str) -> QuestionRefs:
    """Document ids, section/rule numbers and whether the question asks for a definition."""
    return QuestionRefs(
        frozenset(_DOC_ID_RE.findall(question)),
        tuple(dict.fromkeys(_norm_ref(m) for m in _REF_RE.findall(question))),
        bool(_DEFINE_Q_RE.search(question)),
        norm_words(question),
    )


def _parents(ref: str) -> list[str]:
    """``1002.9(b)(2)`` -> ``1002.9(b)``, ``1002.9``; ``4.15.12`` -> ``4.15``, ``4``."""
    out: list[str] = []
    while True:
        if ref.endswith(")") and "(" in ref:
            ref = ref[: ref.rindex("(")]
        elif "." in ref:
            ref = ref[: ref.rindex(".")]
        else:
            return out
        out.append(ref)


def exact_matches(
    refs: QuestionRefs,
    chunks: Iterable[IndexedChunk],
    reading_groups: frozenset[str],
    k: int,
    structure: Callable[[IndexedChunk], ChunkStructure] = chunk_structure,
) -> list[IndexedChunk]:
    """Readable chunks containing a referenced number (or defined term), best first.

    A chunk containing the reference itself ranks before one containing only a parent of it
    (the narrowest section that holds the reference); rule text before commentary; within a
    document named in the question only, when the question names one. ``structure`` lets a
    caller pass structures it computed once (``StructureIndex``) instead of per question.
    """
    if not reading_groups or k <= 0:
        return []
    scored: list[tuple[tuple[int, int, int, int], IndexedChunk]] = []
    for c in chunks:
        if not (c.groups & reading_groups):
            continue  # the access filter applies here too, before anything is ranked
        if refs.doc_ids and c.doc_id not in refs.doc_ids:
            continue
        s = structure(c)
        best = 0
        for n in refs.numbers:
            if n in s.refs:
                best = max(best, 3)
            elif any(p in s.refs for p in _parents(n)):
                best = max(best, 1)
        if (
            not best
            and refs.wants_definition
            and any(t and f" {t} " in f" {refs.words} " for t in s.terms)
        ):
            best = 2
        if best:
            kind_rank = KINDS.index(s.kind) if s.kind in KINDS else len(KINDS)
            scored.append(((-best, kind_rank, -s.depth, -len(s.refs)), c))
    scored.sort(key=lambda x: (x[0], x[1].chunk_id))
    return [c for _, c in scored[:k]]


class StructureIndex:
    """Chunk structures computed once, with the chunks holding each reference and term.

    ``exact_matches`` over every chunk computes each chunk's structure (a dozen regular
    expressions) per question: at 10k chunks that is hundreds of milliseconds for any
    question starting "what is" or "what does" (a possible definition lookup). Here the
    structures are computed when the index changes, and a question looks at the few chunks
    that hold one of its numbers (or a parent) or one of its phrases as a defined term.
    """

    def __init__(self, structures: Mapping[str, ChunkStructure]) -> None:
        self.structures = dict(structures)  # chunk id -> structure
        self._by_ref: dict[str, list[str]] = {}
        self._by_term: dict[str, list[str]] = {}
        self._max_term_words = 1
        for chunk_id, s in self.structures.items():
            for r in s.refs:
                self._by_ref.setdefault(r, []).append(chunk_id)
            for t in s.terms:
                self._by_term.setdefault(t, []).append(chunk_id)
                self._max_term_words = max(self._max_term_words, len(t.split()))

    def candidates(self, refs: QuestionRefs) -> list[str]:
        """Ids of the chunks ``exact_matches`` could keep for these references."""
        out: dict[str, None] = {}
        for n in refs.numbers:
            for r in (n, *_parents(n)):
                out.update(dict.fromkeys(self._by_ref.get(r, ())))
        if refs.wants_definition:
            words = refs.words.split()
            for size in range(1, min(len(words), self._max_term_words) + 1):
                for start in range(len(words) - size + 1):
                    phrase = " ".join(words[start : start + size])
                    out.update(dict.fromkeys(self._by_term.get(phrase, ())))
        return list(out)

    def structure(self, chunk: IndexedChunk) -> ChunkStructure:
        """The chunk's structure, computed once (or now, for a chunk not indexed here)."""
        found = self.structures.get(chunk.chunk_id)
        return found if found is not None else chunk_structure(chunk)


_MAX_TITLE_WORDS = 12


def named_documents(
    question: str,
    titles: Mapping[str, frozenset[str]],
    doc_groups: Mapping[str, frozenset[str]],
    reading_groups: frozenset[str],
) -> dict[str, str]:
    """Readable documents the question names: ``{doc_id: the name used}``, by id or title.

    ``titles`` maps a normalized title (``norm_words``) to the ids of the documents that carry
    it, ``doc_groups`` a document id to its groups. Only documents the groups may read count,
    so naming a restricted document changes nothing. A title must have at least two words and
    appear whole, as a run of the question's words (a one-word title would match ordinary
    words).
    """
    if not reading_groups:
        return {}
    found: dict[str, str] = {d: d for d in _DOC_ID_RE.findall(question)}
    words = norm_words(question).split()
    for size in range(min(len(words), _MAX_TITLE_WORDS), 1, -1):
        for start in range(len(words) - size + 1):
            phrase = " ".join(words[start : start + size])
            for doc_id in titles.get(phrase, ()):
                found.setdefault(doc_id, phrase)
    return {d: name for d, name in found.items() if doc_groups.get(d, frozenset()) & reading_groups}


def residual_question(question: str, names: Iterable[str]) -> str:
    """The question's words without the document names in it (ids and titles)."""
    text = f" {norm_words(question)} "
    for name in sorted(set(names), key=len, reverse=True):
        text = text.replace(f" {norm_words(name)} ", " ")
    return " ".join(text.split())
