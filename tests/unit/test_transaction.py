"""The typed fraud transaction: parsed once, in role names, from a request or a bank's row."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from bankml.core.errors import InputError
from bankml.fraud.mapping import ColumnMapping
from bankml.fraud.transaction import Transaction

THEIRS = ColumnMapping(
    transaction_id="txn_ref",
    timestamp="booked_at",
    customer="cust_no",
    terminal="merchant_terminal",
    amount="amount_eur",
    label="fraud_flag",
    card="card_ref",
    country="merchant_country",
)


def test_a_row_of_the_banks_table_becomes_a_transaction_in_role_names() -> None:
    row = {
        "txn_ref": np.int64(7),
        "booked_at": pd.Timestamp("2026-03-01 12:30:00"),  # naive: read as UTC, as offline
        "cust_no": np.int64(100),
        "merchant_terminal": np.int64(5),
        "amount_eur": np.float64(12.5),
        "fraud_flag": False,
        "card_ref": np.int64(9),
        "merchant_country": "FR",
    }
    txn = Transaction.from_row(row, THEIRS)
    assert txn == Transaction(
        transaction_id=7,
        timestamp=datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
        customer=100,
        terminal=5,
        amount=12.5,
        card=9,
        country="FR",
    )
    assert type(txn.customer) is int  # numpy scalars become Python values (hash alike)
    assert txn.as_row(THEIRS)["cust_no"] == 100


def test_request_times_need_a_timezone_and_are_kept_in_utc() -> None:
    txn = Transaction.create(
        transaction_id=1,
        timestamp="2026-03-01T13:30:00+01:00",
        customer=1,
        terminal=2,
        amount="3.5",
    )
    assert txn.timestamp == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    with pytest.raises(InputError, match="needs a timezone"):
        Transaction.create(
            transaction_id=1, timestamp="2026-03-01T13:30:00", customer=1, terminal=2, amount=1
        )


@pytest.mark.parametrize("amount", [True, "x", None, float("nan")])
def test_an_amount_that_is_not_a_number_is_refused(amount: object) -> None:
    with pytest.raises(InputError, match="amount"):
        Transaction.create(
            transaction_id=1,
            timestamp="2026-03-01T00:00:00Z",
            customer=1,
            terminal=2,
            amount=amount,
        )


def test_a_missing_required_column_names_the_role_and_column() -> None:
    with pytest.raises(InputError, match="lacks 'customer' \\(column 'cust_no'\\)"):
        Transaction.from_row({"txn_ref": 1, "booked_at": "2026-03-01T00:00:00Z"}, THEIRS)
