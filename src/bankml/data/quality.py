"""Data-quality and leakage checks for one bank table against its declared schema.

``check_table(path, schema)`` reads a Parquet or CSV file and returns a
:class:`QualityReport`: per-column statistics and a list of :class:`Finding` objects, each
tagged with a check id from :data:`CHECK_IDS` and a severity (``warning`` or ``blocking``).
It never prints; the CLI renders the report, and ``QualityReport.render_html`` writes a
self-contained HTML page.

What is checked (the ids are module constants):

* schema: missing columns, wrong types, nulls where not allowed, values out of range or
  outside the allowed set, duplicate primary keys / unique values (all blocking); columns the
  schema does not declare (warning).
* missingness pattern: nulls concentrated in a segment or a time window (warning). A rate
  alone says little; *where* the nulls are says whether a model will learn the gap.
* duplicate rows (blocking when they break the primary key, else warning).
* time: event times in the future (blocking), naive timestamps (blocking), rows out of
  order (warning).
* schema drift against a reference file of the same table (warning).
* leakage scan (``leakage_scan`` catches some leakage, it cannot prove there is none):
  time columns later than the event (blocking), target-like names (blocking), a single
  feature that predicts the label too well (warning). Columns whose role is ``id``, ``pii``,
  ``protected``, ``label`` or ``label_time`` are not scored; a column given any role
  explicitly in the schema (even ``feature``) is exempt from the name check, because the
  schema's author has vouched for it.

Reading: Parquet goes through DuckDB's streaming reader (no full copy in memory); CSV is
parsed with pyarrow, every column read as text and then converted to the type the schema
declares (timestamps with an offset become timezone-aware, without one they stay naive so
the naive-timestamp check can see them). In CSV only the empty string is a null, so a
country code ``NA`` stays Namibia. Float NaN counts as missing.

Sampling: only the single-feature AUC is sampled (``sample_rows`` rows, drawn without
replacement with a fixed seed); every other check looks at every row.

Statistical choices for missingness: a chi-square test of null/non-null against segment
(or day/week of the event time) must give p < ``MISSINGNESS_P_VALUE`` *and* the worst
segment's null rate must be at least ``MISSINGNESS_MIN_RATIO`` times and
``MISSINGNESS_MIN_DIFF`` above the overall rate, so huge tables do not flag trivial
differences and sparse random nulls are not called structured.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import duckdb
import jinja2
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bankml.core.errors import DataFileError, InputError
from bankml.data.schemas import ColumnSpec, TableSchema

__all__ = [
    "CHECK_IDS",
    "DRIFT_ADDED_COLUMN",
    "DRIFT_REMOVED_COLUMN",
    "DRIFT_RETYPED_COLUMN",
    "DUPLICATE_ROWS",
    "LEAKAGE_HIGH_AUC",
    "LEAKAGE_POST_EVENT_TIME",
    "LEAKAGE_TARGET_NAME",
    "MISSINGNESS_BY_SEGMENT",
    "MISSINGNESS_BY_TIME",
    "SCHEMA_DUPLICATE_KEY",
    "SCHEMA_MISSING_COLUMN",
    "SCHEMA_NOT_ALLOWED",
    "SCHEMA_NULLS",
    "SCHEMA_OUT_OF_RANGE",
    "SCHEMA_UNDECLARED_COLUMN",
    "SCHEMA_WRONG_TYPE",
    "TIME_FUTURE",
    "TIME_NAIVE",
    "TIME_OUT_OF_ORDER",
    "ColumnStats",
    "Finding",
    "QualityReport",
    "Severity",
    "check_table",
]

logger = logging.getLogger(__name__)

Severity = Literal["warning", "blocking"]
Status = Literal["clean", "warnings", "blocking"]

# --- check ids -----------------------------------------------------------------------------
SCHEMA_MISSING_COLUMN = "schema.missing_column"
SCHEMA_WRONG_TYPE = "schema.wrong_type"
SCHEMA_NULLS = "schema.nulls"
SCHEMA_OUT_OF_RANGE = "schema.out_of_range"
SCHEMA_NOT_ALLOWED = "schema.not_allowed"
SCHEMA_DUPLICATE_KEY = "schema.duplicate_key"
SCHEMA_UNDECLARED_COLUMN = "schema.undeclared_column"
MISSINGNESS_BY_SEGMENT = "missingness.by_segment"
MISSINGNESS_BY_TIME = "missingness.by_time"
DUPLICATE_ROWS = "duplicates.rows"
TIME_FUTURE = "time.future"
TIME_NAIVE = "time.naive"
TIME_OUT_OF_ORDER = "time.out_of_order"
DRIFT_ADDED_COLUMN = "drift.added_column"
DRIFT_REMOVED_COLUMN = "drift.removed_column"
DRIFT_RETYPED_COLUMN = "drift.retyped_column"
LEAKAGE_POST_EVENT_TIME = "leakage.post_event_time"
LEAKAGE_HIGH_AUC = "leakage.high_auc"
LEAKAGE_TARGET_NAME = "leakage.target_like_name"

CHECK_IDS: tuple[str, ...] = (
    SCHEMA_MISSING_COLUMN,
    SCHEMA_WRONG_TYPE,
    SCHEMA_NULLS,
    SCHEMA_OUT_OF_RANGE,
    SCHEMA_NOT_ALLOWED,
    SCHEMA_DUPLICATE_KEY,
    SCHEMA_UNDECLARED_COLUMN,
    MISSINGNESS_BY_SEGMENT,
    MISSINGNESS_BY_TIME,
    DUPLICATE_ROWS,
    TIME_FUTURE,
    TIME_NAIVE,
    TIME_OUT_OF_ORDER,
    DRIFT_ADDED_COLUMN,
    DRIFT_REMOVED_COLUMN,
    DRIFT_RETYPED_COLUMN,
    LEAKAGE_POST_EVENT_TIME,
    LEAKAGE_HIGH_AUC,
    LEAKAGE_TARGET_NAME,
)

# --- thresholds ------------------------------------------------------------------------------
MISSINGNESS_P_VALUE = 1e-6
MISSINGNESS_MIN_RATIO = 2.0
MISSINGNESS_MIN_DIFF = 0.01
MISSINGNESS_MIN_GROUP_ROWS = 20
MISSINGNESS_MIN_GROUP_NULLS = 5
MISSINGNESS_WINDOW_NULL_SHARE = 0.9  # a window holding this share of the nulls ...
MISSINGNESS_WINDOW_MAX_ROW_SHARE = 0.5  # ... and at most this share of the rows is "the" window
MAX_SEGMENTS = 100
POST_EVENT_SHARE = 0.5
LOW_CARDINALITY_MAX = 50
AUC_MIN_CLASS_ROWS = 10
AUC_FOLDS = 5
AUC_SMOOTHING = 10.0
EXAMPLES = 5
DEFAULT_SEED = 0

# Words that name an outcome. ``delinquenc`` is deliberately absent: past delinquencies are a
# legitimate credit feature. A column whose schema role is set explicitly is not name-checked.
TARGET_NAME_PATTERN = re.compile(
    r"fraud|chargeback|charge_back|default|label|target|outcome|is_bad|bad_flag|dispute"
    r"|confirmed|write_?off|recover",
    re.IGNORECASE,
)

# --- messages: file errors (one line: what, then what to do) --------------------------------
MSG_FILE_MISSING = "data file {path} does not exist: check the path"
MSG_FILE_NOT_A_FILE = "{path} is not a file: pass a .parquet or .csv file"
MSG_FILE_EMPTY = "data file {path} is empty (0 bytes): regenerate or re-export it"
MSG_FILE_NO_ROWS = "data file {path} has no rows: regenerate or re-export it"
MSG_FILE_FORMAT = "data file {path} has unsupported extension {suffix!r}: use .parquet or .csv"
MSG_FILE_BAD_PARQUET = (
    "cannot read {path} as Parquet ({reason}): the file is corrupt or not Parquet;"
    " regenerate or re-export it"
)
MSG_FILE_BAD_CSV = "cannot parse {path} as CSV ({reason}): fix or re-export the file"
MSG_FILE_UNREADABLE = "cannot open {path} ({reason}): check the path and its permissions"
MSG_REPORT_UNWRITABLE = "cannot write report {path} ({reason}): choose a writable path"
MSG_BAD_ARGUMENT = "invalid argument {name}={value!r}: {problem}"

# --- messages: findings -----------------------------------------------------------------------
MSG_MISSING_COLUMN = "required column {column!r} ({expected}) is missing"
MSG_WRONG_TYPE = "column {column!r} is {found}, schema says {expected}"
MSG_NULLS = "column {column!r} has {count} nulls ({rate}) but is not nullable"
MSG_OUT_OF_RANGE = "column {column!r} has {count} values outside {bounds} (e.g. {examples})"
MSG_NOT_ALLOWED = "column {column!r} has {count} values not in {allowed} (e.g. {examples})"
MSG_DUPLICATE_KEY = "{what} has {count} duplicated values in {rows} rows (e.g. {examples})"
MSG_UNDECLARED_COLUMN = "column {column!r} ({found}) is not declared in schema {schema!r}"
MSG_MISSING_BY_SEGMENT = (
    "{column} missing in {group_rate} of rows with {segment}={value} vs {rate} overall"
)
MSG_MISSING_BY_TIME_WINDOW = (
    "{column} missing {qualifier} {window} ({null_share} of its nulls; {window_rate} of rows"
    " there vs {rate} overall)"
)
MSG_MISSING_BY_TIME_PEAK = "{column} missing in {group_rate} of rows {window} vs {rate} overall"
MSG_DUPLICATE_ROWS = "{count} rows are exact copies of an earlier row{consequence}"
MSG_FUTURE = "column {column!r} has {count} values after {now} (latest {latest})"
MSG_NAIVE = "column {column!r} holds timezone-naive timestamps: store them with a time zone (UTC)"
MSG_OUT_OF_ORDER = "{count} rows are out of order by {column!r} (earlier than the row before)"
MSG_DRIFT_ADDED = "column {column!r} ({found}) is new compared with the reference"
MSG_DRIFT_REMOVED = "column {column!r} ({expected}) is in the reference but not in this file"
MSG_DRIFT_RETYPED = "column {column!r} changed type from {expected} to {found} since the reference"
MSG_LEAK_POST_TIME = (
    "column {column!r} is later than {anchor!r} in {share} of rows: it is not known at"
    " prediction time"
)
MSG_LEAK_AUC = (
    "column {column!r} alone predicts {label!r} with AUC {auc:.3f} (threshold {threshold}):"
    " check it is not derived from the label"
)
MSG_LEAK_NAME = (
    "column {column!r} has a target-like name: drop it, or declare its role in the schema"
    " if it is known before the event"
)

_TEMPLATE_DIR = Path(__file__).parent / "templates"
_TEMPLATE_NAME = "quality_report.html.j2"
_US_PER_DAY = 86_400_000_000
_BUCKET_WIDTHS = (1, 7, 28, 91)
_SKIP_LEAKAGE_ROLES = frozenset({"id", "pii", "label", "label_time", "protected", "event_time"})


# --- public data structures -------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One problem found in a table: which check, how bad, where, and the evidence.

    ``details`` is converted to plain JSON types on creation, so a report can always be
    serialised; ``check`` must be one of :data:`CHECK_IDS` so consumers can switch on it.
    """

    check: str
    severity: Severity
    column: str | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.check not in CHECK_IDS:
            raise ValueError(f"unknown check id {self.check!r}")
        if self.severity not in ("warning", "blocking"):
            raise ValueError(f"unknown severity {self.severity!r}")
        object.__setattr__(self, "details", _plain(self.details))

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data."""
        return {
            "check": self.check,
            "severity": self.severity,
            "column": self.column,
            "message": self.message,
            "details": self.details,
        }


@dataclass(frozen=True)
class ColumnStats:
    """Profile of one column as found in the file (not as the schema wishes it were).

    ``distinct_approx`` is a HyperLogLog estimate (exact for small counts, within a few
    percent for large ones). ``min``/``max`` are numbers for numeric columns and ISO strings
    for dates and timestamps; None otherwise.
    """

    name: str
    dtype: str
    kind: str
    null_count: int
    null_rate: float
    distinct_approx: int | None
    min: float | int | str | None = None
    max: float | int | str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The stats as JSON-ready data."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "kind": self.kind,
            "null_count": self.null_count,
            "null_rate": self.null_rate,
            "distinct_approx": self.distinct_approx,
            "min": _plain(self.min),
            "max": _plain(self.max),
        }


@dataclass
class QualityReport:
    """The result of checking one table: stats, findings, and a status a pipeline can gate on.

    ``status`` is ``blocking`` if any finding is blocking, ``warnings`` if any is a warning,
    else ``clean``; ``exit_code`` maps those to 2, 1, 0 for the CLI.
    """

    path: str
    schema_name: str
    row_count: int
    columns: list[ColumnStats]
    findings: list[Finding]
    checked_at: str
    reference: str | None = None
    leakage_sample_rows: int | None = None

    @property
    def status(self) -> Status:
        """``clean``, ``warnings`` or ``blocking``: the worst severity among the findings."""
        if any(f.severity == "blocking" for f in self.findings):
            return "blocking"
        if self.findings:
            return "warnings"
        return "clean"

    @property
    def exit_code(self) -> int:
        """0 clean, 1 warnings, 2 blocking."""
        return {"clean": 0, "warnings": 1, "blocking": 2}[self.status]

    def by_check(self, check: str) -> list[Finding]:
        """The findings of one check id (handy for gates and tests)."""
        return [f for f in self.findings if f.check == check]

    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-serialisable data (what ``--json`` prints)."""
        return {
            "path": self.path,
            "schema": self.schema_name,
            "reference": self.reference,
            "row_count": self.row_count,
            "checked_at": self.checked_at,
            "status": self.status,
            "exit_code": self.exit_code,
            "summary": {
                "blocking": sum(f.severity == "blocking" for f in self.findings),
                "warning": sum(f.severity == "warning" for f in self.findings),
            },
            "leakage_sample_rows": self.leakage_sample_rows,
            "columns": [c.to_dict() for c in self.columns],
            "findings": [f.to_dict() for f in self.findings],
        }

    def render_html(self, path: Path | str) -> Path:
        """Write the report as one self-contained HTML file, atomically; return its path.

        The page is written to a temporary file next to the target and renamed over it, so a
        reader never sees half a report (and a failed render leaves the old one in place).
        """
        target = Path(path)
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_TEMPLATE_DIR),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        data = self.to_dict()
        # Blocking first, then warnings, each in check order.
        rows = sorted(data["findings"], key=lambda f: f["severity"] != "blocking")
        html = env.get_template(_TEMPLATE_NAME).render(
            report=data,
            findings=[(f, json.dumps(f["details"], sort_keys=True, indent=1)) for f in rows],
        )
        tmp_name: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
            )
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(html)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, target)
            tmp_name = None
        except OSError as exc:
            raise InputError(
                MSG_REPORT_UNWRITABLE.format(path=target, reason=_reason(exc))
            ) from exc
        finally:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)
        return target


