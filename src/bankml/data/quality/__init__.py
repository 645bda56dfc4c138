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

Modules, one per concern: :mod:`.checks` (the checks and ``check_table``), :mod:`.leakage`
(``leakage_scan``), :mod:`.profile` (per-column profile, distributions for the plots, and
``profile_table`` for monitoring), :mod:`.report` (findings, stats, the HTML page),
:mod:`.source` (reading Parquet and CSV) and :mod:`.constants` (check ids, thresholds,
messages).
"""

from __future__ import annotations

from bankml.data.quality.checks import check_table

# Thresholds and messages, importable for tests and callers (explicit re-exports).
from bankml.data.quality.constants import (
    AUC_FOLDS as AUC_FOLDS,
)
from bankml.data.quality.constants import (
    AUC_MIN_CLASS_ROWS as AUC_MIN_CLASS_ROWS,
)
from bankml.data.quality.constants import (
    AUC_SMOOTHING as AUC_SMOOTHING,
)
from bankml.data.quality.constants import (
    CHECK_IDS,
    DRIFT_ADDED_COLUMN,
    DRIFT_REMOVED_COLUMN,
    DRIFT_RETYPED_COLUMN,
    DUPLICATE_ROWS,
    LEAKAGE_HIGH_AUC,
    LEAKAGE_POST_EVENT_TIME,
    LEAKAGE_TARGET_NAME,
    MISSINGNESS_BY_SEGMENT,
    MISSINGNESS_BY_TIME,
    SCHEMA_DUPLICATE_KEY,
    SCHEMA_MISSING_COLUMN,
    SCHEMA_NOT_ALLOWED,
    SCHEMA_NULLS,
    SCHEMA_OUT_OF_RANGE,
    SCHEMA_UNDECLARED_COLUMN,
    SCHEMA_WRONG_TYPE,
    TIME_FUTURE,
    TIME_NAIVE,
    TIME_OUT_OF_ORDER,
    Severity,
)
from bankml.data.quality.constants import (
    DEFAULT_SEED as DEFAULT_SEED,
)
from bankml.data.quality.constants import (
    EXAMPLES as EXAMPLES,
)
from bankml.data.quality.constants import (
    LOW_CARDINALITY_MAX as LOW_CARDINALITY_MAX,
)
from bankml.data.quality.constants import (
    MAX_SEGMENTS as MAX_SEGMENTS,
)
from bankml.data.quality.constants import (
    MISSINGNESS_MIN_DIFF as MISSINGNESS_MIN_DIFF,
)
from bankml.data.quality.constants import (
    MISSINGNESS_MIN_GROUP_NULLS as MISSINGNESS_MIN_GROUP_NULLS,
)
from bankml.data.quality.constants import (
    MISSINGNESS_MIN_GROUP_ROWS as MISSINGNESS_MIN_GROUP_ROWS,
)
from bankml.data.quality.constants import (
    MISSINGNESS_MIN_RATIO as MISSINGNESS_MIN_RATIO,
)
from bankml.data.quality.constants import (
    MISSINGNESS_P_VALUE as MISSINGNESS_P_VALUE,
)
from bankml.data.quality.constants import (
    MISSINGNESS_WINDOW_MAX_ROW_SHARE as MISSINGNESS_WINDOW_MAX_ROW_SHARE,
)
from bankml.data.quality.constants import (
    MISSINGNESS_WINDOW_NULL_SHARE as MISSINGNESS_WINDOW_NULL_SHARE,
)
from bankml.data.quality.constants import (
    MSG_BAD_ARGUMENT as MSG_BAD_ARGUMENT,
)
from bankml.data.quality.constants import (
    MSG_DRIFT_ADDED as MSG_DRIFT_ADDED,
)
from bankml.data.quality.constants import (
    MSG_DRIFT_REMOVED as MSG_DRIFT_REMOVED,
)
from bankml.data.quality.constants import (
    MSG_DRIFT_RETYPED as MSG_DRIFT_RETYPED,
)
from bankml.data.quality.constants import (
    MSG_DUPLICATE_KEY as MSG_DUPLICATE_KEY,
)
from bankml.data.quality.constants import (
    MSG_DUPLICATE_ROWS as MSG_DUPLICATE_ROWS,
)
from bankml.data.quality.constants import (
    MSG_FILE_BAD_CSV as MSG_FILE_BAD_CSV,
)
from bankml.data.quality.constants import (
    MSG_FILE_BAD_PARQUET as MSG_FILE_BAD_PARQUET,
)
from bankml.data.quality.constants import (
    MSG_FILE_EMPTY as MSG_FILE_EMPTY,
)
from bankml.data.quality.constants import (
    MSG_FILE_FORMAT as MSG_FILE_FORMAT,
)
from bankml.data.quality.constants import (
    MSG_FILE_MISSING as MSG_FILE_MISSING,
)
from bankml.data.quality.constants import (
    MSG_FILE_NO_ROWS as MSG_FILE_NO_ROWS,
)
from bankml.data.quality.constants import (
    MSG_FILE_NOT_A_FILE as MSG_FILE_NOT_A_FILE,
)
from bankml.data.quality.constants import (
    MSG_FILE_UNREADABLE as MSG_FILE_UNREADABLE,
)
from bankml.data.quality.constants import (
    MSG_FUTURE as MSG_FUTURE,
)
from bankml.data.quality.constants import (
    MSG_LEAK_AUC as MSG_LEAK_AUC,
)
from bankml.data.quality.constants import (
    MSG_LEAK_NAME as MSG_LEAK_NAME,
)
from bankml.data.quality.constants import (
    MSG_LEAK_POST_TIME as MSG_LEAK_POST_TIME,
)
from bankml.data.quality.constants import (
    MSG_MISSING_BY_SEGMENT as MSG_MISSING_BY_SEGMENT,
)
from bankml.data.quality.constants import (
    MSG_MISSING_BY_TIME_PEAK as MSG_MISSING_BY_TIME_PEAK,
)
from bankml.data.quality.constants import (
    MSG_MISSING_BY_TIME_WINDOW as MSG_MISSING_BY_TIME_WINDOW,
)
from bankml.data.quality.constants import (
    MSG_MISSING_COLUMN as MSG_MISSING_COLUMN,
)
from bankml.data.quality.constants import (
    MSG_NAIVE as MSG_NAIVE,
)
from bankml.data.quality.constants import (
    MSG_NOT_ALLOWED as MSG_NOT_ALLOWED,
)
from bankml.data.quality.constants import (
    MSG_NULLS as MSG_NULLS,
)
from bankml.data.quality.constants import (
    MSG_OUT_OF_ORDER as MSG_OUT_OF_ORDER,
)
from bankml.data.quality.constants import (
    MSG_OUT_OF_RANGE as MSG_OUT_OF_RANGE,
)
from bankml.data.quality.constants import (
    MSG_REPORT_UNWRITABLE as MSG_REPORT_UNWRITABLE,
)
from bankml.data.quality.constants import (
    MSG_UNDECLARED_COLUMN as MSG_UNDECLARED_COLUMN,
)
from bankml.data.quality.constants import (
    MSG_WRONG_TYPE as MSG_WRONG_TYPE,
)
from bankml.data.quality.constants import (
    POST_EVENT_SHARE as POST_EVENT_SHARE,
)
from bankml.data.quality.constants import (
    TARGET_NAME_PATTERN as TARGET_NAME_PATTERN,
)
from bankml.data.quality.profile import ColumnProfile, TableProfile, profile_table
from bankml.data.quality.report import ColumnDistribution, ColumnStats, Finding, QualityReport

# Every upper-case name in __all__ is a check id; TARGET_NAME_PATTERN (reused by fraud's
# validation), the thresholds and the messages are importable but not listed.
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
    "ColumnDistribution",
    "ColumnProfile",
    "ColumnStats",
    "Finding",
    "QualityReport",
    "Severity",
    "TableProfile",
    "check_table",
    "profile_table",
]
