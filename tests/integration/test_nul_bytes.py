"""Reproduction 9 (issue 9 item 8): NUL bytes in text reaching the database are a 4xx problem
on SQLite and PostgreSQL, never a 500 (PostgreSQL cannot store NUL in a text column)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from tests.conftest import TEST_SECRET
from tests.support import LiveServer


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    svc = Services(
        load_settings(home=tmp_path / "home", env="test", secret_key=TEST_SECRET, database_url=url)
    )
    keys = {}
    for name, role in (("fiona", Role.FRAUD_ANALYST), ("rita", Role.COMPLIANCE_REVIEWER)):
        svc.users.add(name, role, groups=["public"])
        keys[name] = svc.users.issue_key(name)
    with LiveServer(create_app(svc, poll_seconds=0)) as server:
        yield server.url, keys


@pytest.mark.parametrize(
    ("who", "method", "path", "body"),
    [
        ("rita", "POST", "/v1/policy/ask", {"question": "what is the \u0000 limit?"}),
        ("rita", "POST", "/v1/policy/feedback", {"answer_id": "a\u0000", "note": "wrong"}),
        ("rita", "POST", "/v1/policy/feedback", {"answer_id": "a1", "note": "wr\u0000ong"}),
        ("rita", "GET", "/v1/policy/search?q=limit%00", None),
        ("fiona", "POST", "/v1/fraud/alerts/%00/disposition", {"outcome": "fraud"}),
        ("fiona", "POST", "/v1/fraud/alerts/a1/disposition", {"outcome": "fraud", "note": "\x00"}),
        ("fiona", "GET", "/v1/fraud/queue?status=open%00", None),
    ],
)
def test_nul_is_a_4xx_problem(
    live: tuple[str, dict[str, str]], who: str, method: str, path: str, body: object
) -> None:
    url, keys = live
    r = httpx.request(
        method, f"{url}{path}", json=body, headers={"X-API-Key": keys[who]}, timeout=60
    )
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"] == "application/problem+json"
