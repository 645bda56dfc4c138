"""The bank's policy corpus: Markdown policy documents with YAML front matter.

Documents are rendered from templates kept as data, one YAML file per document in
``bankml/data/policy_texts/`` (read with :mod:`importlib.resources`; ``_params.yaml`` holds
the parameter pools and the sections every policy carries). Each
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
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "CLASSIFICATIONS",
    "PolicyDocument",
    "PolicyRule",
    "build_policy_corpus",
]

CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")

_TEXTS = "policy_texts"
_PARAMS_FILE = "_params.yaml"

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


# --- the templates, read from data files ---------------------------------------------------
#
# Placeholders ``{name}`` are filled from, in order of precedence: the document's own
# ``params``, the generic parameters every document draws (approver, review cycle ...), and
# the corpus-wide shared parameters (facts several documents state and must agree on, such
# as the cash reporting threshold). ``[[POL-AREA-NNN#section_key]]`` is a cross-reference. A
# rule text starting with ``### `` is a subsection heading, not a rule. Facts are
# deliberately specific and different from document to document, so a question-answering
# evaluation can target one section and check the citation.


@dataclass(frozen=True)
class Section:
    """A subject section of a policy: a key for cross-references, a heading, rule texts."""

    key: str
    heading: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class DocSpec:
    """The template of one policy document (one YAML file in ``policy_texts/``)."""

    id: str
    title: str
    owner: str
    classification: str
    groups: tuple[str, ...]
    purpose: str
    scope: str
    sections: tuple[Section, ...]
    related: tuple[tuple[str, str, str], ...]
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)
    definitions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Templates:
    specs: tuple[DocSpec, ...]
    shared_params: dict[str, tuple[str, ...]]
    generic_params: dict[str, tuple[str, ...]]
    common_sections: dict[str, tuple[str, ...]]


def _pools(raw: dict[str, list[Any]]) -> dict[str, tuple[str, ...]]:
    return {str(k): tuple(str(v) for v in values) for k, values in raw.items()}


def _spec(raw: dict[str, Any]) -> DocSpec:
    return DocSpec(
        id=raw["id"],
        title=raw["title"],
        owner=raw["owner"],
        classification=raw["classification"],
        groups=tuple(raw["groups"]),
        purpose=raw["purpose"],
        scope=raw["scope"],
        sections=tuple(Section(s["key"], s["heading"], tuple(s["rules"])) for s in raw["sections"]),
        related=tuple((r["doc"], r["section"], r["why"]) for r in raw["related"]),
        params=_pools(raw.get("params", {})),
        definitions=tuple((d["term"], d["meaning"]) for d in raw.get("definitions", ())),
    )


@cache
def _templates() -> _Templates:
    """Read every template once per process (about 50 small YAML files)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    folder = resources.files("bankml.data").joinpath(_TEXTS)
    specs = []
    params: dict[str, Any] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        raw = yaml.load(entry.read_text(encoding="utf-8"), Loader=loader)
        if entry.name == _PARAMS_FILE:
            params = raw
        else:
            specs.append(_spec(raw))
    if not specs or not params:
        raise ValueError(f"policy templates missing from {folder}")
    return _Templates(
        specs=tuple(specs),
        shared_params=_pools(params["shared_params"]),
        generic_params=_pools(params["generic_params"]),
        common_sections=_pools(params["common_sections"]),
    )


def build_policy_corpus(seed: int) -> list[PolicyDocument]:
    """Render every policy document for ``seed``, in id order.

    Raises ``ValueError`` if a template is inconsistent (unknown placeholder, dangling
    cross-reference): that is a bug in the templates, not a user error.
    """
    templates = _templates()
    shared = _pick(random.Random(f"{seed}:shared"), templates.shared_params)
    # Section numbers first, so references can be resolved in any order.
    numbers = {spec.id: _section_numbers(spec) for spec in templates.specs}
    docs = [_render(spec, seed, shared, numbers, templates) for spec in templates.specs]
    return sorted(docs, key=lambda d: d.id)


def _pick(rng: random.Random, pools: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {name: rng.choice(options) for name, options in sorted(pools.items())}


def _section_numbers(spec: DocSpec) -> dict[str, int]:
    keys = ["purpose", "scope", *(s.key for s in spec.sections)]
    keys += ["roles", "exceptions", "review", "related"]
    return {key: i for i, key in enumerate(keys, 1)}


def _render(
    spec: DocSpec,
    seed: int,
    shared: dict[str, str],
    numbers: dict[str, dict[str, int]],
    templates: _Templates,
) -> PolicyDocument:
    # Each document draws from its own stream: adding a document never changes the others.
    rng = random.Random(f"{seed}:{spec.id}")
    values = {**shared, **_pick(rng, templates.generic_params), **_pick(rng, spec.params)}
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
        ("roles", "Roles and responsibilities", templates.common_sections["roles"]),
        ("exceptions", "Exceptions and breaches", templates.common_sections["exceptions"]),
        ("review", "Review", templates.common_sections["review"]),
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
