"""Validation gates: a model version's evidence judged against a policy file, gate by gate.

A policy is a TOML file versioned in the repository (``policies/fraud.toml``); its SHA-256 is
recorded with every validation, so a report always says which rules it was judged by. The
gates know nothing about fraud or credit: a use case gathers an *evidence* mapping (see
``bankml.fraud.validation``) and ``evaluate_gates`` reads only these sections of it::

    metrics          {"average_precision": 0.61, "ece": 0.004, ...}     floors / ceilings
    capacity         {"test_days": 15, "days_over_capacity": 1}          capacity fit
    stability        {"features": {name: psi}, "score": psi, "note"}     stability
    leakage          {"findings": [{"feature", "check", "detail"}]}      leakage scan
    reproducibility  {"identical": true, "rows": n, "detail": "..."}     reproducibility
    explanations     {"additivity_max_error", "nan_values", "top_feature"}  explanation sanity
    fairness         {"attributes": {attr: {"approval_rate_ratio",
                                            "equal_opportunity_difference"}}}  fairness

Any section may instead carry ``"error": "why it could not be measured"``.

Fail closed: a gate the policy declares whose evidence is missing or unmeasurable *fails*,
with the reason in ``detail``. The one exception is fairness: a model without protected
attributes configured (fraud detection, for instance) has no ``fairness`` section, and the
fairness gates report *not applicable* (``passed is None``), which does not fail validation.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sqlalchemy import RowMapping, insert, select

from bankml.core.canonical import canonical_json, to_jsonable
from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import InputError
from bankml.core.storage import Database
from bankml.governance.tables import model_validations

__all__ = [
    "PSI_ACT",
    "PSI_WATCH",
    "GatePolicy",
    "GateResult",
    "ValidationReport",
    "ValidationStore",
    "evaluate_gates",
    "load_policy",
    "parse_policy",
    "psi",
    "psi_band",
    "run_validation",
]

# PSI convention in bank model monitoring: < 0.10 stable, 0.10-0.25 watch, > 0.25 act.
PSI_WATCH = 0.10
PSI_ACT = 0.25
PSI_BINS = 10
PSI_EPSILON = 1e-4  # share given to an empty bin, so the log term stays finite

# Names that identify a row or an entity rather than describe it: a model whose strongest
# feature is one of these has memorised who, not learned what.
DEFAULT_IDENTIFIER_PATTERN = (
    r"(^|_)(id|ids|uuid|key|token|pan|iban)$|^(transaction|customer|terminal|card|account)$"
)

# --- messages (constants so tests and faces can match them) ----------------------------------
MSG_POLICY_MISSING = (
    "policy file {path} does not exist: give the TOML policy's path, or set BANKML_POLICY_DIR "
    "to the folder holding NAME.toml (the repository's policies/)"
)
MSG_POLICY_UNREADABLE = "cannot read policy file {path}: {reason}"
MSG_POLICY_BAD_TOML = "policy file {path} is not valid TOML: {reason}"
MSG_POLICY_BAD = "policy file {path}: {problem}"
MSG_NO_EVIDENCE = "no {section} evidence was collected"

_SECTIONS: dict[str, frozenset[str]] = {
    "model": frozenset({"name", "description"}),
    "floors": frozenset(),  # any metric name
    "ceilings": frozenset(),
    "capacity": frozenset({"max_share_days_over"}),
    "stability": frozenset({"max_feature_psi", "max_score_psi"}),
    "leakage": frozenset({"max_findings"}),
    "reproducibility": frozenset({"required"}),
    "explanations": frozenset({"max_additivity_error", "identifier_pattern"}),
    "fairness": frozenset({"min_approval_rate_ratio", "max_equal_opportunity_difference"}),
}
_METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class GatePolicy:
    """The gates one model must pass, as declared in its policy file.

    ``None`` for a gate means the policy does not declare it (it is not evaluated). The
    policy's SHA-256 is over the file's bytes, so a changed limit is a different policy.
    """

    model_name: str | None = None
    description: str = ""
    floors: Mapping[str, float] = field(default_factory=dict)
    ceilings: Mapping[str, float] = field(default_factory=dict)
    max_share_days_over_capacity: float | None = None
    max_feature_psi: float | None = None
    max_score_psi: float | None = None
    max_leakage_findings: int | None = None
    reproducibility_required: bool = False
    max_additivity_error: float | None = None
    identifier_pattern: str = DEFAULT_IDENTIFIER_PATTERN
    min_approval_rate_ratio: float | None = None
    max_equal_opportunity_difference: float | None = None
    sha256: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (for evidence and documentation)."""
        return {
            "model_name": self.model_name,
            "description": self.description,
            "floors": dict(self.floors),
            "ceilings": dict(self.ceilings),
            "max_share_days_over_capacity": self.max_share_days_over_capacity,
            "max_feature_psi": self.max_feature_psi,
            "max_score_psi": self.max_score_psi,
            "max_leakage_findings": self.max_leakage_findings,
            "reproducibility_required": self.reproducibility_required,
            "max_additivity_error": self.max_additivity_error,
            "identifier_pattern": self.identifier_pattern,
            "min_approval_rate_ratio": self.min_approval_rate_ratio,
            "max_equal_opportunity_difference": self.max_equal_opportunity_difference,
            "sha256": self.sha256,
            "source": self.source,
        }


