"""One credit decision, computed the same way live and in replay.

``Application`` is the typed request (parsed once at the face). ``CreditModelVersion`` is a
loaded model version with its serving metadata (config, baseline, catalogue, categories);
its ``evaluate`` is the one code path for live decisions and for replay, so a replay with an
unchanged model reproduces the logged decision, reasons and contributions bit for bit.

Decision order:
1. hard policy rules (minimum age, affordability, bureau exclusions): a failure declines,
   with the rule as the first reason, whatever the model says;
2. the calibrated PD against the cut-offs: approve / refer / decline;
3. reasons for declines and referrals (approvals only when asked), recourse for declines.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bankml.core.errors import InputError
from bankml.credit.config import CreditConfig, ReasonCatalogue
from bankml.credit.model import CreditModel
from bankml.credit.reasons import principal_reasons, rule_reasons
from bankml.credit.recourse import Recourse, find_recourse

__all__ = [
    "MIN_AGE_FACT",
    "SERVING_FILE",
    "Application",
    "CreditModelVersion",
    "load_version",
]

SERVING_FILE = "serving.json"
# The ledger records whether the age rule was met, never the applicant's age.
MIN_AGE_FACT = "policy:min_age_met"
MAX_TEXT = 64


@dataclass(frozen=True)
class Application:
    """One credit application in role names; values are the model's features by name.

    ``applicant_age`` is used only by the minimum-age rule; it is never a model input and
    never logged (the ledger keeps only whether the rule was met). ``customer_id`` is
    tokenized before it reaches the ledger.
    """

    application_id: str
    customer_id: str
    values: Mapping[str, float | str | None]
    applicant_age: int | None = None
    explain_approval: bool = False


def _number(name: str, value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"feature {name} must be a number, not {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"feature {name} must be a finite number")
    return v


@dataclass(frozen=True)
class CreditModelVersion:
    """A loaded credit model version: decides, explains, finds recourse, replays."""

    name: str
    version: int
    model: CreditModel
    meta: Mapping[str, Any]
    config: CreditConfig
    catalogue: ReasonCatalogue
    baseline: NDArray[np.float64]

    @property
    def feature_names(self) -> list[str]:
        """The model's features, in model order."""
        return self.config.features

    def check_values(self, values: Mapping[str, Any]) -> dict[str, float | str | None]:
        """The application's feature values, checked: every feature present, types right."""
        missing = [n for n in self.feature_names if n not in values]
        if missing:
            raise InputError(f"the application lacks feature(s): {', '.join(missing)}")
        unknown = sorted(
            set(values) - set(self.feature_names) - set(self.config.protected) - {MIN_AGE_FACT}
        )
        if unknown:
            raise InputError(f"unknown feature(s) for this model: {', '.join(unknown[:5])}")
        out: dict[str, float | str | None] = {}
        for n in self.config.numeric:
            v = _number(n, values[n])
            out[n] = None if math.isnan(v) else v
        for c in self.config.categorical:
            v = values[c]
            if v is not None and (not isinstance(v, str) or len(v) > MAX_TEXT):
                raise InputError(f"feature {c} must be a short text value")
            out[c] = v
        return out

    def encode(self, values: Mapping[str, Any]) -> NDArray[np.float64]:
        """The model row of checked values."""
        row = [_number(n, values.get(n)) for n in self.config.numeric]
        for c in self.config.categorical:
            cats = self.model.categories_.get(c, [])
            v = values.get(c)
            row.append(float(cats.index(v)) if v in cats else math.nan)
        return np.asarray(row, np.float64)

    # --- hard policy rules ------------------------------------------------------------------

    def _rules_failed(self, x: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Per row: does affordability or the bureau exclusion fail (model-feature rules)?"""
        rules, idx = self.config.rules, {n: i for i, n in enumerate(self.config.numeric)}
        failed = np.zeros(len(x), dtype=bool)
        if rules.max_delinquencies_2y is not None and "delinquencies_2y" in idx:
            failed |= x[:, idx["delinquencies_2y"]] > rules.max_delinquencies_2y
        if rules.max_debt_to_income_after_loan is not None and all(
            k in idx for k in ("debt_to_income", "requested_amount", "term_months", "income")
        ):
            failed |= self._after_loan(x, idx) > rules.max_debt_to_income_after_loan
        return failed

    @staticmethod
    def _after_loan(x: NDArray[np.float64], idx: Mapping[str, int]) -> NDArray[np.float64]:
        income = x[:, idx["income"]]
        instalment = x[:, idx["requested_amount"]] / np.maximum(x[:, idx["term_months"]], 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            extra = np.where(income > 0, instalment * 12 / income, np.inf)
        return np.asarray(x[:, idx["debt_to_income"]] + extra, np.float64)

    def rules_failed(self, x: NDArray[np.float64], min_age_met: bool | None) -> list[str]:
        """The hard rules one encoded row fails, in the order they are checked."""
        rules, idx = self.config.rules, {n: i for i, n in enumerate(self.config.numeric)}
        out = []
        if rules.min_age is not None and min_age_met is False:
            out.append("min_age")
        row = x.reshape(1, -1)
        if (
            rules.max_debt_to_income_after_loan is not None
            and all(
                k in idx for k in ("debt_to_income", "requested_amount", "term_months", "income")
            )
            and bool(self._after_loan(row, idx)[0] > rules.max_debt_to_income_after_loan)
        ):
            out.append("affordability")
        if (
            rules.max_delinquencies_2y is not None
            and "delinquencies_2y" in idx
            and bool(row[0, idx["delinquencies_2y"]] > rules.max_delinquencies_2y)
        ):
            out.append("bureau_exclusion")
        return out

    def approves(self, x: NDArray[np.float64]) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        """Batch: approved (PD at or below the approve cut-off, no rule failed) and PDs."""
        pd = self.model.predict_pd(x)
        return (pd <= self.config.approve_max_pd) & ~self._rules_failed(x), pd

    def min_age_met(self, age: int | None) -> bool | None:
        """Whether an age meets the minimum-age rule (None when no age or no rule)."""
        if age is None or self.config.rules.min_age is None:
            return None
        return age >= self.config.rules.min_age

    def warm_up(self) -> None:
        """Run the model once, so the first real request is not the slow one."""
        self.evaluate({n: None for n in self.feature_names}, min_age_met=None, with_recourse=False)

    # --- the one decision path --------------------------------------------------------------

    def evaluate(
        self,
        values: Mapping[str, Any],
        *,
        min_age_met: bool | None,
        explain_approval: bool = False,
        with_recourse: bool = True,
    ) -> dict[str, Any]:
        """Decision, PD, score, reasons, contributions and recourse for checked values."""
        x = self.encode(values)
        margin = float(self.model.margin(x.reshape(1, -1))[0])
        pd = float(self.model.calibrate(np.array([margin]))[0])
        failed = self.rules_failed(x, min_age_met)
        decision = "decline" if failed else self.config.decision_for(pd)
        contrib = self.model.contributions(x.reshape(1, -1))[0]
        names = self.feature_names
        reasons = rule_reasons(failed, self.catalogue)
        if decision != "approve" or explain_approval:
            excluded = set(self.config.proxies) | set(self.config.protected)
            reasons += principal_reasons(
                contrib,
                names,
                values,
                self.baseline,
                self.catalogue,
                excluded=excluded,
                limit=max(0, 4 - len(reasons)),
            )
        recourse: Recourse | None = None
        if decision == "decline" and with_recourse:
            if "min_age" in failed:
                recourse = Recourse(
                    "none within bounds", note="the minimum-age rule cannot be met by a change"
                )
            else:
                recourse = find_recourse(
                    x,
                    names,
                    self.config.actionable,
                    self.config.monotone,
                    self.meta.get("feature_scale", {}),
                    self.approves,
                )
        return {
            "pd": pd,
            "score": self.config.scale.score(pd),
            "decision": decision,
            "rules_failed": failed,
            "reasons": [r.to_dict() for r in reasons],
            "contributions": {n: float(c) for n, c in zip(names, contrib, strict=False)},
            "bias": float(contrib[-1]),
            "margin": margin,
            "recourse": recourse.to_dict() if recourse is not None else None,
        }

    def replay(self, features: Mapping[str, Any]) -> dict[str, Any]:
        """Recompute a logged decision from its logged features (``Replayable``)."""
        values = {n: features.get(n) for n in self.feature_names}
        met = features.get(MIN_AGE_FACT)
        return self.evaluate(
            values,
            min_age_met=None if met is None else bool(met),
            explain_approval=bool(features.get("policy:explain_approval", False)),
        )


def load_version(model_dir: Path, name: str = "credit", version: int = 0) -> CreditModelVersion:
    """Load a credit model directory written by training."""
    try:
        meta = json.loads((model_dir / SERVING_FILE).read_text())
        config = CreditConfig.from_dict(meta["config"])
        catalogue = ReasonCatalogue.from_dict(meta["catalogue"])
        baseline = np.array(
            [float(meta["baseline"]["contributions"][n]) for n in config.features], np.float64
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{model_dir} is not a bankml credit model: {exc}") from None
    return CreditModelVersion(
        name, version, CreditModel.load(model_dir), meta, config, catalogue, baseline
    )
