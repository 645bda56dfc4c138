"""Credit endpoints: decide an application, its adverse-action notice, the referral queue."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field, StrictFloat, StrictInt, StrictStr

from bankml.api.auth import require_roles, services
from bankml.app import Services
from bankml.core.identity import Role, User
from bankml.credit.decision import Application

__all__ = ["router"]

router = APIRouter(prefix="/v1/credit", tags=["credit"])

FeatureValue = StrictFloat | StrictInt | StrictStr | None


class ApplicationIn(BaseModel):
    """One application. ``features`` holds the model's fields by name (see ``GET /v1/credit/
    model``); ``applicant_age`` feeds only the minimum-age rule and is never stored."""

    application_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=64)
    applicant_age: int | None = Field(default=None, ge=0, le=130)
    features: dict[str, FeatureValue] = Field(max_length=200)
    explain_approval: bool = False


class ReasonOut(BaseModel):
    """One principal reason."""

    code: str
    text: str
    feature: str | None
    value: float | str | None
    contribution: float | None
    rule: str | None = None


class RecourseOut(BaseModel):
    """The smallest approving change, or none within bounds."""

    status: str
    changes: list[dict[str, Any]]
    pd_after: float | None
    cost: float | None
    note: str


class DecisionOut(BaseModel):
    """The decision for one application."""

    decision_id: str
    application_id: str
    decision: Literal["approve", "refer", "decline"]
    pd: float
    score: float
    reasons: list[ReasonOut]
    contributions: dict[str, float]
    recourse: RecourseOut | None
    rules_failed: list[str]
    model: dict[str, Any]
    ledger_seq: int


class ReferralOut(BaseModel):
    """One referral in the credit officers' queue (a customer token, no PII)."""

    referral_id: str
    decision_id: str
    application_id: str
    customer_token: str
    model_name: str
    model_version: int
    pd: float
    score: float
    reasons: list[ReasonOut]
    status: str
    outcome: str | None
    officer: str | None
    created_at: str
    decided_at: str | None


class ReferralDecisionIn(BaseModel):
    """A credit officer's outcome for a referral."""

    outcome: Literal["approve", "decline"]
    note: str = Field(default="", max_length=2000)


@router.get("/model")
def model(
    _: User = Depends(require_roles(Role.SERVICE, Role.CREDIT_OFFICER, Role.ADMIN, Role.AUDITOR)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """The served credit model: its features (and categories), cut-offs, scale and rules."""
    return s.credit.model_card()


@router.post("/decisions", response_model=DecisionOut)
def decide(
    body: ApplicationIn,
    user: User = Depends(require_roles(Role.SERVICE, Role.CREDIT_OFFICER, Role.ADMIN)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Decide one application with the champion; the decision is written to the ledger."""
    app = Application(
        application_id=body.application_id,
        customer_id=body.customer_id,
        values=body.features,
        applicant_age=body.applicant_age,
        explain_approval=body.explain_approval,
    )
    return s.credit.decide(app, user)


class NoticeOut(BaseModel):
    """An adverse-action notice (``format=json``)."""

    decision_id: str
    html: str
    text: str
    reasons: list[Any]


@router.get(
    "/decisions/{decision_id}/notice",
    response_model=None,
    responses={
        200: {
            "description": "The notice: HTML (default), plain text or JSON (`format`).",
            "content": {
                "application/json": {"schema": NoticeOut.model_json_schema()},
                "text/html": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
def notice(
    decision_id: str,
    format: Literal["html", "text", "json"] = "html",
    user: User = Depends(
        require_roles(Role.SERVICE, Role.CREDIT_OFFICER, Role.ADMIN, Role.AUDITOR)
    ),
    s: Services = Depends(services),
) -> Response | dict[str, Any]:
    """The adverse-action notice of a declined application (HTML, plain text or JSON)."""
    n = s.credit.notice(decision_id, user)
    if format == "text":
        return PlainTextResponse(n.text)
    if format == "json":
        return n.to_dict()
    return HTMLResponse(n.html)


@router.get("/referrals", response_model=list[ReferralOut])
def referrals(
    status: Literal["open", "decided"] | None = None,
    _: User = Depends(require_roles(Role.CREDIT_OFFICER, Role.ADMIN, Role.AUDITOR)),
    s: Services = Depends(services),
) -> list[dict[str, Any]]:
    """The credit officers' referral queue, oldest first."""
    return [r.to_dict() for r in s.credit.referrals.referrals(status)]


@router.post("/referrals/{referral_id}/decision", response_model=ReferralOut)
def decide_referral(
    referral_id: str,
    body: ReferralDecisionIn,
    user: User = Depends(require_roles(Role.CREDIT_OFFICER, Role.ADMIN)),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Record a credit officer's outcome for a referral (ledgered)."""
    return s.credit.referrals.decide(referral_id, body.outcome, user, body.note).to_dict()
