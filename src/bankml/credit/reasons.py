"""Reason codes: exact contributions against a documented baseline, grouped by the catalogue.

Reg B 12 CFR 1002.9(b)(2) asks for the *specific, principal* reasons for adverse action (the
commentary: more than four is not likely helpful). The method:

1. LightGBM's ``pred_contrib`` gives exact TreeSHAP contributions of every feature to the
   applicant's raw log-odds of default (they sum, with the bias, to the margin).
2. The **baseline** is the mean contribution vector of the training applicants approved at or
   just above the approve cut-off (the ``baseline_size`` approved applicants with the highest
   PD): the applicant the bank would *just* approve. Stored with the model.
3. An applicant's excess over the baseline, feature by feature, is how much that feature
   pushed *toward decline* compared with a just-approved applicant. Only positive excesses
   count; a feature that helped the applicant is never a reason.
4. Excesses are summed per reason code of the bank's catalogue (``reason_codes.toml``); codes
   are ranked by their sum and the top four become the principal reasons. Each names the
   feature of the code that pushed most, its value and its contribution.
5. Protected attributes are never model inputs; features the bank flagged as proxies are
   skipped here (their contribution stays in the logged explanation for the auditor).

Hard policy rules (minimum age, affordability, bureau exclusions) come first when they fail:
they decided the outcome regardless of the model.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bankml.credit.config import ReasonCatalogue

__all__ = ["MAX_REASONS", "Reason", "principal_reasons", "rule_reasons"]

# Reg B commentary to 1002.9(b)(2): disclosing more than four reasons is not likely helpful.
MAX_REASONS = 4
_EPS = 1e-12


@dataclass(frozen=True)
class Reason:
    """One principal reason: catalogue code and text, the feature, its value, its push."""

    code: str
    text: str
    feature: str | None
    value: float | str | None
    contribution: float | None
    rule: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return asdict(self)


def rule_reasons(failed: Sequence[str], catalogue: ReasonCatalogue) -> list[Reason]:
    """Reasons for failed hard policy rules, in the order the rules were checked."""
    out = []
    for rule in failed:
        c = catalogue.for_rule(rule)
        out.append(Reason(c.code, c.text, None, None, None, rule))
    return out


def principal_reasons(
    contrib: NDArray[np.float64],
    names: Sequence[str],
    values: Mapping[str, Any],
    baseline: NDArray[np.float64],
    catalogue: ReasonCatalogue,
    *,
    excluded: Collection[str] = (),
    limit: int = MAX_REASONS,
) -> list[Reason]:
    """The ranked principal reasons of one applicant (see the module docstring).

    ``contrib`` is the applicant's contribution row (features, then bias); ``baseline`` the
    baseline's mean contribution per feature. Ties rank by code, so identical input always
    gives identical reasons.
    """
    excess = np.asarray(contrib[: len(names)], np.float64) - baseline
    totals: dict[str, float] = {}
    best: dict[str, tuple[float, str]] = {}
    texts: dict[str, str] = {}
    for i, name in enumerate(names):
        push = float(excess[i])
        if name in excluded or push <= _EPS:
            continue
        c = catalogue.for_feature(name)
        texts[c.code] = c.text
        totals[c.code] = totals.get(c.code, 0.0) + push
        if c.code not in best or push > best[c.code][0]:
            best[c.code] = (push, name)
    ranked = sorted(totals, key=lambda code: (-totals[code], code))[: max(limit, 0)]
    out = []
    for code in ranked:
        _, feature = best[code]
        value = values.get(feature)
        if isinstance(value, float) and np.isnan(value):
            value = None
        out.append(Reason(code, texts[code], feature, value, round(totals[code], 12)))
    return out
