"""The Parquet schema of every table the generator writes: the output contract."""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

# --------------------------------------------------------------------------------------------
# Output contract
# --------------------------------------------------------------------------------------------

TS = pa.timestamp("us", tz="UTC")

TABLE_SCHEMAS: Mapping[str, pa.Schema] = {
    "customers": pa.schema(
        [
            ("customer_id", pa.int64()),
            ("name", pa.string()),
            ("date_of_birth", pa.date32()),
            ("address", pa.string()),
            ("email", pa.string()),
            ("phone", pa.string()),
            ("national_id", pa.string()),
            ("iban", pa.string()),
            ("income", pa.float64()),
            ("employment", pa.string()),
            ("segment", pa.string()),
            ("risk_rating", pa.string()),
            ("home_country", pa.string()),
            ("x_location", pa.float64()),
            ("y_location", pa.float64()),
            ("sex", pa.string()),
            ("age", pa.int64()),
        ]
    ),
    "cards": pa.schema(
        [
            ("card_id", pa.int64()),
            ("customer_id", pa.int64()),
            ("pan", pa.string()),
            ("card_type", pa.string()),
            ("issued_at", pa.date32()),
            ("expiry", pa.string()),
        ]
    ),
    "terminals": pa.schema(
        [
            ("terminal_id", pa.int64()),
            ("merchant_name", pa.string()),
            ("mcc", pa.string()),
            ("country", pa.string()),
            ("x_location", pa.float64()),
            ("y_location", pa.float64()),
        ]
    ),
    "transactions": pa.schema(
        [
            ("transaction_id", pa.int64()),
            ("ts", TS),
            ("card_id", pa.int64()),
            ("customer_id", pa.int64()),
            ("terminal_id", pa.int64()),
            ("amount", pa.float64()),
            ("currency", pa.string()),
            ("channel", pa.string()),
            ("entry_mode", pa.string()),
            ("country", pa.string()),
            ("is_fraud", pa.bool_()),
            ("fraud_scenario", pa.string()),
            ("label_available_at", TS),
        ]
    ),
    "credit_applications": pa.schema(
        [
            ("application_id", pa.int64()),
            ("customer_id", pa.int64()),
            ("applied_at", TS),
            ("income", pa.float64()),
            ("employment", pa.string()),
            ("years_employed", pa.float64()),
            ("housing", pa.string()),
            ("purpose", pa.string()),
            ("requested_amount", pa.float64()),
            ("term_months", pa.int64()),
            ("debt_to_income", pa.float64()),
            ("utilisation", pa.float64()),
            ("delinquencies_2y", pa.int64()),
            ("inquiries_6m", pa.int64()),
            ("credit_history_months", pa.int64()),
            ("open_accounts", pa.int64()),
            ("defaulted_12m", pa.bool_()),
        ]
    ),
    "credit_protected": pa.schema(
        [
            ("application_id", pa.int64()),
            ("sex", pa.string()),
            ("age", pa.int64()),
            ("age_band", pa.string()),
        ]
    ),
}
"""The Parquet schema of every table the generator writes (table name -> arrow schema)."""
