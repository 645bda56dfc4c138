"""What a check returns: findings, column statistics, and the report with its HTML page."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2

from bankml.core.errors import InputError
from bankml.data.quality._helpers import plain_json, reason_text
from bankml.data.quality.constants import (
    CHECK_IDS,
    MSG_REPORT_UNWRITABLE,
    TEMPLATE_DIR,
    TEMPLATE_NAME,
    Severity,
    Status,
)

# --- public data structures -------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem found in a table: which check, how bad, where, and the evidence.

    ``details`` is converted to plain JSON types on creation, so a report can always be
    serialised; ``check`` must be one of :data:`CHECK_IDS` so consumers can switch on it.
    """

    check: str
    severity: Severity
    column: str | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.check not in CHECK_IDS:
            raise ValueError(f"unknown check id {self.check!r}")
        if self.severity not in ("warning", "blocking"):
            raise ValueError(f"unknown severity {self.severity!r}")
        object.__setattr__(self, "details", plain_json(self.details))

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data."""
        return {
            "check": self.check,
            "severity": self.severity,
            "column": self.column,
            "message": self.message,
            "details": self.details,
        }


@dataclass(frozen=True)
class ColumnStats:
    """Profile of one column as found in the file (not as the schema wishes it were).

    ``distinct_count`` is exact (missing values and NaN not counted). ``min``/``max`` are
    numbers for numeric columns and ISO strings for dates and timestamps; None otherwise.
    """

    name: str
    dtype: str
    kind: str
    null_count: int
    null_rate: float
    distinct_count: int | None
    min: float | int | str | None = None
    max: float | int | str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The stats as JSON-ready data."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "kind": self.kind,
            "null_count": self.null_count,
            "null_rate": self.null_rate,
            "distinct_count": self.distinct_count,
            "min": plain_json(self.min),
            "max": plain_json(self.max),
        }


@dataclass(frozen=True)
class ColumnDistribution:
    """What the report plots for one column, for the table and (if given) its reference.

    Numeric and time columns: ``edges`` of equal-width bins shared by both tables (times in
    microseconds since 1970 UTC, with ISO ``edge_labels``) and the share of non-missing values
    per bin. Text and bool columns: ``categories`` (the most frequent, then ``(other)``) and
    the share of rows of each.
    """

    name: str
    kind: str
    current: list[float]
    reference: list[float] | None = None
    edges: list[float] | None = None
    edge_labels: list[str] | None = None
    categories: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The distribution as JSON-ready data."""
        return {
            "name": self.name,
            "kind": self.kind,
            "current": self.current,
            "reference": self.reference,
            "edges": self.edges,
            "edge_labels": self.edge_labels,
            "categories": self.categories,
        }


