"""The HTTP service against a real uvicorn server: auth, roles, problem+json errors."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.identity import Role
from bankml.core.settings import Settings
from tests.support import LiveServer


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, dict[str, str]]]:
    svc = Services(settings)
    keys = {}
    for name, role in (("audrey", Role.AUDITOR), ("fiona", Role.FRAUD_ANALYST)):
        svc.users.add(name, role)
        keys[name] = svc.users.issue_key(name)
    svc.ledger.append("test.event", "pytest", "subject:1", {"x": 1})
    with LiveServer(create_app(svc)) as live:
        yield live.url, keys


def test_health_needs_no_key(server: tuple[str, dict[str, str]]) -> None:
    url, _ = server
    assert httpx.get(f"{url}/v1/health").json()["status"] == "ok"


def test_api_key_identifies_the_caller(server: tuple[str, dict[str, str]]) -> None:
    url, keys = server
    r = httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {keys['fiona']}"})
    assert r.status_code == 200 and r.json()["role"] == "fraud_analyst"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer bkml_nope"}, {"X-API-Key": "x"}])
def test_missing_or_bad_key_is_a_401_problem(
    server: tuple[str, dict[str, str]], headers: dict[str, str]
) -> None:
    url, _ = server
    r = httpx.get(f"{url}/v1/me", headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 401 and "\n" not in body["detail"]


def test_roles_gate_routes(server: tuple[str, dict[str, str]]) -> None:
    url, keys = server
    denied = httpx.get(f"{url}/v1/audit/verify", headers={"X-API-Key": keys["fiona"]})
    assert denied.status_code == 403 and "needs auditor" in denied.json()["detail"]
    ok = httpx.get(f"{url}/v1/audit/verify", headers={"X-API-Key": keys["audrey"]})
    assert ok.status_code == 200 and ok.json()["ok"] is True and ok.json()["entries"] >= 1


def test_unknown_route_is_a_404_problem(server: tuple[str, dict[str, str]]) -> None:
    url, _ = server
    r = httpx.get(f"{url}/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
