"""The console's charts as Plotly JSON for a ``data-figure`` attribute (drawn by console.js).

Nothing here computes a figure of its own: the serving charts summarise the ledger's
decisions (``actions.HealthView``), and the monitoring charts are the monitoring report's own
figures (``bankml.monitoring.report.report_figures``), so the page and the HTML report of
`bankml monitor report` cannot disagree. Plotly JS is served by the service (no CDN).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bankml.monitoring.service import StoredDay
    from bankml.web.actions import HealthView

__all__ = ["Chart", "latency_chart", "monitoring_charts", "serving_charts"]

# Monitoring figures that read better across the whole width (a row per feature), and the
# order an operator reads them in: what moved, what it did to the scores and the performance,
# how much traffic, then the detail.
_WIDE = {"Drift heatmap", "Live data quality"}
_ORDER = (
    "Drift heatmap",
    "Score distributions",
    "Estimated vs realised performance",
    "Traffic volume",
    "Alert volume vs capacity",
    "Share of drifting features",
    "Live data quality",
)
HEATMAP_MAX_HEIGHT = 560  # px: a model with many features keeps its heatmap on one screen
# Endpoints the latency chart shows at most (the busiest).
LATENCY_ENDPOINTS = 10


@dataclass(frozen=True)
class Chart:
    """One chart on a page: a heading for screen readers, the figure's JSON, its width."""

    key: str
    title: str
    figure: str
    wide: bool = False


def _simple(
    data: list[dict[str, Any]], title: str, x: str, y: str, left: int = 60, log_y: bool = False
) -> str:
    layout = {
        "title": {"text": title, "font": {"size": 14}},
        "xaxis": {"title": {"text": x}},
        "yaxis": {"title": {"text": y}, **({"type": "log"} if log_y else {})},
        "barmode": "group",
        "height": 320,
        "margin": {"l": left, "r": 20, "t": 50, "b": 60},
    }
    return json.dumps({"data": data, "layout": layout})


def _console_layout(fig: Any, wide: bool) -> str:
    """A report figure fitted to a console card (smaller title, legend below, fixed height)."""
    fig.update_layout(
        title_font_size=14,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    if not wide:
        fig.update_layout(height=360)
    elif (fig.layout.height or 0) > HEATMAP_MAX_HEIGHT:
        fig.update_layout(height=HEATMAP_MAX_HEIGHT, yaxis={"tickfont": {"size": 10}})
    out: str = fig.to_json()
    return out


def serving_charts(v: HealthView) -> list[Chart]:
    """Decisions per hour, the score distribution and the drivers, from the ledger."""
    hours = [h for h, _, _ in v.per_hour]
    return [
        Chart(
            "per-hour",
            "decisions per hour",
            _simple(
                [
                    {
                        "type": "bar",
                        "x": hours,
                        "y": [c for _, c, _ in v.per_hour],
                        "name": "decisions",
                    },
                    {
                        "type": "bar",
                        "x": hours,
                        "y": [r for _, _, r in v.per_hour],
                        "name": "sent to review",
                    },
                ],
                f"{v.name}: decisions per hour (UTC)",
                "hour",
                "decisions",
            ),
        ),
        Chart(
            "scores",
            "score distribution",
            _simple(
                [{"type": "histogram", "x": v.scores, "nbinsx": 40, "name": "score"}],
                f"{v.name}: score distribution (latest {len(v.scores)} decisions)",
                "score",
                "decisions (log scale)",
                log_y=True,
            ),
        ),
        Chart(
            "drivers",
            "what drives its scores",
            _simple(
                [
                    {
                        "type": "bar",
                        "orientation": "h",
                        "x": [w for _, w in v.drivers][::-1],
                        "y": [f for f, _ in v.drivers][::-1],
                        "name": "mean |contribution|",
                    }
                ],
                f"{v.name}: what drives its scores (mean |contribution|, top 10)",
                "mean absolute contribution (log-odds)",
                "",
                left=220,
            ),
        ),
    ]


def monitoring_charts(days: Sequence[StoredDay]) -> list[Chart]:
    """The monitoring report's figures for one model version's stored days."""
    if not days:
        return []
    from bankml.monitoring.report import report_figures

    figures = sorted(
        report_figures(days),
        key=lambda hf: _ORDER.index(hf[0]) if hf[0] in _ORDER else len(_ORDER),
    )
    out = []
    for heading, fig in figures:
        wide = heading in _WIDE
        key = heading.lower().replace(" ", "-")
        out.append(Chart(key, heading, _console_layout(fig, wide), wide))
    return out


def latency_chart(latency: dict[str, dict[str, float]]) -> Chart | None:
    """p50/p90/p99 of the busiest endpoints of this process (None before any request)."""
    if not latency:
        return None
    from bankml.monitoring.report import latency_figure

    busiest = sorted(latency, key=lambda k: -latency[k].get("requests", 0.0))
    shown = {k: latency[k] for k in busiest[:LATENCY_ENDPOINTS]}
    fig = latency_figure(shown)
    fig.update_layout(
        title="API latency of this service process since it started (ms; busiest endpoints)",
        yaxis={"title": "ms (upper bucket bound)"},
    )
    return Chart("latency", "service latency", _console_layout(fig, True), True)
