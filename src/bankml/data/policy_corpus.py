"""The bank's policy corpus: Markdown policy documents with YAML front matter.

Documents are rendered from structured templates (:mod:`bankml.data._policy_texts`): each
has a purpose, a scope, two to four subject sections of numbered rules with concrete facts
(amounts, days, roles), and the sections every bank policy carries (roles, exceptions and
breaches, review, related documents). The seed picks the values of the facts a bank would
set for itself (an internal threshold, a review cycle, who approves exceptions) and the
effective dates; the regulatory facts (72 hours to notify a data breach, eight weeks for a
final complaint response) are fixed. The same seed always gives the same text.

Cross-references are written ``[[POL-AML-003#reporting]]`` in the templates and rendered
as ``POL-AML-003 §3`` from the target's actual section number, so they cannot dangle:
building the corpus fails if a reference names a missing document or section.

Each :class:`PolicyDocument` keeps its rules as :class:`PolicyRule` objects with their
number and section, so a question-answering evaluation can target a specific fact and know
the one correct citation (``POL-AML-003 §3.1``).

Front matter keys: ``id``, ``title``, ``owner``, ``classification`` (public, internal,
confidential, restricted), ``allowed_groups`` (``everyone`` for broadly readable documents,
otherwise the small groups that may read it) and ``effective_date`` (YYYY-MM-DD).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta

from bankml.data._policy_texts import GENERIC_PARAMS, SHARED_PARAMS, SPECS, DocSpec

__all__ = [
    "CLASSIFICATIONS",
    "PolicyDocument",
    "PolicyRule",
    "build_policy_corpus",
]

CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")

_REF = re.compile(r"\[\[(POL-[A-Z]+-\d{3})#([a-z_]+)\]\]")


@dataclass(frozen=True)
class PolicyRule:
    """One numbered rule of a policy, e.g. ``POL-AML-003 §3.1``, with its rendered text."""

    doc_id: str
    number: str
    section: str
    text: str

    @property
    def citation(self) -> str:
        """How an answer should cite this rule: ``POL-AML-003 §3.1``."""
        return f"{self.doc_id} §{self.number}"


@dataclass(frozen=True)
class PolicyDocument:
    """A rendered policy: front-matter fields, its rules, and the full Markdown text."""

    id: str
    title: str
    owner: str
    classification: str
    allowed_groups: tuple[str, ...]
    effective_date: date
    rules: tuple[PolicyRule, ...]
    markdown: str

    @property
    def is_restricted(self) -> bool:
        """True if only named groups (not ``everyone``) may read the document."""
        return "everyone" not in self.allowed_groups


def build_policy_corpus(seed: int) -> list[PolicyDocument]:
    """Render every policy document for ``seed``, in id order.

    Raises ``ValueError`` if a template is inconsistent (unknown placeholder, dangling
    cross-reference): that is a bug in the templates, not a user error.
    """
    shared = _pick(random.Random(f"{seed}:shared"), SHARED_PARAMS)
    # Section numbers first, so references can be resolved in any order.
    numbers = {spec.id: _section_numbers(spec) for spec in SPECS}
    docs = [_render(spec, seed, shared, numbers) for spec in SPECS]
    return sorted(docs, key=lambda d: d.id)


def _pick(rng: random.Random, pools: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {name: rng.choice(options) for name, options in sorted(pools.items())}


def _section_numbers(spec: DocSpec) -> dict[str, int]:
    keys = ["purpose", "scope", *(s.key for s in spec.sections)]
    keys += ["roles", "exceptions", "review", "related"]
    return {key: i for i, key in enumerate(keys, 1)}


def _render(
    spec: DocSpec, seed: int, shared: dict[str, str], numbers: dict[str, dict[str, int]]
) -> PolicyDocument:
    # Each document draws from its own stream: adding a document never changes the others.
    rng = random.Random(f"{seed}:{spec.id}")
    values = {**shared, **_pick(rng, GENERIC_PARAMS), **_pick(rng, spec.params)}
    effective = date(2023, 1, 2) + timedelta(days=rng.randrange(0, 3 * 365))
    review_months = int(values["review_months"])
    values["next_review"] = _add_months(effective, review_months).isoformat()
    values["owner"] = spec.owner
    values["title"] = spec.title

    def fill(text: str) -> str:
        try:
            text = text.format_map(values)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"{spec.id}: bad placeholder in {text[:60]!r}: {exc}") from exc

        def ref(m: re.Match[str]) -> str:
            doc, key = m.group(1), m.group(2)
            if doc not in numbers or key not in numbers[doc]:
                raise ValueError(f"{spec.id}: dangling reference {m.group(0)}")
            return f"{doc} §{numbers[doc][key]}"

        return _REF.sub(ref, text)

    own = numbers[spec.id]
    lines = [
        "---",
        f"id: {spec.id}",
        f"title: {json.dumps(spec.title)}",
        f"owner: {json.dumps(spec.owner)}",
        f"classification: {spec.classification}",
        "allowed_groups:",
        *(f"  - {g}" for g in spec.groups),
        f"effective_date: {effective.isoformat()}",
        "---",
        "",
        f"# {spec.title}",
        "",
        f"*{spec.id} · Owner: {spec.owner} · Classification: {spec.classification} · "
        f"Effective {effective.isoformat()}*",
        "",
        f"## {own['purpose']}. Purpose",
        "",
        fill(spec.purpose),
        "",
        f"## {own['scope']}. Scope",
        "",
        fill(spec.scope),
        "",
    ]
    if spec.definitions:
        lines += ["### Definitions", ""]
        lines += [f"- **{term}**: {fill(meaning)}" for term, meaning in spec.definitions]
        lines.append("")

    rules: list[PolicyRule] = []
    sections = [(s.key, s.heading, s.rules) for s in spec.sections]
    sections += [
        ("roles", "Roles and responsibilities", _ROLES),
        ("exceptions", "Exceptions and breaches", _EXCEPTIONS),
        ("review", "Review", _REVIEW),
    ]
    for key, heading, texts in sections:
        n = own[key]
        lines += [f"## {n}. {heading}", ""]
        k = 0
        for raw in texts:
            if raw.startswith("### "):  # a subsection heading; numbering continues
                lines += [raw, ""]
                continue
            k += 1
            rule = PolicyRule(spec.id, f"{n}.{k}", heading, fill(raw))
            rules.append(rule)
            lines += [f"**{rule.number}** {rule.text}", ""]

    lines += [f"## {own['related']}. Related documents", ""]
    for doc, key, why in spec.related:
        lines.append(f"- {fill(f'[[{doc}#{key}]]')}: {why}")
    lines.append("")
    return PolicyDocument(
        id=spec.id,
        title=spec.title,
        owner=spec.owner,
        classification=spec.classification,
        allowed_groups=spec.groups,
        effective_date=effective,
        rules=tuple(rules),
        markdown="\n".join(lines),
    )


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, min(d.day, 28))


# The sections every policy carries; the seed varies who approves, how long exceptions last,
# how fast breaches are reported and how often the policy is reviewed.
_ROLES = (
    "The {owner} owns this policy, maintains the procedures that implement it and answers for "
    "its day-to-day application.",
    "Material changes to this policy are approved by {approver}; editorial changes may be "
    "approved by the owner and are reported at the next meeting.",
    "{second_line} provides independent oversight and tests compliance with this policy at "
    "least every {test_months} months.",
)
_EXCEPTIONS = (
    "An exception requires written approval from {exception_approver}, must name a "
    "compensating control and expires after at most {exception_months} months.",
    "Every exception is recorded in the {register} with its owner and expiry date.",
    "A breach of this policy is reported to {breach_to} within {breach_days} of discovery.",
)
_REVIEW = (
    "This policy is reviewed at least every {review_months} months and whenever the law or "
    "the bank's risk profile changes; the next scheduled review is due by {next_review}.",
)
