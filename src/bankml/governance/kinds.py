"""The model-kind contract: how a use case that decides with a model plugs into governance.

A *kind* (fraud, credit, ...) is registered once, in ``bankml.app``, with everything the
shared layers need to govern, serve, document, monitor and replay it. Governance, the ledger
lookups, serving reload, the documentation pack, monitoring and the web console loop over
``KindRegistry.all()``; none of them names a kind. Adding a kind touches no file in ``core/``
or ``governance/``: write the slice, build a ``ModelKind``, register it in ``app.py``.

    use case (fraud/, credit/)                     governance
    ──────────────────────────                     ──────────
    collect_evidence(ctx) ──► evidence dict ──►    gates (policy file ``gate_policy``)
    load_replayer(model_dir) ──► Replayable ──►    decisions.replay
    doc_sections(evidence) ──► [DocSection] ──►    docs.render_docs
    decision_events ("fraud.scored", ...) ──►      decisions.find_decisions
    decision_record(DecisionRecord) ──► typed ──►  faces (CLI/API/web render it)
    build_server(ctx, v, prev) ──► ModelServer ──► serving (champion only, ledger-proved)
    monitor: MonitorSpec (live, reference) ──►    monitoring (drift, quality, performance)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from bankml.core.errors import InputError

__all__ = [
    "DocSection",
    "EvidenceContext",
    "KindRegistry",
    "LiveDecision",
    "ModelKind",
    "ModelServer",
    "MonitorContext",
    "MonitorReference",
    "MonitorSpec",
    "Replayable",
]


class Replayable(Protocol):
    """A loaded model version that can recompute a logged decision."""

    def replay(self, features: Mapping[str, float | None]) -> dict[str, Any]:
        """Recompute ``{"score", "decision", "contributions", ...}`` from logged features."""
        ...


class ModelServer(Protocol):
    """A loaded champion serving live decisions; governance only asks its version."""

    @property
    def version(self) -> int:
        """The registered version being served."""
        ...


@dataclass(frozen=True)
class EvidenceContext:
    """What an evidence collector gets: the registry, the version and a scratch folder."""

    registry: Any  # governance.registry.ModelRegistry (kept loose: collectors are use cases)
    name: str
    version: int
    work_dir: Path


@dataclass
class DocSection:
    """One section of the documentation pack, rendered both to HTML and to Markdown.

    Blocks are paragraphs (str), bullet lists (list[str]), tables (``(header, rows)``
    tuples) or Plotly figures; a kind builds its own sections from its stored evidence.
    """

    title: str
    blocks: list[Any] = field(default_factory=list)

    def p(self, text: str) -> None:
        """Add a paragraph."""
        self.blocks.append(text)

    def bullets(self, items: Sequence[str]) -> None:
        """Add a bullet list."""
        self.blocks.append(list(items))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Add a table."""
        self.blocks.append((tuple(header), [tuple(r) for r in rows]))

    def figure(self, fig: Any) -> None:
        """Add a Plotly figure (its JS is inlined once by the HTML renderer)."""
        self.blocks.append(fig)


@dataclass(frozen=True)
class LiveDecision:
    """One logged decision as monitoring reads it: what went in, what came out."""

    key: str  # the kind's id of the decided item (e.g. a transaction id), to join labels on
    version: int
    score: float
    features: Mapping[str, float | str | None]
    entity: str | None = None  # groups decisions for per-entity figures (a card token)


@dataclass(frozen=True)
class MonitorContext:
    """What a kind's monitoring hooks get: the registry, the version and the app database."""

    registry: Any  # governance.registry.ModelRegistry
    db: Any  # core.storage.Database
    name: str
    version: int


@dataclass(frozen=True)
class MonitorReference:
    """The training reference of one version: the frame drift and quality compare against.

    ``frame`` is a pandas DataFrame with one column per monitored feature, ``score`` (the
    version's calibrated score on those rows), and optionally ``label`` and ``day``.
    """

    frame: Any
    threshold: float
    capacity: int | None = None