# --- reading -------------------------------------------------------------------------------


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _reason(exc: BaseException) -> str:
    """The first line of an exception, printable and short enough for a one-line message."""
    text = str(exc) or type(exc).__name__
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text if len(text) <= 160 else text[:157] + "..."


def _kind(dtype: pa.DataType) -> str:
    """Map an Arrow type to the schema's vocabulary (plus ``null`` and ``other``)."""
    if pa.types.is_dictionary(dtype):
        return _kind(dtype.value_type)
    if pa.types.is_boolean(dtype):
        return "bool"
    if pa.types.is_integer(dtype):
        return "int"
    if pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "float"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if getattr(pa.types, "is_string_view", lambda _t: False)(dtype):
        return "string"
    if pa.types.is_date(dtype):
        return "date"
    if pa.types.is_timestamp(dtype):
        return "timestamp"
    if pa.types.is_null(dtype):
        return "null"
    return "other"


def _type_label(dtype: pa.DataType) -> str:
    return str(dtype.value_type) if pa.types.is_dictionary(dtype) else str(dtype)


def _is_naive(dtype: pa.DataType) -> bool:
    return pa.types.is_timestamp(dtype) and dtype.tz is None


def _compatible(found: str, expected: str) -> bool:
    """Whether a column of kind ``found`` satisfies a schema dtype (int widens to float)."""
    return found == expected or found == "null" or (expected == "float" and found == "int")


