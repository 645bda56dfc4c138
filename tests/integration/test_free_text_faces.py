"""Reproduction 7 at the faces (issue 9 item 7): a rollback rationale carrying a PAN, an e-mail,
an IBAN and an SSN, sent over HTTP, is redacted in the API's answer, in ``GET
/v1/models/.../versions/N``, in the transition and champion tables and in the documentation
pack; the other free-text paths (disposition notes, policy questions, feedback, review notes)
store redacted text too; NUL is a 4xx problem, not a 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.settings import load_settings
from bankml.governance.docs import render_docs
from tests.conftest import TEST_SECRET
from tests.integration.test_approvals import NAME, World

PII = (
    "v2 blocked card 4111 1111 1111 1111 of jane.doe@example.com, "
    "IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789"
)
REDACTED = "v2 blocked card [PAN] of [EMAIL], IBAN [IBAN], SSN [SSN]"
RAW_PIECES = ("4111", "jane.doe", "GB82", "123-45-6789")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Services, World, str]]:
    svc = Services(load_settings(home=tmp_path / "home", env="test", secret_key=TEST_SECRET))
    for n in (1, 2):
        model_dir = tmp_path / f"model{n}"
        model_dir.mkdir()
        (model_dir / "model.txt").write_text(f"tiny model {n}\n")
        svc.registry.register(
            NAME,
            model_dir,
            params={"n": n},
            metrics={"roc_auc": 0.9 + n / 100},
            tags={"trained_by": "maria", "bankml.state": "registered"},
        )
    w = World(svc.db, svc.registry)
    w.to_approved(1, w.sam, w.victor)
    w.gov.promote(NAME, 1, w.maria, "first champion")
    w.tick()
    w.to_approved(2, w.sam, w.victor)
    w.gov.promote(NAME, 2, w.olga)
    w.tick()
    key = svc.users.issue_key("olga")
    yield svc, w, key
    svc.close()


def test_rollback_rationale_is_redacted_in_api_tables_and_docs_pack(
    world: tuple[Services, World, str], tmp_path: Path
) -> None:
    svc, _w, key = world
    headers = {"X-API-Key": key}

    async def calls() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        # In-process ASGI without the lifespan: the toy versions are not servable models.
        transport = httpx.ASGITransport(app=create_app(svc, poll_seconds=0))
        async with httpx.AsyncClient(transport=transport, base_url="http://bankml") as c:
            rolled = await c.post(
                f"/v1/models/{NAME}/rollback", json={"rationale": PII}, headers=headers
            )
            # The rollback retires v2; its transitions carry the rationale.
            detail = await c.get(f"/v1/models/{NAME}/versions/2", headers=headers)
            nul = await c.post(
                f"/v1/models/{NAME}/rollback",
                json={"rationale": "undo\u0000it"},
                headers=headers,
            )
        return rolled, detail, nul

    r, detail, nul = asyncio.run(calls())
    assert r.status_code == 200, r.text
    assert r.json()["rationale"] == REDACTED
    assert detail.status_code == 200, detail.text
    body = detail.text
    assert REDACTED in body
    assert not any(piece in body for piece in RAW_PIECES)
    assert nul.status_code in (409, 422), nul.text  # refused, never a 500

    with svc.db.engine.connect() as conn:
        stored = " ".join(
            str(row[0])
            for table in ("model_transitions", "champion_history")
            for row in conn.execute(text(f"SELECT rationale FROM {table}"))
        )
    assert REDACTED in stored
    assert not any(piece in stored for piece in RAW_PIECES)

    html, md = render_docs(
        tmp_path / "pack",
        info=svc.registry.get(NAME, 2),
        validations=[],
        transitions=svc.governance.transitions(NAME, 2),
        champion_history=svc.governance.champion_history(NAME),
    )
    for path in (html, md):
        pack = path.read_text()
        assert "[PAN]" in pack and "[EMAIL]" in pack, path.name
        assert not any(piece in pack for piece in RAW_PIECES), path.name
