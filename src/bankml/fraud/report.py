"""The fraud evaluation report: one self-contained HTML page with Plotly charts.

Plotly's JavaScript comes from the plotly wheel and is inlined once per page: the report opens
offline, in an air-gapped review room, with no CDN.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklearn.metrics import precision_recall_curve, roc_curve

from bankml.core.files import atomic_write_text
from bankml.fraud.evaluation import FraudEvaluation, reliability_curve
from bankml.fraud.training import TrainConfig, TrainingResult

if TYPE_CHECKING:
    from bankml.fraud.selection import SelectionResult

__all__ = ["describe_model", "render_evaluation_html", "render_selection_html"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
max-width:1200px;margin:0 auto;padding:24px}h1{font-size:22px}h2{font-size:17px;
border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}table{border-collapse:collapse}
th,td{padding:5px 10px;border-bottom:1px solid #d0d7de;text-align:left}td.n{text-align:right;
font-variant-numeric:tabular-nums}.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.muted{color:#59636e}
"""


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td class=n>{html.escape(v)}</td></tr>" for k, v in rows
    )
    return f"<table>{body}</table>"


def _figures(result: TrainingResult) -> list[tuple[str, Any]]:
    import plotly.graph_objects as go

    s = result.test_scored
    y, p = s["label"].to_numpy(dtype=int), s["score"].to_numpy()
    ev, plan = result.evaluation, result.capacity_plan
    figs: list[tuple[str, Any]] = []

    prec, rec, _ = precision_recall_curve(y, p)
    fpr, tpr, _ = roc_curve(y, p)
    f = go.Figure()
    f.add_scatter(x=rec, y=prec, name=f"PR (AP {ev.average_precision:.3f})")
    f.add_scatter(x=fpr, y=tpr, name=f"ROC (AUC {ev.roc_auc:.3f})")
    f.update_layout(
        title="Precision–recall and ROC",
        xaxis_title="recall / false-positive rate",
        yaxis_title="precision / true-positive rate",
    )
    figs.append(("ranking", f))

    # Fraud is rare, so most scores sit near zero: 20 equal-frequency bins on log axes show
    # calibration across the whole range instead of one crowded corner.
    rel = [r for r in reliability_curve(y, p, bins=20) if r["predicted"] > 0 and r["observed"] > 0]
    f = go.Figure()
    f.add_scatter(
        x=[r["predicted"] for r in rel],
        y=[r["observed"] for r in rel],
        mode="lines+markers",
        name="model",
    )
    lo = min([r["predicted"] for r in rel] + [r["observed"] for r in rel] + [1e-4])
    f.add_scatter(x=[lo, 1], y=[lo, 1], mode="lines", name="perfect", line={"dash": "dot"})
    f.update_layout(
        title=f"Reliability (Brier {ev.brier:.4f}, ECE {ev.ece:.4f})",
        xaxis_title="mean predicted probability (20 equal-size bins)",
        yaxis_title="observed fraud rate",
        xaxis_type="log",
        yaxis_type="log",
    )
    figs.append(("calibration", f))

    days = [d["day"] for d in ev.daily]
    f = go.Figure()
    f.add_bar(x=days, y=[d["alerts"] for d in ev.daily], name="alerts")
    f.add_bar(x=days, y=[d["frauds"] for d in ev.daily], name="frauds")
    f.add_scatter(
        x=days,
        y=[ev.k] * len(days),
        mode="lines",
        name=f"capacity {ev.k}",
        line={"dash": "dash", "color": "#b42318"},
    )
    f.update_layout(title="Alerts per test day at the operating threshold", barmode="group")
    figs.append(("capacity", f))

    f = go.Figure()
    f.add_scatter(
        x=[r.alerts_per_day for r in plan.rows],
        y=[r.recall for r in plan.rows],
        mode="lines+markers",
        text=[f"threshold {r.threshold:.4f}" for r in plan.rows],
    )
    f.update_layout(
        title="Trade-off: review volume vs recall",
        xaxis_title="alerts per day",
        yaxis_title="recall",
    )
    figs.append(("tradeoff", f))

    imp = result.model.feature_importance()
    names = sorted(imp, key=imp.__getitem__)
    f = go.Figure(go.Bar(x=[imp[n] for n in names], y=names, orientation="h"))
    f.update_layout(
        title="Global feature importance (share of total gain, or |coefficient|)",
        height=max(360, 24 * len(names)),
        yaxis={"dtick": 1},
        margin={"l": 200},
    )
    figs.append(("importance", f))
    return figs


