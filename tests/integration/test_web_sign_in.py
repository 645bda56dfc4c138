"""The web console's sign-in, sessions, CSRF and role gates, over HTTP against a real server.

No browser here (see tests/e2e/test_web_console.py for Chromium): these check the security
properties with a plain HTTP client, which is faster and sees the raw headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.clock import FixedClock
from bankml.core.errors import InputError, PermissionDeniedError
from bankml.core.identity import Role
from bankml.core.sessions import LockedOutError
from bankml.core.settings import Settings, load_settings
from bankml.core.tables import users, web_sessions
from tests.conftest import TEST_SECRET
from tests.support import LiveServer

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Services]]:
    """One server for the module (argon2 is slow on purpose); each test signs in as its own
    users, so one test's lockout cannot leak into another."""
    home = tmp_path_factory.mktemp("web-sign-in") / "home"
    svc = Services(load_settings(home=home, env="test", secret_key=TEST_SECRET))
    for name, role in (
        ("fiona", Role.FRAUD_ANALYST),
        ("fred", Role.FRAUD_ANALYST),
        ("felix", Role.FRAUD_ANALYST),
        ("frank", Role.FRAUD_ANALYST),
        ("audrey", Role.AUDITOR),
        ("carl", Role.CREDIT_OFFICER),
        ("switch", Role.SERVICE),
    ):
        svc.users.add(name, role)
        svc.users.set_password(name, PASSWORD)
    with LiveServer(create_app(svc, poll_seconds=0)) as server:
        yield server.url, svc
    svc.close()


def _kinds(svc: Services, subject: str) -> list[str]:
    return [e.kind for e in svc.ledger.entries(subject=subject)]


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, follow_redirects=False, timeout=30)


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/ui/login")
    return client.post(
        "/ui/login",
        data={"csrf": _csrf(page.text), "username": name, "password": password, "next": "/ui/"},
    )


def test_pages_send_a_visitor_without_a_session_to_sign_in(live: tuple[str, Services]) -> None:
    url, _ = live
    with _client(url) as c:
        r = c.get("/ui/audit?at=2026-01-01")
        assert r.status_code == 303
        assert r.headers["location"] == "/ui/login?next=/ui/audit%3Fat%3D2026-01-01"
        assert c.get("/").headers["location"] == "/ui/"


def test_password_sign_in_gives_an_http_only_cookie_whose_token_is_stored_hashed(
    live: tuple[str, Services],
) -> None:
    url, svc = live
    with _client(url) as c:
        r = sign_in(c, "felix")
        assert r.status_code == 303 and r.headers["location"] == "/ui/"
        cookie = next(h for h in r.headers.get_list("set-cookie") if "bankml_session=" in h)
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/ui" in cookie
        token = cookie.split("bankml_session=", 1)[1].split(";", 1)[0]
        page = c.get("/ui/")
        assert page.status_code == 200 and "felix" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        assert "script-src 'self'" in page.headers["content-security-policy"]
    with svc.db.engine.connect() as conn:
        stored = [r.token_hash for r in conn.execute(select(web_sessions.c.token_hash))]
    assert stored and all(token not in h and len(h) == 64 for h in stored)
    assert _kinds(svc, "user:felix") == ["web.signed_in"]


def test_sign_in_form_without_its_csrf_token_is_refused(live: tuple[str, Services]) -> None:
    url, _ = live
    with _client(url) as c:
        c.get("/ui/login")
        r = c.post("/ui/login", data={"csrf": "forged", "username": "fiona", "password": PASSWORD})
        assert r.status_code == 403 and "expired" in r.text
        assert "bankml_session" not in r.headers.get("set-cookie", "")


def test_a_form_without_the_sessions_csrf_token_changes_nothing(
    live: tuple[str, Services],
) -> None:
    url, svc = live
    with _client(url) as c:
        sign_in(c, "fred")
        r = c.post("/ui/logout", data={"csrf": "not-the-token"})
        assert r.status_code == 403
        assert c.get("/ui/").status_code == 200  # still signed in: the forged logout did nothing
    assert _kinds(svc, "user:fred") == ["web.signed_in"]


def test_wrong_passwords_lock_the_login_and_the_lockout_is_ledgered(
    live: tuple[str, Services],
) -> None:
    url, svc = live
    with _client(url) as c:
        for _ in range(5):
            r = sign_in(c, "frank", "wrong password, again")
            assert r.status_code == 403 and "wrong user name or password" in r.text
        locked = sign_in(c, "frank")  # even the right password is refused now
        assert locked.status_code == 429 and "too many failed sign-ins" in locked.text
        assert "bankml_session" not in locked.headers.get("set-cookie", "")
    kinds = _kinds(svc, "login:frank")
    assert kinds == ["web.sign_in_failed"] * 5 + ["web.locked_out"]
    assert _kinds(svc, "user:frank") == []


def test_an_unknown_name_reads_like_a_wrong_password(live: tuple[str, Services]) -> None:
    url, _ = live
    with _client(url) as c:
        r = sign_in(c, "nobody")
        assert r.status_code == 403 and "wrong user name or password" in r.text


def test_api_key_sign_in_and_sign_out(live: tuple[str, Services]) -> None:
    url, svc = live
    key = svc.users.issue_key("audrey")
    with _client(url) as c:
        page = c.get("/ui/login")
        r = c.post("/ui/login", data={"csrf": _csrf(page.text), "api_key": key, "next": "/ui/"})
        assert r.status_code == 303
        home = c.get("/ui/")
        assert "audrey" in home.text
        out = c.post("/ui/logout", data={"csrf": _csrf(home.text)})
        assert out.status_code == 303 and out.headers["location"] == "/ui/login"
        assert c.get("/ui/").status_code == 303  # the session is gone server-side
    assert _kinds(svc, "user:audrey") == ["web.signed_in", "web.signed_out"]


