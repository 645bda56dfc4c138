"""Serving the champion of every registered model kind: load, check, hot-reload.

For each kind that can serve (``ModelKind.build_server``), the champion is the version
bankml's records name champion, and it is loaded only when

1. its state is ``champion`` (approved, then promoted),
2. the ledger holds its whole approved path (``governance.provenance``), so a row written
   straight into ``champion_history`` cannot make an unapproved version live, and
3. its files, downloaded from the registry, hash to what was registered (a tampered or
   corrupt file is never handed to a native model library).

A promotion or rollback is picked up by :meth:`ChampionServing.refresh` without a restart; a
failed load keeps the running server and raises. Nothing here names a kind.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bankml.core.clock import Clock
from bankml.core.errors import BankmlError, IntegrityError, UnavailableError
from bankml.core.pii import PIITokenizer
from bankml.governance.approvals import ModelGovernance, ModelState
from bankml.governance.kinds import KindRegistry, ModelKind, ModelServer
from bankml.governance.ledger import DecisionLedger
from bankml.governance.provenance import GovernanceProof
from bankml.governance.registry import ModelRegistry, sha256_dir

__all__ = ["ChampionServing", "ServingContext"]

log = logging.getLogger(__name__)

MSG_NOT_REGISTERED = "no {name} model is registered yet; train and register one first"
MSG_NO_CHAMPION = (
    "no {name} model is champion; approve a version and promote it with "
    "`bankml model promote {name} VERSION`"
)
MSG_NOT_CHAMPION = "refusing to serve {name} v{version}: it is not the approved champion"
MSG_BAD_FILES = (
    "refusing to load {name} v{version}: its files do not match the hash registered with it"
)
MSG_CANNOT_SERVE = "model kind {name!r} does not serve live decisions"


@dataclass(frozen=True)
class ServingContext:
    """What a kind's ``build_server(ctx, version, previous)`` gets from governance.

    ``model_dir(name, version)`` downloads a version and returns its folder only if the files
    hash to what was registered. ``options`` carries wiring-level extras a kind may read
    (none is required).
    """

    ledger: DecisionLedger
    tokenizer: PIITokenizer
    clock: Clock
    model_dir: Callable[[str, int], Path]
    options: dict[str, Any]


class ChampionServing:
    """The live server of each kind's champion, loaded once and reloaded on change."""

    def __init__(
        self,
        kinds: KindRegistry,
        governance: ModelGovernance,
        registry: ModelRegistry,
        proof: GovernanceProof,
        *,
        ledger: DecisionLedger,
        tokenizer: PIITokenizer,
        clock: Clock,
        options: dict[str, Any] | None = None,
    ) -> None:
        self._kinds = kinds
        self._governance = governance
        self._registry = registry
        self._proof = proof
        self._servers: dict[str, ModelServer] = {}
        self._lock = threading.RLock()
        self.context = ServingContext(
            ledger=ledger,
            tokenizer=tokenizer,
            clock=clock,
            model_dir=self.verified_model_dir,
            options=dict(options or {}),
        )

    def verified_model_dir(self, name: str, version: int) -> Path:
        """A version's folder from the registry, refused if it does not hash as registered."""
        model_dir = self._registry.download(name, version)
        if sha256_dir(model_dir) != self._registry.artifact_hash(name, version):
            raise IntegrityError(MSG_BAD_FILES.format(name=name, version=version))
        return model_dir

    def _serving_kind(self, name: str) -> ModelKind:
        kind = self._kinds.get(name)
        if kind.build_server is None:
            raise UnavailableError(MSG_CANNOT_SERVE.format(name=name))
        return kind

    def _build(self, kind: ModelKind, previous: ModelServer | None) -> ModelServer:
        name = kind.name
        if not self._registry.has_local_store():
            raise UnavailableError(MSG_NOT_REGISTERED.format(name=name))
        version = self._governance.champion(name)
        if version is None:
            raise UnavailableError(MSG_NO_CHAMPION.format(name=name))
        if self._governance.state(name, version) is not ModelState.CHAMPION:
            raise IntegrityError(MSG_NOT_CHAMPION.format(name=name, version=version))
        self._proof.require_champion(name, version)
        assert kind.build_server is not None  # checked by _serving_kind
        return kind.build_server(self.context, version, previous)

    def server(self, name: str) -> ModelServer:
        """The running champion server of kind ``name``, loaded on first use."""
        current = self._servers.get(name)  # the hot path: no lock once loaded
        if current is not None:
            return current
        kind = self._serving_kind(name)
        with self._lock:
            current = self._servers.get(name)
            if current is None:
                current = self._servers[name] = self._build(kind, None)
            return current

    def loaded(self, name: str) -> ModelServer | None:
        """The server of kind ``name`` if one is already running (never loads)."""
        return self._servers.get(name)

    def refresh(self, name: str) -> int | None:
        """Serve the current champion if it changed (promotion or rollback), without a restart.

        Returns the version now served, or None when there is no champion yet. A failed load
        keeps the running server and raises.
        """
        kind = self._serving_kind(name)
        with self._lock:
            current = self._servers.get(name)
            champion = self._governance.champion(name)
            if champion is None:
                return None
            if current is not None and current.version == champion:
                return champion
            self._servers[name] = self._build(kind, current)
            log.info("now serving %s v%s", name, champion)
            return champion

    def serving_kinds(self) -> list[str]:
        """The kinds that serve live decisions."""
        return [k.name for k in self._kinds if k.build_server is not None]

    def refresh_all(self) -> dict[str, int | None]:
        """Refresh every serving kind; a kind that fails keeps its running server (logged)."""
        out: dict[str, int | None] = {}
        for name in self.serving_kinds():
            try:
                out[name] = self.refresh(name)
            except BankmlError as exc:
                log.error("keeping the running %s model: %s", name, exc.message)
                loaded = self._servers.get(name)
                out[name] = loaded.version if loaded is not None else None
        return out

    def start(self) -> dict[str, int | None]:
        """Load (and warm up) every serving kind's champion; a kind without one is skipped."""
        out: dict[str, int | None] = {}
        for name in self.serving_kinds():
            try:
                server = self.server(name)
            except (UnavailableError, IntegrityError) as exc:
                log.warning("%s serving disabled: %s", name, exc.message)
                out[name] = None
                continue
            warm_up = getattr(server, "warm_up", None)
            if callable(warm_up):
                warm_up()
            out[name] = server.version
        return out
