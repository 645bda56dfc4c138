"""Free text at the trust boundary: control characters refused, visible text required, PII
redacted at one point (issue 9, items 7 and 8)."""

from __future__ import annotations

import pytest

from bankml.core.errors import InputError
from bankml.core.pii import redact_free_text
from bankml.core.text import clean_text, has_visible_text, require_visible


@pytest.mark.parametrize("bad", ["a\x00b", "\x00", "x\x1by", "del\x7f", "c1\x85", "bell\x07"])
def test_clean_text_refuses_control_characters(bad: str) -> None:
    with pytest.raises(InputError, match=r"note contains a control character \(U\+00"):
        clean_text(bad, "note")


def test_clean_text_keeps_tabs_newlines_and_unicode() -> None:
    value = "line one\n\tline two\r\nZürich — 5 €"
    assert clean_text(value, "note") == value


def test_clean_text_refuses_non_text_and_long_values() -> None:
    with pytest.raises(InputError, match="note must be text"):
        clean_text(12, "note")
    with pytest.raises(InputError, match="note is longer than 5 characters"):
        clean_text("abcdef", "note", 5)
    assert clean_text("abcde", "note", 5) == "abcde"


@pytest.mark.parametrize(
    "invisible",
    ["", "   ", "\u200b", "\u0000\u200b", "\ufeff\u200d\u2060", "\u3000\u00a0", "\t\n"],
)
def test_invisible_text_is_not_a_rationale(invisible: str) -> None:
    assert not has_visible_text(invisible)
    with pytest.raises(InputError, match="the rationale must contain visible text"):
        require_visible(invisible, "the rationale")


def test_visible_text_passes_stripped() -> None:
    assert require_visible("  \u200bok\n", "the rationale") == "\u200bok"
    assert require_visible("否", "x") == "否"


def test_redact_free_text_redacts_pii_and_refuses_nul() -> None:
    text = (
        " roll back: card 4111 1111 1111 1111, mail jane.doe@example.com, "
        "IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789 "
    )
    assert redact_free_text(text, "rationale") == (
        "roll back: card [PAN], mail [EMAIL], IBAN [IBAN], SSN [SSN]"
    )
    with pytest.raises(InputError, match="rationale contains a control character"):
        redact_free_text("ok\x00", "rationale")