class _Source:
    """One opened table: its Arrow schema, a DuckDB view ``t`` over it, and column reads."""

    def __init__(
        self,
        path: Path,
        arrow_schema: pa.Schema,
        row_count: int,
        con: duckdb.DuckDBPyConnection,
        reader: Callable[[list[str]], pa.Table],
        error_template: str,
    ) -> None:
        self.path = path
        self.arrow_schema = arrow_schema
        self.row_count = row_count
        self.con = con
        self._reader = reader
        self._error_template = error_template
        self.kinds = {f.name: _kind(f.type) for f in arrow_schema}

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.arrow_schema]

    def sql(self, query: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a query over ``t``; a file that fails mid-read becomes a DataFileError."""
        try:
            return self.con.execute(query, params).fetchall()
        except (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException):
            raise  # a bug in our SQL, not in the file: let it surface as one
        except duckdb.Error as exc:  # corrupt pages, bad compression, truncated data
            raise DataFileError(
                self._error_template.format(path=self.path, reason=_reason(exc))
            ) from exc

    def read(self, names: list[str]) -> pa.Table:
        """Selected columns as an Arrow table, all rows."""
        try:
            return self._reader(names)
        except (pa.ArrowException, OSError) as exc:
            raise DataFileError(
                self._error_template.format(path=self.path, reason=_reason(exc))
            ) from exc

    def close(self) -> None:
        self.con.close()


def _open(path: Path, schema: TableSchema) -> _Source:
    """Open a Parquet or CSV file for checking, refusing missing, empty or unreadable ones."""
    if not path.exists():
        raise DataFileError(MSG_FILE_MISSING.format(path=path))
    if not path.is_file():
        raise DataFileError(MSG_FILE_NOT_A_FILE.format(path=path))
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv"):
        raise DataFileError(MSG_FILE_FORMAT.format(path=path, suffix=path.suffix))
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataFileError(MSG_FILE_UNREADABLE.format(path=path, reason=_reason(exc))) from exc
    if size == 0:
        raise DataFileError(MSG_FILE_EMPTY.format(path=path))
    if suffix == ".csv":
        return _open_csv(path, schema)
    return _open_parquet(path)


def _open_parquet(path: Path) -> _Source:
    try:
        meta = pq.ParquetFile(path)
        arrow_schema = meta.schema_arrow
        row_count = meta.metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise DataFileError(MSG_FILE_BAD_PARQUET.format(path=path, reason=_reason(exc))) from exc
    if row_count == 0:
        raise DataFileError(MSG_FILE_NO_ROWS.format(path=path))
    con = duckdb.connect()
    literal = "'" + str(path).replace("'", "''") + "'"
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet({literal})")

    def reader(names: list[str]) -> pa.Table:
        return pq.ParquetFile(path).read(columns=names)

    return _Source(path, arrow_schema, row_count, con, reader, MSG_FILE_BAD_PARQUET)


def _open_csv(path: Path, schema: TableSchema) -> _Source:
    table = _read_csv(path, schema)
    con = duckdb.connect()
    con.register("t", table)

    def reader(names: list[str]) -> pa.Table:
        return table.select(names)

    return _Source(path, table.schema, table.num_rows, con, reader, MSG_FILE_BAD_CSV)


def _read_csv(path: Path, schema: TableSchema) -> pa.Table:
    """Parse a CSV as text, then convert each column to its declared (or inferred) type."""
    try:
        header = pacsv.open_csv(path).schema.names
        text_types = dict.fromkeys(header, pa.string())
        raw = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types=text_types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        raise DataFileError(MSG_FILE_BAD_CSV.format(path=path, reason=_reason(exc))) from exc
    if raw.num_rows == 0:
        raise DataFileError(MSG_FILE_NO_ROWS.format(path=path))
    if len(set(raw.column_names)) != len(raw.column_names):
        dupes = sorted({n for n in raw.column_names if raw.column_names.count(n) > 1})
        raise DataFileError(
            MSG_FILE_BAD_CSV.format(path=path, reason=f"header repeats columns {dupes}")
        )
    columns = []
    for name in raw.column_names:
        spec = schema.column(name)
        candidates = _csv_candidates(spec.dtype if spec else None)
        columns.append(_convert_text(raw.column(name), candidates))
    return pa.table(columns, names=raw.column_names)


_CSV_TYPES: dict[str, list[pa.DataType]] = {
    "int": [pa.int64()],
    "float": [pa.float64()],
    "bool": [pa.bool_()],
    "date": [pa.date32()],
    "timestamp": [pa.timestamp("us", tz="UTC"), pa.timestamp("us")],
    "string": [],
}


_INFERRED_TYPES: list[pa.DataType] = [
    pa.int64(),
    pa.float64(),
    pa.bool_(),
    pa.date32(),
    pa.timestamp("us", tz="UTC"),
    pa.timestamp("us"),
]


def _csv_candidates(dtype: str | None) -> list[pa.DataType]:
    """Types to try, in order: the declared one first, then the narrowest that fits.

    Falling back to inference means a declared-int column holding ``2.5`` is reported as
    "double, schema says int" rather than as text.
    """
    if dtype == "string":
        return []
    declared = [] if dtype is None else _CSV_TYPES[dtype]
    return declared + [t for t in _INFERRED_TYPES if t not in declared]


def _convert_text(column: pa.ChunkedArray, candidates: list[pa.DataType]) -> pa.ChunkedArray:
    """The first candidate type every non-null value converts to, else the text itself."""
    if column.null_count == len(column):
        return column
    for dtype in candidates:
        try:
            return pc.cast(column, dtype)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return column


# --- the checks ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Convert numpy/Decimal/datetime values (recursively) into JSON-serialisable ones."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _pct(rate: float) -> str:
    if 0 < rate < 0.01:
        return f"{rate:.2%}"
    return f"{rate:.1%}"


def _us_to_iso(us: int | None) -> str | None:
    if us is None:
        return None
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(us))).isoformat()


def _day_to_iso(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=int(day))).isoformat()


def _days_text(first_day: int, last_day: int) -> str:
    if first_day == last_day:
        return f"on {_day_to_iso(first_day)}"
    return f"between {_day_to_iso(first_day)} and {_day_to_iso(last_day)}"


def _bucket_days(rows: int, span_days: float) -> int:
    """Period length for the time-missingness test: the shortest with enough rows per period.

    Days for a busy transaction table, weeks to quarters for a small application table, so
    each period has a fair chance of ``MISSINGNESS_MIN_GROUP_ROWS`` rows.
    """
    per_day = rows / max(span_days, 1.0)
    for width in _BUCKET_WIDTHS:
        if per_day * width >= 2 * MISSINGNESS_MIN_GROUP_ROWS:
            return width
    return _BUCKET_WIDTHS[-1]


def _examples(values: Iterable[Any]) -> str:
    return ", ".join(repr(_plain(v)) for v in values) or "-"


def _null_pred(col: str, kind: str) -> str:
    """SQL that is true where the value is missing (NaN counts as missing for floats)."""
    q = _ident(col)
    return f"({q} IS NULL OR isnan({q}))" if kind == "float" else f"({q} IS NULL)"


def _epoch_us(col: str, dtype: pa.DataType) -> str:
    """SQL for microseconds since 1970-01-01 UTC of a date or timestamp column.

    Casting first makes every unit (s/ms/us/ns) and zone work; a naive timestamp is read as
    UTC wall time, which is the only reading available (and the naive check flags it).
    """
    q = _ident(col)
    if pa.types.is_date(dtype):
        return f"epoch_us({q})"
    target = "TIMESTAMP" if dtype.tz is None else "TIMESTAMPTZ"
    return f"epoch_us(CAST({q} AS {target}))"


class _Checker:
    """Runs every check over one opened table and collects findings (one instance per call)."""

    def __init__(
        self,
        src: _Source,
        schema: TableSchema,
        *,
        now: datetime,
        reference: Path | None,
        threshold: float,
        sample_rows: int | None,
        seed: int,
    ) -> None:
        self.src = src
        self.schema = schema
        self.now = now
        self.reference = reference
        self.threshold = threshold
        self.sample_rows = sample_rows
        self.seed = seed
        self.findings: list[Finding] = []
        self.stats: dict[str, ColumnStats] = {}
        self.wrong_type: set[str] = set()
        self.leakage_sample_rows: int | None = None

    # helpers
    def add(
        self,
        check: str,
        severity: Severity,
        column: str | None,
        message: str,
        **details: Any,
    ) -> None:
        self.findings.append(Finding(check, severity, column, message, details))

    def kind(self, name: str) -> str:
        return self.src.kinds.get(name, "missing")

    def present(self, name: str | None) -> bool:
        return name is not None and name in self.src.kinds

    def usable(self, name: str | None, kinds: Sequence[str]) -> bool:
        """Present, of one of ``kinds``, and not already reported as the wrong type."""
        return (
            name is not None
            and self.present(name)
            and self.kind(name) in kinds
            and name not in self.wrong_type
        )

    def counts(self, filters: dict[str, str]) -> dict[str, int]:
        """Count rows matching each SQL filter, all in one pass over the table."""
        if not filters:
            return {}
        keys = list(filters)
        select = ", ".join(f"count(*) FILTER (WHERE {filters[k]})" for k in keys)
        (row,) = self.src.sql(f"SELECT {select} FROM t")
        return {k: int(v or 0) for k, v in zip(keys, row, strict=True)}

    # run
    def run(self) -> None:
        self.profile()
        self.check_columns()
        self.check_values()
        dup_keys = self.check_keys()
        self.check_duplicate_rows(dup_keys)
        self.check_time()
        self.check_missingness()
        if self.reference is not None:
            self.check_drift(self.reference)
        self.leakage_scan()

    # 0. profile
    def profile(self) -> None:
        exprs: list[str] = []
        layout: list[tuple[str, str, int]] = []  # name, kind, number of expressions
        for field_ in self.src.arrow_schema:
            name, kind = field_.name, _kind(field_.type)
            q = _ident(name)
            parts = [f"count(*) FILTER (WHERE {_null_pred(name, kind)})"]
            if kind in ("int", "float", "string", "bool", "date", "timestamp"):
                parts.append(f"approx_count_distinct({q})")
            if kind == "int":
                parts += [f"min({q})", f"max({q})"]
            elif kind == "float":
                parts += [
                    f"min({q}) FILTER (WHERE NOT isnan({q}))",
                    f"max({q}) FILTER (WHERE NOT isnan({q}))",
                ]
            elif kind in ("date", "timestamp"):
                epoch = _epoch_us(name, field_.type)
                parts += [f"min({epoch})", f"max({epoch})"]
            exprs += parts
            layout.append((name, kind, len(parts)))
        (row,) = self.src.sql(f"SELECT {', '.join(exprs)} FROM t")
        n = self.src.row_count
        i = 0
        for field_, (name, kind, width) in zip(self.src.arrow_schema, layout, strict=True):
            values = row[i : i + width]
            i += width
            nulls = int(values[0] or 0)
            distinct = int(values[1]) if width > 1 and values[1] is not None else None
            lo = hi = None
            if width == 4:
                lo, hi = values[2], values[3]
                if kind in ("date", "timestamp"):
                    lo, hi = _us_to_iso(lo), _us_to_iso(hi)
                    if kind == "date":
                        lo = lo[:10] if lo else None
                        hi = hi[:10] if hi else None
                else:
                    lo, hi = _plain(lo), _plain(hi)
            self.stats[name] = ColumnStats(
                name=name,
                dtype=_type_label(field_.type),
                kind=kind,
                null_count=nulls,
                null_rate=nulls / n if n else 0.0,
                distinct_approx=distinct,
                min=lo,
                max=hi,
            )

    # 1. schema: presence, type, nulls
    def check_columns(self) -> None:
        for spec in self.schema.columns:
            if not self.present(spec.name):
                self.add(
                    SCHEMA_MISSING_COLUMN,
                    "blocking",
                    spec.name,
                    MSG_MISSING_COLUMN.format(column=spec.name, expected=spec.dtype),
                    expected=spec.dtype,
                )
                continue
            found = self.kind(spec.name)
            stats = self.stats[spec.name]
            if not _compatible(found, spec.dtype):
                self.wrong_type.add(spec.name)
                self.add(
                    SCHEMA_WRONG_TYPE,
                    "blocking",
                    spec.name,
                    MSG_WRONG_TYPE.format(column=spec.name, found=stats.dtype, expected=spec.dtype),
                    expected=spec.dtype,
                    found=stats.dtype,
                )
            if not spec.nullable and stats.null_count:
                self.add(
                    SCHEMA_NULLS,
                    "blocking",
                    spec.name,
                    MSG_NULLS.format(
                        column=spec.name, count=stats.null_count, rate=_pct(stats.null_rate)
                    ),
                    count=stats.null_count,
                    rate=stats.null_rate,
                )
        declared = set(self.schema.column_names)
        for name in self.src.names:
            if name not in declared:
                self.add(
                    SCHEMA_UNDECLARED_COLUMN,
                    "warning",
                    name,
                    MSG_UNDECLARED_COLUMN.format(
                        column=name, found=self.stats[name].dtype, schema=self.schema.name
                    ),
                    found=self.stats[name].dtype,
                )

    # 1. schema: ranges and allowed values
    def check_values(self) -> None:
        filters: dict[str, str] = {}
        params: dict[str, list[Any]] = {}
        specs: dict[str, ColumnSpec] = {}
        for spec in self.schema.columns:
            kinds = ("float", "int") if spec.dtype == "float" else (spec.dtype,)
            if not self.usable(spec.name, kinds):
                continue
            q = _ident(spec.name)
            if spec.is_numeric and (spec.min is not None or spec.max is not None):
                bad = []
                if spec.min is not None:
                    bad.append(f"{q} {'<=' if spec.min_exclusive else '<'} {spec.min!r}")
                if spec.max is not None:
                    bad.append(f"{q} > {spec.max!r}")
                nan_guard = f"NOT isnan({q}) AND " if self.kind(spec.name) == "float" else ""
                filters[f"range:{spec.name}"] = f"{nan_guard}({' OR '.join(bad)})"
                specs[f"range:{spec.name}"] = spec
            if spec.allowed is not None:
                key = f"allowed:{spec.name}"
                literal = ", ".join(_sql_literal(v) for v in spec.allowed)
                filters[key] = f"{q} IS NOT NULL AND {q} NOT IN ({literal})"
                params[key] = list(spec.allowed)
                specs[key] = spec
        for key, count in self.counts(filters).items():
            if not count:
                continue
            spec = specs[key]
            q = _ident(spec.name)
            if key.startswith("range:"):
                rows = self.src.sql(
                    f"SELECT DISTINCT {q} FROM t WHERE {filters[key]} ORDER BY {q} LIMIT {EXAMPLES}"
                )
                examples = [r[0] for r in rows]
                lo = "-inf" if spec.min is None else spec.min
                hi = "+inf" if spec.max is None else spec.max
                bounds = f"{'(' if spec.min_exclusive else '['}{lo}, {hi}]"
                self.add(
                    SCHEMA_OUT_OF_RANGE,
                    "blocking",
                    spec.name,
                    MSG_OUT_OF_RANGE.format(
                        column=spec.name, count=count, bounds=bounds, examples=_examples(examples)
                    ),
                    count=count,
                    min=spec.min,
                    max=spec.max,
                    min_exclusive=spec.min_exclusive,
                    examples=examples,
                )
            else:
                rows = self.src.sql(
                    f"SELECT {q}, count(*) AS n FROM t WHERE {filters[key]}"
                    f" GROUP BY {q} ORDER BY n DESC, {q} LIMIT {EXAMPLES}"
                )
                self.add(
                    SCHEMA_NOT_ALLOWED,
                    "blocking",
                    spec.name,
                    MSG_NOT_ALLOWED.format(
                        column=spec.name,
                        count=count,
                        allowed=params[key],
                        examples=_examples(r[0] for r in rows),
                    ),
                    count=count,
                    allowed=params[key],
                    examples={str(_plain(r[0])): int(r[1]) for r in rows},
                )

    # 1. schema: unique columns and primary key
    def check_keys(self) -> bool:
        """Report duplicate unique values / primary keys; return whether the PK is broken."""
        key_sets: list[list[str]] = [[c.name] for c in self.schema.columns if c.unique]
        pk = list(self.schema.primary_key)
        if pk and pk not in key_sets:
            key_sets.append(pk)
        pk_broken = False
        for cols in key_sets:
            if not all(self.present(c) for c in cols):
                continue
            group = ", ".join(_ident(c) for c in cols)
            not_null = " AND ".join(f"{_ident(c)} IS NOT NULL" for c in cols)
            dup_sql = (
                f"SELECT {group}, count(*) AS n FROM t WHERE {not_null}"
                f" GROUP BY {group} HAVING count(*) > 1"
            )
            ((keys, rows),) = self.src.sql(f"SELECT count(*), coalesce(sum(n), 0) FROM ({dup_sql})")
            if not keys:
                continue
            if cols == pk:
                pk_broken = True
            top = self.src.sql(f"{dup_sql} ORDER BY n DESC LIMIT {EXAMPLES}")
            examples = [r[0] if len(cols) == 1 else list(r[:-1]) for r in top]
            single = len(cols) == 1
            what = f"column {cols[0]!r}" if single else f"primary key {cols}"
            self.add(
                SCHEMA_DUPLICATE_KEY,
                "blocking",
                cols[0] if single else None,
                MSG_DUPLICATE_KEY.format(
                    what=what, count=int(keys), rows=int(rows), examples=_examples(examples)
                ),
                columns=cols,
                duplicated_values=int(keys),
                rows_involved=int(rows),
                primary_key=cols == pk,
                examples=examples,
            )
        return pk_broken

    # 3. duplicate rows
    def check_duplicate_rows(self, pk_broken: bool) -> None:
        pk = list(self.schema.primary_key)
        pk_checked = bool(pk) and all(self.present(c) for c in pk)
        if pk_checked and not pk_broken:
            return  # distinct primary keys make identical rows impossible
        ((distinct,),) = self.src.sql("SELECT count(*) FROM (SELECT DISTINCT * FROM t)")
        extra = self.src.row_count - int(distinct)
        if extra <= 0:
            return
        consequence = f" (breaks primary key {pk})" if pk_checked else ""
        self.add(
            DUPLICATE_ROWS,
            "blocking" if pk_checked else "warning",
            None,
            MSG_DUPLICATE_ROWS.format(count=extra, consequence=consequence),
            count=extra,
            rate=extra / self.src.row_count,
        )

    # 4. time
    def check_time(self) -> None:
        now_us = int((self.now - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
        filters: dict[str, str] = {}
        for field_ in self.src.arrow_schema:
            name, kind = field_.name, _kind(field_.type)
            spec = self.schema.column(name)
            if (
                _is_naive(field_.type)
                and spec is not None
                and spec.dtype == "timestamp"
                and spec.tz_required
            ):
                self.add(
                    TIME_NAIVE,
                    "blocking",
                    name,
                    MSG_NAIVE.format(column=name),
                    found=_type_label(field_.type),
                )
            role = self.schema.role_of(name)
            # Label times are legitimately in the future: the outcome is not known yet.
            if kind in ("date", "timestamp") and role != "label_time":
                filters[name] = f"{_epoch_us(name, field_.type)} > {now_us}"
        for name, count in self.counts(filters).items():
            if not count:
                continue
            is_event = name == self.schema.event_time
            self.add(
                TIME_FUTURE,
                "blocking" if is_event else "warning",
                name,
                MSG_FUTURE.format(
                    column=name,
                    count=count,
                    now=self.now.isoformat(timespec="seconds"),
                    latest=self.stats[name].max,
                ),
                count=count,
                now=self.now,
                latest=self.stats[name].max,
                event_time=is_event,
            )
        self.check_order()

    def check_order(self) -> None:
        col = self.schema.ordered_by
        if col is None or not self.usable(col, ("int", "float", "date", "timestamp")):
            return
        arr = self.src.read([col]).column(0).drop_null()
        if self.kind(col) == "timestamp":
            arr = pc.cast(arr, pa.int64())
        elif self.kind(col) == "date":
            arr = pc.cast(arr, pa.int32())
        values = arr.to_numpy()
        if values.dtype.kind == "f":
            values = values[~np.isnan(values)]
        count = int(np.count_nonzero(values[1:] < values[:-1])) if len(values) > 1 else 0
        if count:
            first = int(np.argmax(values[1:] < values[:-1])) + 1
            self.add(
                TIME_OUT_OF_ORDER,
                "warning",
                col,
                MSG_OUT_OF_ORDER.format(count=count, column=col),
                count=count,
                first_row=first,
            )

    # 2. missingness pattern
    def check_missingness(self) -> None:
        n = self.src.row_count
        candidates = [
            s.name for s in self.stats.values() if 0 < s.null_count < n and s.kind != "null"
        ]
        if not candidates:
            return
        self._missingness_by_segment(candidates)
        self._missingness_by_time(candidates)

    def _missingness_by_segment(self, candidates: list[str]) -> None:
        """One finding per column, naming the segment column that explains its nulls best.

        Segment columns are often correlated (employment and customer segment), so the nulls
        of one show up in both; the one with the larger chi-square per row is reported and
        the others are listed in the details.
        """
        hits: dict[str, list[dict[str, Any]]] = {}
        for seg in self.schema.segment_columns:
            if not self.usable(seg, ("string", "int", "bool")):
                continue
            if (self.stats[seg].distinct_approx or 0) > MAX_SEGMENTS:
                continue
            cols = [c for c in candidates if c != seg]
            if not cols:
                continue
            q = _ident(seg)
            sums = ", ".join(f"count(*) FILTER (WHERE {_null_pred(c, self.kind(c))})" for c in cols)
            rows = self.src.sql(f"SELECT {q}, count(*), {sums} FROM t GROUP BY {q}")
            labels = ["<null>" if r[0] is None else str(_plain(r[0])) for r in rows]
            sizes = np.array([r[1] for r in rows], dtype=float)
            for j, col in enumerate(cols):
                nulls = np.array([r[2 + j] for r in rows], dtype=float)
                hit = _concentration(sizes, nulls)
                if hit is None:
                    continue
                order = np.argsort(-nulls / np.maximum(sizes, 1))[:10]
                hits.setdefault(col, []).append(
                    {
                        "segment_column": seg,
                        "segment": labels[hit.group],
                        "segment_null_rate": nulls[hit.group] / sizes[hit.group],
                        "overall_null_rate": self.stats[col].null_rate,
                        "p_value": hit.p_value,
                        "effect": hit.effect,
                        "by_segment": {
                            labels[i]: {"rows": int(sizes[i]), "null_rate": nulls[i] / sizes[i]}
                            for i in order
                        },
                    }
                )
        for col, found in hits.items():
            best = max(found, key=lambda h: h["effect"])
            others = [h["segment_column"] for h in found if h is not best]
            self.add(
                MISSINGNESS_BY_SEGMENT,
                "warning",
                col,
                MSG_MISSING_BY_SEGMENT.format(
                    column=col,
                    group_rate=_pct(best["segment_null_rate"]),
                    segment=best["segment_column"],
                    value=best["segment"],
                    rate=_pct(best["overall_null_rate"]),
                ),
                **best,
                also_concentrated_by=others,
            )

    def _missingness_by_time(self, candidates: list[str]) -> None:
        event = self.schema.event_time
        if not self.usable(event, ("date", "timestamp")) or event is None:
            return
        cols = [c for c in candidates if c != event]
        if not cols:
            return
        epoch = _epoch_us(event, self.src.arrow_schema.field(event).type)
        lo, hi = self.src.sql(f"SELECT min({epoch}), max({epoch}) FROM t")[0]
        if lo is None:
            return
        width = _bucket_days(self.src.row_count, (hi - lo) / _US_PER_DAY)
        day = f"floor({epoch} / {_US_PER_DAY}.0)"
        first = lo // _US_PER_DAY  # periods start on the first day of data
        bucket = f"CAST(floor(({day} - {first}) / {width}) AS BIGINT)"
        sums = ", ".join(f"count(*) FILTER (WHERE {_null_pred(c, self.kind(c))})" for c in cols)
        rows = self.src.sql(
            f"SELECT {bucket} AS b, count(*), {sums} FROM t"
            f" WHERE {_ident(event)} IS NOT NULL GROUP BY b ORDER BY b"
        )
        if len(rows) < 2:
            return
        starts = [int(r[0]) * width + first for r in rows]  # first day of each period
        sizes = np.array([r[1] for r in rows], dtype=float)
        for j, col in enumerate(cols):
            nulls = np.array([r[2 + j] for r in rows], dtype=float)
            hit = _concentration(sizes, nulls)
            if hit is None:
                continue
            g, p_value, overall = hit.group, hit.p_value, hit.overall
            rates = nulls / np.maximum(sizes, 1)
            high = np.flatnonzero(
                (sizes >= MISSINGNESS_MIN_GROUP_ROWS)
                & (rates >= MISSINGNESS_MIN_RATIO * overall)
                & (rates - overall >= MISSINGNESS_MIN_DIFF)
            )
            a, b = int(high.min()), int(high.max())
            null_share = nulls[a : b + 1].sum() / nulls.sum()
            row_share = sizes[a : b + 1].sum() / sizes.sum()
            first_day, last_day = starts[a], starts[b] + width - 1
            window = _days_text(first_day, last_day)
            details = {
                "event_time": event,
                "bucket_days": width,
                "window_start": _day_to_iso(first_day),
                "window_end": _day_to_iso(last_day),
                "window_null_share": null_share,
                "overall_null_rate": self.stats[col].null_rate,
                "p_value": p_value,
                "high_null_periods": [_day_to_iso(starts[i]) for i in high[:20]],
            }
            if (
                null_share >= MISSINGNESS_WINDOW_NULL_SHARE
                and row_share <= MISSINGNESS_WINDOW_MAX_ROW_SHARE
            ):
                window_rate = nulls[a : b + 1].sum() / sizes[a : b + 1].sum()
                message = MSG_MISSING_BY_TIME_WINDOW.format(
                    column=col,
                    qualifier="only" if null_share >= 0.999 else "mostly",
                    window=window,
                    null_share=_pct(null_share),
                    window_rate=_pct(window_rate),
                    rate=_pct(self.stats[col].null_rate),
                )
                details["window_null_rate"] = window_rate
            else:
                peak_day = starts[g]
                message = MSG_MISSING_BY_TIME_PEAK.format(
                    column=col,
                    group_rate=_pct(rates[g]),
                    window=_days_text(peak_day, peak_day + width - 1),
                    rate=_pct(self.stats[col].null_rate),
                )
                details["peak_start"] = _day_to_iso(peak_day)
                details["peak_null_rate"] = rates[g]
            self.add(MISSINGNESS_BY_TIME, "warning", col, message, **details)

    # 5. drift
    def check_drift(self, reference: Path) -> None:
        ref = _open(reference, self.schema)
        try:
            ref_types = {f.name: f.type for f in ref.arrow_schema}
        finally:
            ref.close()
        cur_types = {f.name: f.type for f in self.src.arrow_schema}
        for name, dtype in cur_types.items():
            if name not in ref_types:
                self.add(
                    DRIFT_ADDED_COLUMN,
                    "warning",
                    name,
                    MSG_DRIFT_ADDED.format(column=name, found=_type_label(dtype)),
                    found=_type_label(dtype),
                )
        for name, ref_type in ref_types.items():
            if name not in cur_types:
                self.add(
                    DRIFT_REMOVED_COLUMN,
                    "warning",
                    name,
                    MSG_DRIFT_REMOVED.format(column=name, expected=_type_label(ref_type)),
                    expected=_type_label(ref_type),
                )
                continue
            cur_type = cur_types[name]
            if _type_signature(ref_type) != _type_signature(cur_type):
                self.add(
                    DRIFT_RETYPED_COLUMN,
                    "warning",
                    name,
                    MSG_DRIFT_RETYPED.format(
                        column=name, expected=_type_label(ref_type), found=_type_label(cur_type)
                    ),
                    expected=_type_label(ref_type),
                    found=_type_label(cur_type),
                )

    # 6. leakage
    def leakage_scan(self) -> None:
        self._leak_names()
        self._leak_post_event_time()
        self._leak_auc()

    def _leak_names(self) -> None:
        for name in self.src.names:
            spec = self.schema.column(name)
            role = self.schema.role_of(name)
            if role in ("label", "label_time") or (spec is not None and spec.role is not None):
                continue
            match = TARGET_NAME_PATTERN.search(name)
            if match:
                self.add(
                    LEAKAGE_TARGET_NAME,
                    "blocking",
                    name,
                    MSG_LEAK_NAME.format(column=name),
                    matched=match.group(0),
                )

    def _leak_post_event_time(self) -> None:
        anchor = self.schema.event_time
        if not self.usable(anchor, ("date", "timestamp")):
            anchor = self.schema.label_time
            if not self.usable(anchor, ("date", "timestamp")):
                return
        if anchor is None:  # narrowed by usable(); kept explicit for the type checker
            return
        both: dict[str, str] = {}
        after: dict[str, str] = {}
        skip = {anchor, self.schema.event_time, self.schema.label_time}
        for name in self.src.names:
            if name in skip or self.kind(name) not in ("date", "timestamp"):
                continue
            if self.schema.role_of(name) in ("label", "label_time", "event_time"):
                continue
            both[name] = f"{_ident(name)} IS NOT NULL AND {_ident(anchor)} IS NOT NULL"
            after[name] = (
                f"{_epoch_us(name, self.src.arrow_schema.field(name).type)}"
                f" > {_epoch_us(anchor, self.src.arrow_schema.field(anchor).type)}"
            )
        if not both:
            return
        counts = self.counts(
            {
                **{f"both:{k}": v for k, v in both.items()},
                **{f"after:{k}": v for k, v in after.items()},
            }
        )
        for name in both:
            comparable, later = counts[f"both:{name}"], counts[f"after:{name}"]
            if comparable and later / comparable > POST_EVENT_SHARE:
                self.add(
                    LEAKAGE_POST_EVENT_TIME,
                    "blocking",
                    name,
                    MSG_LEAK_POST_TIME.format(
                        column=name, anchor=anchor, share=_pct(later / comparable)
                    ),
                    anchor=anchor,
                    rows_later=later,
                    rows_compared=comparable,
                )

    def _leak_auc(self) -> None:
        label = self.schema.label
        if label is None or not self.usable(label, ("bool", "int", "float")):
            return
        features: list[str] = []
        for name in self.src.names:
            if name == label or self.schema.role_of(name) in _SKIP_LEAKAGE_ROLES:
                continue
            kind = self.kind(name)
            distinct = self.stats[name].distinct_approx or 0
            if kind in ("int", "float", "bool") or (
                kind == "string" and distinct <= LOW_CARDINALITY_MAX
            ):
                features.append(name)
        if not features:
            return
        table = self.src.read([label, *features])
        if self.sample_rows is not None and table.num_rows > self.sample_rows:
            rng = np.random.default_rng(self.seed)
            idx = np.sort(rng.choice(table.num_rows, size=self.sample_rows, replace=False))
            table = table.take(pa.array(idx))
        y_raw = pc.cast(table.column(label), pa.float64()).to_numpy(zero_copy_only=False)
        keep = ~np.isnan(y_raw)
        y_raw = y_raw[keep]
        if not np.isin(y_raw, (0.0, 1.0)).all():
            logger.info("leakage AUC skipped: label %s is not binary 0/1", label)
            return
        y = y_raw.astype(np.int8)
        positives = int(y.sum())
        if min(positives, len(y) - positives) < AUC_MIN_CLASS_ROWS:
            logger.info("leakage AUC skipped: too few rows of one class in %s", label)
            return
        self.leakage_sample_rows = len(y)
        keep_idx = pa.array(np.flatnonzero(keep))
        for name in features:
            column = table.column(name).take(keep_idx)
            if self.kind(name) == "string":
                auc = _categorical_auc(column, y, seed=self.seed)
                method = "out-of-fold target mean"
            else:
                auc = _numeric_auc(column, y)
                method = "rank of value"
            if auc is None or auc <= self.threshold:
                continue
            self.add(
                LEAKAGE_HIGH_AUC,
                "warning",
                name,
                MSG_LEAK_AUC.format(column=name, label=label, auc=auc, threshold=self.threshold),
                auc=auc,
                threshold=self.threshold,
                method=method,
                rows=len(y),
            )


def _sql_literal(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(int(value))


def _type_signature(dtype: pa.DataType) -> tuple[str, bool]:
    """What counts as "the same type" for drift: kind, plus time-zone awareness."""
    return _kind(dtype), bool(pa.types.is_timestamp(dtype) and dtype.tz is not None)


@dataclass(frozen=True)
class _Concentration:
    group: int  # index of the group with the highest null rate
    p_value: float
    overall: float  # null rate over the groups tested
    effect: float  # chi-square per row (phi squared): how much the grouping explains


def _concentration(sizes: np.ndarray, nulls: np.ndarray) -> _Concentration | None:
    """Is missingness concentrated in one group? The evidence if so, else None.

    Chi-square test of independence between "value is null" and group, over groups with at
    least ``MISSINGNESS_MIN_GROUP_ROWS`` rows; plus an effect-size floor on the worst group,
    because on millions of rows a trivial difference is "significant".
    """
    from scipy.special import chdtrc  # lazy: scipy costs import time the CLI should not pay

    use = sizes >= MISSINGNESS_MIN_GROUP_ROWS
    if use.sum() < 2:
        return None
    n, k = sizes[use], nulls[use]
    overall = float(k.sum() / n.sum())
    if overall <= 0 or overall >= 1:
        return None
    chi2 = float((((k - n * overall) ** 2) / (n * overall * (1 - overall))).sum())
    p_value = float(chdtrc(int(use.sum()) - 1, chi2))
    if p_value >= MISSINGNESS_P_VALUE:
        return None
    rates = np.where(use, nulls / np.maximum(sizes, 1), -1.0)
    g = int(np.argmax(rates))
    rate = rates[g]
    if (
        nulls[g] < MISSINGNESS_MIN_GROUP_NULLS
        or rate < MISSINGNESS_MIN_RATIO * overall
        or rate - overall < MISSINGNESS_MIN_DIFF
    ):
        return None
    return _Concentration(g, p_value, overall, chi2 / float(n.sum()))


def _auc_from_groups(score: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC AUC from per-group (score, positives, negatives); equal scores count as ties."""
    levels, inverse = np.unique(score, return_inverse=True)
    p = np.bincount(inverse, weights=pos, minlength=len(levels))
    n = np.bincount(inverse, weights=neg, minlength=len(levels))
    below = np.cumsum(n) - n
    return float((p * (below + 0.5 * n)).sum() / (p.sum() * n.sum()))


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) identity, ties counted as half.

    Equals sklearn's ``roc_auc_score`` but avoids its import and validation cost: one sort of
    the distinct values, then counting.
    """
    levels, inverse = np.unique(score, return_inverse=True)
    total = np.bincount(inverse, minlength=len(levels)).astype(float)
    pos = np.bincount(inverse, weights=y, minlength=len(levels))
    return _auc_from_groups(levels, pos, total - pos)


def _numeric_auc(column: pa.ChunkedArray, y: np.ndarray) -> float | None:
    """max(AUC, 1 - AUC) of the raw value; missing values rank below every real value."""
    x = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    finite = np.isfinite(x)
    if not finite.any():
        return None
    x = np.where(finite, x, x[finite].min() - 1.0)
    if np.ptp(x) == 0:
        return None
    auc = _auc(y, x)
    return max(auc, 1.0 - auc)


def _categorical_auc(column: pa.ChunkedArray, y: np.ndarray, *, seed: int) -> float | None:
    """AUC of an out-of-fold, smoothed per-category target mean.

    Out-of-fold so a category seen once cannot "predict" its own row: an ID-like column
    scores about 0.5, a genuinely label-derived one close to 1. Computed on (fold, category)
    counts, so the cost is two passes over the rows whatever the number of folds.
    """
    encoded = column.combine_chunks().dictionary_encode()
    width = len(encoded.dictionary) + 1  # the last code stands for "missing"
    codes = pc.fill_null(encoded.indices, width - 1).to_numpy(zero_copy_only=False)
    codes = codes.astype(np.int64)
    if len(np.unique(codes)) < 2:
        return None
    folds = np.random.default_rng(seed).integers(0, AUC_FOLDS, size=len(y))
    cell = folds * width + codes
    size = AUC_FOLDS * width
    rows = np.bincount(cell, minlength=size).astype(float).reshape(AUC_FOLDS, width)
    pos = np.bincount(cell, weights=y, minlength=size).reshape(AUC_FOLDS, width)
    # Statistics from the other folds: totals minus this fold.
    train_rows = rows.sum(axis=0) - rows
    train_pos = pos.sum(axis=0) - pos
    prior = train_pos.sum(axis=1, keepdims=True) / np.maximum(
        train_rows.sum(axis=1, keepdims=True), 1.0
    )
    mean = (train_pos + AUC_SMOOTHING * prior) / (train_rows + AUC_SMOOTHING)
    used = rows.ravel() > 0
    score, p = mean.ravel()[used], pos.ravel()[used]
    n = rows.ravel()[used] - p
    if np.ptp(score) == 0:
        return None
    auc = _auc_from_groups(score, p, n)
    return max(auc, 1.0 - auc)


# --- entry point -------------------------------------------------------------------------------


def check_table(
    path: Path | str,
    schema: TableSchema,
    *,
    reference: Path | str | None = None,
    leakage_auc_threshold: float = 0.9,
    sample_rows: int | None = 1_000_000,
    now: datetime | None = None,
    seed: int = DEFAULT_SEED,
) -> QualityReport:
    """Check one Parquet/CSV table against ``schema`` and return the report (never prints).

    ``reference`` is an earlier file of the same table for schema drift. ``now`` decides what
    counts as the future (default: the current UTC time). ``sample_rows`` caps the rows used
    for the single-feature AUC (None = all rows); ``seed`` makes that sample reproducible.
    Unreadable input raises :class:`~bankml.core.errors.DataFileError` with one line.
    """
    if not 0.5 <= leakage_auc_threshold <= 1.0:
        raise InputError(
            MSG_BAD_ARGUMENT.format(
                name="leakage_auc_threshold",
                value=leakage_auc_threshold,
                problem="must be between 0.5 and 1",
            )
        )
    if sample_rows is not None and sample_rows < 1:
        raise InputError(
            MSG_BAD_ARGUMENT.format(
                name="sample_rows", value=sample_rows, problem="must be positive or None"
            )
        )
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        raise InputError(
            MSG_BAD_ARGUMENT.format(name="now", value=now, problem="must be timezone-aware")
        )
    path = Path(path)
    src = _open(path, schema)
    try:
        checker = _Checker(
            src,
            schema,
            now=now.astimezone(UTC),
            reference=None if reference is None else Path(reference),
            threshold=leakage_auc_threshold,
            sample_rows=sample_rows,
            seed=seed,
        )
        checker.run()
    finally:
        src.close()
    logger.info(
        "checked %s against %s: %d rows, %d findings",
        path,
        schema.name,
        src.row_count,
        len(checker.findings),
    )
    return QualityReport(
        path=str(path),
        schema_name=schema.name,
        row_count=src.row_count,
        columns=[checker.stats[name] for name in src.names],
        findings=checker.findings,
        checked_at=now.astimezone(UTC).isoformat(timespec="seconds"),
        reference=None if reference is None else str(reference),
        leakage_sample_rows=checker.leakage_sample_rows,
    )