_CALIBRATION_TEXT = {
    "holdout": "Platt-calibrated on the last 20% of training (held out from the model)",
    "refit": "Platt-calibrated on the last 20% of training, then refitted on all of it",
    "none": "uncalibrated (class-weighting prior shift undone)",
}


def describe_model(c: TrainConfig) -> str:
    """One phrase naming the model family, size and calibration of a training config."""
    if c.family == "logistic":
        model = f"logistic regression (L2 {c.reg_lambda:g})"
    else:
        kind = {"gbdt": "LightGBM", "rf": "random forest (LightGBM rf)"}.get(
            c.family, "extra-trees (LightGBM)"
        )
        model = f"{kind} {c.n_estimators} trees x {c.num_leaves} leaves"
        if c.family == "gbdt":
            model += f", learning rate {c.learning_rate}"
    method = c.calibration if c.calibrate else "none"
    if c.family == "rf" and method == "none":
        method = "refit"
    return f"{model}, seed {c.seed}, {_CALIBRATION_TEXT[method]}"


def _describe(result: TrainingResult) -> str:
    c, n = result.config, result.counts
    excluded = n.get("test_rows_known_compromised", 0)
    honest = (
        f" Headline figures leave out {excluded:,} test transactions of customers already "
        "known to be compromised before their day (unfiltered figures beside)."
        if c.exclude_known_compromised
        else ""
    )
    return (
        f"Training {c.train_start} + {c.train_days} days ({n['train_rows']:,} transactions, "
        f"{n['train_frauds_known']:,} frauds known at go-live of {n['train_frauds_total']:,}), "
        f"label-delay gap {c.delay_days} days, test {c.test_days} days "
        f"({n['test_rows']:,} transactions, {n['test_frauds']:,} frauds). "
        f"{describe_model(c)}.{honest}"
    )


def _summary_rows(ev: FraudEvaluation) -> list[tuple[str, str]]:
    return [
        ("ROC-AUC", f"{ev.roc_auc:.4f}"),
        ("average precision", f"{ev.average_precision:.4f}"),
        (f"card precision@{ev.k}", f"{ev.card_precision_at_k:.4f}"),
        (f"precision@{ev.k}", f"{ev.precision_at_k:.4f}"),
        ("operating threshold", f"{ev.threshold:.5f}"),
        ("precision / recall at threshold", f"{ev.precision:.3f} / {ev.recall:.3f}"),
        ("alerts per day (mean / max)", f"{ev.alerts_per_day:.1f} / {ev.max_alerts_per_day}"),
        ("days over capacity", f"{ev.days_over_capacity} of {ev.test_days}"),
        ("fraud amount / caught", f"{ev.fraud_amount:,.0f} / {ev.caught_amount:,.0f}"),
        ("review cost / net saving", f"{ev.review_cost:,.0f} / {ev.net_saving:,.0f}"),
        ("transactions / frauds", f"{ev.transactions:,} / {ev.frauds:,}"),
    ]


def _summary(result: TrainingResult) -> str:
    rows = _summary_rows(result.evaluation)
    other = result.evaluation_unfiltered
    if other is None or other is result.evaluation:
        return _table(rows)
    head = (
        "<tr><th></th><th>known-compromised excluded (headline)</th>"
        "<th>all test transactions</th></tr>"
    )
    body = "".join(
        f"<tr><th>{html.escape(k)}</th><td class=n>{html.escape(v)}</td>"
        f"<td class=n>{html.escape(u)}</td></tr>"
        for (k, v), (_, u) in zip(rows, _summary_rows(other), strict=True)
    )
    return f"<table>{head}{body}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, list):
        return " / ".join(_fmt(v) for v in value)
    return str(value)


