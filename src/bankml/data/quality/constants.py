"""Check ids, thresholds and messages of the data-quality checks (asserted by tests)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

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

TEMPLATE_DIR = Path(__file__).parent.parent / "templates"
TEMPLATE_NAME = "quality_report.html.j2"
US_PER_DAY = 86_400_000_000
BUCKET_WIDTHS = (1, 7, 28, 91)
SKIP_LEAKAGE_ROLES = frozenset({"id", "pii", "label", "label_time", "protected", "event_time"})
