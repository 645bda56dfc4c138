"""One resolver for ids typed by people: a unique prefix of at least 8 characters is enough.

Tables print the first 8 characters of an id; every command and route that takes an id
(decision, alert, review item, transition ...) resolves it here, so a prefix that is too
short, unknown or ambiguous is refused the same way everywhere: one line, and for an
ambiguous prefix the candidates it matches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import ColumnElement, Connection, select
from sqlalchemy.sql.elements import ColumnClause

from bankml.core.errors import InputError, NotFoundError

__all__ = ["MIN_PREFIX", "resolve_prefix", "sql_prefix_lookup"]

MIN_PREFIX = 8
_SHOWN = 5

Lookup = Callable[[str, int], Sequence[str]]


def resolve_prefix(ref: str, lookup: Lookup, *, what: str, hint: str = "") -> str:
    """The one full id starting with ``ref``.

    ``lookup(prefix, limit)`` returns up to ``limit`` distinct ids starting with ``prefix``.
    Raises ``InputError`` for a prefix shorter than ``MIN_PREFIX`` or one matching several
    ids (listing them), ``NotFoundError`` when nothing matches.
    """
    ref = ref.strip()
    if len(ref) < MIN_PREFIX:
        raise InputError(f"{what} id {ref!r} is too short: give at least {MIN_PREFIX} characters")
    found = sorted(set(lookup(ref, _SHOWN + 1)))
    if not found:
        raise NotFoundError(f"no {what} {ref!r}{'; ' + hint if hint else ''}")
    if len(found) > 1:
        shown = ", ".join(found[:_SHOWN]) + (", ..." if len(found) > _SHOWN else "")
        raise InputError(f"{what} id prefix {ref!r} is ambiguous; it matches {shown}")
    return found[0]


def sql_prefix_lookup(
    connect: Callable[[], Connection],
    column: ColumnClause[str] | ColumnElement[str],
    *where: ColumnElement[bool],
) -> Lookup:
    """A ``lookup`` for ``resolve_prefix`` over one indexed string column (``LIKE 'p%'``)."""

    def lookup(prefix: str, limit: int) -> list[str]:
        query = (
            select(column)
            .where(column.startswith(prefix, autoescape=True), *where)
            .distinct()
            .limit(limit)
        )
        with connect() as conn:
            return [str(v) for (v,) in conn.execute(query)]

    return lookup
