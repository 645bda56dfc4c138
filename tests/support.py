"""Test helpers shared across suites: a live server, and the governed path as *setup* for
tests whose subject is something else (tests of the path itself take each step by hand)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bankml.app import Services
from bankml.cli.serve import BackgroundServer as LiveServer
from bankml.core.identity import Role
from bankml.fraud.mapping import DEFAULT_MAPPING
from bankml.fraud.service import train_and_register
from bankml.fraud.training import TrainConfig

__all__ = ["GOVERNANCE_PEOPLE", "LiveServer", "add_people", "promote_through_gates", "train_fraud"]

GOVERNANCE_PEOPLE: tuple[tuple[str, Role], ...] = (
    ("maria", Role.MODEL_DEVELOPER),
    ("victor", Role.VALIDATOR),
    ("ada", Role.ADMIN),
)
"""Who the governed path needs: maria trains and submits, victor validates and approves,
ada pins policies and promotes."""


def add_people(svc: Services, people: Iterable[tuple[str, Role]] = GOVERNANCE_PEOPLE) -> None:
    for name, role in people:
        svc.users.add(name, role)


def train_fraud(
    svc: Services, transactions: Path, config: TrainConfig, out_dir: Path, actor: str = "maria"
) -> int:
    """Train and register a fraud model on the bank's table; its version number."""
    outcome = train_and_register(
        transactions,
        DEFAULT_MAPPING,
        config,
        registry=svc.registry,
        ledger=svc.ledger,
        actor=actor,
        out_dir=out_dir,
    )
    assert outcome.version is not None
    return outcome.version.version


def promote_through_gates(
    svc: Services, name: str, version: int, rationale: str = "gates pass"
) -> None:
    """maria submits, victor validates (every gate must pass) and approves, ada promotes.
    The model's gate policy must already be pinned."""
    user = svc.users.get
    svc.governance.submit(name, version, user("maria"))
    report, _ = svc.lifecycle.validate(name, version, user("victor"))
    assert report.passed, [r for r in report.results if r.passed is False]
    svc.lifecycle.approve(name, version, user("victor"), rationale)
    svc.governance.promote(name, version, user("ada"), "go-live")
