"""Fraud's sections of the documentation pack: its features, metrics, plots and capacity plan.

Governance renders the generic sections (overview, lineage, gates, approvals, ...) and asks
the model's kind for its own (``ModelKind.doc_sections``); these read fraud's stored
validation evidence only, never the live model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bankml.governance.docs import fmt_value as _fmt
from bankml.governance.docs import new_figure
from bankml.governance.kinds import DocSection

__all__ = ["fraud_doc_sections"]


def fraud_doc_sections(evidence: Mapping[str, Any]) -> list[DocSection]:
    """Features, performance, calibration and the capacity plan, from stored evidence."""
    found = evidence.get("evaluation")
    evaluation: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    serving = evidence.get("serving")
    plan = evidence.get("capacity_plan") or evaluation.get("capacity_plan")
    if plan is None and isinstance(serving, Mapping):
        plan = serving.get("capacity_plan")
    definitions = evidence.get("feature_definitions") or []
    return [
        _features(definitions),
        _performance(evaluation),
        _calibration(evaluation),
        _capacity(plan, evaluation),
        _selection(evidence.get("selection")),
    ]


def _features(definitions: Sequence[Mapping[str, Any]]) -> DocSection:
    s = DocSection("Features and their definitions")
    if not definitions:
        s.p("No feature definitions were supplied.")
        return s
    s.p(
        "Every feature is point-in-time correct: it uses only events at or before the scored "
        "one, and labels only once they were known."
    )
    s.table(
        ["feature", "window", "definition"],
        [(d.get("name"), d.get("window") or "–", d.get("description")) for d in definitions],
    )
    return s


def _performance(evaluation: Mapping[str, Any]) -> DocSection:
    s = DocSection("Performance (test period)")
    ev = evaluation.get("evaluation", evaluation)
    if not isinstance(ev, Mapping) or "roc_auc" not in ev:
        s.p("No evaluation evidence is stored for this version.")
        return s
    k = ev.get("k")
    s.table(
        ["measure", "value"],
        [
            ("ROC-AUC (Gini = 2·AUC − 1)", ev.get("roc_auc")),
            ("average precision", ev.get("average_precision")),
            (f"card precision@{k}", ev.get("card_precision_at_k")),
            (f"precision@{k}", ev.get("precision_at_k")),
            ("operating threshold", ev.get("threshold")),
            ("precision at threshold", ev.get("precision")),
            ("recall at threshold", ev.get("recall")),
            ("test transactions / frauds", f"{ev.get('transactions')} / {ev.get('frauds')}"),
            (
                "fraud amount / caught",
                f"{_fmt(ev.get('fraud_amount'))} / {_fmt(ev.get('caught_amount'))}",
            ),
            (
                "review cost / net saving",
                f"{_fmt(ev.get('review_cost'))} / {_fmt(ev.get('net_saving'))}",
            ),
        ],
    )
    raw = evaluation.get("evaluation_unfiltered")
    if isinstance(raw, Mapping) and "roc_auc" in raw:
        s.p(
            "Figures above leave out, on each test day, customers already known to be "
            "compromised before it (their next frauds are found by the open case, not by the "
            f"model). On every test transaction: ROC-AUC {_fmt(raw.get('roc_auc'))}, average "
            f"precision {_fmt(raw.get('average_precision'))}, card precision@{k} "
            f"{_fmt(raw.get('card_precision_at_k'))} ({raw.get('transactions')} transactions, "
            f"{raw.get('frauds')} frauds)."
        )
    return s


def _selection(selection: Any) -> DocSection:
    s = DocSection("Model selection")
    if not isinstance(selection, Mapping) or "candidates" not in selection:
        s.p("This version was trained with fixed settings (no model selection).")
        return s
    from bankml.fraud.selection import criterion_text

    chosen = selection.get("chosen") or {}
    s.p(
        f"Chosen: {chosen.get('label')} with {chosen.get('calibration')} calibration, by "
        f"{criterion_text(selection)} (k = {selection.get('k')}) over "
        f"{len(selection.get('folds') or [])} prequential folds before the test period, among "
        f"candidates whose one-row decision takes at most {selection.get('latency_budget_ms')} "
        "ms (median, measured on the candidate)."
    )
    s.table(
        [
            "candidate",
            "AP",
            "card precision@k",
            "card AP",
            "decision p50 µs",
            "within budget",
            "chosen",
        ],
        [
            (
                r.get("candidate"),
                r.get("average_precision"),
                r.get("card_precision_at_k"),
                r.get("card_average_precision"),
                r.get("decision_p50_us"),
                "yes" if r.get("within_budget") else "no",
                "✓" if r.get("chosen") else "",
            )
            for r in selection.get("candidates", [])
        ],
    )
    s.table(
        ["calibration", "AP", "Brier", "ECE", "chosen"],
        [
            (
                r.get("calibration"),
                r.get("average_precision"),
                r.get("brier"),
                r.get("ece"),
                "✓" if r.get("chosen") else "",
            )
            for r in selection.get("calibration", [])
        ],
    )
    return s


def _calibration(evaluation: Mapping[str, Any]) -> DocSection:
    s = DocSection("Calibration")
    ev = evaluation.get("evaluation", evaluation)
    rel = ev.get("reliability") if isinstance(ev, Mapping) else None
    if not rel:
        s.p("No reliability curve is stored for this version.")
        return s
    s.p(
        f"Brier score {_fmt(ev.get('brier'))}; expected calibration error (ECE, 10 equal-width "
        f"bins) {_fmt(ev.get('ece'))}. The reliability curve compares the mean predicted "
        "probability with the observed fraud rate in equal-frequency score bins."
    )
    fig = new_figure(
        title="Reliability curve",
        xaxis_title="mean predicted probability",
        yaxis_title="observed rate",
    )
    xs = [r.get("predicted") for r in rel]
    ys = [r.get("observed") for r in rel]
    fig.add_scatter(x=xs, y=ys, mode="lines+markers", name="model")
    top = max([v for v in xs + ys if isinstance(v, int | float)] + [0.01])
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", name="perfect", line={"dash": "dot"})
    s.figure(fig)
    s.table(
        ["bin", "mean predicted", "observed", "rows"],
        [(i + 1, r.get("predicted"), r.get("observed"), r.get("count")) for i, r in enumerate(rel)],
    )
    return s


def _capacity(plan: Any, evaluation: Mapping[str, Any]) -> DocSection:
    s = DocSection("Capacity plan")
    if not isinstance(plan, Mapping) or not plan.get("rows"):
        s.p("No capacity plan is stored for this version.")
        return s
    ev = evaluation.get("evaluation", evaluation)
    s.p(
        f"Capacity {_fmt(plan.get('capacity'))} reviews per day; threshold "
        f"{_fmt(plan.get('threshold'))} chosen as the {_fmt(plan.get('quantile'))} quantile of "
        f"the daily k-th highest score over {_fmt(plan.get('reference_days'))} unlabelled "
        "delay-gap days."
    )
    if isinstance(ev, Mapping) and "days_over_capacity" in ev:
        s.p(
            f"On the test period: {_fmt(ev.get('alerts_per_day'))} alerts per day on average, at "
            f"most {_fmt(ev.get('max_alerts_per_day'))}; {_fmt(ev.get('days_over_capacity'))} of "
            f"{_fmt(ev.get('test_days'))} days over capacity."
        )
    rows = plan["rows"]
    s.table(
        ["threshold", "alerts/day", "max/day", "recall", "precision", "net saving"],
        [
            (
                r.get("threshold"),
                r.get("alerts_per_day"),
                r.get("max_alerts_per_day"),
                r.get("recall"),
                r.get("precision"),
                r.get("net_saving"),
            )
            for r in rows
        ],
    )
    more = plan.get("recall_plus_2pts")
    if isinstance(more, Mapping):
        s.p(
            f"Two more points of recall ({_fmt(more.get('recall_now'))} → "
            f"{_fmt(more.get('recall_target'))}) need threshold "
            f"{_fmt(more.get('threshold_needed'))} and {_fmt(more.get('alerts_per_day_needed'))} "
            f"alerts/day instead of {_fmt(more.get('alerts_per_day_now'))}."
        )
    fig = new_figure(
        title="Trade-off: review volume vs recall",
        xaxis_title="alerts per day",
        yaxis_title="recall",
    )
    fig.add_scatter(
        x=[r.get("alerts_per_day") for r in rows],
        y=[r.get("recall") for r in rows],
        mode="lines+markers",
        text=[f"threshold {_fmt(r.get('threshold'))}" for r in rows],
        name="thresholds",
    )
    s.figure(fig)
    return s
