"""One card transaction at the fraud boundary, in role names, parsed once.

A face builds a :class:`Transaction` from what it received (an API request, a row of the
bank's table read through its ``ColumnMapping``) and hands it on; scoring, the online
features and the ledger read its fields and never parse the timestamp or look up a bank's
column name again. Role names are the mapping's: ``transaction_id``, ``timestamp``,
``customer``, ``terminal``, ``amount``, ``card``, ``country``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from bankml.core.errors import InputError
from bankml.fraud.mapping import ColumnMapping

__all__ = ["Transaction"]

MSG_MISSING = "transaction lacks {role!r} (column {column!r})"
MSG_BAD_TIME = "transaction timestamp {value!r} is not a time"
MSG_NAIVE_TIME = "transaction timestamp needs a timezone (e.g. 2026-03-01T12:00:00Z)"
MSG_BAD_AMOUNT = "transaction amount {value!r} is not a number"
MSG_MISSING_AMOUNT = "transaction amount is missing"


def _aware_utc(value: Any, *, naive_is_utc: bool) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError(MSG_BAD_TIME.format(value=value)) from None
    elif isinstance(value, np.datetime64 | pd.Timestamp):
        value = pd.Timestamp(value).to_pydatetime()
    if not isinstance(value, datetime):
        raise InputError(MSG_BAD_TIME.format(value=value))
    if value.tzinfo is None:
        if not naive_is_utc:
            raise InputError(MSG_NAIVE_TIME)
        value = value.replace(tzinfo=UTC)
    aware: datetime = value.astimezone(UTC)
    return aware


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so ids compare and hash like the API's values."""
    if isinstance(value, np.generic):
        return value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


@dataclass(frozen=True, slots=True)
class Transaction:
    """A card transaction to score, in role names; ``timestamp`` is an aware UTC datetime."""

    transaction_id: Any
    timestamp: datetime
    customer: Any
    terminal: Any
    amount: float
    card: Any = None
    country: str | None = None

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None:
            raise InputError(MSG_NAIVE_TIME)
        if isinstance(self.amount, bool) or not isinstance(self.amount, int | float):
            raise InputError(MSG_BAD_AMOUNT.format(value=self.amount))
        if math.isnan(self.amount):
            raise InputError(MSG_MISSING_AMOUNT)

    @classmethod
    def create(
        cls,
        *,
        transaction_id: Any,
        timestamp: Any,
        customer: Any,
        terminal: Any,
        amount: Any,
        card: Any = None,
        country: Any = None,
        naive_is_utc: bool = False,
    ) -> Transaction:
        """Parse loosely typed values once (a naive time is refused unless ``naive_is_utc``)."""
        try:
            if isinstance(amount, bool | np.bool_):  # a boolean is not an amount
                raise TypeError(amount)
            value = float(amount)
        except (TypeError, ValueError):
            raise InputError(MSG_BAD_AMOUNT.format(value=amount)) from None
        return cls(
            transaction_id=_plain(transaction_id),
            timestamp=_aware_utc(timestamp, naive_is_utc=naive_is_utc),
            customer=_plain(customer),
            terminal=_plain(terminal),
            amount=value,
            card=_plain(card),
            country=None if _plain(country) is None else str(country),
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any], mapping: ColumnMapping) -> Transaction:
        """One row of the bank's own table, read through its column mapping.

        Naive times are read as UTC, as the offline feature build reads them.
        """
        columns = mapping.as_dict()

        def get(role: str, required: bool = True) -> Any:
            column = columns.get(role)
            if column is not None and column in row:
                return row[column]
            if required:
                raise InputError(MSG_MISSING.format(role=role, column=column))
            return None

        return cls.create(
            transaction_id=get("transaction_id"),
            timestamp=get("timestamp"),
            customer=get("customer"),
            terminal=get("terminal"),
            amount=get("amount"),
            card=get("card", required=False),
            country=get("country", required=False),
            naive_is_utc=True,
        )

    def as_row(self, mapping: ColumnMapping) -> dict[str, Any]:
        """Back to the bank's column names (for writing a row the offline build reads)."""
        out: dict[str, Any] = {}
        for role, column in mapping.as_dict().items():
            if hasattr(self, role):
                out[column] = getattr(self, role)
        return out