def test_a_stolen_cookie_stops_working_after_sign_out(live: tuple[str, Services]) -> None:
    url, _ = live
    with _client(url) as c:
        sign_in(c, "fiona")
        token = c.cookies.get("bankml_session")
        home = c.get("/ui/")
        c.post("/ui/logout", data={"csrf": _csrf(home.text)})
    with _client(url) as thief:
        thief.cookies.set("bankml_session", str(token), path="/ui")
        assert thief.get("/ui/").status_code == 303


@pytest.mark.parametrize("path", ["/ui/audit", "/ui/models", "/ui/policy/review", "/ui/health"])
def test_a_user_without_the_role_gets_a_403_page_not_data(
    live: tuple[str, Services], path: str
) -> None:
    url, _ = live
    with _client(url) as c:
        sign_in(c, "fiona")
        r = c.get(path)
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("text/html")
        assert "Forbidden" in r.text and "fraud_analyst" in r.text
        assert "<table" not in r.text


def test_a_service_account_sees_no_pages(live: tuple[str, Services]) -> None:
    url, _ = live
    with _client(url) as c:
        sign_in(c, "switch")
        assert "has no pages in the console" in c.get("/ui/").text
        for path in ("/ui/fraud", "/ui/policy", "/ui/credit", "/ui/audit"):
            assert c.get(path).status_code == 403


def test_sign_in_never_redirects_off_site(live: tuple[str, Services]) -> None:
    url, _ = live
    with _client(url) as c:
        page = c.get("/ui/login")
        r = c.post(
            "/ui/login",
            data={
                "csrf": _csrf(page.text),
                "username": "fiona",
                "password": PASSWORD,
                "next": "//evil.example/ui",
            },
        )
        assert r.headers["location"] == "/ui/"


def test_lookups_with_nothing_to_show_give_an_empty_state(live: tuple[str, Services]) -> None:
    url, _ = live
    with _client(url) as c:
        sign_in(c, "carl")
        r = c.get("/ui/credit", params={"decision_id": "abc"})
        assert r.status_code == 200 and "No credit decision abc." in r.text
    with _client(url) as c:
        sign_in(c, "audrey")
        health = c.get("/ui/health")
        assert health.status_code == 200 and "No model is registered yet" in health.text


def test_passwords_are_stored_as_argon2id_and_short_ones_refused(
    live: tuple[str, Services],
) -> None:
    _, svc = live
    with svc.db.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.name == "fiona")).scalar()
    assert str(stored).startswith("$argon2id$") and PASSWORD not in str(stored)
    with pytest.raises(InputError, match="at least 12"):
        svc.users.set_password("fiona", "short")
    assert svc.users.check_password("fiona", PASSWORD).name == "fiona"
    with pytest.raises(PermissionDeniedError):
        svc.users.check_password("fiona", PASSWORD + "x")
    with pytest.raises(PermissionDeniedError):
        svc.users.check_password("switch-nobody", PASSWORD)


def test_lockout_ends_after_its_window(settings: Settings) -> None:
    clock = FixedClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    svc = Services(settings, clock=clock)
    svc.users.add("fiona", Role.FRAUD_ANALYST)
    svc.users.set_password("fiona", PASSWORD)
    for _ in range(5):
        with pytest.raises(PermissionDeniedError):
            svc.sessions.sign_in_password("fiona", "nope nope nope")
    clock.advance(timedelta(minutes=14))
    with pytest.raises(LockedOutError):
        svc.sessions.sign_in_password("fiona", PASSWORD)
    clock.advance(timedelta(minutes=2))
    session = svc.sessions.sign_in_password("fiona", PASSWORD)
    assert session.user.name == "fiona" and session.token
    assert svc.sessions.find(session.token) is not None
    clock.advance(timedelta(hours=8, seconds=1))
    assert svc.sessions.find(session.token) is None  # sessions expire after a working day
    svc.close()


def test_a_malformed_address_is_an_html_422_not_a_traceback(live: tuple[str, Services]) -> None:
    url, _ = live
    with _client(url) as c:
        sign_in(c, "audrey")
        r = c.get("/ui/models/fraud/not-a-number")
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
        assert "version: Input should be a valid integer" in r.text
        missing = c.get("/ui/no-such-page")
        assert missing.status_code == 404 and "Not found" in missing.text


def test_demo_passwords_are_fresh_working_and_ledgered(settings: Settings) -> None:
    from bankml.cli.demo_web import demo_passwords

    svc = Services(settings)
    try:
        svc.users.add("maria", Role.MODEL_DEVELOPER)
        svc.users.add("victor", Role.VALIDATOR)
        first = demo_passwords(svc, ["maria", "victor"])
        again = demo_passwords(svc, ["maria"])
        assert first["maria"] != first["victor"] and again["maria"] != first["maria"]
        assert min(len(p) for p in first.values()) >= 12
        assert svc.sessions.sign_in_password("maria", again["maria"]).user.name == "maria"
        with pytest.raises(PermissionDeniedError):
            svc.sessions.sign_in_password("maria", first["maria"])  # replaced
        assert _kinds(svc, "user:victor") == ["user.password_set"]
    finally:
        svc.close()
