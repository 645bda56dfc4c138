"""The model documentation pack: one HTML page with plots and the same content in Markdown.

Rendered from stored evidence only (the registry's record of the version, the validation
reports with the evidence they judged, the lifecycle transitions and champion history) and
never by retraining or rescoring: the pack documents what was validated, not what the code
would do today. The HTML opens offline (an air-gapped review room): Plotly's JavaScript comes
from the plotly wheel and is inlined once, no CDN.

The content follows what model-risk examiners ask for: purpose and limits, data and lineage,
features, performance, calibration, capacity, stability, fairness, explanations, gate results,
approvals with rationale, champion history, and a table mapping the evidence to SR 11-7's
disciplines (kept by the 2026 interagency guidance), PRA SS1/23's principles and the EU AI Act
Arts. 9-15, saying plainly what is and is not covered.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bankml.core.files import atomic_write_text
from bankml.governance.gates import GateResult, ValidationReport, psi_band
from bankml.governance.registry import ModelVersionInfo

__all__ = ["SupportsToDict", "render_docs"]

HTML_FILE = "model_card.html"
MD_FILE = "model_card.md"
NOT_APPLICABLE_FAIRNESS = "Not applicable: no protected attributes configured for this model."
NOT_VALIDATED = "Not validated yet: run `bankml model validate` to collect this evidence."

_CSS = """
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
max-width:1150px;margin:0 auto;padding:24px}h1{font-size:23px}h2{font-size:17px;
border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:30px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:4px 9px;border-bottom:1px solid #d0d7de;
text-align:left;vertical-align:top}.muted{color:#59636e}.PASS{color:#1a7f37;font-weight:600}
.FAIL{color:#b42318;font-weight:600}.na{color:#59636e}code{font-size:12px}
"""


class SupportsToDict(Protocol):
    """A record with a JSON-ready view (``Transition``, ``ChampionChange``)."""

    def to_dict(self) -> dict[str, Any]: ...


Record = Mapping[str, Any] | SupportsToDict


def _records(items: Sequence[Record]) -> list[Mapping[str, Any]]:
    return [i if isinstance(i, Mapping) else i.to_dict() for i in items]


# --- a tiny document model, rendered twice (HTML and Markdown) ------------------------------


@dataclass
class _Table:
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]


@dataclass
class _Section:
    title: str
    blocks: list[Any] = field(default_factory=list)  # str (paragraph) | list[str] | _Table | fig

    def p(self, text: str) -> None:
        self.blocks.append(text)

    def bullets(self, items: Sequence[str]) -> None:
        self.blocks.append(list(items))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.blocks.append(_Table(header, rows))

    def figure(self, fig: Any) -> None:
        self.blocks.append(fig)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.3g}"
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _md_cell(value: Any) -> str:
    return _fmt(value).replace("|", "\\|").replace("\n", " ")


def _to_markdown(title: str, intro: str, sections: list[_Section]) -> str:
    out = [f"# {title}", "", intro, ""]
    for s in sections:
        out += [f"## {s.title}", ""]
        for b in s.blocks:
            if isinstance(b, str):
                out += [b, ""]
            elif isinstance(b, list):
                out += [f"- {item}" for item in b] + [""]
            elif isinstance(b, _Table):
                out.append("| " + " | ".join(_md_cell(h) for h in b.header) + " |")
                out.append("|" + "---|" * len(b.header))
                out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
                out.append("")
            else:  # a figure: the HTML page has it; the tables above carry the numbers
                out += [f"*(plot in {HTML_FILE})*", ""]
    return "\n".join(out).rstrip() + "\n"


def _html_cell(value: Any) -> str:
    text = _fmt(value)
    if text in ("PASS", "FAIL"):
        return f"<td class={text}>{text}</td>"
    if text == "n/a":
        return "<td class=na>n/a</td>"
    return f"<td>{html.escape(text)}</td>"


def _to_html(title: str, intro: str, sections: list[_Section]) -> str:
    parts = [f"<h1>{html.escape(title)}</h1>", f"<p class=muted>{html.escape(intro)}</p>"]
    toc = "".join(
        f"<li><a href='#s{i}'>{html.escape(s.title)}</a></li>" for i, s in enumerate(sections)
    )
    parts.append(f"<nav><ol>{toc}</ol></nav>")
    plotly_inlined = False
    for i, s in enumerate(sections):
        parts.append(f"<h2 id='s{i}'>{html.escape(s.title)}</h2>")
        for b in s.blocks:
            if isinstance(b, str):
                parts.append(f"<p>{html.escape(b)}</p>")
            elif isinstance(b, list):
                parts.append("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in b) + "</ul>")
            elif isinstance(b, _Table):
                head = "".join(f"<th>{html.escape(str(h))}</th>" for h in b.header)
                body = "".join(
                    "<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in b.rows
                )
                parts.append(f"<table><tr>{head}</tr>{body}</table>")
            else:
                # Plotly's JS from the wheel, once per page; later figures reuse it.
                js: str | bool = "inline" if not plotly_inlined else False
                parts.append(b.to_html(full_html=False, include_plotlyjs=js))
                plotly_inlined = True
    return (
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}"
        f"</title><style>{_CSS}</style></head><body>" + "".join(parts) + "</body></html>"
    )


# --- sections ------------------------------------------------------------------------------


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, Mapping):
            return None
        d = d.get(key)
    return d


def _figure(**layout: Any) -> Any:
    import plotly.graph_objects as go

    layout.setdefault("height", 360)
    fig = go.Figure()
    fig.update_layout(margin={"l": 60, "r": 20, "t": 50, "b": 50}, **layout)
    return fig


def _ms_to_iso(ms: int) -> str:
    if not ms:
        return "–"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _overview(
    info: ModelVersionInfo,
    latest: ValidationReport | None,
    transitions: Sequence[Mapping[str, Any]],
    evidence: Mapping[str, Any],
) -> _Section:
    s = _Section("Overview")
    state = transitions[-1].get("to_state") if transitions else info.tags.get("bankml.state")
    verdict = "not validated" if latest is None else ("passed" if latest.passed else "FAILED")
    s.table(
        ["", ""],
        [
            ("model", info.name),
            ("version", info.version),
            ("kind", _get(evidence, "model", "kind")),
            ("lifecycle state", state or "registered"),
            ("aliases", ", ".join(info.aliases) or "–"),
            ("latest validation", verdict + (f" ({latest.ran_at})" if latest else "")),
            ("registered at", _ms_to_iso(info.created_at_ms)),
            ("trained by", info.tags.get("trained_by")),
            ("MLflow run", info.run_id),
        ],
    )
    return s


def _purpose(evidence: Mapping[str, Any]) -> _Section:
    s = _Section("Purpose, intended use and limitations")
    model = evidence.get("model")
    if not isinstance(model, Mapping):
        s.p(NOT_VALIDATED)
        return s
    s.p(f"Purpose: {model.get('purpose') or 'not recorded'}")
    s.p(f"Intended use: {model.get('intended_use') or 'not recorded'}")
    limitations = model.get("limitations") or []
    if limitations:
        s.p("Limitations:")
        s.bullets([str(x) for x in limitations])
    return s


def _lineage(
    info: ModelVersionInfo, evidence: Mapping[str, Any], meta: Mapping[str, Any]
) -> _Section:
    s = _Section("Data and lineage")
    found = evidence.get("lineage")
    lin: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    intact = lin.get("artifact_intact")
    s.table(
        ["item", "value"],
        [
            ("training data", meta.get("data_path") or lin.get("data_path")),
            ("training data SHA-256", meta.get("data_sha256") or info.tags.get("data_sha256")),
            (
                "feature definitions SHA-256",
                meta.get("feature_definitions_sha256")
                or info.tags.get("feature_definitions_sha256"),
            ),
            ("model artefact SHA-256 (registered)", info.tags.get("artifact_sha256")),
            (
                "artefact intact at validation",
                "not checked" if intact is None else ("yes" if intact else "NO: bytes changed"),
            ),
            ("code version", info.tags.get("code_version")),
            ("MLflow model source", info.source),
        ],
    )
    try:
        libs = json.loads(info.tags.get("library_versions", "{}"))
    except ValueError:
        libs = {}
    if libs:
        s.p("Library versions at training time:")
        s.table(["library", "version"], sorted(libs.items()))
    config = meta.get("config") or lin.get("config")
    if isinstance(config, Mapping):
        s.p("Training configuration (recorded; the reproducibility gate retrains from it):")
        s.table(["parameter", "value"], sorted(config.items()))
    counts = lin.get("counts")
    if isinstance(counts, Mapping) and counts:
        s.table(["rows", "count"], sorted(counts.items()))
    return s


def _features(definitions: Sequence[Mapping[str, Any]]) -> _Section:
    s = _Section("Features and their definitions")
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


def _performance(evaluation: Mapping[str, Any]) -> _Section:
    s = _Section("Performance (test period)")
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
    return s


def _calibration(evaluation: Mapping[str, Any]) -> _Section:
    s = _Section("Calibration")
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
    fig = _figure(
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


def _capacity(plan: Any, evaluation: Mapping[str, Any]) -> _Section:
    s = _Section("Capacity plan")
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
    fig = _figure(
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


def _stability(evidence: Mapping[str, Any]) -> _Section:
    s = _Section("Stability (PSI, training vs test period)")
    st = evidence.get("stability")
    if not isinstance(st, Mapping):
        s.p(NOT_VALIDATED)
        return s
    if st.get("error"):
        s.p(f"Not measured: {st['error']}")
        return s
    s.p(
        "Population stability index with reference-decile bins (missing values a bin of their "
        "own). Convention: < 0.10 stable, 0.10–0.25 watch, > 0.25 act."
    )
    feats = st.get("features") or {}
    rows = [("(model score)", st.get("score"), psi_band(float(st.get("score") or 0.0)))]
    rows += [
        (n, v, psi_band(float(v)))
        for n, v in sorted(feats.items(), key=lambda kv: -float(kv[1] or 0.0))
    ]
    if st.get("note"):
        s.p(f"Note: {st['note']}.")
    fig = _figure(title="PSI per feature", xaxis_title="PSI", height=max(360, 22 * len(feats)))
    ordered = sorted(feats.items(), key=lambda kv: float(kv[1] or 0.0))
    fig.add_bar(x=[v for _, v in ordered], y=[n for n, _ in ordered], orientation="h", name="PSI")
    s.figure(fig)
    s.table(["feature", "PSI", "band"], rows)
    return s


def _fairness(evidence: Mapping[str, Any]) -> _Section:
    s = _Section("Fairness")
    fair = evidence.get("fairness")
    if not isinstance(fair, Mapping):
        s.p(NOT_APPLICABLE_FAIRNESS)
        return s
    if fair.get("error"):
        s.p(f"Not measured: {fair['error']}")
        return s
    attrs = fair.get("attributes") or {}
    s.table(
        [
            "protected attribute",
            "approval-rate ratio (≥ 0.8: four-fifths)",
            "equal-opportunity difference",
        ],
        [
            (a, m.get("approval_rate_ratio"), m.get("equal_opportunity_difference"))
            for a, m in sorted(attrs.items())
            if isinstance(m, Mapping)
        ],
    )
    return s


def _explanations(evidence: Mapping[str, Any]) -> _Section:
    s = _Section("Explanations")
    ex = evidence.get("explanations")
    if not isinstance(ex, Mapping):
        s.p(NOT_VALIDATED)
        return s
    if ex.get("error"):
        s.p(f"Not measured: {ex['error']}")
        return s
    imp = ex.get("global_importance") or {}
    if imp:
        s.p(f"Global importance ({ex.get('importance_type', 'gain')}), from the booster:")
        top = sorted(imp.items(), key=lambda kv: -float(kv[1]))
        fig = _figure(title="Global feature importance", height=max(360, 22 * len(top)))
        fig.add_bar(
            x=[v for _, v in reversed(top)], y=[n for n, _ in reversed(top)], orientation="h"
        )
        s.figure(fig)
        s.table(["feature", "share"], top[:10])
    s.p(
        f"Sanity on {_fmt(ex.get('sample_rows'))} sampled test rows: TreeSHAP contributions + "
        f"bias equal the raw margin to within {_fmt(ex.get('additivity_max_error'))}; "
        f"{_fmt(ex.get('nan_values'))} NaN values."
    )
    for e in ex.get("examples") or []:
        if not isinstance(e, Mapping):
            continue
        s.p(
            f"Example ({e.get('example')}): transaction {e.get('transaction_id')}, score "
            f"{_fmt(e.get('score'))}, decision {e.get('decision')}, bias {_fmt(e.get('bias'))}. "
            f"Reasons given: {'; '.join(e.get('reasons') or []) or 'none (nothing raised it)'}."
        )
        s.table(
            ["feature", "value", "contribution (log-odds)"],
            [
                (c.get("feature"), c.get("value"), c.get("contribution"))
                for c in e.get("contributions") or []
            ],
        )
    return s


def _gate_rows(results: Sequence[GateResult]) -> list[tuple[Any, ...]]:
    return [(r.name, r.status, r.measured, r.limit, r.detail) for r in results]


def _gates(validations: Sequence[ValidationReport]) -> _Section:
    s = _Section("Validation gates")
    if not validations:
        s.p(NOT_VALIDATED)
        return s
    latest = validations[-1]
    s.p(
        f"Latest validation: {'PASSED' if latest.passed else 'FAILED'}, run by {latest.ran_by} "
        f"at {latest.ran_at} against policy sha256 {latest.policy_sha256}. A gate that is not "
        "applicable does not fail validation."
    )
    s.table(["gate", "result", "measured", "limit", "detail"], _gate_rows(latest.results))
    if len(validations) > 1:
        s.p("Earlier validations of this version:")
        s.table(
            ["ran at", "by", "result", "failed gates", "policy sha256"],
            [
                (
                    v.ran_at,
                    v.ran_by,
                    "PASS" if v.passed else "FAIL",
                    ", ".join(r.name for r in v.failed) or "–",
                    v.policy_sha256[:16],
                )
                for v in validations[:-1]
            ],
        )
    return s


def _approvals(transitions: Sequence[Mapping[str, Any]]) -> _Section:
    s = _Section("Approvals and lifecycle")
    if not transitions:
        s.p("No lifecycle transitions are recorded for this version yet.")
        return s
    s.p("Every transition is also an entry in the hash-chained decision ledger.")
    s.table(
        ["at", "from", "to", "by", "rationale", "ledger #"],
        [
            (
                t.get("at"),
                t.get("from_state") or "–",
                t.get("to_state"),
                t.get("actor"),
                t.get("rationale") or "–",
                t.get("ledger_seq"),
            )
            for t in transitions
        ],
    )
    return s


def _champions(history: Sequence[Mapping[str, Any]]) -> _Section:
    s = _Section("Champion history")
    if not history:
        s.p("This model has never had a champion.")
        return s
    s.p("bankml's own record of what served when (MLflow keeps no alias history).")
    s.table(
        ["at", "action", "version", "previous", "by", "rationale"],
        [
            (
                h.get("at"),
                h.get("action"),
                h.get("version"),
                h.get("previous_version"),
                h.get("actor"),
                h.get("rationale") or "–",
            )
            for h in history
        ],
    )
    return s


def _disciplines(
    info: ModelVersionInfo,
    evidence: Mapping[str, Any],
    validations: Sequence[ValidationReport],
    transitions: Sequence[Mapping[str, Any]],
) -> _Section:
    """Evidence mapped to what examiners assess, with honest gaps."""
    s = _Section("Model-risk disciplines: what this evidence covers")
    latest = validations[-1] if validations else None
    gates = {r.name: r for r in latest.results} if latest else {}
    trained_by = info.tags.get("trained_by") or "the developer"
    approvals = [t for t in transitions if t.get("to_state") == "approved"]
    approver = str(approvals[-1].get("actor")) if approvals else ""

    def gate(name: str) -> str:
        if name in gates:
            return f"{name} {gates[name].status}"
        hits = [r for n, r in gates.items() if n.startswith(name + ".")]
        if not hits:
            return f"{name}: not run"
        return f"{name}: " + ", ".join(f"{r.name.split('.', 1)[1]} {r.status}" for r in hits)

    validated = (
        f"validation {('passed' if latest.passed else 'FAILED')} on {latest.ran_at}"
        if latest
        else "no validation run yet"
    )
    independent = (
        f"approved by {approver}, who did not train it ({trained_by}); maker-checker enforced"
        if approver
        else "not yet approved: no independent sign-off is recorded"
    )
    ai_act = str(_get(evidence, "model", "eu_ai_act") or "classification not recorded")
    s.p(
        "SR 11-7 / OCC 2011-12 were replaced in April 2026 by principles-based interagency "
        "guidance that keeps the same disciplines; PRA SS1/23 applies to UK banks; the EU AI "
        f"Act's Arts. 9–15 bind high-risk systems such as credit scoring (Annex III 5(b)). For "
        f"this model: {ai_act}. The rows say what is covered, partly covered, and not covered."
    )
    rows: list[tuple[str, str, str, str, str]] = [
        (
            "SR 11-7",
            "Conceptual soundness",
            "documented purpose, features with point-in-time definitions, "
            + "; ".join((gate("leakage_scan"), gate("explanation_sanity"))),
            "design rationale is the code and this card; no written benchmark-model comparison",
            "challenger models and a narrative of alternatives considered",
        ),
        (
            "SR 11-7",
            "Ongoing monitoring",
            gate("stability") + " at validation; every decision is in the ledger",
            "delayed-label performance can be recomputed from dispositions",
            "the ongoing monitoring dashboard and drift alerts are not built yet",
        ),
        (
            "SR 11-7",
            "Outcomes analysis",
            "held-out test period after a label-delay gap; "
            + gate("floor")
            + "; "
            + gate("capacity_fit"),
            "back-testing on live outcomes only as labels arrive",
            "periodic post-deployment back-testing reports",
        ),
        (
            "SR 11-7",
            "Independent validation / effective challenge",
            f"{validated}; {independent}; " + gate("reproducibility"),
            "the validator works from this evidence; gates are automated, not a full review",
            "validator's qualitative report and findings log are the bank's to keep",
        ),
        (
            "SR 11-7",
            "Model inventory",
            f"registry entry {info.name} v{info.version} with lineage hashes, owner "
            f"({trained_by}), lifecycle state and champion history",
            "risk tier and materiality are not recorded",
            "firm-wide inventory outside bankml",
        ),
        (
            "PRA SS1/23",
            "1. Model identification and risk tiering",
            "inventory record with purpose and limitations",
            "–",
            "tiering (materiality, complexity) must be assigned by the bank",
        ),
        (
            "PRA SS1/23",
            "2. Governance",
            "role-based permissions, maker-checker approvals with rationale, ledger",
            "policy file versioned and hashed with each validation",
            "the accountable senior manager (SMF) must be named by the bank",
        ),
        (
            "PRA SS1/23",
            "3. Development, implementation and use",
            "recorded data, config, code and library versions; "
            + gate("reproducibility")
            + "; served only from the registry",
            "data-quality checks run before training (separate report)",
            "user acceptance and implementation testing records",
        ),
        (
            "PRA SS1/23",
            "4. Independent model validation",
            f"{validated}; {independent}",
            "automated gates; depth of challenge depends on the validator",
            "periodic revalidation schedule",
        ),
        (
            "PRA SS1/23",
            "5. Model risk mitigants",
            "human review of every alert within capacity; one-command rollback to the "
            "previous champion",
            "post-model adjustments are not modelled",
            "overlays and use restrictions beyond the stated limitations",
        ),
        (
            "EU AI Act",
            "Art. 9 Risk management",
            "gates, limitations, rollback",
            "risk register per system is not kept here",
            "a documented risk-management system across the lifecycle",
        ),
        (
            "EU AI Act",
            "Art. 10 Data governance",
            "data hash and path, point-in-time features, leakage scan; " + gate("fairness"),
            "bias examination only where protected attributes are configured",
            "data-collection provenance and representativeness statement",
        ),
        (
            "EU AI Act",
            "Art. 11 Technical documentation",
            "this documentation pack (HTML and Markdown) from stored evidence",
            "Annex IV items outside the model (system architecture, deployment)",
            "–",
        ),
        (
            "EU AI Act",
            "Art. 12 Record-keeping (logging)",
            "every decision and transition in the hash-chained ledger, replayable",
            "retention (deployers keep logs ≥ 6 months) is set by the bank's database policy",
            "–",
        ),
        (
            "EU AI Act",
            "Art. 13 Transparency",
            "purpose, limitations, performance and per-decision reasons",
            "instructions for use are this card, not a separate deployer manual",
            "–",
        ),
        (
            "EU AI Act",
            "Art. 14 Human oversight",
            "alerts go to analysts; approval and promotion by people; rollback",
            "–",
            "training records for overseers",
        ),
        (
            "EU AI Act",
            "Art. 15 Accuracy, robustness",
            "; ".join((gate("floor"), gate("stability"), gate("reproducibility"))),
            "robustness to adversarial inputs is not tested",
            "cybersecurity assessment",
        ),
    ]
    s.table(["framework", "discipline", "covered by", "partly covered", "not covered"], rows)
    return s


def render_docs(
    out_dir: Path,
    *,
    info: ModelVersionInfo,
    serving_meta: dict[str, Any],
    evaluation: dict[str, Any],
    validations: list[ValidationReport],
    transitions: Sequence[Record],
    champion_history: Sequence[Record],
    feature_definitions: Sequence[Mapping[str, Any]],
) -> tuple[Path, Path]:
    """Write ``model_card.html`` and ``model_card.md`` into ``out_dir``; return both paths.

    ``validations`` oldest first: the latest report's evidence drives the evidence sections.
    Nothing is recomputed. Both files are written atomically, so a reader never sees half
    a pack. ``transitions`` and ``champion_history`` may be dicts or records with
    ``to_dict()`` (the approvals module's ``Transition`` and ``ChampionChange``).
    """
    transitions = _records(transitions)
    champion_history = _records(champion_history)
    latest = validations[-1] if validations else None
    evidence: Mapping[str, Any] = latest.evidence if latest else {}
    plan = serving_meta.get("capacity_plan") or evaluation.get("capacity_plan")
    sections = [
        _overview(info, latest, transitions, evidence),
        _purpose(evidence),
        _lineage(info, evidence, serving_meta),
        _features(feature_definitions),
        _performance(evaluation),
        _calibration(evaluation),
        _capacity(plan, evaluation),
        _stability(evidence),
        _fairness(evidence),
        _explanations(evidence),
        _gates(validations),
        _approvals(transitions),
        _champions(champion_history),
        _disciplines(info, evidence, validations, transitions),
    ]
    title = f"Model documentation: {info.name} v{info.version}"
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    intro = (
        f"Generated {now} by bankml from stored evidence only (registry record, validation "
        "reports, lifecycle transitions); nothing was retrained or rescored to write it."
    )
    html_path, md_path = out_dir / HTML_FILE, out_dir / MD_FILE
    atomic_write_text(html_path, _to_html(title, intro, sections))
    atomic_write_text(md_path, _to_markdown(title, intro, sections))
    return html_path, md_path