@dataclass
class QualityReport:
    """The result of checking one table: stats, findings, and a status a pipeline can gate on.

    ``status`` is ``blocking`` if any finding is blocking, ``warnings`` if any is a warning,
    else ``clean``; ``exit_code`` maps those to 2, 1, 0 for the CLI.
    """

    path: str
    schema_name: str
    row_count: int
    columns: list[ColumnStats]
    findings: list[Finding]
    checked_at: str
    reference: str | None = None
    leakage_sample_rows: int | None = None
    distributions: list[ColumnDistribution] = field(default_factory=list)

    @property
    def status(self) -> Status:
        """``clean``, ``warnings`` or ``blocking``: the worst severity among the findings."""
        if any(f.severity == "blocking" for f in self.findings):
            return "blocking"
        if self.findings:
            return "warnings"
        return "clean"

    @property
    def exit_code(self) -> int:
        """0 clean, 1 warnings, 2 blocking."""
        return {"clean": 0, "warnings": 1, "blocking": 2}[self.status]

    def by_check(self, check: str) -> list[Finding]:
        """The findings of one check id (handy for gates and tests)."""
        return [f for f in self.findings if f.check == check]

    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-serialisable data (what ``--json`` prints)."""
        return {
            "path": self.path,
            "schema": self.schema_name,
            "reference": self.reference,
            "row_count": self.row_count,
            "checked_at": self.checked_at,
            "status": self.status,
            "exit_code": self.exit_code,
            "summary": {
                "blocking": sum(f.severity == "blocking" for f in self.findings),
                "warning": sum(f.severity == "warning" for f in self.findings),
            },
            "leakage_sample_rows": self.leakage_sample_rows,
            "columns": [c.to_dict() for c in self.columns],
            "findings": [f.to_dict() for f in self.findings],
            "distributions": [d.to_dict() for d in self.distributions],
        }

    def render_html(self, path: Path | str) -> Path:
        """Write the report as one self-contained HTML file, atomically; return its path.

        The page is written to a temporary file next to the target and renamed over it, so a
        reader never sees half a report (and a failed render leaves the old one in place).
        Plots use the Plotly JS bundled in the plotly wheel, inlined: the page works offline.
        """
        target = Path(path)
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        data = self.to_dict()
        # Blocking first, then warnings, each in check order.
        rows = sorted(data["findings"], key=lambda f: f["severity"] != "blocking")
        html = env.get_template(TEMPLATE_NAME).render(
            report=data,
            findings=[(f, json.dumps(f["details"], sort_keys=True, indent=1)) for f in rows],
            plotly_js=_plotly_js(),
            missing_figure=_script_json(_missing_figure(self)),
            distribution_figures=[
                (d.name, _script_json(_distribution_figure(d))) for d in self.distributions
            ],
        )
        tmp_name: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
            )
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(html)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, target)
            tmp_name = None
        except OSError as exc:
            raise InputError(
                MSG_REPORT_UNWRITABLE.format(path=target, reason=reason_text(exc))
            ) from exc
        finally:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)
        return target


# --- plots -------------------------------------------------------------------------------------

_CURRENT_COLOUR = "#0969da"
_REFERENCE_COLOUR = "#8c959f"


def _plotly_js() -> str:
    """The plotly.js bundle shipped inside the plotly wheel (no CDN, no network)."""
    from importlib import resources

    return (
        resources.files("plotly")
        .joinpath("package_data", "plotly.min.js")
        .read_text(encoding="utf-8")
    )


def _script_json(value: Any) -> str:
    """JSON safe to paste inside a <script> element (no ``</script>`` break-out)."""
    return (
        json.dumps(value, sort_keys=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _missing_figure(report: QualityReport) -> dict[str, Any]:
    """Horizontal bars: the share of missing values in each column."""
    names = [c.name for c in report.columns]
    rates = [c.null_rate for c in report.columns]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": rates,
                "y": names,
                "marker": {"color": _CURRENT_COLOUR},
                "hovertemplate": "%{y}: %{x:.2%} missing<extra></extra>",
                "texttemplate": "%{x:.1%}",
                "textposition": "outside",
            }
        ],
        "layout": {
            "height": 40 + 22 * max(1, len(names)),
            "margin": {"l": 180, "r": 20, "t": 10, "b": 30},
            "xaxis": {"tickformat": ".0%", "range": [0, max(0.05, *rates) if rates else 1]},
            "uniformtext": {"minsize": 9, "mode": "show"},
            "yaxis": {"autorange": "reversed"},
        },
    }


def _distribution_figure(d: ColumnDistribution) -> dict[str, Any]:
    """Bars of the column's distribution; the reference beside it when there is one.

    Numbers: one bar per bin at its centre on a linear axis; times: the same on a date axis;
    categories: one bar per value.
    """
    xaxis: dict[str, Any] = {"type": "category"}
    width: float | None = None
    if d.categories is not None:
        x: list[Any] = list(d.categories)
    else:
        assert d.edges is not None
        edges = d.edges
        centres = [(edges[i] + edges[i + 1]) / 2 for i in range(len(edges) - 1)]
        step = edges[1] - edges[0] if len(edges) > 1 else 1.0
        if d.edge_labels is not None:  # microseconds since 1970 UTC
            x = [
                (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=c)).isoformat()
                for c in centres
            ]
            xaxis = {"type": "date"}
            width = step / 1000  # plotly measures date-axis widths in milliseconds
        else:
            x = centres
            xaxis = {"type": "linear"}
            width = step
    traces = []
    for label, values, colour in (
        ("this file", d.current, _CURRENT_COLOUR),
        ("reference", d.reference, _REFERENCE_COLOUR),
    ):
        if values is None:
            continue
        trace: dict[str, Any] = {
            "type": "bar",
            "name": label,
            "x": x,
            "y": values,
            "marker": {"color": colour},
        }
        if width is not None:
            # Side by side within each bin when there is a reference.
            share = 0.45 if d.reference is not None else 0.9
            trace["width"] = width * share
            if d.reference is not None:
                trace["offset"] = -width * share if label == "this file" else 0.0
        traces.append(trace)
    return {
        "data": traces,
        "layout": {
            "height": 260,
            "barmode": "group" if width is None else "overlay",
            "margin": {"l": 50, "r": 10, "t": 40, "b": 50},
            "title": {"text": d.name, "font": {"size": 13}, "x": 0.02, "xanchor": "left"},
            "yaxis": {"tickformat": ".0%"},
            "xaxis": xaxis,
            "showlegend": d.reference is not None,
            "legend": {
                "orientation": "h",
                "x": 1,
                "xanchor": "right",
                "y": 1.02,
                "yanchor": "bottom",
            },
        },
    }
