"""Policy assistant endpoints: ask, search, feedback, findings and the review queue.

Every route needs an API key; what a caller sees is decided by their groups (the assistant
filters inside the query), and review routes also need the compliance_reviewer role. Request
and response bodies are separate models, so no stored field can leak into a response.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from bankml.api.auth import current_user, require_roles, services
from bankml.api.types import Text
from bankml.app import Services
from bankml.core.identity import Role, User

__all__ = ["router"]

router = APIRouter(prefix="/v1/policy", tags=["policy"])
_reviewer = require_roles(Role.COMPLIANCE_REVIEWER)


class AskRequest(BaseModel):
    """A question for the assistant."""

    question: Text = Field(min_length=1, max_length=2000)


class CitationOut(BaseModel):
    """Where a sentence of the answer comes from."""

    doc_id: str
    chunk_id: str
    section: str
    quote: str
    kind: str = "rule"  # rule, definition, guidance or commentary


class AskResponse(BaseModel):
    """The answer, its citations, and what happened to it."""

    answer_id: str
    answer: str
    citations: list[CitationOut]
    abstained: bool
    flags: list[str]
    review_id: int | None
    reviewed: dict[str, Any] | None


class SearchResultOut(BaseModel):
    """One permitted passage."""

    doc_id: str
    chunk_id: str
    section: str
    title: str
    score: float
    text: str
    flagged: bool


class SearchResponse(BaseModel):
    """Ranked passages."""

    results: list[SearchResultOut]


class FeedbackRequest(BaseModel):
    """ "This is wrong", about one of the caller's answers."""

    answer_id: Text = Field(min_length=1, max_length=64)
    note: Text = Field(min_length=1, max_length=2000)


class FeedbackOut(BaseModel):
    """The review item the feedback opened."""

    review_id: int


class FindingOut(BaseModel):
    """A chunk flagged as a possible prompt injection."""

    id: int
    doc_id: str
    chunk_id: str
    owner: str
    kinds: list[str]
    excerpt: str
    status: str
    created_at: str


class FindingsOut(BaseModel):
    """Findings on documents the caller may read."""

    findings: list[FindingOut]


class ReviewItemOut(BaseModel):
    """An answer waiting for (or past) human review."""

    model_config = ConfigDict(extra="allow")

    id: int
    answer_id: str
    asked_by: str
    question: str
    answer: str
    citations: list[dict[str, Any]]
    abstained: bool
    flags: list[str]
    reason: str
    note: str
    status: str
    created_at: str
    resolved_by: str | None
    resolved_at: str | None
    resolution_note: str | None


class ReviewListOut(BaseModel):
    """Review items this reviewer may see."""

    items: list[ReviewItemOut]


class ReviewAction(BaseModel):
    """A reviewer's note."""

    note: Text = Field(default="", max_length=2000)


class CorrectionRequest(ReviewAction):
    """A corrected answer, citing chunks the reviewer may read (default: the original's)."""

    answer: Text = Field(min_length=1, max_length=4000)
    cite: list[Text] | None = None


@router.post("/ask", response_model=AskResponse)
def ask(
    body: AskRequest, user: User = Depends(current_user), s: Services = Depends(services)
) -> dict[str, Any]:
    """Answer from documents the caller may read, with citations, or abstain."""
    return s.policy.ask(user, body.question).to_dict()


@router.get("/search", response_model=SearchResponse)
def search(
    q: Annotated[Text, Query(min_length=1, max_length=2000)],
    k: int = Query(10, ge=1, le=100),
    user: User = Depends(current_user),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Ranked passages the caller may read."""
    return {"results": [r.to_dict() for r in s.policy.search(user, q, k)]}


@router.post("/feedback", status_code=201, response_model=FeedbackOut)
def feedback(
    body: FeedbackRequest, user: User = Depends(current_user), s: Services = Depends(services)
) -> dict[str, int]:
    """Send one of the caller's answers to review."""
    return {"review_id": s.policy.feedback(user, body.answer_id, body.note)}


@router.get("/findings", response_model=FindingsOut)
def findings(
    owner: Text | None = None, user: User = Depends(current_user), s: Services = Depends(services)
) -> dict[str, Any]:
    """Injection findings on documents the caller may read."""
    return {"findings": [f.__dict__ for f in s.policy.findings(user, owner)]}


@router.get("/review", response_model=ReviewListOut)
def review_list(
    status: Literal["open", "approved", "corrected", "rejected", "all"] = "open",
    user: User = Depends(_reviewer),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Review items this reviewer may see (status open|approved|corrected|rejected|all)."""
    items = s.policy.review.list(user, None if status == "all" else status)
    return {"items": [i.to_dict() for i in items]}


@router.get("/review/{item_id}", response_model=ReviewItemOut)
def review_get(
    item_id: int, user: User = Depends(_reviewer), s: Services = Depends(services)
) -> dict[str, Any]:
    """One review item."""
    return s.policy.review.get(item_id, user).to_dict()


@router.post("/review/{item_id}/approve", response_model=ReviewItemOut)
def review_approve(
    item_id: int,
    body: ReviewAction,
    user: User = Depends(_reviewer),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Confirm the answer."""
    return s.policy.review.approve(item_id, user, body.note).to_dict()


@router.post("/review/{item_id}/correct", response_model=ReviewItemOut)
def review_correct(
    item_id: int,
    body: CorrectionRequest,
    user: User = Depends(_reviewer),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Replace the answer with a corrected, cited one."""
    return s.policy.review.correct(item_id, user, body.answer, body.cite, body.note).to_dict()


@router.post("/review/{item_id}/reject", response_model=ReviewItemOut)
def review_reject(
    item_id: int,
    body: ReviewAction,
    user: User = Depends(_reviewer),
    s: Services = Depends(services),
) -> dict[str, Any]:
    """Mark the answer wrong."""
    return s.policy.review.reject(item_id, user, body.note).to_dict()
