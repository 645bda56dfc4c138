"""Request field types shared by the routers: text that is safe to store.

``Text`` refuses NUL and the other control characters (tab, newline and carriage return are
text) with a 422 problem at the face, whatever the database: PostgreSQL cannot store a NUL
at all, and a control character in a stored note or identifier is never legitimate. The rule
is :func:`bankml.core.text.clean_text`'s, so the API and the services agree.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from bankml.core.errors import InputError
from bankml.core.text import clean_text

__all__ = ["Text"]


def _no_controls(value: str) -> str:
    try:
        return clean_text(value, "the text")
    except InputError as exc:
        raise ValueError(exc.message.replace("the text contains", "contains")) from None


Text = Annotated[str, AfterValidator(_no_controls)]
"""A string without control characters (422 otherwise)."""
