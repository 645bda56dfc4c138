"""Credit through governance and a real uvicorn server, on SQLite and PostgreSQL.

train -> submit -> validate against policies/credit.toml (fairness gates apply) -> approval by
a second user -> promote -> decide over HTTP -> adverse-action notice -> referral decided by a
credit officer (ledgered) -> replay identical; bad requests are 4xx problems.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.errors import PermissionDeniedError, UnavailableError
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from bankml.credit.config import default_config
from bankml.credit.service import applications_from_frame, train_and_register
from bankml.credit.training import GENERATED_MAPPING, read_generated
from bankml.data.generator import generate_bank
from bankml.governance.gates import evaluate_gates, load_policy
from tests.conftest import TEST_SECRET
from tests.support import LiveServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("credit-governed") / "bank"
    generate_bank(out, customers=3000, days=1, seed=3, applications=8000)
    return out


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    settings = load_settings(
        home=tmp_path / "home",
        env="test",
        secret_key=TEST_SECRET,
        database_url=url,
        policy_dir=REPO / "policies",
    )
    svc = Services(settings)
    for name, role in [
        ("maria", Role.MODEL_DEVELOPER),
        ("victor", Role.VALIDATOR),
        ("ada", Role.ADMIN),
        ("switch", Role.SERVICE),
        ("carl", Role.CREDIT_OFFICER),
        ("audrey", Role.AUDITOR),
    ]:
        svc.users.add(name, role)
    yield svc
    svc.close()


def _request(app: Any) -> dict[str, Any]:
    return {
        "application_id": app.application_id,
        "customer_id": app.customer_id,
        "applicant_age": app.applicant_age,
        "features": dict(app.values),
    }


def test_credit_governed_path_over_http(services: Services, bank: Path, tmp_path: Path) -> None:
    s = services
    user = s.users.get
    frame, paths = read_generated(bank)
    outcome = train_and_register(
        (frame, paths),
        GENERATED_MAPPING,
        default_config(),
        registry=s.registry,
        ledger=s.ledger,
        actor="maria",
        out_dir=tmp_path / "run1",
    )
    assert outcome.version is not None
    v1 = outcome.version.version
    with pytest.raises(UnavailableError, match="no credit model is champion"):
        _ = s.credit.served

    s.lifecycle.install_policy("credit", REPO / "policies" / "credit.toml", user("ada"))
    s.governance.submit("credit", v1, user("maria"))
    report, _ = s.lifecycle.validate("credit", v1, user("victor"))
    results = {r.name: r for r in report.results}
    assert report.passed, [(r.name, r.measured, r.detail) for r in report.failed]
    # Credit has protected attributes: the fairness gates are judged, never n/a.
    assert results["fairness.approval_rate_ratio"].passed is True
    assert results["fairness.equal_opportunity"].passed is True
    assert results["reproducibility"].measured == "identical"
    assert results["ceiling.monotonicity_violations"].measured == 0
    assert results["floor.reason_validation_rate"].measured >= 0.8
    with pytest.raises(PermissionDeniedError):
        s.lifecycle.approve("credit", v1, user("maria"), "mine")
    s.lifecycle.approve("credit", v1, user("victor"), "gates pass; fairness reviewed")
    s.governance.promote("credit", v1, user("ada"), "go-live")

    apps = applications_from_frame(frame.tail(300), s.credit.served.feature_names)
    keys = {n: s.users.issue_key(n) for n in ("switch", "carl", "audrey", "maria")}
    outs: list[dict[str, Any]] = []
    with LiveServer(create_app(s, poll_seconds=0)) as live:
        h = {"X-API-Key": keys["switch"]}
        with httpx.Client(base_url=live.url, timeout=30) as c:
            for app in apps:
                r = c.post("/v1/credit/decisions", json=_request(app), headers=h)
                assert r.status_code == 200, r.text
                outs.append(r.json())
                if {o["decision"] for o in outs} >= {"approve", "refer", "decline"}:
                    break
            by = {o["decision"]: o for o in outs}
            assert set(by) == {"approve", "refer", "decline"}
            declined = by["decline"]
            assert declined["model"] == {"name": "credit", "version": v1}
            assert 1 <= len(declined["reasons"]) <= 4
            assert set(declined["reasons"][0]) >= {"code", "text", "feature", "value"}
            assert by["approve"]["reasons"] == []

            # The notice of the decline reads like a letter, with the rights statement.
            text = c.get(
                f"/v1/credit/decisions/{declined['decision_id']}/notice",
                params={"format": "text"},
                headers={"X-API-Key": keys["carl"]},
            )
            assert text.status_code == 200
            assert "Dear Applicant" in text.text
            assert "Equal Credit Opportunity Act" in text.text
            assert declined["reasons"][0]["text"] in text.text
            html = c.get(
                f"/v1/credit/decisions/{declined['decision_id']}/notice",
                headers={"X-API-Key": keys["carl"]},
            )
            assert html.headers["content-type"].startswith("text/html")
            assert '<ol class="reasons">' in html.text
            # An approval has no adverse action: 409 problem.
            approved = c.get(
                f"/v1/credit/decisions/{by['approve']['decision_id']}/notice",
                headers={"X-API-Key": keys["carl"]},
            )
            assert approved.status_code == 409
            assert approved.headers["content-type"] == "application/problem+json"

            # The referral waits for a credit officer; the maker of models may not decide it.
            queue = c.get(
                "/v1/credit/referrals",
                params={"status": "open"},
                headers={"X-API-Key": keys["carl"]},
            ).json()
            ref = next(q for q in queue if q["decision_id"] == by["refer"]["decision_id"])
            path = f"/v1/credit/referrals/{ref['referral_id']}/decision"
            denied = c.post(path, json={"outcome": "decline"}, headers={"X-API-Key": keys["maria"]})
            assert denied.status_code == 403
            done = c.post(
                path,
                json={"outcome": "decline", "note": "income not verified"},
                headers={"X-API-Key": keys["carl"]},
            )
            assert done.status_code == 200 and done.json()["outcome"] == "decline"
            again = c.post(path, json={"outcome": "approve"}, headers={"X-API-Key": keys["carl"]})
            assert again.status_code == 409
            # Now the referral was declined by a person, its notice exists.
            ref_notice = c.get(
                f"/v1/credit/decisions/{by['refer']['decision_id']}/notice",
                params={"format": "json"},
                headers={"X-API-Key": keys["audrey"]},
            )
            assert ref_notice.status_code == 200

            # Bad input: one 4xx problem, never a traceback.
            bad = _request(apps[0])
            bad["features"] = {k: v for k, v in bad["features"].items() if k != "income"}
            r = c.post("/v1/credit/decisions", json=bad, headers=h)
            assert r.status_code == 422 and "income" in r.json()["detail"]
            bad = _request(apps[0])
            bad["features"]["utilisation"] = "high"
            r = c.post("/v1/credit/decisions", json=bad, headers=h)
            assert r.status_code == 422
            bad = _request(apps[0])
            bad["features"]["sex"] = "F"  # protected: accepted by name, never used
            r = c.post("/v1/credit/decisions", json=bad, headers=h)
            assert r.status_code == 200
            r = c.post(
                "/v1/credit/decisions",
                json=_request(apps[0]),
                headers={"X-API-Key": keys["audrey"]},
            )
            assert r.status_code == 403

    # The ledger holds every decision, customer tokenized, age reduced to the rule's outcome.
    entries = [e for e in s.ledger.entries(kind="credit.decided")]
    assert len(entries) == len(outs) + 1
    raw_customers = {a.customer_id for a in apps}
    for e in entries:
        p = e.payload
        assert p["customer_token"] not in raw_customers
        assert "age" not in p["features"] and "applicant_age" not in str(p)
        assert p["features"]["policy:min_age_met"] is True
    officer = s.ledger.entries(kind="credit.referral_decided")
    assert [e.actor for e in officer] == ["carl"]
    assert "income not verified" not in str(officer[0].payload)

    # An auditor replays a decision bit for bit with exactly the version that made it.
    found = s.decisions.find(decision_id=declined["decision_id"])
    assert found and found[0].model_name == "credit"
    typed = s.decisions.typed(found[0])
    assert typed.decision == "decline" and typed.reasons == declined["reasons"]
    result = s.decisions.replay(declined["decision_id"])
    assert result.identical, result.differences
    assert result.replayed["reasons"] == declined["reasons"]


def test_the_credit_policy_fails_a_model_with_violated_evidence() -> None:
    policy = load_policy(REPO / "policies" / "credit.toml")
    evidence = {
        "metrics": {
            "roc_auc": 0.9,
            "reason_validation_rate": 0.95,
            "defaults": 100,
            "ece": 0.01,
            "monotonicity_violations": 3,
            "declines_without_reason": 0,
            "reasons_naming_protected": 0,
        },
        "fairness": {
            "attributes": {
                "sex": {"approval_rate_ratio": 0.7, "equal_opportunity_difference": 0.02}
            }
        },
    }
    failed = {r.name for r in evaluate_gates(policy, evidence) if r.passed is False}
    assert {"ceiling.monotonicity_violations", "fairness.approval_rate_ratio"} <= failed
    assert "fairness.equal_opportunity" not in failed
    assert "floor.roc_auc" not in failed


def test_applications_from_a_frame_are_typed() -> None:
    frame = pd.DataFrame(
        {"application_id": [7], "customer_id": [42], "age": [30], "income": [float("nan")]}
    )
    (app,) = applications_from_frame(frame, ["income"])
    assert app.application_id == "7" and app.customer_id == "42"
    assert app.applicant_age == 30 and app.values == {"income": None}