def _number(path: Path, where: str, value: Any, *, lo: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(MSG_POLICY_BAD.format(path=path, problem=f"{where} must be a number"))
    if lo is not None and value < lo:
        raise InputError(MSG_POLICY_BAD.format(path=path, problem=f"{where} must be >= {lo:g}"))
    return float(value)


def _parse_policy(path: Path, data: Mapping[str, Any], digest: str) -> GatePolicy:
    def bad(problem: str) -> InputError:
        return InputError(MSG_POLICY_BAD.format(path=path, problem=problem))

    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise bad(f"unknown section [{unknown[0]}] (known: {', '.join(sorted(_SECTIONS))})")
    tables: dict[str, Mapping[str, Any]] = {}
    for section, value in data.items():
        if not isinstance(value, dict):
            raise bad(f"[{section}] must be a table")
        allowed = _SECTIONS[section]
        extra = sorted(set(value) - allowed) if allowed else []
        if extra:
            raise bad(f"unknown key {extra[0]!r} in [{section}] (known: {', '.join(allowed)})")
        tables[section] = value
    if not any(tables.get(s) for s in _SECTIONS if s != "model"):
        raise bad("declares no gates")

    def limits(section: str) -> dict[str, float]:
        out = {}
        for metric, value in tables.get(section, {}).items():
            if not _METRIC_NAME.match(metric):
                raise bad(f"[{section}] key {metric!r} must be a lower_snake_case metric name")
            out[metric] = _number(path, f"[{section}] {metric}", value)
        return out

    def opt(section: str, key: str, *, lo: float = 0.0) -> float | None:
        value = tables.get(section, {}).get(key)
        return None if value is None else _number(path, f"[{section}] {key}", value, lo=lo)

    model = tables.get("model", {})
    name, description = model.get("name"), model.get("description", "")
    if name is not None and not isinstance(name, str):
        raise bad("[model] name must be a string")
    if not isinstance(description, str):
        raise bad("[model] description must be a string")
    required = tables.get("reproducibility", {}).get("required", False)
    if not isinstance(required, bool):
        raise bad("[reproducibility] required must be true or false")
    pattern = tables.get("explanations", {}).get("identifier_pattern", DEFAULT_IDENTIFIER_PATTERN)
    try:
        re.compile(pattern)
    except (re.error, TypeError) as exc:
        raise bad(f"[explanations] identifier_pattern is not a regular expression: {exc}") from None
    leak = opt("leakage", "max_findings")
    if leak is not None and leak != int(leak):
        raise bad("[leakage] max_findings must be a whole number")
    share = opt("capacity", "max_share_days_over")
    if share is not None and share > 1:
        raise bad("[capacity] max_share_days_over is a share of days, between 0 and 1")
    return GatePolicy(
        model_name=name,
        description=description,
        floors=limits("floors"),
        ceilings=limits("ceilings"),
        max_share_days_over_capacity=share,
        max_feature_psi=opt("stability", "max_feature_psi"),
        max_score_psi=opt("stability", "max_score_psi"),
        max_leakage_findings=None if leak is None else int(leak),
        reproducibility_required=required,
        max_additivity_error=opt("explanations", "max_additivity_error"),
        identifier_pattern=str(pattern),
        min_approval_rate_ratio=opt("fairness", "min_approval_rate_ratio"),
        max_equal_opportunity_difference=opt("fairness", "max_equal_opportunity_difference"),
        sha256=digest,
        source=str(path),
    )


def load_policy(path: Path) -> GatePolicy:
    """Read and check a TOML gate policy; any problem is one ``InputError`` line.

    Unknown sections and keys are refused rather than ignored: a typo such as ``[floor]``
    would otherwise silently drop a gate and let a model through.
    """
    if not path.exists():
        raise InputError(MSG_POLICY_MISSING.format(path=path))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(MSG_POLICY_UNREADABLE.format(path=path, reason=exc.strerror)) from None
    return parse_policy(raw, path)


def parse_policy(raw: bytes, path: Path) -> GatePolicy:
    """Check a gate policy from its bytes (``path`` names it in messages and ``source``).

    The SHA-256 is over exactly these bytes; a pinned policy is parsed from its stored bytes.
    """
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(MSG_POLICY_BAD_TOML.format(path=path, reason=reason)) from None
    return _parse_policy(path, data, hashlib.sha256(raw).hexdigest())


# --- PSI ---------------------------------------------------------------------------------------


def psi(reference: ArrayLike, current: ArrayLike, bins: int = PSI_BINS) -> float:
    """Population stability index of ``current`` against ``reference``.

    Bins are the reference's deciles (quantile bins, as banks compute PSI; equal-width bins
    over pooled data, as some drift libraries do, hide shifts in skewed amounts), right-closed,
    with repeated edges merged so a binary feature gets two bins. Missing values (NaN) form a
    bin of their own, so a change in missingness is a shift too. An empty bin counts as
    ``PSI_EPSILON`` of its population.
    """
    ref = np.asarray(reference, dtype=np.float64).ravel()
    cur = np.asarray(current, dtype=np.float64).ravel()
    if ref.size == 0 or cur.size == 0:
        raise InputError("PSI needs values in both the reference and the current population")
    ref_ok, cur_ok = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if ref_ok.size:
        edges = np.unique(np.quantile(ref_ok, np.linspace(0, 1, bins + 1)[1:-1]))
    else:
        edges = np.empty(0)
    n_bins = edges.size + 2  # the value bins, then the NaN bin

    def shares(values: np.ndarray, ok: np.ndarray) -> np.ndarray:
        counts = np.bincount(np.searchsorted(edges, ok, side="left"), minlength=n_bins - 1)
        out = np.append(counts, values.size - ok.size).astype(np.float64) / values.size
        return np.where(out == 0, PSI_EPSILON, out)

    e, a = shares(ref, ref_ok), shares(cur, cur_ok)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_band(value: float) -> str:
    """``stable`` (< 0.10), ``watch`` (0.10-0.25) or ``act`` (> 0.25)."""
    if value < PSI_WATCH:
        return "stable"
    return "watch" if value <= PSI_ACT else "act"


# --- gates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict: ``passed`` is True, False, or None when not applicable."""

    name: str
    passed: bool | None
    measured: Any
    limit: Any
    detail: str = ""

    @property
    def status(self) -> str:
        """``PASS``, ``FAIL`` or ``n/a``."""
        return "n/a" if self.passed is None else ("PASS" if self.passed else "FAIL")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "name": self.name,
            "passed": self.passed,
            "measured": self.measured,
            "limit": self.limit,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GateResult:
        """Inverse of ``to_dict``."""
        return cls(str(d["name"]), d["passed"], d["measured"], d["limit"], str(d["detail"]))


def _finite(value: Any) -> float | None:
    """A finite number from the evidence (ints stay ints, so counts print as counts)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _section(evidence: Mapping[str, Any], name: str) -> tuple[Mapping[str, Any] | None, str]:
    """The evidence section, or None and why it cannot be judged."""
    value = evidence.get(name)
    if not isinstance(value, Mapping):
        return None, MSG_NO_EVIDENCE.format(section=name)
    if value.get("error"):
        return None, str(value["error"])
    return value, ""


def _bound_gates(
    kind: str, limits: Mapping[str, float], evidence: Mapping[str, Any]
) -> list[GateResult]:
    metrics, why = _section(evidence, "metrics")
    out = []
    for metric, limit in sorted(limits.items()):
        name = f"{kind}.{metric}"
        value = _finite(metrics.get(metric)) if metrics is not None else None
        if value is None:
            detail = why or f"metric {metric} was not measured"
            out.append(GateResult(name, False, None, limit, detail))
            continue
        ok = value >= limit if kind == "floor" else value <= limit
        op = ">=" if kind == "floor" else "<="
        out.append(GateResult(name, ok, value, limit, f"{metric} {value:.4g} {op} {limit:g}"))
    return out


def _capacity_gate(limit: float, evidence: Mapping[str, Any]) -> GateResult:
    cap, why = _section(evidence, "capacity")
    days = _finite(cap.get("test_days")) if cap is not None else None
    over = _finite(cap.get("days_over_capacity")) if cap is not None else None
    if cap is None or days is None or over is None or days <= 0:
        return GateResult("capacity_fit", False, None, limit, why or "no test days to judge")
    share = over / days
    detail = f"{over:.0f} of {days:.0f} test days had more alerts than the team's capacity"
    if cap.get("capacity") is not None:
        detail += f" ({cap['capacity']}/day)"
    return GateResult("capacity_fit", share <= limit, share, limit, detail)


def _stability_gates(policy: GatePolicy, evidence: Mapping[str, Any]) -> list[GateResult]:
    stab, why = _section(evidence, "stability")
    out = []
    if policy.max_feature_psi is not None:
        limit = policy.max_feature_psi
        feats = stab.get("features") if stab is not None else None
        values = (
            {str(k): _finite(v) for k, v in feats.items()} if isinstance(feats, Mapping) else {}
        )
        if not values or any(v is None for v in values.values()):
            detail = why or "feature PSI was not measured for every feature"
            out.append(GateResult("stability.features", False, None, limit, detail))
        else:
            worst = max(values, key=lambda k: values[k] or 0.0)
            value = values[worst] or 0.0
            over = sorted(k for k, v in values.items() if (v or 0.0) > limit)
            detail = f"largest PSI {value:.3f} ({worst}, {psi_band(value)})"
            if over:
                detail += f"; over the limit: {', '.join(over)}"
                if stab is not None and stab.get("note"):
                    detail += f" ({stab['note']})"
            out.append(GateResult("stability.features", value <= limit, value, limit, detail))
    if policy.max_score_psi is not None:
        limit = policy.max_score_psi
        score = _finite(stab.get("score")) if stab is not None else None
        if score is None:
            detail = why or "score PSI was not measured"
            out.append(GateResult("stability.score", False, None, limit, detail))
        else:
            detail = f"score PSI {score:.3f} train vs test ({psi_band(score)})"
            if score > limit and stab is not None and stab.get("note"):
                detail += f" ({stab['note']})"
            out.append(GateResult("stability.score", score <= limit, score, limit, detail))
    return out


def _leakage_gate(limit: int, evidence: Mapping[str, Any]) -> GateResult:
    leak, why = _section(evidence, "leakage")
    findings = leak.get("findings") if leak is not None else None
    if leak is None or not isinstance(findings, Sequence):
        return GateResult("leakage_scan", False, None, limit, why or "no leakage scan result")
    n = len(findings)
    detail = (
        "; ".join(str(f.get("detail", f)) if isinstance(f, Mapping) else str(f) for f in findings)
        if n
        else "no single feature predicts the label too well; no target-like feature names"
    )
    return GateResult("leakage_scan", n <= limit, n, limit, detail)


def _reproducibility_gate(evidence: Mapping[str, Any]) -> GateResult:
    rep, why = _section(evidence, "reproducibility")
    limit = "identical predictions"
    if rep is None or not isinstance(rep.get("identical"), bool):
        return GateResult("reproducibility", False, None, limit, why or "no retraining was done")
    identical = bool(rep["identical"])
    measured = "identical" if identical else f"{rep.get('differing_rows', '?')} rows differ"
    return GateResult("reproducibility", identical, measured, limit, str(rep.get("detail", "")))


def _explanation_gate(policy: GatePolicy, evidence: Mapping[str, Any]) -> GateResult:
    exp, why = _section(evidence, "explanations")
    limit = policy.max_additivity_error
    if exp is None:
        return GateResult("explanation_sanity", False, None, limit, why)
    error = _finite(exp.get("additivity_max_error"))
    nans = exp.get("nan_values")
    top = exp.get("top_feature")
    problems = []
    if error is None:
        problems.append("additivity was not checked")
    elif limit is not None and error > limit:
        problems.append(f"contributions + bias differ from the raw score by up to {error:.3g}")
    if not isinstance(nans, int) or isinstance(nans, bool):
        problems.append("NaN check was not done")
    elif nans:
        problems.append(f"{nans} explanation values are NaN")
    if not isinstance(top, str) or not top:
        problems.append("no global importance")
    elif re.search(policy.identifier_pattern, top):
        problems.append(f"the most important feature {top!r} is an identifier")
    if problems:
        return GateResult("explanation_sanity", False, error, limit, "; ".join(problems))
    rows = exp.get("sample_rows", "?")
    detail = f"additive on {rows} sampled rows, no NaN; most important feature {top}"
    return GateResult("explanation_sanity", True, error, limit, detail)


def _fairness_gates(policy: GatePolicy, evidence: Mapping[str, Any]) -> list[GateResult]:
    candidates = [
        ("fairness.approval_rate_ratio", "approval_rate_ratio", policy.min_approval_rate_ratio),
        (
            "fairness.equal_opportunity",
            "equal_opportunity_difference",
            policy.max_equal_opportunity_difference,
        ),
    ]
    declared = [(n, k, lim) for n, k, lim in candidates if lim is not None]
    if "fairness" not in evidence:
        # Not applicable (does not fail): the model has no protected attributes configured.
        na = "not applicable: no protected attributes configured for this model"
        return [GateResult(name, None, None, limit, na) for name, _, limit in declared]
    fair, why = _section(evidence, "fairness")
    attrs = fair.get("attributes") if fair is not None else None
    out = []
    for name, key, limit in declared:
        values = (
            {str(a): _finite(m.get(key)) for a, m in attrs.items() if isinstance(m, Mapping)}
            if isinstance(attrs, Mapping)
            else {}
        )
        if not values or any(v is None for v in values.values()):
            detail = why or f"{key} was not measured for every protected attribute"
            out.append(GateResult(name, False, None, limit, detail))
            continue
        if key == "approval_rate_ratio":
            # Four-fifths rule: the least-approved group's rate over the most-approved's.
            attr = min(values, key=lambda a: values[a] or 0.0)
            value = values[attr] or 0.0
            ok = value >= limit
        else:
            attr = max(values, key=lambda a: abs(values[a] or 0.0))
            value = values[attr] or 0.0
            ok = abs(value) <= limit
        out.append(GateResult(name, ok, value, limit, f"worst attribute: {attr}"))
    return out


def evaluate_gates(policy: GatePolicy, evidence: Mapping[str, Any]) -> list[GateResult]:
    """Judge ``evidence`` against every gate ``policy`` declares, in a fixed order."""
    results = _bound_gates("floor", policy.floors, evidence)
    results += _bound_gates("ceiling", policy.ceilings, evidence)
    if policy.max_share_days_over_capacity is not None:
        results.append(_capacity_gate(policy.max_share_days_over_capacity, evidence))
    results += _stability_gates(policy, evidence)
    if policy.max_leakage_findings is not None:
        results.append(_leakage_gate(policy.max_leakage_findings, evidence))
    if policy.reproducibility_required:
        results.append(_reproducibility_gate(evidence))
    if policy.max_additivity_error is not None:
        results.append(_explanation_gate(policy, evidence))
    results += _fairness_gates(policy, evidence)
    return results


# --- reports and their store -------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationReport:
    """One validation run: the gate results, the evidence they judged, who ran it and when."""

    model_name: str
    version: int
    results: tuple[GateResult, ...]
    passed: bool
    evidence: Mapping[str, Any]
    ran_at: str
    ran_by: str
    policy_sha256: str
    id: int | None = None

    @property
    def failed(self) -> list[GateResult]:
        """The gates that failed."""
        return [r for r in self.results if r.passed is False]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "id": self.id,
            "model_name": self.model_name,
            "version": self.version,
            "passed": self.passed,
            "results": [r.to_dict() for r in self.results],
            "evidence": to_jsonable(dict(self.evidence)),
            "ran_at": self.ran_at,
            "ran_by": self.ran_by,
            "policy_sha256": self.policy_sha256,
        }


def run_validation(
    policy: GatePolicy,
    evidence: Mapping[str, Any],
    *,
    model_name: str,
    version: int,
    ran_by: str,
    clock: Clock | None = None,
) -> ValidationReport:
    """Evaluate the gates and wrap the verdict; passed = no gate failed (n/a does not fail)."""
    if policy.model_name is not None and policy.model_name != model_name:
        raise InputError(
            f"policy {policy.source or '(unnamed)'} is for model {policy.model_name}, "
            f"not {model_name}"
        )
    results = tuple(evaluate_gates(policy, evidence))
    return ValidationReport(
        model_name=model_name,
        version=version,
        results=results,
        passed=all(r.passed is not False for r in results),
        evidence=evidence,
        ran_at=utc_iso((clock or SystemClock()).now()),
        ran_by=ran_by,
        policy_sha256=policy.sha256,
    )


def _to_report(m: RowMapping) -> ValidationReport:
    return ValidationReport(
        model_name=str(m["model_name"]),
        version=int(m["version"]),
        results=tuple(GateResult.from_dict(r) for r in json.loads(m["results"])),
        passed=bool(m["passed"]),
        evidence=json.loads(m["evidence"]),
        ran_at=str(m["ran_at"]),
        ran_by=str(m["ran_by"]),
        policy_sha256=str(m["policy_sha256"]),
        id=int(m["id"]),
    )


class ValidationStore:
    """Validation reports in the app database (``model_validations``), newest last.

    Reports are only ever added: re-validating a version adds a row, so the history of
    verdicts (and the evidence each was judged on) stays for the validator and the auditor.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, report: ValidationReport) -> int:
        """Store a report; returns its id."""
        row = {
            "model_name": report.model_name,
            "version": report.version,
            "ran_at": report.ran_at,
            "ran_by": report.ran_by,
            "passed": report.passed,
            "policy_sha256": report.policy_sha256,
            "results": canonical_json([r.to_dict() for r in report.results]),
            "evidence": canonical_json(dict(report.evidence)),
        }
        with self._db.engine.begin() as conn:
            result = conn.execute(insert(model_validations).values(**row))
            key = result.inserted_primary_key
        if key is None:  # pragma: no cover - every backend bankml supports returns it
            raise RuntimeError("the database returned no id for the stored validation")
        return int(key[0])

    def all(self, model_name: str, version: int) -> list[ValidationReport]:
        """Every report for one version, oldest first."""
        query = (
            select(model_validations)
            .where(
                model_validations.c.model_name == model_name,
                model_validations.c.version == version,
            )
            .order_by(model_validations.c.id)
        )
        with self._db.engine.connect() as conn:
            return [_to_report(m) for m in conn.execute(query).mappings()]

    def latest(self, model_name: str, version: int) -> ValidationReport | None:
        """The most recent report for one version, if it was ever validated."""
        query = (
            select(model_validations)
            .where(
                model_validations.c.model_name == model_name,
                model_validations.c.version == version,
            )
            .order_by(model_validations.c.id.desc())
            .limit(1)
        )
        with self._db.engine.connect() as conn:
            m = conn.execute(query).mappings().first()
        return _to_report(m) if m is not None else None
