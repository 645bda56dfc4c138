"""The model documentation pack: one HTML page with plots and the same content in Markdown.

Rendered from stored evidence only (the registry's record of the version, the validation
reports with the evidence they judged, the lifecycle transitions and champion history) and
never by retraining or rescoring: the pack documents what was validated, not what the code
would do today. The HTML opens offline (an air-gapped review room): Plotly's JavaScript comes
from the plotly wheel and is inlined once, no CDN.

The content follows what model-risk examiners ask for: purpose and limits, data and lineage,
the kind's own sections (its features, metrics, plots and tables: ``ModelKind.doc_sections``),
stability, fairness, explanations, gate results, approvals with rationale, champion history,
and a table (data: ``disciplines.toml``) mapping the evidence to SR 11-7's
disciplines (kept by the 2026 interagency guidance), PRA SS1/23's principles and the EU AI Act
Arts. 9-15, saying plainly what is and is not covered.
"""

from __future__ import annotations

import html
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from bankml.core.files import atomic_write_text
from bankml.governance.gates import GateResult, ValidationReport, psi_band
from bankml.governance.kinds import DocSection
from bankml.governance.registry import ModelVersionInfo

__all__ = ["NOT_VALIDATED", "SupportsToDict", "fmt_value", "new_figure", "render_docs"]

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


# --- rendering (one DocSection list, rendered twice: HTML and Markdown) --------------------


def fmt_value(value: Any) -> str:
    """A cell or inline number as the documentation pack prints it (one place for formats)."""
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


_fmt = fmt_value


def _md_cell(value: Any) -> str:
    return _fmt(value).replace("|", "\\|").replace("\n", " ")


def _to_markdown(title: str, intro: str, sections: list[DocSection]) -> str:
    out = [f"# {title}", "", intro, ""]
    for s in sections:
        out += [f"## {s.title}", ""]
        for b in s.blocks:
            if isinstance(b, str):
                out += [b, ""]
            elif isinstance(b, list):
                out += [f"- {item}" for item in b] + [""]
            elif isinstance(b, tuple):
                out.append("| " + " | ".join(_md_cell(h) for h in b[0]) + " |")
                out.append("|" + "---|" * len(b[0]))
                out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b[1]]
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


def _to_html(title: str, intro: str, sections: list[DocSection]) -> str:
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
            elif isinstance(b, tuple):
                head = "".join(f"<th>{html.escape(str(h))}</th>" for h in b[0])
                body = "".join(
                    "<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in b[1]
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


def new_figure(**layout: Any) -> Any:
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
    kind_title: str = "",
) -> DocSection:
    s = DocSection("Overview")
    state = transitions[-1].get("to_state") if transitions else info.tags.get("bankml.state")
    verdict = "not validated" if latest is None else ("passed" if latest.passed else "FAILED")
    s.table(
        ["", ""],
        [
            ("model", info.name),
            ("version", info.version),
            ("kind", kind_title or _get(evidence, "model", "kind")),
            ("lifecycle state", state or "registered"),
            ("aliases", ", ".join(info.aliases) or "–"),
            ("latest validation", verdict + (f" ({latest.ran_at})" if latest else "")),
            ("registered at", _ms_to_iso(info.created_at_ms)),
            ("trained by", info.tags.get("trained_by")),
            ("MLflow run", info.run_id),
        ],
    )
    return s


def _purpose(evidence: Mapping[str, Any]) -> DocSection:
    s = DocSection("Purpose, intended use and limitations")
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
) -> DocSection:
    s = DocSection("Data and lineage")
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


def _stability(evidence: Mapping[str, Any]) -> DocSection:
    s = DocSection("Stability (PSI, training vs test period)")
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
    fig = new_figure(title="PSI per feature", xaxis_title="PSI", height=max(360, 22 * len(feats)))
    ordered = sorted(feats.items(), key=lambda kv: float(kv[1] or 0.0))
    fig.add_bar(x=[v for _, v in ordered], y=[n for n, _ in ordered], orientation="h", name="PSI")
    s.figure(fig)
    s.table(["feature", "PSI", "band"], rows)
    return s


