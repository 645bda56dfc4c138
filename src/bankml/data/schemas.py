"""Declarative table schemas: what columns a bank table must have and what they may hold.

A schema is data, not code, so a validator can read it and a data owner can change it
without touching the checks in :mod:`bankml.data.quality`. Six schemas are built in, one per
synthetic bank table (``list_schemas()``); any other table is described in a YAML or TOML
file and loaded with ``load_schema(path)``.

Schema file format (YAML shown; TOML uses the same keys, with ``[[columns]]`` tables)::

    name: loans                      # required
    primary_key: [loan_id]           # columns that together identify a row
    event_time: opened_at            # when the row happened: the point-in-time anchor
    label: defaulted                 # the training target, if the table carries one
    label_time: default_known_at     # when the label became known (label delay)
    ordered_by: opened_at            # rows must be sorted ascending by this column
    segment_columns: [product]       # where to look for structured missingness
    columns:
      - name: loan_id
        dtype: int                   # int | float | string | bool | date | timestamp
        unique: true
        role: id                     # feature | id | label | label_time | event_time
                                     #   | protected | pii   (omit for a plain feature)
      - name: opened_at
        dtype: timestamp
        tz_required: true            # timestamps must carry a time zone (default true)
        role: event_time
      - name: amount
        dtype: float
        min: 0                       # inclusive bounds, numeric columns only
        min_exclusive: true          # make ``min`` a strict bound (amount > 0)
      - name: product
        dtype: string
        allowed: [mortgage, personal, auto]
      - name: income
        dtype: float
        nullable: true               # default false: a null is a schema violation
      - name: defaulted
        dtype: bool
        role: label

Unknown keys, unknown dtypes or roles, and references to undeclared columns are refused
with a :class:`~bankml.core.errors.SchemaError`, so a typo cannot silently switch a check off.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from bankml.core.errors import SchemaError

__all__ = [
    "DTYPES",
    "ROLES",
    "ColumnSpec",
    "Dtype",
    "Role",
    "TableSchema",
    "list_schemas",
    "load_schema",
]

Dtype = Literal["int", "float", "string", "bool", "date", "timestamp"]
Role = Literal["feature", "id", "label", "label_time", "event_time", "protected", "pii"]

DTYPES: tuple[str, ...] = get_args(Dtype)
ROLES: tuple[str, ...] = get_args(Role)

# Messages live here so tests and the CLI can assert them.
MSG_UNKNOWN_SCHEMA = (
    "unknown schema {name!r}: use one of {known} or a path to a .yaml/.yml/.toml schema file"
)
MSG_SCHEMA_FILE_MISSING = "schema file {path} does not exist: check the path"
MSG_SCHEMA_FILE_UNREADABLE = "cannot read schema file {path} ({reason}): fix the file and retry"
MSG_SCHEMA_FILE_SUFFIX = (
    "schema file {path} must end in .yaml, .yml or .toml: rename it or convert it"
)
MSG_SCHEMA_INVALID = "invalid schema {where}: {problem}"

_SCHEMA_SUFFIXES = (".yaml", ".yml", ".toml")
_NUMERIC_DTYPES = ("int", "float")


def _invalid(where: str, problem: str) -> SchemaError:
    return SchemaError(MSG_SCHEMA_INVALID.format(where=where, problem=problem))


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a table: its type, whether it may be null, and what values it may hold.

    ``min``/``max`` are inclusive and apply to numeric columns only (``min_exclusive`` makes
    the lower bound strict, for amounts that must be > 0). ``allowed`` is a closed set of
    values. ``tz_required`` only matters for timestamps: a naive timestamp is ambiguous by up
    to a day across the bank's time zones, which is enough to break point-in-time joins.
    ``role`` tells the leakage scan what to skip (ids, PII, labels, protected attributes);
    any explicit role, even ``feature``, also exempts the column from the target-like-name
    check (the schema's author has vouched for it), while ``None`` leaves it to the scan.
    """

    name: str
    dtype: Dtype
    nullable: bool = False
    min: float | None = None
    max: float | None = None
    allowed: list[Any] | None = None
    unique: bool = False
    tz_required: bool = True
    role: Role | None = None
    min_exclusive: bool = False

    def __post_init__(self) -> None:
        where = f"column {self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise _invalid("column", "every column needs a non-empty string 'name'")
        if self.dtype not in DTYPES:
            raise _invalid(where, f"dtype {self.dtype!r} is not one of {list(DTYPES)}")
        if self.role is not None and self.role not in ROLES:
            raise _invalid(where, f"role {self.role!r} is not one of {list(ROLES)}")
        for flag in ("nullable", "unique", "tz_required", "min_exclusive"):
            if not isinstance(getattr(self, flag), bool):
                raise _invalid(where, f"{flag!r} must be true or false")
        for bound in ("min", "max"):
            value = getattr(self, bound)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _invalid(where, f"{bound!r} must be a number")
            if self.dtype not in _NUMERIC_DTYPES:
                raise _invalid(where, f"{bound!r} is only supported on int/float columns")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _invalid(where, f"min {self.min} is greater than max {self.max}")
        if self.allowed is not None:
            if not isinstance(self.allowed, list) or not self.allowed:
                raise _invalid(where, "'allowed' must be a non-empty list")
            if self.dtype not in ("string", "int"):
                raise _invalid(where, "'allowed' is only supported on string/int columns")
            kind: type = str if self.dtype == "string" else int
            if any(isinstance(v, bool) or not isinstance(v, kind) for v in self.allowed):
                raise _invalid(where, f"every 'allowed' value must be a {self.dtype}")

    @property
    def is_numeric(self) -> bool:
        """True for int and float columns (the ones ranges apply to)."""
        return self.dtype in _NUMERIC_DTYPES

    def to_dict(self) -> dict[str, Any]:
        """The column as plain data, omitting defaults (the shape of a schema file entry)."""
        out: dict[str, Any] = {"name": self.name, "dtype": self.dtype}
        defaults = ColumnSpec(name="x", dtype="int")
        for key in (
            "nullable",
            "min",
            "max",
            "min_exclusive",
            "allowed",
            "unique",
            "tz_required",
            "role",
        ):
            value = getattr(self, key)
            if value != getattr(defaults, key):
                out[key] = list(value) if isinstance(value, list) else value
        return out


