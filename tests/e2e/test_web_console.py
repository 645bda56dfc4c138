"""The web console in headless Chromium against a real uvicorn server with demo-like data.

One bank, one server and one browser for the module: a governed fraud champion that triaged
a day and scored live transactions through the API, two weeks of monitored traffic in which a
drift and a broken feed raise alerts, a second fraud version waiting for approval, a governed
credit champion that decided applications through the API (a decline among them), the
generated policy corpus, and a review item citing a restricted policy. Each test signs in as
the person whose job it checks. Screenshots of every page go to tests/artifacts/screenshots/;
the README's two come from here too (``readme-*.png``, copied to docs/img/).

Chromium is the system's (/usr/bin/chromium, installed by `make test`), never a download.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pandas as pd
import pytest

from bankml.api.app import create_app
from bankml.app import Services
from bankml.cli.demo_monitoring import MonitoringDemo, run_monitoring_demo
from bankml.core.clock import FixedClock
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from bankml.credit.config import default_config
from bankml.credit.service import applications_from_frame
from bankml.credit.service import train_and_register as train_credit
from bankml.credit.training import GENERATED_MAPPING, read_generated
from bankml.data.generator import generate_bank
from bankml.fraud.training import TrainConfig
from tests.conftest import TEST_SECRET
from tests.support import LiveServer, promote_through_gates, train_fraud

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
POLICIES = Path(__file__).resolve().parents[2] / "policies"
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
    monitoring: MonitoringDemo
    credit: dict[str, dict[str, Any]]  # outcome -> the API's answer for one such decision


def _train(svc: Services, bank: Path, actor: str, seed: int, out: Path) -> int:
    return train_fraud(svc, bank, replace(CONFIG, seed=seed), out, actor)


def _lax_policy(svc: Services, root: Path, kind: str) -> None:
    # The console is under test here, not the gates (tests/integration/test_governed_path.py
    # and test_credit_governed.py judge the official policies): a lax pinned policy keeps this
    # bank small and the test fast.
    lax = root / f"lax-{kind}.toml"
    lax.write_text(f'[model]\nname = "{kind}"\n[floors]\nroc_auc = 0.5\n')
    svc.lifecycle.install_policy(kind, lax, svc.users.get("ada"))


def _credit_champion(svc: Services, bank: Path, out: Path) -> int:
    """Credit trained on the bank's applications, approved by the book and promoted."""
    outcome = train_credit(
        read_generated(bank),
        GENERATED_MAPPING,
        default_config(),
        registry=svc.registry,
        ledger=svc.ledger,
        actor="maria",
        out_dir=out,
    )
    assert outcome.version is not None
    version = outcome.version.version
    _lax_policy(svc, out, "credit")
    promote_through_gates(svc, "credit", version, "gates pass; reasons reviewed")
    return version