def _fairness(evidence: Mapping[str, Any]) -> DocSection:
    s = DocSection("Fairness")
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


def _explanations(evidence: Mapping[str, Any]) -> DocSection:
    s = DocSection("Explanations")
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
        fig = new_figure(title="Global feature importance", height=max(360, 22 * len(top)))
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


def _gates(validations: Sequence[ValidationReport]) -> DocSection:
    s = DocSection("Validation gates")
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


def _approvals(transitions: Sequence[Mapping[str, Any]]) -> DocSection:
    s = DocSection("Approvals and lifecycle")
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


def _champions(history: Sequence[Mapping[str, Any]]) -> DocSection:
    s = DocSection("Champion history")
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


_PLACEHOLDER = re.compile(r"\{(\w+)(?::([\w.]+))?\}")


@lru_cache(maxsize=1)
def _disciplines_table() -> dict[str, Any]:
    """The disciplines table, a data file beside this module (``disciplines.toml``)."""
    text = resources.files("bankml.governance").joinpath("disciplines.toml").read_text("utf-8")
    return tomllib.loads(text)


def _disciplines(
    info: ModelVersionInfo,
    evidence: Mapping[str, Any],
    validations: Sequence[ValidationReport],
    transitions: Sequence[Mapping[str, Any]],
) -> DocSection:
    """Evidence mapped to what examiners assess, with honest gaps (rows: disciplines.toml)."""
    s = DocSection("Model-risk disciplines: what this evidence covers")
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

    values = {
        "validated": (
            f"validation {('passed' if latest.passed else 'FAILED')} on {latest.ran_at}"
            if latest
            else "no validation run yet"
        ),
        "independent": (
            f"approved by {approver}, who did not train it ({trained_by}); maker-checker enforced"
            if approver
            else "not yet approved: no independent sign-off is recorded"
        ),
        "trained_by": trained_by,
        "name": info.name,
        "version": str(info.version),
        "ai_act": str(_get(evidence, "model", "eu_ai_act") or "classification not recorded"),
    }

    def fill(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            if m[1] == "gate" and m[2]:
                return gate(m[2])
            return values.get(m[1], m[0])

        return _PLACEHOLDER.sub(one, text)

    table = _disciplines_table()
    s.p(fill(str(table["intro"])))
    keys = ("framework", "discipline", "covered", "partly", "not_covered")
    rows = [tuple(fill(str(row.get(k, "–"))) for k in keys) for row in table["row"]]
    s.table(list(table["header"]), rows)
    return s


def render_docs(
    out_dir: Path,
    *,
    info: ModelVersionInfo,
    validations: list[ValidationReport],
    transitions: Sequence[Record],
    champion_history: Sequence[Record],
    kind_sections: Sequence[DocSection] = (),
    kind_title: str = "",
) -> tuple[Path, Path]:
    """Write ``model_card.html`` and ``model_card.md`` into ``out_dir``; return both paths.

    ``validations`` oldest first: the latest report's evidence drives the evidence sections.
    The generic sections (overview, purpose, lineage, stability, fairness, explanations,
    gates, approvals, champions, disciplines) surround ``kind_sections``, which the model's
    kind builds from the same stored evidence (``ModelKind.doc_sections``). Nothing is
    recomputed. Both files are written atomically, so a reader never sees half a pack.
    ``transitions`` and ``champion_history`` may be dicts or records with ``to_dict()``.
    """
    transition_rows = _records(transitions)
    history_rows = _records(champion_history)
    latest = validations[-1] if validations else None
    evidence: Mapping[str, Any] = latest.evidence if latest else {}
    found = evidence.get("serving")
    meta: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    sections = [
        _overview(info, latest, transition_rows, evidence, kind_title),
        _purpose(evidence),
        _lineage(info, evidence, meta),
        *kind_sections,
        _stability(evidence),
        _fairness(evidence),
        _explanations(evidence),
        _gates(validations),
        _approvals(transition_rows),
        _champions(history_rows),
        _disciplines(info, evidence, validations, transition_rows),
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
