"""Free text that crosses the trust boundary: refuse control characters, require visible text.

Two checks every face and every store shares, so a rule is written once:

* ``clean_text(value, field, max_len)`` refuses NUL and the other C0/C1 control characters
  (tab, newline and carriage return are text) and over-long values. PostgreSQL cannot store a
  NUL in a text column at all, so letting one through turns bad input into an HTTP 500.
* ``require_visible(text, what)`` refuses text with nothing a person can read in it:
  whitespace, zero-width spaces and joiners, byte-order marks and other format characters
  (Unicode categories Z*, C*) do not make a rationale.
"""

from __future__ import annotations

import re
import unicodedata

from bankml.core.errors import InputError

__all__ = [
    "ERR_CONTROL_CHAR",
    "ERR_NOT_TEXT",
    "ERR_NO_VISIBLE_TEXT",
    "ERR_TOO_LONG",
    "clean_text",
    "has_visible_text",
    "require_visible",
]

ERR_NOT_TEXT = "{field} must be text"
ERR_CONTROL_CHAR = "{field} contains a control character (U+{code:04X}); remove it"
ERR_TOO_LONG = "{field} is longer than {limit} characters"
ERR_NO_VISIBLE_TEXT = "{what} must contain visible text"

# C0 controls except tab, newline, carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INVISIBLE_CATEGORIES = ("Z", "C")  # separators (spaces), controls, format, unassigned, private


def clean_text(value: object, field: str, max_len: int | None = None) -> str:
    """``value`` as a string that is safe to store; ``InputError`` naming ``field`` otherwise."""
    if not isinstance(value, str):
        raise InputError(ERR_NOT_TEXT.format(field=field))
    bad = _CONTROL.search(value)
    if bad is not None:
        raise InputError(ERR_CONTROL_CHAR.format(field=field, code=ord(bad.group())))
    if max_len is not None and len(value) > max_len:
        raise InputError(ERR_TOO_LONG.format(field=field, limit=max_len))
    return value


def has_visible_text(text: str) -> bool:
    """Whether ``text`` holds at least one character that is not a space, control or format."""
    return any(unicodedata.category(ch)[0] not in _INVISIBLE_CATEGORIES for ch in text)


def require_visible(text: str | None, what: str) -> str:
    """``text`` stripped, if it holds visible characters; ``InputError`` (``what`` named) if not.

    ``"\\u0000\\u200b"`` or thirty spaces are not a rationale: a required explanation must be
    something a reviewer can read.
    """
    value = (text or "").strip()
    if not has_visible_text(value):
        raise InputError(ERR_NO_VISIBLE_TEXT.format(what=what))
    return value
