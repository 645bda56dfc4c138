"""The fraud evaluation report: one self-contained HTML page with Plotly charts.

Plotly's JavaScript comes from the plotly wheel and is inlined once per page: the report opens
offline, in an air-gapped review room, with no CDN.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from sklearn.metrics import precision_recall_curve, roc_curve

from bankml.core.files import atomic_write_text
from bankml.fraud.evaluation import reliability_curve
from bankml.fraud.training import TrainingResult

__all__ = ["render_evaluation_html"]

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
        title="Global feature importance (share of total gain)",
        height=max(360, 24 * len(names)),
        yaxis={"dtick": 1},
        margin={"l": 200},
    )
    figs.append(("importance", f))
    return figs


def _describe(result: TrainingResult) -> str:
    c, n = result.config, result.counts
    return (
        f"Training {c.train_start} + {c.train_days} days ({n['train_rows']:,} transactions, "
        f"{n['train_frauds_known']:,} frauds known at go-live of {n['train_frauds_total']:,}), "
        f"label-delay gap {c.delay_days} days, test {c.test_days} days "
        f"({n['test_rows']:,} transactions, {n['test_frauds']:,} frauds). LightGBM "
        f"{c.n_estimators} trees x {c.num_leaves} leaves, learning rate {c.learning_rate}, "
        f"seed {c.seed}, {'Platt-calibrated' if c.calibrate else 'uncalibrated'}."
    )


def render_evaluation_html(result: TrainingResult, path: Path, *, title: str) -> None:
    """Write the evaluation report (atomically) to ``path``."""
    ev, plan = result.evaluation, result.capacity_plan
    summary = _table(
        [
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
        ]
    )
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
