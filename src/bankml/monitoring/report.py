"""The monitoring report: one self-contained HTML file (Plotly JS from the wheel, inlined).

Per monitored model version: alerts, a drift heatmap over time (PSI per feature and score,
the test's verdict on hover), the share of drifting columns (daily and rolling), score
distributions against the reference, estimated vs realised performance with label
completeness and the estimate's error, alert volume against capacity, live data quality,
and, when a Prometheus scrape is given, service latency per endpoint.
"""

from __future__ import annotations

import html
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bankml.core.files import atomic_write_text
from bankml.monitoring.service import StoredDay

__all__ = ["latency_figure", "latency_from_prometheus", "render_report", "report_figures"]

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}"
    "table{border-collapse:collapse;margin:.5rem 0}"
    "td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left;font-size:.9rem}"
    ".critical{color:#b00020;font-weight:600}"
    ".warning{color:#a65e00}.muted{color:#666}h2{margin-top:2.5rem}"
)


def _nan(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def latency_from_prometheus(text: str) -> dict[str, dict[str, float]]:
    """p50/p90/p99 (ms) per endpoint from a scrape of ``bankml_request_duration_seconds``."""
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    pattern = re.compile(r"^bankml_request_duration_seconds_bucket\{(?P<labels>[^}]*)\} (?P<v>\S+)")
    for line in text.splitlines():
        m = pattern.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group("labels")))
        le = labels.pop("le", "+Inf")
        key = f"{labels.get('method', '')} {labels.get('endpoint', '')}".strip()
        buckets[key][math.inf if le == "+Inf" else float(le)] += float(m.group("v"))
    out: dict[str, dict[str, float]] = {}
    for key, cumulative in buckets.items():
        edges = sorted(cumulative)
        total = cumulative[edges[-1]]
        if total <= 0:
            continue
        figures: dict[str, float] = {"requests": total}
        for q in (0.5, 0.9, 0.99):
            target = q * total
            le = next(e for e in edges if cumulative[e] >= target)
            figures[f"p{round(q * 100)}_ms"] = (edges[-2] if math.isinf(le) else le) * 1000
        out[key] = figures
    return out


