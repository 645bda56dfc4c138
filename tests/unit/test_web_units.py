"""Small pure pieces of the web console: paging, redirects, numbers, CSRF, recourse, charts."""

from __future__ import annotations

import json

import pytest

from bankml.core.identity import Role, User
from bankml.core.sessions import Session
from bankml.monitoring.service import StoredDay
from bankml.web.actions import _recourse_lines
from bankml.web.app import PER_PAGE, _num, _safe_next, paginate
from bankml.web.auth import CsrfError, check_csrf
from bankml.web.charts import latency_chart, monitoring_charts


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


def test_recourse_reads_as_changes_or_the_reason_there_is_none() -> None:
    found = {
        "status": "found",
        "changes": [
            {"feature": "debt_to_income", "from": 0.5123456, "to": 0.31},
            {"feature": "utilisation", "from": 0.9, "to": 0.65},
        ],
    }
    assert _recourse_lines(found) == ["debt_to_income: 0.5123 → 0.31", "utilisation: 0.9 → 0.65"]
    none = {"status": "none within bounds", "note": "no change within bounds reaches approve"}
    assert _recourse_lines(none) == ["no change within bounds reaches approve"]
    assert _recourse_lines(None) == [] and _recourse_lines({}) == []


def _day(day: str, psi: float, missing: float) -> StoredDay:
    drift = {"column": "amount", "psi": psi, "test": "ks", "statistic": 0.2, "drifted": psi > 0.1}
    return StoredDay(
        "fraud",
        1,
        day,
        100,
        {"drift.share_drifted": 0.5, "estimated.alerts": 12.0, "realised.precision": 0.4},
        {
            "drift": {"columns": [drift]},
            "score_drift": {**drift, "column": "score", "psi": 0.01},
            "score_histogram": {
                "edges": [0.0, 0.5, 1.0],
                "live": [0.6, 0.4],
                "reference": [0.5, 0.5],
            },
            "quality": {"missing_rate": {"amount": missing}},
            "estimated": {"capacity": 15},
        },
    )


def test_the_health_page_draws_the_monitoring_reports_own_figures() -> None:
    charts = monitoring_charts([_day("2026-03-07", 0.02, 0.0), _day("2026-03-08", 0.4, 1.0)])
    assert [(c.key, c.wide) for c in charts] == [
        ("drift-heatmap", True),
        ("score-distributions", False),
        ("estimated-vs-realised-performance", False),
        ("traffic-volume", False),
        ("alert-volume-vs-capacity", False),
        ("share-of-drifting-features", False),
        ("live-data-quality", True),
    ]
    heat = json.loads(charts[0].figure)["data"][0]
    assert heat["type"] == "heatmap" and heat["y"] == ["amount", "score"]
    assert heat["z"] == [[0.02, 0.4], [0.01, 0.01]]  # feature x day, PSI
    assert monitoring_charts([]) == []


def test_the_latency_chart_keeps_the_busiest_endpoints() -> None:
    assert latency_chart({}) is None
    latency = {f"GET /e{i}": {"requests": float(i), "p50_ms": 1.0} for i in range(15)}
    chart = latency_chart(latency)
    assert chart is not None
    shown = json.loads(chart.figure)["data"][0]["x"]
    assert sorted(shown) == sorted(f"GET /e{i}" for i in range(5, 15))
