"""Which column of a bank's transaction table plays which part in the fraud features.

A bank's table never uses our names, so everything downstream reads it through a
:class:`ColumnMapping`. Mapping file format (TOML, one ``[columns]`` table)::

    [columns]
    # required
    transaction_id = "txn_id"          # unique per transaction; breaks timestamp ties
    timestamp      = "booked_at"       # when it happened (naive values are read as UTC)
    customer       = "customer_no"
    terminal       = "merchant_terminal"
    amount         = "amount_eur"
    label          = "is_fraud"        # boolean (true/false, 1/0); empty = not fraud
    # optional: leave a key out if the table has no such column
    label_time     = "fraud_reported_at"   # when the label became known
    card           = "card_token"
    country        = "merchant_country"

Any other key or table is refused, so a typo (``costumer = ...``) cannot silently leave a
default in place. A missing optional column disables the features that need it, with a
warning that names them (see :func:`bankml.fraud.features.resolve`, which checks a mapping
against a table: it lives with the features because it names them; this module imports
nothing of fraud's).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from bankml.core.errors import InputError

__all__ = [
    "DEFAULT_MAPPING",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ColumnMapping",
    "load_mapping",
]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "transaction_id",
    "timestamp",
    "customer",
    "terminal",
    "amount",
    "label",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("label_time", "card", "country")

# Messages live here so tests and the CLI can assert them.
MSG_MISSING_REQUIRED = (
    "column {column!r} (mapped as {role}) is not in the file; columns are: {have}"
)
MSG_MAPPING_UNREADABLE = "cannot read mapping file {path}: {reason}"
MSG_MAPPING_MISSING_FILE = "mapping file {path} does not exist: check the path"
MSG_MAPPING_UNKNOWN_KEYS = "mapping file {path}: unknown key(s) {keys}; allowed: {allowed}"
MSG_MAPPING_MISSING_KEYS = "mapping file {path}: [columns] lacks required key(s) {keys}"
MSG_MAPPING_BAD_VALUE = "mapping file {path}: {key} must be a non-empty column name string"
MSG_NO_LABEL_TIME = (
    "no label-time column: a label counts as known label_delay_days after the transaction "
    "(terminal fraud rates)"
)
MSG_ABSENT_PREFIX = "column {column!r} (mapped as {role}) is not in the file: "
MSG_OPTIONAL_UNMAPPED = "no {role} column mapped: disabled {features}"


@dataclass(frozen=True)
class ColumnMapping:
    """Source column names for each part a transaction plays; None = the table lacks it."""

    transaction_id: str
    timestamp: str
    customer: str
    terminal: str
    amount: str
    label: str
    label_time: str | None = None
    card: str | None = None
    country: str | None = None

    def as_dict(self) -> dict[str, str]:
        """Role -> source column, for the roles that are mapped."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}


DEFAULT_MAPPING = ColumnMapping(
    transaction_id="transaction_id",
    timestamp="ts",
    customer="customer_id",
    terminal="terminal_id",
    amount="amount",
    label="is_fraud",
    label_time="label_available_at",
    card="card_id",
    country="country",
)
"""The synthetic bank's ``transactions.parquet`` (:func:`bankml.data.generator.generate_bank`)."""


def load_mapping(path: Path) -> ColumnMapping:
    """Read a mapping TOML file (format in the module docstring).

    Refuses unknown keys and missing required keys with a one-line :class:`InputError`
    rather than guessing, because a silently wrong column makes a model that looks fine.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(MSG_MAPPING_MISSING_FILE.format(path=path))
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(MSG_MAPPING_UNREADABLE.format(path=path, reason=reason)) from exc
    allowed = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
    extra_tables = sorted(k for k in doc if k != "columns")
    if extra_tables:
        raise InputError(
            MSG_MAPPING_UNKNOWN_KEYS.format(
                path=path, keys=", ".join(extra_tables), allowed="a single [columns] table"
            )
        )
    columns = doc.get("columns")
    if not isinstance(columns, dict):
        raise InputError(
            MSG_MAPPING_MISSING_KEYS.format(path=path, keys=", ".join(REQUIRED_COLUMNS))
        )
    unknown = sorted(k for k in columns if k not in allowed)
    if unknown:
        raise InputError(
            MSG_MAPPING_UNKNOWN_KEYS.format(
                path=path, keys=", ".join(unknown), allowed=", ".join(allowed)
            )
        )
    missing = [k for k in REQUIRED_COLUMNS if k not in columns]
    if missing:
        raise InputError(MSG_MAPPING_MISSING_KEYS.format(path=path, keys=", ".join(missing)))
    for key, value in columns.items():
        if not isinstance(value, str) or not value.strip():
            raise InputError(MSG_MAPPING_BAD_VALUE.format(path=path, key=key))
    return ColumnMapping(**columns)
