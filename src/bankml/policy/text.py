"""Checks on the free text and ids users send the policy assistant.

NUL and other control characters are refused with one clear line (a 4xx in the API, exit 2
in the CLI) before the text reaches the database: PostgreSQL cannot store NUL in a text column
and answered HTTP 500; SQLite would store it and every later reader would trip over it.
Newlines and tabs are ordinary text; every other C0/C1 control character, and Unicode's
bidirectional overrides (which make a stored note read differently from what it holds), are
refused.
"""

from __future__ import annotations

import re

from bankml.core.errors import InputError

__all__ = ["MAX_TEXT_CHARS", "check_free_text", "check_id"]

MAX_TEXT_CHARS = 2_000
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._#-]{0,199}$")


def check_free_text(value: str | None, what: str, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """The stripped text, or InputError: empty, too long, or holding control characters."""
    text = (value or "").strip()
    if _CONTROL_RE.search(text):
        raise InputError(f"the {what} contains control characters (such as NUL); remove them")
    if not text:
        raise InputError(f"the {what} is empty")
    if len(text) > max_chars:
        raise InputError(f"the {what} is longer than {max_chars} characters")
    return text


def check_id(value: str | None, what: str) -> str:
    """An id as typed (stripped), or InputError when it cannot be one of ours."""
    text = (value or "").strip()
    if not _ID_RE.match(text):
        raise InputError(f"the {what} {text[:40]!r} is not a valid id")
    return text