def _decide_credit(c: httpx.Client, svc: Services, bank: Path) -> dict[str, dict[str, Any]]:
    """Sixteen applications through the API, half from applicants who later defaulted (so a
    decline is among them); one API answer per outcome seen."""
    frame, _ = read_generated(bank)
    bad = frame[frame["defaulted_12m"]].head(8)
    good = frame[~frame["defaulted_12m"]].head(8)
    mixed = pd.concat([bad, good]).sort_index(kind="stable")
    seen: dict[str, dict[str, Any]] = {}
    for app in applications_from_frame(mixed, svc.credit.served.feature_names):
        r = c.post(
            "/v1/credit/decisions",
            json={
                "application_id": app.application_id,
                "customer_id": app.customer_id,
                "applicant_age": app.applicant_age,
                "features": dict(app.values),
            },
        )
        assert r.status_code == 200, r.text
        seen.setdefault(r.json()["decision"], r.json())
    assert {"decline", "approve"} <= set(seen), set(seen)
    return seen


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: `make test` installs it (apt-get install chromium)")
    root = tmp_path_factory.mktemp("console")
    generate_bank(root / "bank", customers=800, days=66, seed=11)
    txns = root / "bank" / "transactions.parquet"
    # The service's clock is fixed, so the auditor's minute is known: triage at 10:00, live
    # decisions at 10:30, credit at 10:45 (sessions and lockouts run on the same clock).
    clock = FixedClock(datetime(2026, 3, 8, 10, 0, tzinfo=UTC))
    svc = Services(
        load_settings(home=root / "home", env="test", secret_key=TEST_SECRET, policy_dir=POLICIES),
        clock=clock,
    )
    for name, role, groups in PEOPLE:
        svc.users.add(name, role, groups)
        if role is not Role.SERVICE:
            svc.users.set_password(name, PASSWORD)
    switch_key = svc.users.issue_key("switch")
    user = svc.users.get

    # A champion, approved by the book, that triaged its last day.
    v1 = _train(svc, txns, "maria", seed=0, out=root / "run1")
    _lax_policy(svc, root, "fraud")
    promote_through_gates(svc, "fraud", v1, "all gates pass")

    # Ten days of live traffic after its test period, monitored day by day (as `bankml demo`
    # does, on its own simulated clock): an amount feature drifts from day 4, a feed breaks
    # from day 7; chargebacks arrive a week late, so estimated and realised performance meet.
    monitoring = run_monitoring_demo(
        svc, root / "monitoring.html", days=10, drift_after=3, broken_after=6
    )
    assert monitoring.alerts()
    # The service's day starts after the simulated ones (so its decisions stay out of them):
    # triage of the bank's last day at 10:00.
    last_day = monitoring.first_day + timedelta(days=monitoring.days - 1)
    clock.advance(datetime.combine(last_day, time(10), UTC) + timedelta(days=1) - clock.now())
    alerts = svc.fraud.triage(user("fiona"), date(2026, 3, 7), capacity=12).added

    # A second version trained by a validator and submitted by a developer, validated by
    # another validator: waiting for approval.
    v2 = _train(svc, txns, "victor", seed=1, out=root / "run2")
    svc.governance.submit("fraud", v2, user("maria"))
    assert svc.lifecycle.validate("fraud", v2, user("vera"))[0].passed

    # A credit champion on the same bank's applications.
    _credit_champion(svc, root / "bank", root / "credit")

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
        # Live transactions and credit applications through the API, as a payment switch
        # sends them (their latency is what the health page charts).
        last = pd.read_parquet(txns).iloc[-1]
        clock.advance(timedelta(minutes=30))
        with httpx.Client(base_url=live.url, headers={"X-API-Key": switch_key}, timeout=60) as c:
            decision: dict[str, Any] = {}
            for i, amount in enumerate([35.0, 1.0, 2.49, 0.99, 1890.0]):
                r = c.post(
                    "/v1/fraud/score",
                    json={
                        "transaction_id": 900_000_000 + i,
                        "timestamp": (clock.now() - timedelta(hours=1, minutes=i)).isoformat(),
                        "customer_id": int(last["customer_id"]),
                        "terminal_id": int(last["terminal_id"]),
                        "card_id": int(last["card_id"]),
                        "amount": amount,
                        "country": str(last["country"]),
                    },
                )
                assert r.status_code == 200, r.text
                decision = r.json()
            (entry,) = svc.ledger.entries(subject=f"decision:{decision['decision_id']}")
            clock.advance(timedelta(minutes=15))  # credit decisions at 10:45
            credit = _decide_credit(c, svc, root / "bank")
        yield Console(
            live.url,
            svc,
            v2,
            str(decision["decision_id"]),
            entry.ts,
            restricted,
            review_id,
            len(alerts),
            monitoring,
            credit,
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


@pytest.fixture(scope="module")
def requested() -> list[str]:
    """Every URL the signed-in pages asked for (the console must work offline)."""
    return []


@pytest.fixture
def as_user(console: Console, browser: Any, requested: list[str]) -> Iterator[Any]:
    """``as_user(name)`` -> a page signed in as that person (a fresh browser context)."""
    contexts = []

    def open_as(name: str) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(30_000)
        context.on("request", lambda r: requested.append(r.url))
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


# Marks Plotly draws inside a chart's SVG: bars, points, line paths, heatmap images.
MARKS = ".main-svg .point, .main-svg .bars path, .main-svg path.js-line, .main-svg .hm image"


def _marks_per_chart(page: Any, selector: str) -> list[int]:
    """Wait until Plotly drew every chart under ``selector``; the marks in each."""
    page.wait_for_function(
        "s => { const c = document.querySelectorAll(s + ' .chart');"
        " return c.length > 0 && [...c].every(e => e.querySelector('.main-svg')); }",
        arg=selector,
    )
    counts: list[int] = page.evaluate(
        "([s, m]) => [...document.querySelectorAll(s + ' .chart')]"
        ".map(e => e.querySelectorAll(m).length)",
        [selector, MARKS],
    )
    return counts


def _check_health(page: Any, console: Console) -> None:
    # The serving figures from the ledger, per model (fraud and credit both decided).
    for name in ("fraud", "credit"):
        counts = _marks_per_chart(page, f"#charts-{name}")
        assert len(counts) == 3 and all(counts), (name, counts)
    # The monitoring figures, as `bankml monitor report` draws them: every one has marks.
    counts = _marks_per_chart(page, "#monitoring-charts-fraud")
    keys = page.eval_on_selector_all("#monitoring-charts-fraud .chart", "c => c.map(e => e.id)")
    assert len(counts) == 7 and all(counts), dict(zip(keys, counts, strict=True))
    for key in (
        "drift-heatmap",  # feature x day, PSI
        "score-distributions",  # against the reference
        "estimated-vs-realised-performance",
        "traffic-volume",
    ):
        assert f"chart-fraud-{key}" in keys
    heat = page.locator("#chart-fraud-drift-heatmap")
    assert console.monitoring.drift_feature in heat.get_attribute("data-figure")
    assert heat.locator(".hm image").count() == 1
    # Alerts monitoring raised are listed, newest first: the broken feed among them.
    rules = page.locator("#monitoring-alerts-fraud tbody tr td:nth-child(4)").all_inner_texts()
    assert "broken feed (a feature goes missing)" in rules
    newest = max(console.svc.monitoring.alerts("fraud"), key=lambda a: (a["day"], a["id"]))
    first = page.locator("#monitoring-alerts-fraud tbody tr").first.inner_text()
    assert newest["day"] in first and newest["rule"] in first
    # Credit has no monitoring spec: said so, not shown as missing results.
    assert page.locator("#not-monitored-credit").is_visible()
    # The service's own latency, per endpoint, including the scoring route the switch called.
    assert all(_marks_per_chart(page, "#service-latency"))
    latency = json.loads(page.locator("#chart-latency").get_attribute("data-figure"))
    assert {"POST /v1/fraud/score", "POST /v1/credit/decisions"} <= set(latency["data"][0]["x"])


def _ask(page: Any) -> None:
    page.get_by_label("Your question").fill(QUESTION)
    page.get_by_role("button", name="Ask").click()
    assert page.locator("#citations a.citation").count() >= 1


def test_every_page_renders_with_real_data_and_charts_draw(
    console: Console, as_user: Any, requested: list[str]
) -> None:
    decline = console.credit["decline"]["decision_id"]
    at = quote(console.decision_ts[:16])
    pages = {
        "fiona": [("overview-analyst", "/ui/", "open alert"), ("fraud-queue", "/ui/fraud", "")],
        "victor": [
            ("models", "/ui/models", "champion"),
            ("model-version", f"/ui/models/fraud/{console.v2}", "Validation evidence"),
            ("model-health", "/ui/health", "champion v1"),
            ("model-docs", "/ui/models/fraud/1/docs", "Validation"),
        ],
        "carl": [("credit", f"/ui/credit?decision_id={decline}", "Adverse-action notice")],
        "cora": [
            ("policy", "/ui/policy", "Your question"),
            ("review-queue", "/ui/policy/review", "check the deadline"),
            ("review-item", f"/ui/policy/review/{console.review_id}", "Approve the answer"),
        ],
        "audrey": [
            ("audit", f"/ui/audit?at={at}&window=5m", console.decision_id),
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
            # Real rows on every page: no empty state (those are checked on their own).
            if label == "fraud-queue":
                assert 0 < console.alerts <= 12
                assert page.locator("#alerts tbody tr").count() == console.alerts
                page.screenshot(path=str(SHOTS / "readme-fraud-queue.png"))  # docs/img/
            if label == "models":
                assert page.locator("tbody tr").count() >= 3  # fraud v1, v2 and credit v1
            if label == "model-health":
                _check_health(page, console)
                _readme_health_shot(page)
            if label == "model-docs":  # the documentation pack's own (inlined) Plotly charts
                page.wait_for_selector(".js-plotly-plot .main-svg")
            if label == "policy":
                _ask(page)
            if label == "audit":
                assert page.locator("#decisions tbody tr").count() >= 5
            if label == "credit":
                assert page.locator("#credit-recent tbody tr").count() >= 2
            assert page.locator(".empty").count() == 0, (name, path)
            shot(page, label)
    assert len(list(SHOTS.glob("*.png"))) >= 12
    # Offline: every script, style, font and chart asset came from the service itself.
    assert requested and not [u for u in requested if not u.startswith((console.url, "data:"))]


def _readme_health_shot(page: Any) -> None:
    """The README's model-health picture: the fraud section's monitoring charts, 1280 px."""
    top = page.locator("#health-fraud h3", has_text="Monitoring").bounding_box()
    page.screenshot(
        path=str(SHOTS / "readme-model-health.png"),
        full_page=True,
        clip={"x": 0, "y": top["y"] - 8, "width": 1280, "height": 1450},
    )


def test_a_credit_officer_looks_up_a_decline_with_reasons_recourse_and_notice(
    console: Console, as_user: Any
) -> None:
    declined = console.credit["decline"]
    page = as_user("carl")
    page.goto(f"{console.url}/ui/credit")
    page.get_by_label("Decision id").fill(declined["decision_id"])
    page.get_by_role("button", name="Look up").click()
    assert page.locator("#credit-outcome").inner_text() == "decline"
    assert page.locator("#credit-pd").inner_text() == f"{100 * declined['pd']:.2f}%"
    reasons = page.locator("#credit-reasons li").all_inner_texts()
    assert 1 <= len(reasons) <= 4  # Reg B 1002.9(b)(2): the principal reasons, at most four
    for shown, given in zip(reasons, declined["reasons"], strict=True):
        assert shown.startswith(f"{given['code']}: {given['text']}")
    # Every feature's contribution, largest first, as the API answered it.
    rows = page.locator("#credit-contributions tbody tr")
    assert rows.count() == len(declined["contributions"])
    top = max(declined["contributions"].items(), key=lambda fc: abs(fc[1]))
    assert rows.first.locator("td").first.inner_text() == top[0]
    assert rows.first.locator("td").last.inner_text() == f"{top[1]:+.4f}"
    recourse = declined["recourse"]
    if recourse["status"] == "found":
        lines = page.locator("#credit-recourse li").all_inner_texts()
        assert [line.split(":")[0] for line in lines] == [c["feature"] for c in recourse["changes"]]
    else:
        assert page.locator("#credit-recourse").inner_text().strip()
    notice = page.locator("#credit-notice").inner_text()
    assert "Equal Credit Opportunity Act" in notice
    assert declined["reasons"][0]["text"] in notice
    shot(page, "credit-decline")

    # An approval: no reasons, no notice.
    page.goto(f"{console.url}/ui/credit?decision_id={console.credit['approve']['decision_id']}")
    assert page.locator("#credit-outcome").inner_text() == "approve"
    assert page.locator("#credit-reasons-none").is_visible()
    assert page.locator("#credit-notice").count() == 0
    # An unknown id says so (the page's own empty state).
    page.goto(f"{console.url}/ui/credit?decision_id=no-such-decision")
    assert page.locator("#credit-not-found").inner_text() == "No credit decision no-such-decision."


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


def test_an_auditor_pages_through_a_busy_minute(console: Console, as_user: Any) -> None:
    # The simulated traffic of a monitored day was decided at noon: hundreds in one minute.
    day = console.monitoring.first_day + timedelta(days=1)
    noon = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
    decided = console.svc.ledger.entries(
        kind="fraud.scored", since=noon - timedelta(minutes=1), until=noon + timedelta(minutes=1)
    )
    assert len(decided) > 60  # more than two pages of 25 (and more than the index's default 50)
    page = as_user("audrey")
    page.goto(f"{console.url}/ui/audit?at={day.isoformat()}%2012:00&window=1m&model=fraud")
    ids = page.locator("#decisions tbody tr td:nth-child(2)")
    first = ids.all_inner_texts()
    assert len(first) == 25 and page.locator("#pager-position").inner_text() == "page 1"
    page.get_by_role("link", name="Next ›").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    second = ids.all_inner_texts()
    assert page.locator("#pager-position").inner_text() == "page 2"
    page.goto(f"{console.url}/ui/audit?at={day.isoformat()}%2012:00&window=1m&model=fraud&page=3")
    third = ids.all_inner_texts()
    assert len(second) == 25 and third  # rows past the first 50 are reachable
    assert not set(first) & set(second) and not set(second) & set(third)
    assert page.get_by_role("link", name="‹ Previous").is_visible()
    shot(page, "audit-paging")


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
        ("fiona", "/ui/credit"),
        ("fiona", "/ui/health"),
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
    if path == "/ui/credit":
        assert page.locator("#credit-decision, #credit-recent").count() == 0
