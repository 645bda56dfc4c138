"""The web console in headless Chromium against a real uvicorn server with demo-like data.

One bank, one server and one browser for the module: a governed fraud champion that triaged
a day and scored live transactions, a second version waiting for approval, the generated
policy corpus, and a review item citing a restricted policy. Each test signs in as the person
whose job it checks. Screenshots of every page go to tests/artifacts/screenshots/.

Chromium is the system's (/usr/bin/chromium, installed by `make test`), never a download.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import pytest

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.clock import FixedClock
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from bankml.data.generator import generate_bank
from bankml.fraud.mapping import DEFAULT_MAPPING
from bankml.fraud.service import train_and_register
from bankml.fraud.training import TrainConfig
from bankml.fraud.transaction import Transaction
from tests.conftest import TEST_SECRET
from tests.support import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PASSWORD = "console-test-password"
QUESTION = "How quickly must staff report a suspicion to the MLRO?"
RESTRICTED_DOC = "POL-AML-004"  # readable by aml-investigations only
CONFIG = TrainConfig(
    train_start=date(2026, 1, 31), train_days=21, delay_days=4, test_days=10, capacity=15
)
PEOPLE = [
    ("maria", Role.MODEL_DEVELOPER, frozenset({"model-risk"})),
    ("victor", Role.VALIDATOR, frozenset({"model-risk"})),
    ("vera", Role.VALIDATOR, frozenset({"model-risk"})),
    ("fiona", Role.FRAUD_ANALYST, frozenset({"fraud-ops"})),
    ("cora", Role.COMPLIANCE_REVIEWER, frozenset({"compliance", "aml-investigations"})),
    ("rex", Role.COMPLIANCE_REVIEWER, frozenset({"compliance"})),
    ("audrey", Role.AUDITOR, frozenset({"audit"})),
    ("ada", Role.ADMIN, frozenset()),
    ("carl", Role.CREDIT_OFFICER, frozenset({"credit-risk"})),
    ("switch", Role.SERVICE, frozenset()),
]


@dataclass
class Console:
    """The running console and what the fixture put into it."""

    url: str
    svc: Services
    v2: int
    decision_id: str
    decision_ts: str
    restricted_chunk: str
    review_id: int
    alerts: int


def _train(svc: Services, bank: Path, actor: str, seed: int, out: Path) -> int:
    outcome = train_and_register(
        bank,
        DEFAULT_MAPPING,
        TrainConfig(**{**CONFIG.__dict__, "seed": seed}),
        registry=svc.registry,
        ledger=svc.ledger,
        actor=actor,
        out_dir=out,
    )
    assert outcome.version is not None
    return outcome.version.version


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: `make test` installs it (apt-get install chromium)")
    root = tmp_path_factory.mktemp("console")
    generate_bank(root / "bank", customers=800, days=66, seed=11)
    txns = root / "bank" / "transactions.parquet"
    # The service's clock is fixed, so the auditor's minute is known: triage at 10:00, live
    # decisions at 10:30 (sessions and lockouts run on the same clock).
    clock = FixedClock(datetime(2026, 3, 8, 10, 0, tzinfo=UTC))
    svc = Services(
        load_settings(home=root / "home", env="test", secret_key=TEST_SECRET), clock=clock
    )
    for name, role, groups in PEOPLE:
        svc.users.add(name, role, groups)
        if role is not Role.SERVICE:
            svc.users.set_password(name, PASSWORD)
    user = svc.users.get

    # A champion, approved by the book, that triaged its last day and scored live traffic.
    v1 = _train(svc, txns, "maria", seed=0, out=root / "run1")
    # The console is under test here, not the gates (tests/integration/test_governed_path.py
    # judges the official policy): a lax pinned policy keeps this bank small and the test fast.
    lax = root / "lax-fraud.toml"
    lax.write_text('[model]\nname = "fraud"\n[floors]\nroc_auc = 0.5\n')
    svc.lifecycle.install_policy("fraud", lax, user("ada"))
    svc.governance.submit("fraud", v1, user("maria"))
    assert svc.lifecycle.validate("fraud", v1, user("victor"))[0].passed
    svc.lifecycle.approve("fraud", v1, user("victor"), "all gates pass")
    svc.governance.promote("fraud", v1, user("ada"), "go-live")
    alerts = svc.fraud.triage(user("fiona"), date(2026, 3, 7), capacity=12).added
    last = pd.read_parquet(txns).iloc[-1]
    clock.advance(timedelta(minutes=30))
    decision: dict[str, Any] = {}
    for i, amount in enumerate([35.0, 1.0, 2.49, 0.99, 1890.0]):
        decision = svc.fraud.score(
            Transaction.create(
                transaction_id=900_000_000 + i,
                timestamp=datetime(2026, 3, 8, 9, tzinfo=UTC) + timedelta(minutes=i),
                customer=int(last["customer_id"]),
                terminal=int(last["terminal_id"]),
                amount=amount,
                card=int(last["card_id"]),
                country=str(last["country"]),
            ),
            user("switch"),
        )
    (entry,) = svc.ledger.entries(subject=f"decision:{decision['decision_id']}")

    # A second version trained by a validator and submitted by a developer, validated by
    # another validator: waiting for approval.
    v2 = _train(svc, txns, "victor", seed=1, out=root / "run2")
    svc.governance.submit("fraud", v2, user("maria"))
    assert svc.lifecycle.validate("fraud", v2, user("vera"))[0].passed

    # Policies, and a review item that cites a document only aml-investigations may read.
    svc.policy.ingest([root / "bank" / "policies"], actor="test")
    restricted = next(
        c.chunk_id
        for c in svc.policy.store.indexed_chunks([RESTRICTED_DOC])[RESTRICTED_DOC]
        if "aml-investigations" in c.groups
    )
    answer = svc.policy.ask(user("cora"), QUESTION)
    assert RESTRICTED_DOC in {c["doc_id"] for c in answer.citations}
    review_id = svc.policy.feedback(user("cora"), answer.answer_id, "check the deadline")

    SHOTS.mkdir(parents=True, exist_ok=True)
    with LiveServer(create_app(svc, poll_seconds=0)) as live:
        yield Console(
            live.url,
            svc,
            v2,
            str(decision["decision_id"]),
            entry.ts,
            restricted,
            review_id,
            len(alerts),
        )
    svc.close()


@pytest.fixture(scope="module")
def browser(console: Console) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def as_user(console: Console, browser: Any) -> Iterator[Any]:
    """``as_user(name)`` -> a page signed in as that person (a fresh browser context)."""
    contexts = []

    def open_as(name: str) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(30_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{console.url}/ui/login")
        page.fill("#username", name)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(f"{console.url}/ui/")
        return page

    yield open_as
    for context in contexts:
        context.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_every_page_renders_with_real_data_and_charts_draw(console: Console, as_user: Any) -> None:
    pages = {
        "fiona": [("overview-analyst", "/ui/", "open alert"), ("fraud-queue", "/ui/fraud", "")],
        "victor": [
            ("models", "/ui/models", "champion"),
            ("model-version", f"/ui/models/fraud/{console.v2}", "Validation evidence"),
            ("model-health", "/ui/health", "champion v1"),
            ("model-docs", "/ui/models/fraud/1/docs", "Validation"),
        ],
        "carl": [("credit", "/ui/credit", "Credit decision lookup")],
        "cora": [
            ("policy", "/ui/policy", "Your question"),
            ("review-queue", "/ui/policy/review", "check the deadline"),
            ("review-item", f"/ui/policy/review/{console.review_id}", "Approve the answer"),
        ],
        "audrey": [
            ("audit", "/ui/audit", "Search"),
            ("ledger-verify", "/ui/audit/verify", "chain correctly"),
            ("overview-auditor", "/ui/", "Decision ledger"),
        ],
    }
    for name, visits in pages.items():
        page = as_user(name)
        for label, path, expected in visits:
            response = page.goto(console.url + path)
            assert response.status == 200, (name, path)
            if expected:
                assert expected in page.content(), (name, path, expected)
            if label == "fraud-queue":
                assert 0 < console.alerts <= 12
                assert page.locator("#alerts tbody tr").count() == console.alerts
            if label == "model-health":
                # Plotly drew every chart: each container holds a rendered SVG with bars.
                page.wait_for_selector("#charts-fraud .js-plotly-plot .main-svg")
                assert page.locator("#charts-fraud .js-plotly-plot").count() == 3
                assert page.locator("#charts-fraud .point, #charts-fraud .bars path").count() > 0
                assert page.locator("#no-monitoring").is_visible()
            if label == "model-docs":  # the documentation pack's own (inlined) Plotly charts
                page.wait_for_selector(".js-plotly-plot .main-svg")
            shot(page, label)
    assert len(list(SHOTS.glob("*.png"))) >= 12


def test_an_analyst_dispositions_an_alert_and_the_label_appears(
    console: Console, as_user: Any
) -> None:
    page = as_user("fiona")
    page.goto(f"{console.url}/ui/fraud")
    first = page.locator("#alerts tbody tr").first
    txn = first.locator("td").nth(2).inner_text()
    first.get_by_role("link").click()
    assert page.locator("#label").inner_text() == "none yet"
    page.get_by_label("Fraud (confirmed)").check()  # keyboard-reachable labelled radio
    page.get_by_label("Note").fill("customer confirmed card not present; card 4111 1111 1111 1111")
    page.get_by_role("button", name="Record disposition").click()
    assert page.locator(".notice").inner_text() == "Disposition recorded."
    assert page.locator("#alert-status").inner_text() == "closed"
    assert page.locator("#label").inner_text().startswith("fraud, known")
    shot(page, "fraud-alert-dispositioned")
    (entry,) = console.svc.ledger.entries(kind="fraud.disposition", newest_first=True, limit=1)
    assert entry.actor == "fiona" and entry.payload["transaction_id"] == int(txn)
    assert "4111 1111 1111 1111" not in entry.payload["note"]  # redacted before it is stored
    labels = {int(r["transaction_id"]): r for r in console.svc.fraud_queue.labels()}
    assert labels[int(txn)]["is_fraud"] is True


def test_a_validator_approves_a_developers_submission_but_not_their_own(
    console: Console, as_user: Any
) -> None:
    victor = as_user("victor")  # he trained v2
    victor.goto(f"{console.url}/ui/models/fraud/{console.v2}")
    victor.get_by_label("Rationale for approval").fill("I trained it and it is fine")
    victor.get_by_role("button", name="Approve").click()
    assert victor.locator("h1").inner_text() == "Forbidden"
    assert "victor trained fraud v" in victor.locator("#error-message").inner_text()
    shot(victor, "model-approve-own-refused")
    assert console.svc.governance.state("fraud", console.v2).value == "validated"

    vera = as_user("vera")
    vera.goto(f"{console.url}/ui/models/fraud/{console.v2}")
    vera.get_by_label("Rationale for approval").fill("gates pass; read the documentation pack")
    vera.get_by_role("button", name="Approve").click()
    assert vera.locator(".notice").inner_text() == "Version approved."
    assert vera.locator("#state").inner_text() == "approved"
    assert "gates pass; read the documentation pack" in vera.locator("#transitions").inner_text()
    shot(vera, "model-approved")
    (t,) = [
        t
        for t in console.svc.governance.transitions("fraud", console.v2)
        if t.to_state.value == "approved"
    ]
    assert t.actor == "vera" and console.svc.ledger.get(t.ledger_seq).kind == "model.approved"


def test_a_reader_sees_citations_but_nothing_restricted(console: Console, as_user: Any) -> None:
    page = as_user("fiona")  # fraud-ops: may not read POL-AML-004
    page.goto(f"{console.url}/ui/policy")
    page.get_by_label("Your question").fill(QUESTION)
    page.get_by_role("button", name="Ask").click()
    citations = page.locator("#citations a.citation")
    assert citations.count() >= 1
    cited = [citations.nth(i).get_attribute("href") or "" for i in range(citations.count())]
    assert not [href for href in cited if RESTRICTED_DOC in href]
    assert console.restricted_chunk not in page.content()
    citations.first.click()  # htmx loads the cited passage into the page
    page.wait_for_selector("#passage .passage-text")
    assert page.locator("#passage .passage-text").inner_text().strip()
    shot(page, "policy-answer-with-passage")

    # The restricted passage itself, by URL: reads like a missing one.
    response = page.goto(
        f"{console.url}/ui/policy/passages/{quote(console.restricted_chunk, safe='')}"
    )
    assert response.status == 404 and RESTRICTED_DOC not in page.locator("main").inner_text()
    assert page.locator(".passage-text").count() == 0
    # Review pages: a reviewer outside the group neither lists nor opens the item.
    rex = as_user("rex")
    rex.goto(f"{console.url}/ui/policy/review?status=all")
    assert "check the deadline" not in rex.content()
    response = rex.goto(f"{console.url}/ui/policy/review/{console.review_id}")
    assert response.status == 404 and RESTRICTED_DOC not in rex.content()
    # And an analyst cannot open the review pages at all.
    response = page.goto(f"{console.url}/ui/policy/review/{console.review_id}")
    assert response.status == 403


def test_an_auditor_finds_a_decision_at_its_minute_and_replays_it(
    console: Console, as_user: Any
) -> None:
    page = as_user("audrey")
    page.goto(f"{console.url}/ui/audit")
    page.get_by_label("At (UTC)").fill(console.decision_ts[:16])
    page.get_by_label("± window").select_option("1m")
    page.get_by_label("Model").select_option("fraud")
    page.get_by_role("button", name="Search").click()
    row = page.locator("#decisions tbody tr", has_text=console.decision_id)
    assert row.count() == 1
    shot(page, "audit-search")
    row.get_by_role("button", name=re.compile("Replay")).click()
    assert page.locator("#replay-verdict").inner_text().startswith("Identical")
    assert "fraud v1" in page.locator("#replay-verdict").inner_text()
    shot(page, "audit-replay")
    page.goto(f"{console.url}/ui/audit/verify")
    assert page.locator("#verify-status").inner_text().startswith("OK")


def test_sign_in_and_a_disposition_work_from_the_keyboard_alone(
    console: Console, browser: Any
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(f"{console.url}/ui/login")
        # The user name field has the focus on arrival (autofocus); wait until the browser has
        # applied it, or keys typed on a slow machine land nowhere.
        page.wait_for_function("document.activeElement && document.activeElement.id === 'username'")
        page.keyboard.type("fiona")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{console.url}/ui/")
        page.goto(f"{console.url}/ui/fraud")
        link = page.locator("#alerts tbody a").last
        link.focus()
        page.wait_for_function("document.activeElement && document.activeElement.tagName === 'A'")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        page.wait_for_selector("#alert-status")
        page.get_by_label("Legitimate").focus()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")  # the note
        page.keyboard.type("spoke to the customer")
        page.keyboard.press("Tab")
        with page.expect_navigation():
            page.keyboard.press("Enter")  # the submit button
        assert page.locator(".notice").inner_text() == "Disposition recorded."
        assert page.locator("#label").inner_text().startswith("legitimate, known")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("fiona", "/ui/audit"),
        ("fiona", "/ui/models"),
        ("carl", "/ui/fraud"),
        ("maria", "/ui/audit/verify"),
        ("audrey", "/ui/policy/review"),
    ],
)
def test_a_user_without_the_role_gets_a_403_page(
    console: Console, as_user: Any, name: str, path: str
) -> None:
    page = as_user(name)
    response = page.goto(console.url + path)
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Forbidden"
    assert page.locator("table").count() == 0
    if (name, path) == ("fiona", "/ui/audit"):
        shot(page, "forbidden")
