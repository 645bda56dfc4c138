"""The adverse-action notice: a letter the bank can send, in HTML and plain text.

Reg B 12 CFR 1002.9(a)(2) and (b): a statement of the action taken, the creditor's name and
address, the ECOA rights statement (1002.9(b)(1)), and the specific principal reasons
(1002.9(b)(2); at most four). Because bureau data is used, the FCRA 615(a) paragraph and the
score are included. Texts come from the reason-code catalogue stored with the model, so a
notice re-rendered later says exactly what the decision said. No PII is needed: the letter
system adds the applicant's name and address from the application reference.

Templates: ``templates/notice.html.j2`` (autoescaped) and ``templates/notice.txt.j2``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["ECOA_RIGHTS", "LENDER", "AdverseActionNotice", "build_notice", "recourse_sentence"]

# Reg B 1002.9(b)(1): the ECOA notice, with the agency of the bank's regulator.
ECOA_RIGHTS = (
    "The Federal Equal Credit Opportunity Act prohibits creditors from discriminating against "
    "credit applicants on the basis of race, color, religion, national origin, sex, marital "
    "status, age (provided the applicant has the capacity to enter into a binding contract); "
    "because all or part of the applicant's income derives from any public assistance "
    "program; or because the applicant has in good faith exercised any right under the "
    "Consumer Credit Protection Act. The Federal agency that administers compliance with this "
    "law concerning this creditor is the Consumer Financial Protection Bureau, 1700 G Street "
    "NW, Washington, DC 20552."
)
LENDER = {
    "name": "bankml Demonstration Bank, N.A.",
    "address": "1 Example Plaza, Springfield, ST 00000",
    "contact": "1-800-000-0000 or credit@bank.example",
    "bureau": "the consumer reporting agency named on your credit report",
}
_FEATURE_WORDS = {
    "requested_amount": "the amount requested",
    "debt_to_income": "your debt-to-income ratio",
    "utilisation": "the share of your revolving credit limits in use",
    "inquiries_6m": "the number of recent credit inquiries",
}


def _env() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("bankml.credit", "templates"),
        autoescape=select_autoescape(["html", "html.j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@dataclass(frozen=True)
class AdverseActionNotice:
    """One rendered notice."""

    decision_id: str
    html: str
    text: str
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "decision_id": self.decision_id,
            "html": self.html,
            "text": self.text,
            "reasons": list(self.reasons),
        }


def _amount(feature: str, value: float) -> str:
    if feature == "requested_amount":
        return f"${value:,.0f}"
    if feature in ("debt_to_income", "utilisation"):
        return f"{value:.0%}"
    return f"{value:g}"


def recourse_sentence(recourse: Mapping[str, Any] | None) -> str:
    """One sentence saying what change would most plausibly lead to approval, or ''."""
    if not recourse or recourse.get("status") != "found" or not recourse.get("changes"):
        return ""
    parts = []
    for c in recourse["changes"]:
        words = _FEATURE_WORDS.get(c["feature"], c["feature"].replace("_", " "))
        parts.append(
            f"{words} lower, at {_amount(c['feature'], float(c['to']))} instead of "
            f"{_amount(c['feature'], float(c['from']))}"
        )
    return "an application with " + " and ".join(parts) + " would likely have been approved."


def build_notice(
    *,
    decision_id: str,
    application_id: str,
    decided_at: str,
    reasons: Sequence[Mapping[str, Any]],
    score: float,
    recourse: Mapping[str, Any] | None = None,
    lender: Mapping[str, str] | str = "",
    score_range: tuple[int, int] = (300, 850),
) -> AdverseActionNotice:
    """Render the notice of one declined decision (HTML and plain text)."""
    lender_info = dict(LENDER)
    if isinstance(lender, Mapping):
        lender_info.update(lender)
    elif lender:
        lender_info["name"] = lender
    try:
        date = datetime.fromisoformat(decided_at.replace("Z", "+00:00")).strftime("%B %d, %Y")
    except ValueError:
        date = decided_at
    sentence = recourse_sentence(recourse)
    reason_list: list[dict[str, str]] = [
        {"code": str(r.get("code") or ""), "text": str(r["text"])} for r in reasons
    ][:4]
    ctx = {
        "lender": lender_info,
        "date": date,
        "application_id": application_id,
        "decision_id": decision_id,
        "reasons": reason_list,
        "recourse_text": sentence[:1].upper() + sentence[1:] if sentence else "",
        "score": f"{score:.0f}",
        "score_low": score_range[0],
        "score_high": score_range[1],
        "rights": ECOA_RIGHTS,
    }
    env = _env()
    return AdverseActionNotice(
        decision_id=decision_id,
        html=env.get_template("notice.html.j2").render(**ctx),
        text=env.get_template("notice.txt.j2").render(**ctx),
        reasons=tuple(r["text"] for r in reason_list),
    )