@dataclass(frozen=True)
class TableSchema:
    """A table: its columns and the facts the checks need about time, keys and labels.

    ``event_time`` is when the row happened (features may use only what was known then);
    ``label``/``label_time`` say what the target is and when it became known, so the leakage
    scan can tell a legitimate label from a column that smuggles it in. ``segment_columns`` are
    where structured missingness is looked for. Column order is not part of the schema.
    """

    name: str
    columns: list[ColumnSpec]
    primary_key: list[str] = field(default_factory=list)
    event_time: str | None = None
    label: str | None = None
    label_time: str | None = None
    ordered_by: str | None = None
    segment_columns: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        where = f"{self.name!r}"
        if not isinstance(self.name, str) or not self.name:
            raise _invalid("schema", "'name' must be a non-empty string")
        if not self.columns:
            raise _invalid(where, "'columns' must list at least one column")
        names = [c.name for c in self.columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise _invalid(where, f"columns declared twice: {duplicated}")
        by_name = {c.name: c for c in self.columns}
        for key in ("primary_key", "segment_columns"):
            value = getattr(self, key)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _invalid(where, f"{key!r} must be a list of column names")
            unknown = [v for v in value if v not in by_name]
            if unknown:
                raise _invalid(where, f"{key!r} names undeclared columns {unknown}")
        time_like = ("timestamp", "date")
        for key, dtypes in (
            ("event_time", time_like),
            ("label_time", time_like),
            ("ordered_by", (*time_like, "int", "float")),
            ("label", ("bool", "int", "float", "string")),
        ):
            value = getattr(self, key)
            if value is None:
                continue
            if value not in by_name:
                raise _invalid(where, f"{key!r} names undeclared column {value!r}")
            if by_name[value].dtype not in dtypes:
                raise _invalid(where, f"{key!r} column {value!r} must be one of {list(dtypes)}")

    def column(self, name: str) -> ColumnSpec | None:
        """The spec of column ``name``, or None if the schema does not declare it."""
        for col in self.columns:
            if col.name == name:
                return col
        return None

    @property
    def column_names(self) -> list[str]:
        """Declared column names in declaration order."""
        return [c.name for c in self.columns]

    def role_of(self, name: str) -> Role | None:
        """The effective role of a column: explicit role, else implied by the table facts.

        A column named as the table's ``label`` is a label even if its spec has no role, so a
        schema file cannot make the leakage scan flag the label itself by forgetting a role.
        """
        spec = self.column(name)
        if spec is not None and spec.role is not None:
            return spec.role
        if name == self.label:
            return "label"
        if name == self.label_time:
            return "label_time"
        if name == self.event_time:
            return "event_time"
        return None if spec is None else "feature"

    def to_dict(self) -> dict[str, Any]:
        """The schema as plain data, in the schema-file format (round-trips via load_schema)."""
        return {
            "name": self.name,
            "primary_key": list(self.primary_key),
            "event_time": self.event_time,
            "label": self.label,
            "label_time": self.label_time,
            "ordered_by": self.ordered_by,
            "segment_columns": list(self.segment_columns),
            "columns": [c.to_dict() for c in self.columns],
        }


# --- built-in schemas for the synthetic bank ---------------------------------------------
# Built as functions so every caller gets its own objects (the lists inside are mutable).


def _customers() -> TableSchema:
    return TableSchema(
        name="customers",
        columns=[
            ColumnSpec("customer_id", "int", unique=True, role="id"),
            ColumnSpec("name", "string", role="pii"),
            ColumnSpec("date_of_birth", "date", role="pii"),
            ColumnSpec("address", "string", role="pii"),
            ColumnSpec("email", "string", role="pii"),
            ColumnSpec("phone", "string", role="pii"),
            ColumnSpec("national_id", "string", role="pii"),
            ColumnSpec("iban", "string", role="pii"),
            # Income is often undisclosed; its missingness pattern is checked instead.
            ColumnSpec("income", "float", min=0, nullable=True),
            ColumnSpec(
                "employment",
                "string",
                allowed=["employed", "self_employed", "unemployed", "retired", "student"],
            ),
            ColumnSpec(
                "segment", "string", allowed=["retail", "premier", "student", "small_business"]
            ),
            ColumnSpec("risk_rating", "string", allowed=["low", "medium", "high"]),
            ColumnSpec("home_country", "string"),
            ColumnSpec("x_location", "float", min=0, max=100),
            ColumnSpec("y_location", "float", min=0, max=100),
            ColumnSpec("sex", "string", allowed=["F", "M"], role="protected"),
            ColumnSpec("age", "int", min=18, max=100, role="protected"),
        ],
        primary_key=["customer_id"],
        segment_columns=["segment", "employment"],
    )


def _cards() -> TableSchema:
    return TableSchema(
        name="cards",
        columns=[
            ColumnSpec("card_id", "int", unique=True, role="id"),
            ColumnSpec("customer_id", "int", role="id"),
            ColumnSpec("pan", "string", role="pii"),
            ColumnSpec("card_type", "string", allowed=["debit", "credit"]),
            ColumnSpec("issued_at", "date"),
            # PCI DSS treats the expiry stored with the PAN as cardholder data.
            ColumnSpec("expiry", "string", role="pii"),
        ],
        primary_key=["card_id"],
        segment_columns=["card_type"],
    )


def _terminals() -> TableSchema:
    return TableSchema(
        name="terminals",
        columns=[
            ColumnSpec("terminal_id", "int", unique=True, role="id"),
            ColumnSpec("merchant_name", "string"),
            ColumnSpec("mcc", "string"),
            ColumnSpec("country", "string"),
            ColumnSpec("x_location", "float"),
            ColumnSpec("y_location", "float"),
        ],
        primary_key=["terminal_id"],
    )


def _transactions() -> TableSchema:
    return TableSchema(
        name="transactions",
        columns=[
            ColumnSpec("transaction_id", "int", unique=True, role="id"),
            ColumnSpec("ts", "timestamp", role="event_time"),
            ColumnSpec("card_id", "int", role="id"),
            ColumnSpec("customer_id", "int", role="id"),
            ColumnSpec("terminal_id", "int", role="id"),
            ColumnSpec("amount", "float", min=0, min_exclusive=True),
            ColumnSpec("currency", "string", allowed=["EUR", "GBP", "USD"]),
            ColumnSpec("channel", "string", allowed=["pos", "ecom", "atm"]),
            ColumnSpec(
                "entry_mode",
                "string",
                allowed=["chip", "contactless", "swipe", "manual", "ecom"],
            ),
            ColumnSpec("country", "string"),
            ColumnSpec("is_fraud", "bool", role="label"),
            # Derived from the label (the generator's fraud pattern): a second label column,
            # documented as such so it is never used as a feature.
            ColumnSpec(
                "fraud_scenario",
                "string",
                allowed=[
                    "none",
                    "compromised_terminal",
                    "account_takeover",
                    "card_testing",
                    "high_amount",
                ],
                role="label",
            ),
            ColumnSpec("label_available_at", "timestamp", role="label_time"),
        ],
        primary_key=["transaction_id"],
        event_time="ts",
        label="is_fraud",
        label_time="label_available_at",
        ordered_by="ts",
        segment_columns=["channel"],
    )


def _credit_applications() -> TableSchema:
    return TableSchema(
        name="credit_applications",
        columns=[
            ColumnSpec("application_id", "int", unique=True, role="id"),
            ColumnSpec("customer_id", "int", role="id"),
            ColumnSpec("applied_at", "timestamp", role="event_time"),
            ColumnSpec("income", "float", min=0, nullable=True),
            ColumnSpec("employment", "string"),
            # Not applicable to the unemployed and students: null by design.
            ColumnSpec("years_employed", "float", min=0, nullable=True),
            ColumnSpec("housing", "string", allowed=["own", "mortgage", "rent", "other"]),
            ColumnSpec(
                "purpose",
                "string",
                allowed=["car", "home_improvement", "debt_consolidation", "education", "other"],
            ),
            ColumnSpec("requested_amount", "float", min=0, min_exclusive=True),
            ColumnSpec("term_months", "int", allowed=[12, 24, 36, 48, 60]),
            ColumnSpec("debt_to_income", "float", min=0),
            ColumnSpec("utilisation", "float", min=0, max=1),
            ColumnSpec("delinquencies_2y", "int", min=0),
            ColumnSpec("inquiries_6m", "int", min=0),
            ColumnSpec("credit_history_months", "int", min=0),
            ColumnSpec("open_accounts", "int", min=0),
            ColumnSpec("defaulted_12m", "bool", role="label"),
        ],
        primary_key=["application_id"],
        event_time="applied_at",
        label="defaulted_12m",
        segment_columns=["employment", "housing"],
    )


def _credit_protected() -> TableSchema:
    return TableSchema(
        name="credit_protected",
        columns=[
            ColumnSpec("application_id", "int", unique=True, role="id"),
            ColumnSpec("sex", "string", allowed=["F", "M"], role="protected"),
            ColumnSpec("age", "int", min=18, max=100, role="protected"),
            ColumnSpec(
                "age_band",
                "string",
                allowed=["18-25", "26-40", "41-60", "61+"],
                role="protected",
            ),
        ],
        primary_key=["application_id"],
    )


_BUILTINS: dict[str, Callable[[], TableSchema]] = {
    "transactions": _transactions,
    "customers": _customers,
    "cards": _cards,
    "terminals": _terminals,
    "credit_applications": _credit_applications,
    "credit_protected": _credit_protected,
}


def list_schemas() -> list[str]:
    """Names of the built-in schemas, sorted: one per synthetic bank table."""
    return sorted(_BUILTINS)


def load_schema(name_or_path: str | Path) -> TableSchema:
    """A built-in schema by name, or a schema read from a YAML/TOML file.

    A bare name that is not built in is an error rather than a guess at a file, so a typo in
    ``--schema transactons`` says "unknown schema" instead of "file not found".
    """
    text = str(name_or_path)
    if text in _BUILTINS:
        return _BUILTINS[text]()
    path = Path(name_or_path)
    if path.suffix.lower() not in _SCHEMA_SUFFIXES:
        if path.exists():
            raise SchemaError(MSG_SCHEMA_FILE_SUFFIX.format(path=path))
        raise SchemaError(MSG_UNKNOWN_SCHEMA.format(name=text, known=", ".join(list_schemas())))
    if not path.is_file():
        raise SchemaError(MSG_SCHEMA_FILE_MISSING.format(path=path))
    return _schema_from_file(path)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _schema_from_file(path: Path) -> TableSchema:
    try:
        raw = path.read_bytes()
        if path.suffix.lower() == ".toml":
            doc: Any = tomllib.loads(raw.decode("utf-8"))
        else:
            doc = yaml.safe_load(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        reason = _one_line(str(exc)) or type(exc).__name__
        raise SchemaError(MSG_SCHEMA_FILE_UNREADABLE.format(path=path, reason=reason)) from exc
    return _schema_from_mapping(doc, where=str(path))


_TABLE_KEYS = {
    "name",
    "columns",
    "primary_key",
    "event_time",
    "label",
    "label_time",
    "ordered_by",
    "segment_columns",
}
_COLUMN_KEYS = {
    "name",
    "dtype",
    "nullable",
    "min",
    "max",
    "min_exclusive",
    "allowed",
    "unique",
    "tz_required",
    "role",
}


def _schema_from_mapping(doc: object, *, where: str) -> TableSchema:
    """Build a TableSchema from parsed YAML/TOML, refusing anything that is not the format."""
    if not isinstance(doc, Mapping):
        raise _invalid(where, "the top level must be a mapping with 'name' and 'columns'")
    unknown = sorted(set(map(str, doc)) - _TABLE_KEYS)
    if unknown:
        raise _invalid(where, f"unknown keys {unknown}; allowed: {sorted(_TABLE_KEYS)}")
    for key in ("name", "columns"):
        if key not in doc:
            raise _invalid(where, f"missing required key {key!r}")
    raw_columns = doc["columns"]
    if not isinstance(raw_columns, list) or not raw_columns:
        raise _invalid(where, "'columns' must be a non-empty list")
    columns: list[ColumnSpec] = []
    for i, raw in enumerate(raw_columns):
        if not isinstance(raw, Mapping):
            raise _invalid(where, f"column #{i + 1} must be a mapping")
        bad = sorted(set(map(str, raw)) - _COLUMN_KEYS)
        if bad:
            raise _invalid(where, f"column #{i + 1}: unknown keys {bad}")
        if "name" not in raw or "dtype" not in raw:
            raise _invalid(where, f"column #{i + 1} needs 'name' and 'dtype'")
        kwargs = {str(k): v for k, v in raw.items()}
        columns.append(ColumnSpec(**kwargs))
    table_kwargs: dict[str, Any] = {k: doc[k] for k in _TABLE_KEYS - {"columns"} if k in doc}
    for key in ("primary_key", "segment_columns"):
        if table_kwargs.get(key) is None:
            table_kwargs[key] = []
    for key in ("event_time", "label", "label_time", "ordered_by"):
        value = table_kwargs.get(key)
        if value is not None and not isinstance(value, str):
            raise _invalid(where, f"{key!r} must be a column name")
    try:
        return TableSchema(columns=columns, **table_kwargs)
    except TypeError as exc:  # a wrongly typed value that dataclass init refused
        raise _invalid(where, _one_line(str(exc))) from exc
