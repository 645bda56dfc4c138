"""One redaction point for governance free text (issue 9 item 7) and rationales that must be
visible text (item 8), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bankml.core.errors import InputError
from bankml.core.storage import Database
from bankml.governance.approvals import ModelState
from bankml.governance.registry import ModelRegistry
from tests.integration.test_approvals import NAME, World, registry  # noqa: F401  (fixture)

PII_RATIONALE = (
    "v2 blocked card 4111 1111 1111 1111 of jane.doe@example.com, "
    "IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789"
)
REDACTED = "v2 blocked card [PAN] of [EMAIL], IBAN [IBAN], SSN [SSN]"


@pytest.fixture
def w(db: Database, registry: ModelRegistry) -> World:  # noqa: F811
    return World(db, registry)


def _two_champions(w: World) -> None:
    w.to_approved(1, w.sam, w.victor)
    w.gov.promote(NAME, 1, w.maria, "first champion")
    w.tick()
    w.to_approved(2, w.sam, w.victor)
    w.gov.promote(NAME, 2, w.olga)
    w.tick()


def test_rollback_rationale_with_pii_is_stored_redacted_everywhere(w: World) -> None:
    _two_champions(w)
    t = w.gov.rollback(NAME, w.olga, PII_RATIONALE)
    assert t.rationale == REDACTED
    with w.db.engine.connect() as conn:
        stored = [
            r[0]
            for r in conn.execute(
                text("SELECT rationale FROM model_transitions WHERE rationale LIKE 'v2 blocked%'")
            )
        ]
        champion = [
            r[0]
            for r in conn.execute(
                text("SELECT rationale FROM champion_history WHERE action = 'rollback'")
            )
        ]
    assert stored and set(stored) == {REDACTED}
    assert champion == [REDACTED]
    assert "4111" not in "".join(e.payload_json for e in w.ledger.entries())
    assert w.gov.state(NAME, 1) is ModelState.CHAMPION


@pytest.mark.parametrize("rationale", ["\u0000\u200b", "\u200b\u200b", "   \ufeff "])
def test_invisible_rationale_does_not_count(w: World, rationale: str) -> None:
    w.gov.submit(NAME, 1, w.sam)
    w.validate(1)
    with pytest.raises(InputError, match=r"rationale|control character"):
        w.gov.approve(NAME, 1, w.victor, rationale)
    assert w.gov.state(NAME, 1) is ModelState.VALIDATED


def test_nul_in_a_rationale_is_a_4xx_input_error_not_a_database_error(w: World) -> None:
    w.gov.submit(NAME, 1, w.sam)
    w.validate(1)
    with pytest.raises(InputError, match="contains a control character"):
        w.gov.reject(NAME, 1, w.victor, "bad\x00model")
