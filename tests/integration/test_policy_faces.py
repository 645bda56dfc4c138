"""Policy assistant faces: the HTTP API on a real uvicorn server, the CLI, and the
OpenAI-compatible generator against a real local HTTP server speaking that protocol."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from bankml.api.app import create_app
from bankml.app import Services
from bankml.cli import app as cli_app
from bankml.core.identity import Role
from bankml.core.settings import Settings
from bankml.policy.generator import SYSTEM_PROMPT, OpenAICompatibleGenerator
from tests.conftest import TEST_SECRET
from tests.integration.test_policy_service import PLANTED, PUBLIC, QUESTION, SECRET
from tests.support import LiveServer


def _write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("public.md", PUBLIC), ("secret.md", SECRET), ("planted.md", PLANTED)):
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def api(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    svc = Services(settings)
    keys = {}
    for name, role, groups in (
        ("tara", Role.AUDITOR, {"treasury"}),
        ("fiona", Role.FRAUD_ANALYST, {"fraud-ops"}),
        ("cora", Role.COMPLIANCE_REVIEWER, {"compliance", "treasury"}),
    ):
        svc.users.add(name, role, frozenset(groups))
        keys[name] = svc.users.issue_key(name)
    svc.policy.ingest([_write_corpus(tmp_path / "policies")])
    with LiveServer(create_app(svc)) as live:
        yield live.url, keys


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_api_ask_is_group_gated_and_review_flow_works(api: tuple[str, dict[str, str]]) -> None:
    url, keys = api
    ok = httpx.post(f"{url}/v1/policy/ask", json={"question": QUESTION}, headers=_h(keys["tara"]))
    assert ok.status_code == 200
    assert ok.json()["citations"][0]["doc_id"] == "POL-TRY-009"
    no = httpx.post(f"{url}/v1/policy/ask", json={"question": QUESTION}, headers=_h(keys["fiona"]))
    assert no.json()["abstained"] is True
    assert "zephyr" not in no.text.lower()
    found = httpx.get(
        f"{url}/v1/policy/search", params={"q": "zephyr liquidity"}, headers=_h(keys["fiona"])
    )
    assert found.status_code == 200
    assert found.json() == {"results": []}
    fb = httpx.post(
        f"{url}/v1/policy/feedback",
        headers=_h(keys["tara"]),
        json={"answer_id": ok.json()["answer_id"], "note": "outdated"},
    )
    assert fb.status_code == 201
    item = fb.json()["review_id"]
    denied = httpx.get(f"{url}/v1/policy/review", headers=_h(keys["fiona"]))
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"
    queue = httpx.get(f"{url}/v1/policy/review", headers=_h(keys["cora"])).json()["items"]
    assert [i["id"] for i in queue] == [item]
    done = httpx.post(
        f"{url}/v1/policy/review/{item}/approve", json={"note": "fine"}, headers=_h(keys["cora"])
    )
    assert done.status_code == 200
    assert done.json()["status"] == "approved"
    again = httpx.post(f"{url}/v1/policy/review/{item}/reject", json={}, headers=_h(keys["cora"]))
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/v1/policy/ask", {"question": ""}),
        ("post", "/v1/policy/ask", {"nope": 1}),
        ("get", "/v1/policy/search?k=0&q=x", None),
        ("get", "/v1/policy/review/999", None),
    ],
)
def test_api_bad_input_is_a_problem_json(
    api: tuple[str, dict[str, str]], method: str, path: str, body: object
) -> None:
    url, keys = api
    r = httpx.request(method.upper(), f"{url}{path}", json=body, headers=_h(keys["cora"]))
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "\n" not in r.json()["detail"]


def test_api_needs_a_key(api: tuple[str, dict[str, str]]) -> None:
    url, _ = api
    assert httpx.post(f"{url}/v1/policy/ask", json={"question": "x"}).status_code == 401


# -- CLI ----------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BANKML_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BANKML_ENV", "test")
    monkeypatch.setenv("BANKML_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("BANKML_CREDENTIALS_FILE", str(tmp_path / "credentials.json"))
    monkeypatch.delenv("BANKML_API_KEY", raising=False)
    from bankml.core.settings import get_settings

    get_settings.cache_clear()
    return tmp_path


def _run(*args: str, key: str | None = None) -> tuple[int, str, str]:
    """The CLI in process, acting with API key ``key`` (as BANKML_API_KEY)."""
    from bankml.cli import main

    runner = CliRunner()
    env = {"BANKML_API_KEY": key} if key else None
    result = runner.invoke(cli_app, list(args), catch_exceptions=True, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        # Mirror main(): a BankmlError becomes one line and exit 2.
        from bankml.core.errors import BankmlError

        assert isinstance(result.exception, BankmlError), repr(result.exception)
        return result.exception.exit_code, "", result.exception.message
    del main
    return result.exit_code, result.stdout, result.stderr


def test_cli_ingest_search_ask_review(cli_env: Path) -> None:
    corpus = _write_corpus(cli_env / "policies")
    code, out, _ = _run("init", "--no-login", "--json")
    admin = json.loads(out)["api_key"]
    keys = {}
    for name, role, groups in (
        ("tara", "auditor", "treasury"),
        ("cora", "compliance_reviewer", "compliance,treasury"),
    ):
        code, out, _ = _run(
            "users", "add", name, "--role", role, "--groups", groups, "--json", key=admin
        )
        assert code == 0
        keys[name] = json.loads(out)["api_key"]
    # Ingest decides what the assistant may quote: not an auditor's call.
    assert _run("policy", "ingest", str(corpus), key=keys["tara"])[0] == 2
    code, out, _ = _run("policy", "ingest", str(corpus), "--json", key=keys["cora"])
    assert code == 0
    assert len(json.loads(out)["added"]) == 3
    tara = keys["tara"]
    code, out, _ = _run("policy", "search", "zephyr buffer", "--user", "tara", "--json", key=tara)
    results = json.loads(out)["results"]
    assert set(results[0]) >= {"doc_id", "chunk_id", "section", "title", "score", "text"}
    code, out, _ = _run("policy", "ask", QUESTION, "--json", key=tara)
    answer = json.loads(out)
    assert set(answer) >= {"answer", "citations", "abstained", "flags", "review_id"}
    code, out, _ = _run("policy", "feedback", answer["answer_id"], "--note", "x", key=tara)
    assert code == 0
    assert "review" in out
    code, out, _ = _run("policy", "review", "list", "--json", key=keys["cora"])
    item = json.loads(out)["items"][0]["id"]
    assert _run("policy", "review", "reject", str(item), key=keys["cora"])[0] == 0
    code, out, _ = _run("policy", "findings", "--json", key=keys["cora"])
    assert json.loads(out)["findings"][0]["doc_id"] == "POL-GEN-002"
    # A typed name is not an identity: tara's key cannot act as cora.
    code, _, err = _run("policy", "review", "list", "--user", "cora", key=tara)
    assert code == 2
    assert "authenticated as tara" in err


def test_cli_bad_input_is_one_line_and_exit_2(cli_env: Path) -> None:
    import subprocess
    import sys

    env = {
        "BANKML_HOME": str(cli_env / "home"),
        "BANKML_ENV": "test",
        "BANKML_SECRET_KEY": TEST_SECRET,
        "BANKML_CREDENTIALS_FILE": str(cli_env / "credentials.json"),
        "PATH": "/usr/bin:/bin",
    }
    for args in (
        ["policy", "ask", "hello", "--user", "nobody"],
        ["policy", "eval", str(cli_env / "missing.yaml")],
        ["policy", "review", "approve", "1", "--user", "nobody"],
    ):
        bankml = str(Path(sys.executable).with_name("bankml"))
        proc = subprocess.run(
            [bankml, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == 2, proc.stderr
        errors = [line for line in proc.stderr.splitlines() if not line.startswith("INFO ")]
        assert "Traceback" not in proc.stderr
        assert len(errors) == 1
        assert errors[0].startswith("error:")


# -- the generator against a real OpenAI-compatible HTTP server ------------------------------


def _fake_llm(mode: str) -> Starlette:
    seen: list[dict[str, object]] = []

    async def completions(request: Request) -> JSONResponse:
        body = await request.json()
        seen.append(body)
        user = body["messages"][1]["content"]
        first = re.search(r'<untrusted_source n="1"[^>]*>\n(.*?)\n</untrusted_source>', user, re.S)
        sentence = re.sub(r"\*\*[\d.]+\*\*\s*", "", first.group(1)).split("\n")[0] if first else ""
        content = {
            "grounded": f"{sentence} [1]",
            "invented": "The buffer is 999 percent and set by the moon. [1]",
            "unsure": "INSUFFICIENT_CONTEXT",
        }[mode]
        return JSONResponse(
            {
                "id": "x",
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
            }
        )

    app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
    app.state.seen = seen
    return app


@pytest.mark.parametrize(
    ("mode", "abstained", "flag"),
    [("grounded", False, None), ("invented", True, "ungrounded"), ("unsure", True, None)],
)
def test_generator_output_must_pass_the_grounding_check(
    settings: Settings, tmp_path: Path, mode: str, abstained: bool, flag: str | None
) -> None:
    svc = Services(settings)
    tara = svc.users.add("tara", Role.AUDITOR, frozenset({"treasury"}))
    svc.policy.ingest([_write_corpus(tmp_path / "p")])
    fake = _fake_llm(mode)
    with LiveServer(fake) as live:
        svc.policy.generator = OpenAICompatibleGenerator(f"{live.url}/v1", "tiny")
        a = svc.policy.ask(tara, QUESTION)
    assert a.abstained is abstained
    if flag:
        assert flag in a.flags
        assert a.review_id is not None
    sent = fake.state.seen[0]
    assert sent["messages"][0]["content"] == SYSTEM_PROMPT  # type: ignore[index]
    user_msg = sent["messages"][1]["content"]  # type: ignore[index]
    assert "<untrusted_source" in user_msg
    assert "zed.desk@example.com" not in user_msg
    assert "[EMAIL]" in user_msg
    assert TEST_SECRET not in json.dumps(sent)
    svc.close()


def test_unreachable_generator_abstains_with_a_flag(settings: Settings, tmp_path: Path) -> None:
    svc = Services(settings)
    tara = svc.users.add("tara", Role.AUDITOR, frozenset({"treasury"}))
    svc.policy.ingest([_write_corpus(tmp_path / "p")])
    svc.policy.generator = OpenAICompatibleGenerator("http://127.0.0.1:9/v1", "x", timeout_s=2)
    a = svc.policy.ask(tara, QUESTION)
    assert a.abstained
    assert "generator_error" in a.flags
    svc.close()


def test_demo_step_shows_permitted_answers_abstention_and_blocked_injection(
    settings: Settings, tmp_path: Path
) -> None:
    from rich.console import Console

    from bankml.cli.policy import demo_step
    from bankml.data.policy_corpus import build_policy_corpus

    bank = tmp_path / "bank"
    (bank / "policies").mkdir(parents=True)
    for doc in build_policy_corpus(7):
        (bank / "policies" / f"{doc.id}.md").write_text(doc.markdown, encoding="utf-8")
    svc = Services(settings)
    console = Console(record=True, width=200)
    demo_step(svc, bank, console)
    out = console.export_text()
    assert "POL-AML-004" in out  # cora (aml-investigations) gets the restricted procedure
    assert "can't find this" in out
    assert "withheld" in out
    # The generated corpus itself was never modified.
    assert not any("Ignore all previous" in p.read_text() for p in (bank / "policies").iterdir())
    svc.close()
