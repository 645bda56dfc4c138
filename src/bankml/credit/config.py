"""Credit settings the bank edits (``credit.toml``) and the reason-code catalogue.

Both are TOML files read once into frozen objects; any problem is one ``InputError`` line
naming the file and the key. The defaults ship beside this module (``credit.toml``,
``reason_codes.toml``) and are loaded with ``importlib.resources``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from bankml.core.errors import InputError

__all__ = [
    "Actionable",
    "CreditConfig",
    "HardRules",
    "ReasonCatalogue",
    "ReasonCode",
    "ScoreScale",
    "default_catalogue",
    "default_config",
    "load_catalogue",
    "load_config",
]

_SECTIONS = {
    "features",
    "monotone",
    "protected",
    "score",
    "cutoffs",
    "rules",
    "actionable",
    "training",
}
RULE_NAMES = ("min_age", "affordability", "bureau_exclusion")


@dataclass(frozen=True)
class ScoreScale:
    """Points scale: ``base_score`` at good:bad odds ``base_odds``; +pdo doubles the odds."""

    base_score: float = 600.0
    base_odds: float = 30.0
    points_to_double_odds: float = 20.0

    def score(self, pd: float) -> float:
        """The score of a probability of default (higher is safer), to 0.01 point."""
        p = min(max(pd, 1e-9), 1 - 1e-9)
        odds = (1 - p) / p
        factor = self.points_to_double_odds / math.log(2)
        return round(self.base_score + factor * math.log(odds / self.base_odds), 2)


@dataclass(frozen=True)
class HardRules:
    """Policy rules applied before the model; each failure is a reason of its own."""

    min_age: int | None = 18
    max_debt_to_income_after_loan: float | None = 0.75
    max_delinquencies_2y: int | None = 4


@dataclass(frozen=True)
class Actionable:
    """A feature an applicant can change for recourse, the bound and the smallest step."""

    feature: str
    bound: float
    step: float


@dataclass(frozen=True)
class CreditConfig:
    """Everything about the credit model that is a bank decision rather than a fitted value."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    monotone: Mapping[str, int]
    protected: tuple[str, ...] = ("sex", "age", "age_band")
    proxies: tuple[str, ...] = ()
    proxy_auc_threshold: float = 0.75
    scale: ScoreScale = field(default_factory=ScoreScale)
    approve_max_pd: float = 0.08
    decline_min_pd: float = 0.20
    rules: HardRules = field(default_factory=HardRules)
    actionable: tuple[Actionable, ...] = ()
    calibration: str = "platt"
    test_fraction: float = 0.2
    calibration_fraction: float = 0.2
    n_estimators: int = 200
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_child_samples: int = 40
    seed: int = 0
    baseline_size: int = 200

    @property
    def features(self) -> list[str]:
        """Model features in model order: numeric, then categorical."""
        return [*self.numeric, *self.categorical]

    def decision_for(self, pd: float) -> str:
        """``approve``, ``refer`` or ``decline`` from the PD cut-offs alone."""
        if pd <= self.approve_max_pd:
            return "approve"
        return "decline" if pd > self.decline_min_pd else "refer"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (stored with the model)."""
        out = asdict(self)
        out["monotone"] = dict(self.monotone)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CreditConfig:
        """Inverse of ``to_dict``."""
        raw = dict(d)
        raw["numeric"] = tuple(raw["numeric"])
        raw["categorical"] = tuple(raw["categorical"])
        raw["protected"] = tuple(raw["protected"])
        raw["proxies"] = tuple(raw["proxies"])
        raw["scale"] = ScoreScale(**raw["scale"])
        raw["rules"] = HardRules(**raw["rules"])
        raw["actionable"] = tuple(Actionable(**a) for a in raw["actionable"])
        return cls(**raw)

    def with_features(
        self,
        numeric: Sequence[str],
        categorical: Sequence[str],
        monotone: Mapping[str, int],
        protected: Sequence[str],
    ) -> CreditConfig:
        """The same policy for another data set (``--mapping``): its features and directions.

        Hard rules and recourse keep only what names the new features.
        """
        names = set(numeric)
        actionable = tuple(a for a in self.actionable if a.feature in names)
        rules = HardRules(
            min_age=None,
            max_debt_to_income_after_loan=None,
            max_delinquencies_2y=(
                self.rules.max_delinquencies_2y if "delinquencies_2y" in names else None
            ),
        )
        return replace(
            self,
            numeric=tuple(numeric),
            categorical=tuple(categorical),
            monotone=dict(monotone),
            protected=tuple(protected),
            proxies=tuple(p for p in self.proxies if p in names),
            actionable=actionable,
            rules=rules,
        )


def _bad(path: Path | str, problem: str) -> InputError:
    return InputError(f"{path}: {problem}")


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(f"{path} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _bad(path, f"not valid TOML: {str(exc).splitlines()[0]}") from None


def _num(path: Path | str, where: str, value: Any, *, lo: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(path, f"{where} must be a number")
    if lo is not None and value < lo:
        raise _bad(path, f"{where} must be >= {lo:g}")
    return float(value)


def _names(path: Path | str, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _bad(path, f"{where} must be a list of column names")
    return tuple(value)


def parse_config(data: Mapping[str, Any], path: Path | str) -> CreditConfig:
    """Check a parsed ``credit.toml`` and build the config."""
    unknown = sorted(set(data) - _SECTIONS)
    if unknown:
        raise _bad(path, f"unknown section [{unknown[0]}]")
    feats = data.get("features", {})
    numeric = _names(path, "[features] numeric", feats.get("numeric", []))
    categorical = _names(path, "[features] categorical", feats.get("categorical", []))
    if not numeric and not categorical:
        raise _bad(path, "[features] names no feature")
    both = set(numeric) & set(categorical)
    if both:
        raise _bad(path, f"feature {sorted(both)[0]!r} is both numeric and categorical")
    monotone: dict[str, int] = {}
    for name, sign in data.get("monotone", {}).items():
        if name not in numeric:
            raise _bad(path, f"[monotone] {name} is not a numeric feature")
        if sign not in (1, -1) or isinstance(sign, bool):
            raise _bad(path, f"[monotone] {name} must be 1 (riskier when larger) or -1")
        monotone[name] = int(sign)
    prot = data.get("protected", {})
    protected = _names(path, "[protected] columns", prot.get("columns", []))
    leaked = sorted(set(protected) & set(numeric + categorical))
    if leaked:
        raise _bad(path, f"protected attribute {leaked[0]!r} must not be a model feature")
    proxies = _names(path, "[protected] proxies", prot.get("proxies", []))
    score = data.get("score", {})
    scale = ScoreScale(
        base_score=_num(path, "[score] base_score", score.get("base_score", 600)),
        base_odds=_num(path, "[score] base_odds", score.get("base_odds", 30), lo=1e-6),
        points_to_double_odds=_num(
            path, "[score] points_to_double_odds", score.get("points_to_double_odds", 20), lo=1
        ),
    )
    cut = data.get("cutoffs", {})
    approve = _num(path, "[cutoffs] approve_max_pd", cut.get("approve_max_pd", 0.08), lo=0)
    decline = _num(path, "[cutoffs] decline_min_pd", cut.get("decline_min_pd", 0.20), lo=0)
    if not 0 < approve <= decline < 1:
        raise _bad(path, "[cutoffs] need 0 < approve_max_pd <= decline_min_pd < 1")
    rules_raw = data.get("rules", {})
    rules = HardRules(
        min_age=(
            None
            if rules_raw.get("min_age") is None
            else int(_num(path, "[rules] min_age", rules_raw["min_age"], lo=0))
        ),
        max_debt_to_income_after_loan=(
            None
            if rules_raw.get("max_debt_to_income_after_loan") is None
            else _num(
                path,
                "[rules] max_debt_to_income_after_loan",
                rules_raw["max_debt_to_income_after_loan"],
                lo=0,
            )
        ),
        max_delinquencies_2y=(
            None
            if rules_raw.get("max_delinquencies_2y") is None
            else int(_num(path, "[rules] max_delinquencies_2y", rules_raw["max_delinquencies_2y"]))
        ),
    )
    actionable = []
    for name, spec in data.get("actionable", {}).items():
        if name not in monotone:
            raise _bad(path, f"[actionable.{name}] needs a [monotone] direction")
        if not isinstance(spec, dict):
            raise _bad(path, f"[actionable.{name}] must be a table")
        key = "min" if monotone[name] > 0 else "max"
        if key not in spec:
            raise _bad(path, f"[actionable.{name}] needs `{key}` (the bound recourse may reach)")
        actionable.append(
            Actionable(
                feature=name,
                bound=_num(path, f"[actionable.{name}] {key}", spec[key]),
                step=_num(path, f"[actionable.{name}] step", spec.get("step", 1.0), lo=1e-12),
            )
        )
    tr = data.get("training", {})
    calibration = tr.get("calibration", "platt")
    if calibration not in ("platt", "isotonic"):
        raise _bad(path, "[training] calibration must be 'platt' or 'isotonic'")

    def frac(key: str, default: float) -> float:
        v = _num(path, f"[training] {key}", tr.get(key, default))
        if not 0 < v < 0.5:
            raise _bad(path, f"[training] {key} must be between 0 and 0.5")
        return v

    def whole(key: str, default: int, lo: int = 1) -> int:
        v = _num(path, f"[training] {key}", tr.get(key, default), lo=lo)
        if v != int(v):
            raise _bad(path, f"[training] {key} must be a whole number")
        return int(v)

    return CreditConfig(
        numeric=numeric,
        categorical=categorical,
        monotone=monotone,
        protected=protected,
        proxies=proxies,
        proxy_auc_threshold=_num(
            path, "[protected] proxy_auc_threshold", prot.get("proxy_auc_threshold", 0.75), lo=0.5
        ),
        scale=scale,
        approve_max_pd=approve,
        decline_min_pd=decline,
        rules=rules,
        actionable=tuple(actionable),
        calibration=str(calibration),
        test_fraction=frac("test_fraction", 0.2),
        calibration_fraction=frac("calibration_fraction", 0.2),
        n_estimators=whole("n_estimators", 200),
        learning_rate=_num(path, "[training] learning_rate", tr.get("learning_rate", 0.05), lo=0),
        num_leaves=whole("num_leaves", 15, lo=2),
        min_child_samples=whole("min_child_samples", 40),
        seed=whole("seed", 0, lo=0),
        baseline_size=whole("baseline_size", 200, lo=10),
    )


def load_config(path: Path) -> CreditConfig:
    """Read a ``credit.toml``."""
    return parse_config(_read_toml(path), path)


def default_config() -> CreditConfig:
    """The shipped ``credit.toml`` (the synthetic bank's columns)."""
    text = resources.files("bankml.credit").joinpath("credit.toml").read_text("utf-8")
    return parse_config(tomllib.loads(text), "credit.toml")


@dataclass(frozen=True)
class ReasonCode:
    """One catalogue entry: a code, the customer-facing text, and what it covers."""

    code: str
    text: str
    features: tuple[str, ...] = ()
    rule: str | None = None


@dataclass(frozen=True)
class ReasonCatalogue:
    """The bank's reason codes; finds the code covering a feature or a rule."""

    codes: tuple[ReasonCode, ...]
    sha256: str = ""

    def for_feature(self, feature: str) -> ReasonCode:
        """The code covering ``feature``, or a generic one naming it (listed in evidence)."""
        for c in self.codes:
            if feature in c.features:
                return c
        return ReasonCode(f"X-{feature}", f"Value of {feature.replace('_', ' ')}", (feature,))

    def for_rule(self, rule: str) -> ReasonCode:
        """The code of a hard policy rule."""
        for c in self.codes:
            if c.rule == rule:
                return c
        return ReasonCode(f"X-{rule}", f"Does not meet the bank's {rule.replace('_', ' ')} rule")

    def uncovered(self, features: Sequence[str]) -> list[str]:
        """Model features no code covers."""
        covered = {f for c in self.codes for f in c.features}
        return [f for f in features if f not in covered]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (stored with the model, so a replay uses the same texts)."""
        return {"sha256": self.sha256, "codes": [asdict(c) for c in self.codes]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReasonCatalogue:
        """Inverse of ``to_dict``."""
        codes = tuple(
            ReasonCode(c["code"], c["text"], tuple(c["features"]), c.get("rule"))
            for c in d["codes"]
        )
        return cls(codes, str(d.get("sha256", "")))


def parse_catalogue(text: str, source: str) -> ReasonCatalogue:
    """Check a reason-code catalogue: unique codes, each feature covered at most once."""
    import hashlib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _bad(source, f"not valid TOML: {str(exc).splitlines()[0]}") from None
    entries = data.get("code")
    if not isinstance(entries, list) or not entries:
        raise _bad(source, "needs [[code]] entries")
    codes: list[ReasonCode] = []
    seen_codes: set[str] = set()
    seen_features: set[str] = set()
    for i, e in enumerate(entries, start=1):
        if not isinstance(e, dict) or not isinstance(e.get("code"), str):
            raise _bad(source, f"entry {i} needs a code")
        text_ = e.get("text")
        if not isinstance(text_, str) or not text_.strip():
            raise _bad(source, f"code {e['code']} needs a customer-facing text")
        feats = _names(source, f"code {e['code']} features", e.get("features", []))
        rule = e.get("rule")
        if rule is not None and rule not in RULE_NAMES:
            raise _bad(source, f"code {e['code']}: unknown rule {rule!r}")
        if not feats and rule is None:
            raise _bad(source, f"code {e['code']} covers no feature and no rule")
        if e["code"] in seen_codes:
            raise _bad(source, f"code {e['code']} appears twice")
        twice = sorted(seen_features & set(feats))
        if twice:
            raise _bad(source, f"feature {twice[0]} is covered by two codes")
        seen_codes.add(e["code"])
        seen_features.update(feats)
        codes.append(ReasonCode(e["code"], text_.strip(), feats, rule))
    return ReasonCatalogue(tuple(codes), hashlib.sha256(text.encode()).hexdigest())


def load_catalogue(path: Path) -> ReasonCatalogue:
    """Read a reason-code catalogue file."""
    if not path.is_file():
        raise InputError(f"{path} does not exist")
    return parse_catalogue(path.read_text(encoding="utf-8"), str(path))


def default_catalogue() -> ReasonCatalogue:
    """The shipped ``reason_codes.toml``."""
    text = resources.files("bankml.credit").joinpath("reason_codes.toml").read_text("utf-8")
    return parse_catalogue(text, "reason_codes.toml")
