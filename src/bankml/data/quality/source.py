"""Reading a table to check: Parquet through DuckDB's streaming reader, CSV through pyarrow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bankml.core.errors import DataFileError
from bankml.data.quality._helpers import kind_of, reason_text
from bankml.data.quality.constants import (
    MSG_FILE_BAD_CSV,
    MSG_FILE_BAD_PARQUET,
    MSG_FILE_EMPTY,
    MSG_FILE_FORMAT,
    MSG_FILE_MISSING,
    MSG_FILE_NO_ROWS,
    MSG_FILE_NOT_A_FILE,
    MSG_FILE_UNREADABLE,
)
from bankml.data.schemas import TableSchema


class Source:
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
        self.kinds = {f.name: kind_of(f.type) for f in arrow_schema}

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
                self._error_template.format(path=self.path, reason=reason_text(exc))
            ) from exc

    def read(self, names: list[str]) -> pa.Table:
        """Selected columns as an Arrow table, all rows."""
        try:
            return self._reader(names)
        except (pa.ArrowException, OSError) as exc:
            raise DataFileError(
                self._error_template.format(path=self.path, reason=reason_text(exc))
            ) from exc

    def close(self) -> None:
        self.con.close()


def open_source(path: Path, schema: TableSchema) -> Source:
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
        raise DataFileError(MSG_FILE_UNREADABLE.format(path=path, reason=reason_text(exc))) from exc
    if size == 0:
        raise DataFileError(MSG_FILE_EMPTY.format(path=path))
    if suffix == ".csv":
        return _open_csv(path, schema)
    return _open_parquet(path)


def _open_parquet(path: Path) -> Source:
    try:
        meta = pq.ParquetFile(path)
        arrow_schema = meta.schema_arrow
        row_count = meta.metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise DataFileError(
            MSG_FILE_BAD_PARQUET.format(path=path, reason=reason_text(exc))
        ) from exc
    if row_count == 0:
        raise DataFileError(MSG_FILE_NO_ROWS.format(path=path))
    con = duckdb.connect()
    literal = "'" + str(path).replace("'", "''") + "'"
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet({literal})")

    def reader(names: list[str]) -> pa.Table:
        return pq.ParquetFile(path).read(columns=names)

    return Source(path, arrow_schema, row_count, con, reader, MSG_FILE_BAD_PARQUET)


def _open_csv(path: Path, schema: TableSchema) -> Source:
    table = _read_csv(path, schema)
    con = duckdb.connect()
    con.register("t", table)

    def reader(names: list[str]) -> pa.Table:
        return table.select(names)

    return Source(path, table.schema, table.num_rows, con, reader, MSG_FILE_BAD_CSV)


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
        raise DataFileError(MSG_FILE_BAD_CSV.format(path=path, reason=reason_text(exc))) from exc
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
