"""Credit as a model kind: what governance, serving, the docs pack and audit need to know.

``bankml.app`` registers :func:`credit_kind` in the ``KindRegistry``; nothing in ``core/`` or
``governance/`` names credit. Heavy modules (pandas, LightGBM, fairlearn) are imported inside
the hooks, so building the kind costs nothing until a hook runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bankml.governance.kinds import DocSection, EvidenceContext, ModelKind, Replayable

if TYPE_CHECKING:
    from bankml.credit.decision import CreditModelVersion
    from bankml.governance.serving import ServingContext

MODEL_NAME = "credit"
DECISION_EVENT = "credit.decided"
PURPOSE = (
    "Decide personal-loan applications (approve / refer / decline) from a calibrated PD, "
    "with Reg B principal reasons, recourse and an adverse-action notice; referrals go to a "
    "credit officer."
)
# Keys of the logged ``features`` that are policy facts, not model inputs.
POLICY_FACTS = ("policy:min_age_met", "policy:explain_approval")

__all__ = [
    "DECISION_EVENT",
    "MODEL_NAME",
    "CreditDecisionRecord",
    "credit_kind",
    "decision_record",
    "doc_sections",
]


@dataclass(frozen=True)
class CreditDecisionRecord:
    """One logged credit decision as an officer or auditor reads it (no PII)."""

    decision_id: str
    ts: str
    model_name: str
    model_version: int
    application_id: str
    customer_token: str
    decision: str
    pd: float | None
    score: float | None
    reasons: list[dict[str, Any]]
    rules_failed: list[str]
    recourse: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return dict(self.__dict__)


def decision_record(rec: Any) -> CreditDecisionRecord:
    """The typed view of a ``governance.decisions.DecisionRecord`` of kind ``credit.decided``.

    Governance's record keeps the generic fields; the credit-specific ones are read from the
    explanation and the inputs the payload carried.
    """
    explanation = dict(getattr(rec, "explanation", {}) or {})
    inputs = dict(getattr(rec, "inputs", {}) or {})
    output = dict(getattr(rec, "output", {}) or {})
    extra = dict(getattr(rec, "extra", {}) or {})
    return CreditDecisionRecord(
        decision_id=str(rec.decision_id),
        ts=str(rec.ts),
        model_name=str(rec.model_name),
        model_version=int(rec.model_version),
        application_id=str(inputs.get("application_id", extra.get("application_id", ""))),
        customer_token=str(inputs.get("customer_token", "")),
        decision=str(output.get("decision", "")),
        pd=output.get("pd", extra.get("pd")),
        score=output.get("score"),
        reasons=list(explanation.get("reasons", [])),
        rules_failed=list(extra.get("rules_failed", [])),
        recourse=extra.get("recourse"),
    )


def _collect_evidence(ctx: EvidenceContext) -> dict[str, Any]:
    from bankml.credit.validation import collect_evidence

    return collect_evidence(ctx)


def _load_replayer(model_dir: Path) -> Replayable:
    from bankml.credit.decision import load_version

    return load_version(model_dir)


def _build_server(
    ctx: ServingContext, version: int, previous: CreditModelVersion | None
) -> CreditModelVersion:
    """The champion credit model (governance checked state, ledger path and file hash)."""
    from bankml.credit.decision import load_version

    return load_version(ctx.model_dir(MODEL_NAME, version), MODEL_NAME, version)


def _pct(v: Any) -> str:
    return "—" if v is None else f"{float(v):.1%}"


def doc_sections(evidence: Mapping[str, Any]) -> list[DocSection]:
    """Credit's sections of the documentation pack, from stored evidence only."""
    from bankml.credit.fairness import summary_rows

    out: list[DocSection] = []
    serving = evidence.get("serving", {})
    policy = DocSection("Decision policy and score scale")
    cut = serving.get("cutoffs", {})
    scale = serving.get("score_scale", {})
    rules = serving.get("rules", {})
    policy.bullets(
        [
            f"Approve at PD <= {cut.get('approve_max_pd')}, decline above "
            f"{cut.get('decline_min_pd')}, refer to a credit officer in between.",
            f"Score = {scale.get('base_score')} at good:bad odds {scale.get('base_odds')}:1; "
            f"+{scale.get('points_to_double_odds')} points double the odds.",
            f"Hard rules (declined with their own reason): minimum age {rules.get('min_age')}; "
            f"debt-to-income after the loan <= {rules.get('max_debt_to_income_after_loan')}; "
            f"at most {rules.get('max_delinquencies_2y')} delinquencies in two years.",
            "Monotone constraints: "
            + ", ".join(
                f"{k} {'+' if v > 0 else '-'}"
                for k, v in sorted(serving.get("monotone", {}).items())
            ),
        ]
    )
    out.append(policy)

    reasons = DocSection("Reason codes (Reg B 1002.9(b)(2)) and their validation")
    exp = evidence.get("explanations", {})
    reasons.p(
        "Exact TreeSHAP contributions (LightGBM pred_contrib) against a baseline of applicants "
        "approved at or just above the approve cut-off; excesses over the baseline are summed "
        "per catalogue code, ranked, and at most four become the principal reasons. Only "
        "features that pushed toward decline are named; protected attributes and flagged "
        f"proxies never are. Baseline: {exp.get('baseline', 'n/a')}."
    )
    val = exp.get("reason_validation", {})
    if val:
        reasons.p(
            f"Explanation validation (CFPB Circular 2022-03): on {val.get('moved')} declined "
            "test applicants, moving the top reason's feature to the baseline's typical value "
            f"lowered the PD for {val.get('approval_probability_raised')} "
            f"({_pct(val.get('rate'))}). Declines without a reason: "
            f"{val.get('declines_without_reason')}; reasons naming a protected attribute or "
            f"proxy: {val.get('reasons_naming_protected_or_proxy')}; unstable reasons on "
            f"identical input: {val.get('unstable_reasons')}."
        )
    codes = evidence.get("catalogue", {}).get("codes", [])
    reasons.table(
        ["code", "customer text", "covers"],
        [[c["code"], c["text"], ", ".join(c["features"]) or c.get("rule") or ""] for c in codes],
    )
    if exp.get("uncovered_features"):
        reasons.p("Model features no code covers: " + ", ".join(exp["uncovered_features"]))
    out.append(reasons)

    fair = evidence.get("fairness", {})
    fs = DocSection("Fairness by protected group")
    if fair.get("error"):
        fs.p(f"Not measured: {fair['error']}")
    else:
        fs.p(
            "Favourable outcome: approval. TPR = approval rate among applicants who repaid; "
            "FPR = approval rate among those who defaulted. Gated comparisons: "
            + "; ".join(
                f"{a}: approval-rate ratio {m.get('approval_rate_ratio', 0):.3f}, "
                f"equal-opportunity difference {m.get('equal_opportunity_difference', 0):.3f}"
                for a, m in fair.get("attributes", {}).items()
            )
            + "."
        )
        for a, m in fair.get("reported", {}).items():
            fs.p(f"{a}, all groups: approval-rate ratio {m.get('approval_rate_ratio', 0):.3f}.")
        fs.table(
            ["attribute", "group", "n", "approval", "TPR", "FPR", "mean PD", "default rate"],
            [[r[0], r[1], r[2], *(_pct(v) for v in r[3:])] for r in summary_rows(fair)],
        )
    out.append(fs)

    proxy = evidence.get("proxy_scan", {})
    if proxy:
        ps = DocSection("Proxy scan")
        ps.p(
            f"Single-feature ROC-AUC for predicting each protected attribute; above "
            f"{proxy.get('auc_threshold')} a feature is a candidate proxy for review. Flagged "
            "by the bank (never named as a reason): "
            + (", ".join(proxy.get("flagged", [])) or "none")
            + "."
        )
        ps.table(
            ["feature", "attribute", "AUC", "flagged"],
            [
                [c["feature"], c["attribute"], f"{c['auc']:.3f}", "yes" if c["flagged"] else "no"]
                for c in proxy.get("candidates", [])
            ],
        )
        out.append(ps)
    mono = evidence.get("monotonicity", {})
    if mono:
        ms = DocSection("Monotonicity check")
        ms.p(
            f"Each constrained feature moved over {mono.get('grid_points')} quantile points on "
            f"{mono.get('rows')} test rows: {mono.get('total_violations')} steps went the "
            "wrong way."
        )
        out.append(ms)
    return out


def credit_kind() -> ModelKind:
    """The credit model kind (registered in ``bankml.app``)."""
    return ModelKind(
        name=MODEL_NAME,
        title="Credit decisions (personal loans)",
        collect_evidence=_collect_evidence,
        load_replayer=_load_replayer,
        doc_sections=doc_sections,
        decision_events=(DECISION_EVENT,),
        decision_record=decision_record,
        build_server=_build_server,
        purpose=PURPOSE,
    )
