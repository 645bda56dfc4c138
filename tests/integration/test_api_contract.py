"""The API's contract (issue 9 items 9 and 11): the OpenAPI document declares API-key
security, typed responses and problem+json errors; the docs pages load with no external URL;
and an endpoint x role matrix, generated from the OpenAPI, holds every route to its roles.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bankml.api.app import create_app
from bankml.api.assets import ASSET_FILES
from bankml.app import Services
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from tests.conftest import TEST_SECRET
from tests.support import LiveServer

PRINCIPALS = [r.value for r in Role] + ["no key", "bad key"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    home: Path = tmp_path_factory.mktemp("contract")
    svc = Services(load_settings(home=home, env="test", secret_key=TEST_SECRET))
    keys = {}
    for role in Role:
        name = f"u_{role.value}"
        svc.users.add(name, role, groups=["public"])
        keys[role.value] = svc.users.issue_key(name)
    with LiveServer(create_app(svc, poll_seconds=0)) as server:
        yield server.url, keys


@pytest.fixture(scope="module")
def spec(live: tuple[str, dict[str, str]]) -> dict[str, Any]:
    url, _ = live
    document: dict[str, Any] = httpx.get(f"{url}/openapi.json").json()
    return document


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_openapi_declares_the_api_key_schemes(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["ApiKey"]["description"],
    }
    assert schemes["Bearer"]["type"] == "http" and schemes["Bearer"]["scheme"] == "bearer"
    public = [p for p, _m, op in _operations(spec) if "security" not in op]
    assert public == ["/v1/health"]


def test_every_route_has_a_typed_success_response(spec: dict[str, Any]) -> None:
    untyped = []
    for path, method, op in _operations(spec):
        ok = [s for s in op["responses"] if s.startswith("2")]
        assert len(ok) == 1, (method, path)
        schema = op["responses"][ok[0]]["content"]["application/json"]["schema"]
        if schema == {} or (
            schema.get("type") == "object"
            and "properties" not in schema
            and "additionalProperties" not in schema
        ):
            untyped.append(f"{method} {path}")
    assert untyped == []
    assert len(list(_operations(spec))) >= 25


def test_errors_are_documented_as_problem_json(spec: dict[str, Any]) -> None:
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"title", "status", "detail"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, method, op in _operations(spec):
        for status in ("400", "404", "413", "422", "500"):
            content = op["responses"][status]["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
        if "security" in op:
            assert {"401", "403"} <= set(op["responses"]), (method, path)


def test_docs_and_redoc_load_with_no_external_url(live: tuple[str, dict[str, str]]) -> None:
    url, _ = live
    for page in ("/docs", "/redoc"):
        html = httpx.get(f"{url}{page}").text
        assert "http://" not in html and "https://" not in html, page
        for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert ref.startswith("/docs-static/"), (page, ref)
            asset = httpx.get(f"{url}{ref}")
            assert asset.status_code == 200 and len(asset.content) > 1000, ref
    for name in ASSET_FILES:
        assert httpx.get(f"{url}/docs-static/{name}").status_code == 200


def _fill(path: str, op: dict[str, Any]) -> str:
    for param in op.get("parameters", []):
        if param["in"] == "path":
            value = "1" if param["schema"].get("type") == "integer" else "fraud"
            path = path.replace("{" + param["name"] + "}", value)
    return path


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_endpoint_role_matrix(
    live: tuple[str, dict[str, str]], spec: dict[str, Any], principal: str
) -> None:
    """Every route x this principal: 401 without a valid key, 403 for a role the route does
    not admit, and for an admitted role something the route itself decided (2xx/4xx/503,
    never 401/403 from the gate, never a 500)."""
    url, keys = live
    headers = {}
    if principal == "bad key":
        headers = {"X-API-Key": "bkml_not_a_real_key"}
    elif principal != "no key":
        headers = {"X-API-Key": keys[principal]}
    wrong = []
    for path, method, op in _operations(spec):
        if "security" not in op:
            continue
        body = {} if "requestBody" in op else None
        r = httpx.request(
            method, f"{url}{_fill(path, op)}", json=body, headers=headers, timeout=120
        )
        roles = op["x-roles"]
        if principal in ("no key", "bad key"):
            expected_ok = r.status_code == 401
        elif roles != ["any"] and principal not in roles:
            expected_ok = r.status_code == 403 and "needs" in r.json()["detail"]
        elif roles != ["any"]:
            expected_ok = r.status_code not in (401, 403, 500) and r.status_code < 504
        else:  # any user: the service may still refuse by its own rule (403), never 401
            expected_ok = r.status_code not in (401, 500) and r.status_code < 504
        if r.status_code >= 400:
            assert r.headers["content-type"] == "application/problem+json", (method, path)
        if not expected_ok:
            wrong.append(f"{method.upper()} {path} -> {r.status_code} {r.text[:120]}")
    assert wrong == []
