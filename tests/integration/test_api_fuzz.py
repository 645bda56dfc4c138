"""Property-based API fuzzing (issue 9 item 11): schemathesis generates requests from the
service's own OpenAPI document, positive and negative (wrong types, missing fields, odd
strings including NUL), for every operation, as an admin and as a compliance reviewer, on
SQLite and on PostgreSQL. No answer may be a server error (500), every error must be a
problem+json document.

A 503 is allowed: it is the documented answer of a route whose model is not served (this
service has none registered), not a crash. Bounded: ``MAX_EXAMPLES`` per operation and mode,
and ``BUDGET_SECONDS`` per backend, after which the remaining operations are skipped and
counted (the test asserts most operations were fuzzed).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.identity import Role
from bankml.core.settings import Settings, load_settings
from tests.conftest import TEST_SECRET
from tests.support import LiveServer

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = 12
BUDGET_SECONDS = 150.0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzz_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    return load_settings(
        home=tmp_path / "home", env="test", secret_key=TEST_SECRET, database_url=url
    )


@pytest.fixture
def server(fuzz_settings: Settings) -> Iterator[tuple[str, dict[str, str]]]:
    svc = Services(fuzz_settings)
    keys = {}
    for name, role in (("ada", Role.ADMIN), ("rita", Role.COMPLIANCE_REVIEWER)):
        svc.users.add(name, role, groups=["public"])
        keys[name] = svc.users.issue_key(name)
    with LiveServer(create_app(svc, poll_seconds=0)) as live:
        yield live.url, keys


def test_fuzzing_the_api_finds_no_server_error(server: tuple[str, dict[str, str]]) -> None:
    url, keys = server
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    deadline = time.monotonic() + BUDGET_SECONDS
    failures: list[str] = []
    fuzzed = skipped = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    for op in operations:
        if time.monotonic() > deadline:
            skipped += 1
            continue
        fuzzed += 1
        label = f"{op.method.upper()} {op.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=op.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                headers = {k: v for k, v in (case.headers or {}).items()}
                headers.pop("Authorization", None)
                for key in keys.values():
                    headers["X-API-Key"] = key
                    case.headers = headers
                    response = case.call(base_url=url, timeout=60)
                    status = response.status_code
                    if status >= 500 and status != 503:
                        failures.append(f"{case.method} {case.path} -> {status}: {case!r}")
                    if status >= 400:
                        kind = response.headers.get("content-type", [""])
                        text = kind[0] if isinstance(kind, list) else kind
                        if text != "application/problem+json":
                            failures.append(f"{case.method} {case.path} -> {status} {text}")

            try:
                run()
            except Unsatisfiable:
                # Nothing to make invalid (an operation without parameters or body).
                assert mode is GenerationMode.NEGATIVE, label
    assert failures == []
    assert fuzzed >= len(operations) * 0.8, (fuzzed, skipped)