@dataclass(frozen=True)
class MonitorSpec:
    """How monitoring reads one kind (``ModelKind.monitor``); monitoring names no kind.

    ``live`` turns a decision entry's payload into a ``LiveDecision``; ``reference`` builds
    a version's training reference (monitoring caches it); ``labels`` returns the labels known
    at ``as_of`` for the given keys (delayed: dispositions, chargebacks, defaults).
    """

    live: Callable[[Mapping[str, Any]], LiveDecision]
    reference: Callable[[MonitorContext], MonitorReference]
    labels: Callable[[Any, Sequence[str], datetime], Mapping[str, bool]] | None = None
    categorical: tuple[str, ...] = ()
    # Top-k for precision@k: what the reviewers can check in a day (None: the capacity).
    k: int | None = None


@dataclass(frozen=True)
class ModelKind:
    """Everything governance needs to know about one kind of model.

    ``name`` is also the registered model name and the stem of its gate policy file
    (``<policy_dir>/<name>.toml``). Callables are plain functions of the slice, so a kind
    is data: tests build one with fakes.
    """

    name: str
    title: str
    collect_evidence: Callable[[EvidenceContext], dict[str, Any]]
    load_replayer: Callable[[Path], Replayable]
    doc_sections: Callable[[Mapping[str, Any]], list[DocSection]]
    decision_events: tuple[str, ...]
    # Typed view of one logged decision (e.g. a ``FraudDecision``); faces render it.
    decision_record: Callable[[Any], Any] | None = None
    # Builds the champion server: ``build_server(ctx, version, previous)`` where ``ctx`` is a
    # ``governance.serving.ServingContext`` (ledger, tokenizer, clock, and ``model_dir(name,
    # version)`` returning a hash-checked folder) and ``previous`` the server it replaces.
    # Governance calls it only for the approved champion, provably from the ledger.
    build_server: Callable[..., ModelServer] | None = None
    # Optional monitoring hook: live inputs/scores for a day, the training reference.
    monitor: MonitorSpec | None = None
    # The words on the documentation pack's cover: what the model is for and is not for.
    purpose: str = ""

    @property
    def gate_policy(self) -> str:
        """File name of the official gate policy in the policy directory."""
        return f"{self.name}.toml"


class KindRegistry:
    """The registered model kinds, in registration order."""

    def __init__(self) -> None:
        self._kinds: dict[str, ModelKind] = {}

    def register(self, kind: ModelKind) -> ModelKind:
        """Add a kind; a second kind with the same name or decision event is refused."""
        if kind.name in self._kinds:
            raise InputError(f"model kind {kind.name!r} is already registered")
        taken = {e for k in self._kinds.values() for e in k.decision_events}
        clash = taken.intersection(kind.decision_events)
        if clash:
            raise InputError(f"decision event(s) {sorted(clash)} already belong to another kind")
        self._kinds[kind.name] = kind
        return kind

    def get(self, name: str) -> ModelKind:
        """The kind called ``name``; an unknown name lists the known ones."""
        try:
            return self._kinds[name]
        except KeyError:
            known = ", ".join(self._kinds) or "none"
            raise InputError(f"unknown model kind {name!r}; known: {known}") from None

    def all(self) -> list[ModelKind]:
        """Every registered kind."""
        return list(self._kinds.values())

    def names(self) -> list[str]:
        """The registered kinds' names."""
        return list(self._kinds)

    def decision_events(self) -> tuple[str, ...]:
        """Every kind's decision events (what ledger lookups treat as decisions)."""
        return tuple(e for k in self._kinds.values() for e in k.decision_events)

    def kind_of_event(self, event: str) -> ModelKind | None:
        """The kind that writes ``event``, or None."""
        for k in self._kinds.values():
            if event in k.decision_events:
                return k
        return None

    def __iter__(self) -> Iterator[ModelKind]:
        return iter(self._kinds.values())

    def __contains__(self, name: object) -> bool:
        return name in self._kinds