def _rows_table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    body = "".join(
        "<tr"
        + (" style='font-weight:600;background:#eef6ee'" if r.get("chosen") else "")
        + ">"
        + "".join(f"<td class=n>{html.escape(_fmt(r.get(key, '')))}</td>" for key, _ in columns)
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


SELECTION_COLUMNS: list[tuple[str, str]] = [
    ("candidate", "candidate"),
    ("average_precision", "AP"),
    ("card_precision_at_k", "card precision@k"),
    ("card_average_precision", "card AP"),
    ("roc_auc", "ROC-AUC"),
    ("per_fold", "metric per fold"),
    ("cards_per_fold", "compromised cards found per fold"),
    ("score_p50_us", "score p50 µs"),
    ("decision_p50_us", "score+explain p50 µs (CPU)"),
    ("decision_wall_p50_us", "score+explain p50 µs (wall)"),
    ("decision_p99_us", "score+explain p99 µs (wall)"),
    ("within_budget", "within budget"),
    ("chosen", "chosen"),
]
CALIBRATION_COLUMNS: list[tuple[str, str]] = [
    ("calibration", "calibration"),
    ("average_precision", "AP"),
    ("card_precision_at_k", "card precision@k"),
    ("card_average_precision", "card AP"),
    ("brier", "Brier"),
    ("ece", "ECE"),
    ("chosen", "chosen"),
]


def render_selection_html(selection: SelectionResult, path: Path) -> None:
    """Write the model-selection table (atomically) to ``path``."""
    from bankml.fraud.selection import criterion_text

    table = selection.to_dict()
    folds = "".join(
        f"<tr><td>{i}</td><td>{f['train_start']} .. {f['train_end']}</td>"
        f"<td>{f['val_start']} .. {f['val_end']}</td>"
        f"<td>{int(f.get('compromised_cards_findable', 0))}</td></tr>"
        for i, f in enumerate(table["folds"])
    )
    title = "Fraud model selection"
    rule = criterion_text(table)
    parts = [
        f"<h1>{title}</h1>",
        f"<p class=muted>Chosen by {html.escape(rule)} (k = {selection.k}) over "
        f"{len(selection.folds)} prequential folds before the test period, among candidates "
        f"whose one-row decision (score + exact explanation) takes at most "
        f"{selection.latency_budget_ms:g} ms (median CPU time, measured on the candidate). Ranking "
        "figures in the candidate table come from the uncalibrated margin; customers already "
        f"known to be compromised leave each validation day. Took {selection.seconds:.0f} s.</p>",
        "<h2>Folds</h2><table><tr><th>fold</th><th>train [start, end)</th>"
        "<th>validation [start, end)</th><th>findable compromised cards (a perfect card "
        f"ranking finds them all)</th></tr>{folds}</table>",
        "<h2>Candidates</h2>",
        _rows_table(selection.rows, SELECTION_COLUMNS),
        "<h2>Calibration of the chosen candidate</h2>",
        _rows_table(selection.calibration_rows, CALIBRATION_COLUMNS),
    ]
    page = (
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
        f"<style>{_CSS}</style></head><body>" + "".join(parts) + "</body></html>"
    )
    atomic_write_text(path, page)


def render_evaluation_html(result: TrainingResult, path: Path, *, title: str) -> None:
    """Write the evaluation report (atomically) to ``path``."""
    plan = result.capacity_plan
    summary = _summary(result)
    tradeoff = (
        "<table><tr><th>threshold</th><th>alerts/day</th><th>max/day</th><th>recall</th>"
        "<th>precision</th><th>net saving</th></tr>"
        + "".join(
            f"<tr><td class=n>{r.threshold:.5f}</td><td class=n>{r.alerts_per_day:.1f}</td>"
            f"<td class=n>{r.max_alerts_per_day}</td><td class=n>{r.recall:.3f}</td>"
            f"<td class=n>{r.precision:.3f}</td><td class=n>{r.net_saving:,.0f}</td></tr>"
            for r in plan.rows
        )
        + "</table>"
    )
    more = plan.recall_plus_2pts
    more_text = (
        f"<p>Two more points of recall ({more['recall_now']:.3f} → {more['recall_target']:.3f}) "
        f"need threshold {more['threshold_needed']:.5f} and "
        f"{more['alerts_per_day_needed']:.1f} alerts/day instead of "
        f"{more['alerts_per_day_now']:.1f}.</p>"
        if more
        else ""
    )
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class=muted>{html.escape(_describe(result))}</p>",
        "<h2>Summary</h2>",
        summary,
        "<h2>Capacity plan</h2>",
        f"<p>Capacity {plan.capacity}/day; threshold chosen as the {plan.quantile:.0%} "
        f"quantile of the daily {plan.capacity}th score over {plan.reference_days} "
        "unlabelled delay-gap days.</p>",
        tradeoff,
        more_text,
        "<div class=grid>",
    ]
    for i, (_, fig) in enumerate(_figures(result)):
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False))
    parts.append("</div>")
    page = (
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>"
        f"{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        + "".join(parts)
        + "</body></html>"
    )
    atomic_write_text(path, page)
