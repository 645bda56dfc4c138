"""Small pure pieces of the web console: paging, safe redirects, number display, CSRF check."""

from __future__ import annotations

import pytest

from bankml.core.identity import Role, User
from bankml.core.sessions import Session
from bankml.web.app import PER_PAGE, _num, _safe_next, paginate
from bankml.web.auth import CsrfError, check_csrf


@pytest.mark.parametrize(
    ("total", "page", "expected_rows", "expected_page", "expected_pages"),
    [
        (0, 1, 0, 1, 1),
        (PER_PAGE, 1, PER_PAGE, 1, 1),
        (PER_PAGE + 1, 2, 1, 2, 2),
        (60, 99, 10, 3, 3),  # past the end: the last page
        (60, -4, PER_PAGE, 1, 3),  # before the start: the first page
    ],
)
def test_paginate_clamps_the_page_and_slices_rows(
    total: int, page: int, expected_rows: int, expected_page: int, expected_pages: int
) -> None:
    rows, pager = paginate(list(range(total)), page)
    assert len(rows) == expected_rows
    assert (pager.page, pager.pages, pager.total) == (expected_page, expected_pages, total)
    if rows:
        assert rows[0] == (expected_page - 1) * PER_PAGE


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/ui/fraud?day=2026-03-07", "/ui/fraud?day=2026-03-07"),
        ("https://evil.example/ui", "/ui/"),
        ("//evil.example", "/ui/"),
        ("/ui\\\\evil.example", "/ui/"),
        ("/v1/audit/verify", "/ui/"),
    ],
)
def test_sign_in_only_returns_to_a_console_path(target: str, expected: str) -> None:
    assert _safe_next(target) == expected


def test_numbers_read_with_four_significant_digits() -> None:
    assert _num(0.32399999999999995) == "0.324"
    assert _num(1.609823385706477e-14) == "1.61e-14"
    assert _num(218) == "218"
    assert _num(None) == "–"
    assert _num(True) == "True"
    assert _num({"a": 0.123456}) == "a: 0.1235"


def test_a_form_needs_the_sessions_own_csrf_token() -> None:
    user = User(1, "fiona", Role.FRAUD_ANALYST, frozenset(), "2026-01-01T00:00:00.000000Z")
    session = Session(user=user, csrf_token="t0ken", method="password", expires_at="x")
    check_csrf(session, {"csrf": "t0ken"})
    for bad in ({}, {"csrf": ""}, {"csrf": "t0ken "}, {"csrf": "other"}):
        with pytest.raises(CsrfError):
            check_csrf(session, bad)
