"""Data-quality and leakage checks: clean tables pass, every injected defect is found."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import yaml
from markupsafe import escape

from bankml.core.errors import DataFileError, InputError, SchemaError
from bankml.data import quality as q
from bankml.data.generator import generate_bank
from bankml.data.quality import QualityReport, check_table
from bankml.data.schemas import ColumnSpec, TableSchema, list_schemas, load_schema

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PLOTLY_JS = (
    resources.files("plotly").joinpath("package_data", "plotly.min.js").read_text(encoding="utf-8")
)
START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 30

# --- the synthetic bank, from the real generator ----------------------------------------


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    out = tmp_path_factory.mktemp("bank")
    generate_bank(out, customers=800, days=DAYS, seed=7, start=START.date())
    return {name: pq.read_table(out / f"{name}.parquet") for name in list_schemas()}


def _write(tmp_path: Path, table: pa.Table, name: str = "data.parquet") -> Path:
    path = tmp_path / name
    if path.suffix == ".csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    return path


def _replace(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def _null_where(table: pa.Table, name: str, mask: np.ndarray) -> pa.Table:
    column = table.column(name)
    return _replace(table, name, pc.if_else(pa.array(mask), pa.scalar(None, column.type), column))


def _check(
    tmp_path: Path,
    table: pa.Table,
    schema: str | TableSchema,
    *,
    reference: Path | None = None,
    sample_rows: int | None = 1_000_000,
) -> QualityReport:
    sch = load_schema(schema) if isinstance(schema, str) else schema
    path = _write(tmp_path, table)
    return check_table(path, sch, now=NOW, reference=reference, sample_rows=sample_rows)


def _only(report: QualityReport, check: str) -> q.Finding:
    found = report.by_check(check)
    assert len(found) == 1, [f.message for f in report.findings]
    return found[0]


# --- clean data ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list_schemas())
def test_clean_table_passes_with_exit_code_zero(
    tmp_path: Path, bank: dict[str, pa.Table], name: str
) -> None:
    report = _check(tmp_path, bank[name], name)
    assert [f.message for f in report.findings] == []
    assert report.status == "clean"
    assert report.exit_code == 0
    assert report.row_count == bank[name].num_rows
    json.dumps(report.to_dict())


def test_column_stats_describe_the_file(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    report = _check(tmp_path, bank["transactions"], "transactions")
    stats = {c.name: c for c in report.columns}
    assert stats["ts"].kind == "timestamp"
    assert str(stats["ts"].min).startswith("2026-01-01")
    assert stats["amount"].min is not None
    assert float(stats["amount"].min) > 0
    assert stats["channel"].distinct_count == 3
    assert stats["amount"].null_count == 0
    assert report.leakage_sample_rows == bank["transactions"].num_rows


def test_built_in_schemas_round_trip_through_yaml(tmp_path: Path) -> None:
    for name in list_schemas():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(load_schema(name).to_dict()))
        assert load_schema(str(path)) == load_schema(name)


def test_toml_schema_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "loans.toml"
    path.write_text(
        'name = "loans"\nprimary_key = ["loan_id"]\nevent_time = "opened_at"\n'
        '[[columns]]\nname = "loan_id"\ndtype = "int"\nunique = true\nrole = "id"\n'
        '[[columns]]\nname = "opened_at"\ndtype = "timestamp"\n'
        '[[columns]]\nname = "amount"\ndtype = "float"\nmin = 0\nmin_exclusive = true\n'
    )
    schema = load_schema(path)
    assert schema.name == "loans"
    assert schema.column("amount") == ColumnSpec("amount", "float", min=0, min_exclusive=True)


# --- 1. schema violations -------------------------------------------------------------------


def test_wrong_dtype_is_blocking(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    table = _replace(
        bank["transactions"], "amount", pc.cast(bank["transactions"]["amount"], pa.string())
    )
    report = _check(tmp_path, table, "transactions")
    finding = _only(report, q.SCHEMA_WRONG_TYPE)
    assert (finding.severity, finding.column) == ("blocking", "amount")
    assert finding.message == q.MSG_WRONG_TYPE.format(
        column="amount", found="string", expected="float"
    )
    assert report.exit_code == 2


def test_missing_required_column_is_blocking(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    report = _check(tmp_path, bank["cards"].drop_columns(["card_type"]), "cards")
    finding = _only(report, q.SCHEMA_MISSING_COLUMN)
    assert (finding.severity, finding.column) == ("blocking", "card_type")


def test_null_in_non_nullable_column_is_blocking(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    mask = np.zeros(bank["customers"].num_rows, dtype=bool)
    mask[[3, 50, 51]] = True
    report = _check(tmp_path, _null_where(bank["customers"], "email", mask), "customers")
    finding = _only(report, q.SCHEMA_NULLS)
    assert (finding.severity, finding.column, finding.details["count"]) == ("blocking", "email", 3)


def test_out_of_range_values_are_blocking(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    ages = bank["customers"]["age"].to_numpy().copy()
    ages[[0, 1]] = [150, 12]
    report = _check(tmp_path, _replace(bank["customers"], "age", pa.array(ages)), "customers")
    finding = _only(report, q.SCHEMA_OUT_OF_RANGE)
    assert (finding.severity, finding.column, finding.details["count"]) == ("blocking", "age", 2)
    assert finding.details["examples"] == [12, 150]


def test_zero_amount_breaks_exclusive_minimum(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    amounts = bank["transactions"]["amount"].to_numpy().copy()
    amounts[10] = 0.0
    table = _replace(bank["transactions"], "amount", pa.array(amounts))
    finding = _only(_check(tmp_path, table, "transactions"), q.SCHEMA_OUT_OF_RANGE)
    assert finding.column == "amount"
    assert "(0, +inf]" in finding.message


def test_value_outside_enum_is_blocking_with_examples(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    cur = bank["transactions"]["currency"].to_pylist()
    cur[5:9] = ["XXX", "XXX", "XXX", "eur"]
    table = _replace(bank["transactions"], "currency", pa.array(cur))
    finding = _only(_check(tmp_path, table, "transactions"), q.SCHEMA_NOT_ALLOWED)
    assert (finding.severity, finding.column, finding.details["count"]) == (
        "blocking",
        "currency",
        4,
    )
    assert finding.details["examples"] == {"XXX": 3, "eur": 1}


def test_duplicate_primary_key_is_blocking(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    ids = bank["transactions"]["transaction_id"].to_numpy().copy()
    ids[5] = ids[4]
    table = _replace(bank["transactions"], "transaction_id", pa.array(ids))
    finding = _only(_check(tmp_path, table, "transactions"), q.SCHEMA_DUPLICATE_KEY)
    assert (finding.severity, finding.column) == ("blocking", "transaction_id")
    assert finding.details["examples"] == [int(ids[4])]


def test_duplicate_composite_key_names_all_key_columns(tmp_path: Path) -> None:
    schema = TableSchema(
        "balances",
        [ColumnSpec("account", "int"), ColumnSpec("day", "int"), ColumnSpec("balance", "float")],
        primary_key=["account", "day"],
    )
    table = pa.table({"account": [1, 1, 2], "day": [1, 1, 1], "balance": [5.0, 6.0, 7.0]})
    finding = _only(_check(tmp_path, table, schema), q.SCHEMA_DUPLICATE_KEY)
    assert finding.column is None
    assert finding.details["columns"] == ["account", "day"]
    assert finding.details["examples"] == [[1, 1]]


def test_undeclared_column_is_a_warning(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    table = bank["terminals"].append_column("note", pa.array(["x"] * bank["terminals"].num_rows))
    report = _check(tmp_path, table, "terminals")
    assert _only(report, q.SCHEMA_UNDECLARED_COLUMN).column == "note"
    assert report.status == "warnings"
    assert report.exit_code == 1


# --- 2. missingness pattern -------------------------------------------------------------------


def test_missingness_concentrated_in_a_segment_is_reported(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    rng = np.random.default_rng(1)
    employment = np.array(bank["customers"]["employment"].to_pylist())
    mask = (employment == "self_employed") & (rng.random(len(employment)) < 0.6)
    mask |= rng.random(len(employment)) < 0.01
    report = _check(tmp_path, _null_where(bank["customers"], "income", mask), "customers")
    finding = _only(report, q.MISSINGNESS_BY_SEGMENT)
    assert (finding.severity, finding.column) == ("warning", "income")
    assert finding.details["segment_column"] == "employment"
    assert finding.details["segment"] == "self_employed"
    assert finding.details["also_concentrated_by"] == ["segment"]
    assert finding.message.startswith("income missing in ")
    assert "employment=self_employed vs " in finding.message
    assert report.by_check(q.SCHEMA_NULLS) == []  # income is nullable


def test_missingness_in_a_time_window_is_reported(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    table = bank["transactions"]
    days = np.array([t.day for t in table["ts"].to_pylist()])
    mask = (days >= 10) & (days <= 12)
    report = _check(tmp_path, _null_where(table, "amount", mask), "transactions")
    finding = _only(report, q.MISSINGNESS_BY_TIME)
    assert (finding.severity, finding.column) == ("warning", "amount")
    assert "amount missing only between 2026-01-10 and 2026-01-12" in finding.message
    assert _only(report, q.SCHEMA_NULLS).column == "amount"


def test_missingness_in_a_period_of_a_small_table_uses_longer_periods(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    credit = bank["credit_applications"]
    first = pc.min(credit["applied_at"]).as_py()
    mask = pc.less(credit["applied_at"], pa.scalar(first + timedelta(days=120))).to_numpy(
        zero_copy_only=False
    )
    report = _check(tmp_path, _null_where(credit, "income", mask), "credit_applications")
    finding = _only(report, q.MISSINGNESS_BY_TIME)
    assert finding.column == "income"
    assert finding.details["bucket_days"] > 1
    assert finding.details["window_start"] == first.date().isoformat()
    assert "income missing only between" in finding.message


@pytest.mark.parametrize("seed", range(3))
def test_random_sparse_missingness_is_not_called_structured(
    tmp_path: Path, bank: dict[str, pa.Table], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    customers = bank["customers"]
    report = _check(
        tmp_path,
        _null_where(customers, "income", rng.random(customers.num_rows) < 0.03),
        "customers",
    )
    assert report.status == "clean"
    tx = bank["transactions"]
    report = _check(
        tmp_path, _null_where(tx, "amount", rng.random(tx.num_rows) < 0.02), "transactions"
    )
    assert report.by_check(q.MISSINGNESS_BY_SEGMENT) == []
    assert report.by_check(q.MISSINGNESS_BY_TIME) == []


# --- 3. duplicates --------------------------------------------------------------------------


def test_duplicated_rows_are_blocking_when_they_break_the_primary_key(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    table = pa.concat_tables([bank["cards"], bank["cards"].slice(0, 7)])
    report = _check(tmp_path, table, "cards")
    finding = _only(report, q.DUPLICATE_ROWS)
    assert (finding.severity, finding.details["count"]) == ("blocking", 7)
    assert _only(report, q.SCHEMA_DUPLICATE_KEY).details["duplicated_values"] == 7


def test_duplicated_rows_without_primary_key_are_a_warning(tmp_path: Path) -> None:
    schema = TableSchema("log", [ColumnSpec("event", "string"), ColumnSpec("n", "int")])
    table = pa.table({"event": ["a", "b", "a", "a"], "n": [1, 2, 1, 1]})
    finding = _only(_check(tmp_path, table, schema), q.DUPLICATE_ROWS)
    assert (finding.severity, finding.details["count"]) == ("warning", 2)


# --- 4. timestamps --------------------------------------------------------------------------


def test_future_event_times_are_blocking(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    sch = load_schema("transactions")
    now = START + timedelta(days=DAYS - 2)
    report = check_table(_write(tmp_path, bank["transactions"]), sch, now=now)
    finding = _only(report, q.TIME_FUTURE)
    assert (finding.severity, finding.column) == ("blocking", "ts")
    assert finding.details["count"] > 0


def test_future_dates_outside_event_time_are_a_warning(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    issued = bank["cards"]["issued_at"].to_pylist()
    issued[0] = (NOW + timedelta(days=3)).date()
    table = _replace(bank["cards"], "issued_at", pa.array(issued, pa.date32()))
    finding = _only(_check(tmp_path, table, "cards"), q.TIME_FUTURE)
    assert (finding.severity, finding.column, finding.details["count"]) == (
        "warning",
        "issued_at",
        1,
    )


def test_naive_timestamps_are_blocking(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    table = bank["transactions"]
    naive = pc.cast(table["ts"], pa.timestamp("us"))
    finding = _only(_check(tmp_path, _replace(table, "ts", naive), "transactions"), q.TIME_NAIVE)
    assert (finding.severity, finding.column) == ("blocking", "ts")


def test_rows_out_of_order_are_a_warning_with_count(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    table = bank["transactions"]
    order = np.arange(table.num_rows)
    order[[100, 101]] = [101, 100]
    order[[2000, 2500]] = [2500, 2000]
    report = _check(tmp_path, table.take(pa.array(order)), "transactions")
    finding = _only(report, q.TIME_OUT_OF_ORDER)
    assert (finding.severity, finding.column, finding.details["count"]) == ("warning", "ts", 3)
    assert report.status == "warnings"


# --- 5. drift -------------------------------------------------------------------------------


def test_drift_against_reference_reports_added_removed_and_retyped(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    ref = _write(tmp_path, bank["terminals"], "reference.parquet")
    current = bank["terminals"].drop_columns(["mcc"])
    current = current.append_column("opened", pa.array([1] * current.num_rows))
    current = _replace(current, "x_location", pc.cast(current["x_location"], pa.string()))
    report = _check(tmp_path, current, "terminals", reference=ref)
    assert _only(report, q.DRIFT_ADDED_COLUMN).column == "opened"
    assert _only(report, q.DRIFT_REMOVED_COLUMN).column == "mcc"
    retyped = _only(report, q.DRIFT_RETYPED_COLUMN)
    assert (retyped.column, retyped.details["expected"], retyped.details["found"]) == (
        "x_location",
        "double",
        "string",
    )
    assert {f.severity for f in report.findings if f.check.startswith("drift.")} == {"warning"}
    assert _only(report, q.SCHEMA_MISSING_COLUMN).column == "mcc"


# --- 6. leakage -----------------------------------------------------------------------------


def test_timestamp_after_the_event_is_blocking_leakage(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    table = bank["transactions"]
    closed = pc.add(table["ts"], pa.scalar(timedelta(days=5)))
    report = _check(tmp_path, table.append_column("case_closed_at", closed), "transactions")
    finding = _only(report, q.LEAKAGE_POST_EVENT_TIME)
    assert (finding.severity, finding.column, finding.details["anchor"]) == (
        "blocking",
        "case_closed_at",
        "ts",
    )


def test_label_plus_noise_is_flagged_by_single_feature_auc(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    table = bank["transactions"]
    rng = np.random.default_rng(3)
    y = np.array(table["is_fraud"].to_pylist(), dtype=float)
    score = y + rng.normal(0, 0.3, len(y))
    report = _check(tmp_path, table.append_column("risk_score", pa.array(score)), "transactions")
    finding = _only(report, q.LEAKAGE_HIGH_AUC)
    assert (finding.severity, finding.column) == ("warning", "risk_score")
    assert finding.details["auc"] > 0.9


def test_label_derived_category_is_flagged_when_not_declared_a_label(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    builtin = load_schema("transactions")
    columns = [
        ColumnSpec(c.name, c.dtype, allowed=c.allowed) if c.name == "fraud_scenario" else c
        for c in builtin.columns
    ]
    schema = TableSchema(**{**builtin.__dict__, "columns": columns})
    report = _check(tmp_path, bank["transactions"], schema)
    assert _only(report, q.LEAKAGE_HIGH_AUC).column == "fraud_scenario"
    name = _only(report, q.LEAKAGE_TARGET_NAME)
    assert (name.severity, name.column) == ("blocking", "fraud_scenario")


def test_random_categories_and_high_cardinality_ids_are_not_flagged(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    table = bank["transactions"]
    rng = np.random.default_rng(5)
    n = table.num_rows
    table = table.append_column("tier", pa.array(rng.choice(["a", "b", "c"], n).tolist()))
    table = table.append_column("ref_code", pa.array([f"R{i}" for i in range(n)]))
    report = _check(tmp_path, table, "transactions")
    assert report.by_check(q.LEAKAGE_HIGH_AUC) == []


def test_target_like_name_is_blocking(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    table = bank["credit_applications"]
    flag = pa.array(np.random.default_rng(2).random(table.num_rows) < 0.5)
    report = _check(tmp_path, table.append_column("chargeback_flag", flag), "credit_applications")
    finding = _only(report, q.LEAKAGE_TARGET_NAME)
    assert (finding.severity, finding.column) == ("blocking", "chargeback_flag")
    assert finding.message == q.MSG_LEAK_NAME.format(column="chargeback_flag")


# --- files and schemas that cannot be used -------------------------------------------------


def _single_line(exc: pytest.ExceptionInfo[Exception]) -> str:
    message = str(exc.value)
    assert message
    assert "\n" not in message
    return message


def _bad_files(tmp_path: Path, bank: dict[str, pa.Table]) -> dict[str, Path]:
    good = _write(tmp_path, bank["terminals"], "good.parquet").read_bytes()
    files = {
        "empty": (tmp_path / "empty.parquet", b""),
        "truncated": (tmp_path / "truncated.parquet", good[: len(good) // 2]),
        "corrupt_pages": (tmp_path / "pages.parquet", good[:4] + b"\xab" * 3000 + good[3004:]),
        "png": (tmp_path / "image.parquet", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
        "garbage_csv": (tmp_path / "garbage.csv", b"a,b\n1,2,3\n\xff\xfe\x00garbage\n"),
        "header_only_csv": (tmp_path / "header.csv", b"terminal_id,mcc\n"),
        "wrong_suffix": (tmp_path / "terminals.xlsx", b"PK\x03\x04"),
    }
    for path, data in files.values():
        path.write_bytes(data)
    return {key: path for key, (path, _) in files.items()} | {"missing": tmp_path / "nope.parquet"}


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty",
        "truncated",
        "corrupt_pages",
        "png",
        "garbage_csv",
        "header_only_csv",
        "wrong_suffix",
    ],
)
def test_unusable_file_raises_one_line_data_file_error(
    tmp_path: Path, bank: dict[str, pa.Table], case: str
) -> None:
    path = _bad_files(tmp_path, bank)[case]
    with pytest.raises(DataFileError) as exc:
        check_table(path, load_schema("terminals"), now=NOW)
    assert str(path) in _single_line(exc)


def test_corrupt_reference_raises_data_file_error(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    bad = _bad_files(tmp_path, bank)["png"]
    with pytest.raises(DataFileError) as exc:
        _check(tmp_path, bank["terminals"], "terminals", reference=bad)
    assert str(bad) in _single_line(exc)


def test_unknown_schema_name_raises_schema_error() -> None:
    with pytest.raises(SchemaError) as exc:
        load_schema("transactons")
    assert "unknown schema 'transactons'" in _single_line(exc)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: x\ncolumns: [\n  - oops", "cannot read schema file"),
        ("- just\n- a list\n", "top level must be a mapping"),
        ("name: x\ncolumns:\n  - {name: a, dtype: integer}\n", "dtype 'integer'"),
        ("name: x\ncolums: []\n", "unknown keys ['colums']"),
        ("name: x\nprimary_key: [b]\ncolumns:\n  - {name: a, dtype: int}\n", "undeclared"),
        ("name: x\ncolumns:\n  - {name: a, dtype: string, min: 3}\n", "only supported"),
    ],
)
def test_malformed_schema_file_raises_schema_error(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    with pytest.raises(SchemaError) as exc:
        load_schema(str(path))
    assert needle in _single_line(exc)


def test_bad_arguments_raise_input_error(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    path = _write(tmp_path, bank["terminals"])
    calls: list[Callable[[], object]] = [
        lambda: check_table(path, load_schema("terminals"), leakage_auc_threshold=0.2),
        lambda: check_table(path, load_schema("terminals"), sample_rows=0),
        lambda: check_table(path, load_schema("terminals"), now=datetime(2026, 1, 1)),
    ]
    for call in calls:
        with pytest.raises(InputError):
            call()


# --- CSV, sampling and the HTML report ------------------------------------------------------


def test_csv_input_is_parsed_per_schema(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    path = _write(tmp_path, bank["transactions"], "transactions.csv")
    report = check_table(path, load_schema("transactions"), now=NOW)
    assert [f.message for f in report.findings] == []
    kinds = {c.name: c.kind for c in report.columns}
    assert kinds["ts"] == "timestamp"
    assert kinds["is_fraud"] == "bool"


def test_csv_keeps_country_code_na_and_sees_naive_timestamps(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    countries = bank["customers"]["home_country"].to_pylist()
    countries[:5] = ["NA"] * 5  # Namibia, not a missing value
    customers = _replace(bank["customers"], "home_country", pa.array(countries))
    report = check_table(_write(tmp_path, customers, "c.csv"), load_schema("customers"), now=NOW)
    assert report.status == "clean"
    assert {c.name: c.null_count for c in report.columns}["home_country"] == 0
    path = tmp_path / "tx.csv"
    path.write_text(
        "transaction_id,ts,amount\n1,2026-01-01 10:00:00,5.0\n2,2026-01-01 11:00:00,abc\n"
    )
    report = check_table(path, load_schema("transactions"), now=NOW)
    assert _only(report, q.TIME_NAIVE).column == "ts"
    assert _only(report, q.SCHEMA_WRONG_TYPE).column == "amount"


def test_leakage_auc_uses_a_sample_when_asked(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    report = _check(tmp_path, bank["transactions"], "transactions", sample_rows=5000)
    assert report.leakage_sample_rows == 5000


def test_html_report_is_written_with_the_findings(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    table = bank["customers"].append_column(
        "is_target_customer", pa.array([False] * bank["customers"].num_rows)
    )
    report = _check(tmp_path, table, "customers")
    out = report.render_html(tmp_path / "out" / "report.html")
    page = out.read_text()
    assert q.LEAKAGE_TARGET_NAME in page
    assert str(escape(report.by_check(q.LEAKAGE_TARGET_NAME)[0].message)) in page
    # Self-contained: plotly.js from the wheel is inlined, nothing is fetched.
    assert PLOTLY_JS in page
    assert re.search(r"<(script|link|img)[^>]+(src|href)=", page) is None
    assert 'id="plot-missing"' in page
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


def test_distinct_counts_are_exact(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    # HyperLogLog said 34,905 distinct timestamps here (and 286,520 in 277,930 rows on the
    # demo bank); every transaction of this bank has its own timestamp.
    report = _check(tmp_path, bank["transactions"], "transactions")
    stats = {c.name: c for c in report.columns}
    assert report.row_count == 37_004
    assert stats["ts"].distinct_count == 37_004
    assert stats["amount"].distinct_count == 12_530
    assert stats["terminal_id"].distinct_count == 160
    # Independent oracle: Arrow's own unique().
    for name in ("ts", "amount", "terminal_id", "country"):
        assert stats[name].distinct_count == len(pc.unique(bank["transactions"][name]))


def test_distinct_count_skips_nulls_and_nan(tmp_path: Path) -> None:
    table = pa.table(
        {
            "customer_id": pa.array([1, 2, 3, 4, 5], pa.int64()),
            "income": pa.array([1.0, float("nan"), None, 1.0, 2.0], pa.float64()),
        }
    )
    schema = TableSchema(
        "tiny",
        [ColumnSpec("customer_id", "int"), ColumnSpec("income", "float", nullable=True)],
        primary_key=["customer_id"],
    )
    stats = {c.name: c for c in _check(tmp_path, table, schema).columns}
    assert stats["income"].distinct_count == 2
    assert stats["income"].null_count == 2


def test_report_plots_distributions_against_the_reference(
    tmp_path: Path, bank: dict[str, pa.Table]
) -> None:
    reference = _write(tmp_path, bank["transactions"], "reference.parquet")
    shifted = _replace(
        bank["transactions"], "amount", pc.multiply(bank["transactions"]["amount"], 3.0)
    )
    report = _check(tmp_path, shifted, "transactions", reference=reference)
    plots = {d.name: d for d in report.distributions}
    # Ids are never plotted; low-cardinality text is, with both tables on the same categories.
    assert "transaction_id" not in plots
    assert "card_id" not in plots
    channel = plots["channel"]
    assert sorted(channel.categories or []) == ["atm", "ecom", "pos"]
    assert channel.reference == pytest.approx(channel.current)
    # Shared bins: the tripled amounts sit in higher bins than the reference's.
    amount = plots["amount"]
    assert amount.reference is not None
    assert len(amount.current) == len(amount.reference) == len(amount.edges or []) - 1
    assert sum(amount.current) == pytest.approx(1.0)
    centres = np.diff(amount.edges or []) / 2 + np.array(amount.edges or [])[:-1]
    assert float(np.dot(centres, amount.current)) > 2 * float(np.dot(centres, amount.reference))
    page = report.render_html(tmp_path / "report.html").read_text()
    assert "grey bars are the reference file" in page
    assert 'aria-label="Distribution of amount"' in page


def test_report_never_plots_personal_data(tmp_path: Path, bank: dict[str, pa.Table]) -> None:
    report = _check(tmp_path, bank["customers"], "customers")
    plotted = {d.name for d in report.distributions}
    pii = {c.name for c in load_schema("customers").columns if c.role == "pii"}
    assert pii
    assert not plotted & pii
    page = report.render_html(tmp_path / "report.html").read_text()
    email = bank["customers"]["email"][0].as_py()
    assert email not in page


def test_profile_table_reports_known_values() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "amount": [1.0, 2.0, 3.0, 4.0, None],
            "channel": ["pos", "pos", "ecom", None, "atm"],
            "id": [10, 11, 12, 13, 14],
        }
    )
    profile = q.profile_table(frame)
    assert profile.rows == 5
    amount = profile.columns["amount"]
    assert (amount.missing, amount.missing_rate) == (1, 0.2)
    assert (amount.min, amount.max) == (1.0, 4.0)
    assert amount.quantiles[0.5] == 2.5
    assert amount.quantiles[0.25] == 1.75
    channel = profile.columns["channel"]
    assert channel.categories == {"atm": 0.25, "ecom": 0.25, "pos": 0.5}
    assert channel.distinct == 3
    assert profile.columns["id"].distinct == 5
    data = profile.to_dict()
    assert data["columns"]["amount"]["quantiles"]["0.5"] == 2.5
    json.dumps(data)


def test_profile_table_keeps_no_categories_of_high_cardinality_text() -> None:
    names = pa.table({"name": [f"person {i}" for i in range(200)]})
    column = q.profile_table(names).columns["name"]
    assert column.categories is None
    assert column.distinct == 200


def test_profile_table_refuses_other_inputs() -> None:
    with pytest.raises(InputError, match="pandas DataFrame or an Arrow table"):
        q.profile_table([1, 2, 3])


def test_check_ids_are_distinct_and_complete() -> None:
    ids = [getattr(q, name) for name in q.__all__ if name.isupper() and name != "CHECK_IDS"]
    assert sorted(ids) == sorted(q.CHECK_IDS)
    assert len(set(q.CHECK_IDS)) == len(q.CHECK_IDS)
