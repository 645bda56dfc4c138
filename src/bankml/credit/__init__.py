"""Credit decisions: calibrated PD, Reg B reason codes, recourse, fairness, adverse-action notice.

The second model kind (see ``bankml.governance.kinds``): ``kind.py`` builds its ``ModelKind``.
Names are imported lazily (PEP 562), so ``import bankml.credit`` stays cheap: LightGBM,
pandas and fairlearn load only when something that needs them is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bankml.credit.config import CreditConfig, ReasonCatalogue, default_config
    from bankml.credit.decision import Application, CreditModelVersion
    from bankml.credit.kind import credit_kind
    from bankml.credit.review import ReferralQueue
    from bankml.credit.service import CreditService

__all__ = [
    "Application",
    "CreditConfig",
    "CreditModelVersion",
    "CreditService",
    "ReasonCatalogue",
    "ReferralQueue",
    "credit_kind",
    "default_config",
]

_HOME = {
    "credit_kind": "bankml.credit.kind",
    "Application": "bankml.credit.decision",
    "CreditModelVersion": "bankml.credit.decision",
    "CreditConfig": "bankml.credit.config",
    "ReasonCatalogue": "bankml.credit.config",
    "default_config": "bankml.credit.config",
    "ReferralQueue": "bankml.credit.review",
    "CreditService": "bankml.credit.service",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'bankml.credit' has no attribute {name!r}")