def report_figures(days: Sequence[StoredDay]) -> list[tuple[str, Any]]:
    """The report's Plotly figures for one model version's days, as (heading, figure).

    The web console's model-health page draws the same figures, so the report and the page
    cannot disagree.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    x = [d.day for d in days]
    figs: list[tuple[str, Any]] = []

    columns: list[str] = []
    for d in days:
        for c in d.detail.get("drift", {}).get("columns", []):
            if c["column"] not in columns:
                columns.append(c["column"])
    columns.append("score")
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for col in columns:
        row: list[float | None] = []
        hover: list[str] = []
        for d in days:
            info = (
                d.detail.get("score_drift")
                if col == "score"
                else next(
                    (c for c in d.detail.get("drift", {}).get("columns", []) if c["column"] == col),
                    None,
                )
            )
            if info is None:
                row.append(None)
                hover.append("no data")
                continue
            row.append(info.get("psi"))
            hover.append(
                f"{info['test']} = {info['statistic']:.3g} "
                f"({'drift' if info['drifted'] else 'no drift'}); PSI {info['psi']:.3f}"
                if info.get("statistic") is not None
                else "not tested"
            )
        z.append(row)
        text.append(hover)
    heat = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=columns,
            text=text,
            hoverinfo="x+y+text",
            zmin=0,
            zmax=0.5,
            colorscale=[[0, "#e8f5e9"], [0.2, "#fff59d"], [0.5, "#ffb74d"], [1, "#c62828"]],
            colorbar={"title": "PSI"},
        )
    )
    heat.update_layout(
        title="Drift over time: PSI per feature and score (0.10 watch, 0.25 act)",
        height=max(300, 28 * len(columns) + 120),
    )
    figs.append(("Drift heatmap", heat))

    share = go.Figure()
    share.add_scatter(x=x, y=[d.metrics.get("drift.share_drifted") for d in days], name="daily")
    share.add_scatter(
        x=x, y=[d.metrics.get("drift.rolling_share_drifted") for d in days], name="rolling window"
    )
    share.add_hline(y=0.5, line_dash="dot", annotation_text="dataset drift (50%)")
    share.update_layout(title="Share of drifting features", yaxis={"range": [0, 1]})
    figs.append(("Share of drifting features", share))

    hist = go.Figure()
    first = next((d for d in days if d.rows), None)
    last = next((d for d in reversed(days) if d.rows), None)
    if first is not None and last is not None:
        h = first.detail["score_histogram"]
        labels = [f"{a:.3g}-{b:.3g}" for a, b in zip(h["edges"][:-1], h["edges"][1:], strict=True)]
        hist.add_bar(x=labels, y=h["reference"], name="reference")
        hist.add_bar(x=labels, y=h["live"], name=f"live {first.day}")
        if last is not first:
            hist.add_bar(
                x=labels, y=last.detail["score_histogram"]["live"], name=f"live {last.day}"
            )
    hist.update_layout(
        title="Score distribution on the reference's score-quantile bins (flat = unchanged)",
        barmode="group",
        yaxis={"title": "share of rows"},
    )
    figs.append(("Score distributions", hist))

    perf = make_subplots(specs=[[{"secondary_y": True}]])
    for key, colour in (
        ("precision", "#1565c0"),
        ("recall", "#2e7d32"),
        ("average_precision", "#6a1b9a"),
    ):
        perf.add_scatter(
            x=x,
            y=[_nan(d.metrics.get(f"estimated.{key}")) for d in days],
            name=f"estimated {key}",
            line={"dash": "dot", "color": colour},
        )
        perf.add_scatter(
            x=x,
            y=[_nan(d.metrics.get(f"realised.{key}")) for d in days],
            name=f"realised {key}",
            line={"color": colour},
        )
    perf.add_bar(
        x=x,
        y=[_nan(d.metrics.get("realised.completeness")) for d in days],
        name="label completeness",
        opacity=0.25,
        secondary_y=True,
    )
    perf.update_layout(title="Estimated (from calibrated scores) vs realised (as labels arrive)")
    perf.update_yaxes(range=[0, 1], secondary_y=False)
    perf.update_yaxes(range=[0, 1], title="completeness", secondary_y=True)
    figs.append(("Estimated vs realised performance", perf))

    volume = go.Figure()
    volume.add_bar(x=x, y=[d.metrics.get("estimated.alerts") for d in days], name="alerts")
    caps = [d.detail.get("estimated", {}).get("capacity") for d in days]
    if any(caps):
        volume.add_scatter(x=x, y=caps, name="team capacity", line={"dash": "dash"})
    volume.update_layout(title="Alert volume against the review team's capacity")
    figs.append(("Alert volume vs capacity", volume))

    quality = go.Figure()
    missing_cols = sorted(
        {c for d in days for c in d.detail.get("quality", {}).get("missing_rate", {})}
    )
    quality.add_heatmap(
        z=[
            [d.detail.get("quality", {}).get("missing_rate", {}).get(c) for d in days]
            for c in missing_cols
        ],
        x=x,
        y=missing_cols,
        zmin=0,
        zmax=1,
        colorscale="Reds",
        colorbar={"title": "missing"},
    )
    quality.update_layout(
        title="Missing rate per feature (a broken feed lights up a row)",
        height=max(300, 28 * len(missing_cols) + 120),
    )
    figs.append(("Live data quality", quality))

    rows = go.Figure(go.Bar(x=x, y=[d.rows for d in days], name="decisions"))
    rows.update_layout(title="Decisions per day")
    figs.append(("Traffic volume", rows))
    return figs


def latency_figure(latency: dict[str, dict[str, float]]) -> Any:
    """p50/p90/p99 per endpoint as grouped bars (``latency_from_prometheus`` output)."""
    import plotly.graph_objects as go

    keys = sorted(latency)
    fig = go.Figure()
    for q in ("p50_ms", "p90_ms", "p99_ms"):
        fig.add_bar(x=keys, y=[latency[k].get(q) for k in keys], name=q.replace("_ms", ""))
    fig.update_layout(title="Request latency per endpoint (ms, from /metrics)", barmode="group")
    return fig


def render_report(
    path: Path,
    days: Sequence[StoredDay],
    alerts: Sequence[dict[str, Any]],
    *,
    latency: dict[str, dict[str, float]] | None = None,
    title: str = "bankml monitoring report",
) -> Path:
    """Write the report; returns its path. Works with no days (it says so)."""
    parts = [f"<h1>{html.escape(title)}</h1>"]
    groups: dict[tuple[str, int], list[StoredDay]] = defaultdict(list)
    for d in days:
        groups[(d.kind, d.version)].append(d)
    if not groups:
        parts.append("<p>No monitored days yet: run <code>bankml monitor run --date D</code>.</p>")
    js_done = False

    def embed(fig: Any) -> str:
        nonlocal js_done
        out: str = fig.to_html(full_html=False, include_plotlyjs=not js_done)
        js_done = True
        return out

    for (kind, version), group in groups.items():
        mine = [a for a in alerts if a["model_name"] == kind and a["version"] == version]
        parts.append(f"<h2>{html.escape(kind)} v{version}</h2>")
        parts.append(
            f"<p class=muted>{len(group)} day(s) monitored, {group[0].day} to {group[-1].day}; "
            f"{sum(d.rows for d in group):,} decisions; {len(mine)} alert(s).</p>"
        )
        if mine:
            rows = "".join(
                f"<tr><td>{html.escape(a['day'])}</td><td class={html.escape(a['severity'])}>"
                f"{html.escape(a['severity'])}</td><td>{html.escape(a['rule'])}</td>"
                f"<td>{html.escape(a['metric'])}</td><td>{a['value']:.4g}</td>"
                f"<td>{a['threshold']:g}</td><td>#{a['ledger_seq']}</td>"
                f"<td>{html.escape(a['delivery'])}</td></tr>"
                for a in mine
            )
            parts.append(
                "<table><tr><th>day</th><th>severity</th><th>rule</th><th>metric</th>"
                "<th>value</th><th>limit</th><th>ledger</th><th>webhook</th></tr>"
                f"{rows}</table>"
            )
        for heading, fig in report_figures(group):
            parts.append(f"<h3>{html.escape(heading)}</h3>{embed(fig)}")
    parts.append("<h2>Service latency</h2>")
    if latency:
        parts.append(embed(latency_figure(latency)))
    else:
        parts.append(
            "<p class=muted>No /metrics scrape given (<code>--metrics URL-or-file</code>): "
            "latency histograms live on the service's Prometheus endpoint.</p>"
        )
    body = "".join(parts)
    page = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, page)
    return path
