"""Offline fraud features: each family against a brute-force reference, point-in-time laws."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bankml.core.errors import DataFileError, InputError
from bankml.data.features import (
    EventTable,
    FeatureDef,
    compute_features,
    definitions_hash,
    parse_window,
)
from bankml.fraud.features import FEATURE_NAMES, FRAUD_FEATURES, build_fraud_features, resolve
from bankml.fraud.mapping import DEFAULT_MAPPING, ColumnMapping, load_mapping

EPOCH = pd.Timestamp(0, tz="UTC")
US = pd.Timedelta(microseconds=1)
DAY = 86_400_000_000
START = pd.Timestamp("2026-01-05", tz="UTC")  # a Monday


def transactions(n: int = 400, seed: int = 0, days: int = 20) -> pd.DataFrame:
    """Small synthetic table in the synthetic bank's column names.

    Times cluster in bursts (so 10-minute windows hold several transactions), some
    timestamps are exactly shared (ties), ids are shuffled against time (so the id, not the
    input order, must break ties), and rows come in random order.
    """
    rng = np.random.default_rng(seed)
    centres = rng.integers(0, days * DAY, max(n // 8, 1))
    t = centres[rng.integers(0, len(centres), n)] + rng.integers(-1_800_000_000, 1_800_000_000, n)
    t = np.clip(t, 0, None)
    tie = rng.random(n) < 0.1
    t[tie] = t[rng.integers(0, n, n)][tie]
    fraud = rng.random(n) < 0.15
    delay = np.where(fraud, rng.integers(DAY // 2, 20 * DAY, n), 7 * DAY)
    amount = np.where(rng.random(n) < 0.3, rng.choice([0.5, 1.0, 4.99, 5.0], n), 0.0)
    amount = np.where(amount == 0.0, np.round(rng.gamma(2.0, 30.0, n) + 0.01, 2), amount)
    ts = START + pd.to_timedelta(t, unit="us")
    return pd.DataFrame(
        {
            "transaction_id": rng.permutation(np.arange(1000, 1000 + n)).astype("int64"),
            "ts": ts.astype("datetime64[us, UTC]"),
            "card_id": rng.integers(0, 8, n).astype("int64"),
            "customer_id": rng.integers(0, 6, n).astype("int64"),
            "terminal_id": rng.integers(0, 5, n).astype("int64"),
            "amount": amount.astype("float64"),
            "country": rng.choice(["FR", "DE", "US"], n),
            "is_fraud": fraud,
            "label_available_at": (ts + pd.to_timedelta(delay, unit="us")).astype(
                "datetime64[us, UTC]"
            ),
        }
    )


def _us(series: pd.Series) -> np.ndarray:
    return ((series - EPOCH) // US).to_numpy(dtype=np.int64)


def reference(df: pd.DataFrame, delay_days: int = 7, label_time: bool = True) -> pd.DataFrame:
    """Every feature by brute force: a Python loop over earlier rows, no windows, no SQL."""
    df = df.sort_values(["ts", "transaction_id"]).reset_index(drop=True)
    t = _us(df["ts"])
    known = _us(df["label_available_at"]) if label_time else t + delay_days * DAY
    cust, term, card = (df[c].to_numpy() for c in ("customer_id", "terminal_id", "card_id"))
    country, amount = df["country"].to_numpy(), df["amount"].to_numpy()
    fraud, d = df["is_fraud"].to_numpy(), delay_days * DAY
    rows = []
    for i in range(len(df)):
        upto = np.arange(i + 1)  # rows at or before i in (ts, id) order
        row: dict[str, float] = {"amount": amount[i]}
        for w in ("1d", "7d", "30d"):
            sel = upto[(cust[upto] == cust[i]) & (t[upto] > t[i] - parse_window(w))]
            row[f"customer_txn_count_{w}"] = len(sel)
            row[f"customer_mean_amount_{w}"] = amount[sel].mean()
            if w == "30d":
                prior = sel[sel != i]
                mean = amount[prior].mean() if len(prior) else 0.0
                row["amount_to_customer_mean_30d"] = amount[i] / mean if mean > 0 else 1.0
            sel_t = upto[(term[upto] == term[i]) & (t[upto] > t[i] - parse_window(w))]
            row[f"terminal_txn_count_{w}"] = len(sel_t)
            everyone = np.arange(len(df))
            delayed = everyone[
                (term == term[i]) & (t > t[i] - d - parse_window(w)) & (t <= t[i] - d)
            ]
            n_known = int((fraud[delayed] & (known[delayed] <= t[i])).sum())
            row[f"terminal_fraud_rate_{w}"] = n_known / len(delayed) if len(delayed) else 0.0
        # Fresh terminal risk: strictly earlier in time, within 7 days, known by t[i].
        earlier = np.arange(len(df))[(term == term[i]) & (t > t[i] - 7 * DAY) & (t < t[i])]
        row["terminal_known_frauds_7d"] = float((fraud[earlier] & (known[earlier] <= t[i])).sum())
        for w in ("10m", "1h"):
            sel = upto[(card[upto] == card[i]) & (t[upto] > t[i] - parse_window(w))]
            row[f"card_small_txn_count_{w}"] = float((amount[sel] < 5.0).sum())
        before = np.arange(i)
        row["card_new_terminal"] = float(
            not ((card[before] == card[i]) & (term[before] == term[i])).any()
        )
        row["card_new_country"] = float(
            not ((card[before] == card[i]) & (country[before] == country[i])).any()
        )
        stamp = df["ts"].iloc[i]
        row["is_night"] = float(stamp.hour < 6)
        row["is_weekend"] = float(stamp.day_of_week >= 5)
        hour = upto[(cust[upto] == cust[i]) & (t[upto] > t[i] - parse_window("1h"))]
        row["customer_txn_count_1h"] = float(len(hour))
        row["customer_new_terminal"] = float(
            not ((cust[before] == cust[i]) & (term[before] == term[i])).any()
        )
        for name, keys in (("customer", cust), ("terminal", term)):
            earlier = before[keys[before] == keys[i]]
            gap = (t[i] - t[earlier[-1]]) / 3_600_000_000 if len(earlier) else 720.0
            row[f"hours_since_{name}_txn"] = min(gap, 720.0)
        month = amount[upto[(cust[upto] == cust[i]) & (t[upto] > t[i] - parse_window("30d"))]]
        median = float(np.median(month))
        row["amount_to_customer_median_30d"] = amount[i] / median if median > 0 else 1.0
        spread = float(np.std(month))
        row["amount_zscore_customer_30d"] = (
            (amount[i] - month.mean()) / spread if spread >= 1e-6 else 0.0
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    out.insert(0, "transaction_id", df["transaction_id"])
    return out


def assert_features_equal(got: pd.DataFrame, want: pd.DataFrame, names: list[str]) -> None:
    assert got["transaction_id"].tolist() == want["transaction_id"].tolist()
    for name in names:
        np.testing.assert_allclose(
            got[name].to_numpy(), want[name].to_numpy(), rtol=1e-9, atol=1e-9, err_msg=name
        )


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return transactions()


@pytest.fixture(scope="module")
def built(table: pd.DataFrame) -> pd.DataFrame:
    return build_fraud_features(table).frame


@pytest.fixture(scope="module")
def expected(table: pd.DataFrame) -> pd.DataFrame:
    return reference(table)


def family(prefix: str) -> list[str]:
    return [n for n in FEATURE_NAMES if n.startswith(prefix)]


def test_output_is_sorted_by_time_then_id_with_canonical_columns(built: pd.DataFrame) -> None:
    assert list(built.columns[:8]) == [
        "transaction_id",
        "timestamp",
        "customer",
        "terminal",
        "card",
        "amount",
        "label",
        "label_time",
    ]
    assert list(built.columns[5:6]) + list(built.columns[8:]) == list(FEATURE_NAMES)
    keys = list(zip(built["timestamp"], built["transaction_id"], strict=True))
    assert keys == sorted(keys)
    assert all(built[n].dtype == np.float64 for n in FEATURE_NAMES)
    assert built["label"].dtype == bool


def test_customer_spending_matches_brute_force(built: pd.DataFrame, expected: pd.DataFrame) -> None:
    names = [*family("customer_"), "amount_to_customer_mean_30d", "amount"]
    assert_features_equal(built, expected, names)


def test_terminal_risk_matches_brute_force(built: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert_features_equal(built, expected, family("terminal_"))
    assert built["terminal_fraud_rate_30d"].max() > 0  # the case is not vacuous
    fresh = built["terminal_known_frauds_7d"]
    # Known frauds of the last week count before the delayed windows can see them.
    assert fresh.max() >= 2
    assert ((fresh > 0) & (built["terminal_fraud_rate_7d"] == 0)).any()


def test_card_testing_and_novelty_match_brute_force(
    built: pd.DataFrame, expected: pd.DataFrame
) -> None:
    assert_features_equal(built, expected, family("card_"))
    assert built["card_small_txn_count_10m"].max() >= 2


def test_calendar_flags_match_brute_force(built: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert_features_equal(built, expected, ["is_night", "is_weekend"])


def test_velocity_gaps_and_amount_spread_match_brute_force(
    built: pd.DataFrame, expected: pd.DataFrame
) -> None:
    names = [
        "customer_txn_count_1h",
        "customer_new_terminal",
        "hours_since_customer_txn",
        "hours_since_terminal_txn",
        "amount_to_customer_median_30d",
        "amount_zscore_customer_30d",
    ]
    assert_features_equal(built, expected, names)
    # Not vacuous: bursts, ties (zero gaps), first sightings, and spread all occur.
    assert built["customer_txn_count_1h"].max() >= 3
    assert (built["hours_since_customer_txn"] == 0).any()
    assert (built["hours_since_terminal_txn"] == 720.0).any()
    assert built["customer_new_terminal"].sum() >= 5
    assert (built["amount_zscore_customer_30d"].abs() > 1).any()


def test_without_label_time_a_label_is_known_after_the_fixed_delay(table: pd.DataFrame) -> None:
    mapping = ColumnMapping(**{**DEFAULT_MAPPING.as_dict(), "label_time": None})
    got = build_fraud_features(
        table.drop(columns="label_available_at"), mapping, label_delay_days=3
    )
    want = reference(table, delay_days=3, label_time=False)
    assert_features_equal(got.frame, want, family("terminal_"))
    assert got.warnings
    assert "label_delay_days" in got.warnings[0]


def _one(
    txn_id: int, day: float, terminal: int = 1, fraud: bool = False, known_day: float | None = None
) -> dict[str, object]:
    ts = START + pd.Timedelta(days=day)
    known = START + pd.Timedelta(days=known_day if known_day is not None else day + 7)
    return {
        "transaction_id": txn_id,
        "ts": ts,
        "card_id": txn_id,
        "customer_id": txn_id,
        "terminal_id": terminal,
        "amount": 20.0,
        "country": "FR",
        "is_fraud": fraud,
        "label_available_at": known,
    }


def frame_of(rows: list[dict[str, object]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in ("ts", "label_available_at"):
        df[col] = df[col].astype("datetime64[us, UTC]")
    return df


def test_fraud_whose_label_arrives_after_t_counts_only_from_then() -> None:
    # A fraud on day 0 confirmed on day 12; with a 7-day delay it is in the delayed window
    # of transactions from day 7 to day 37, but may only count once known (day 12).
    rows = [_one(1, 0.0, fraud=True, known_day=12.0), _one(2, 0.5)]
    rows += [_one(10 + i, day) for i, day in enumerate([8.0, 11.9, 12.0, 12.1, 20.0, 36.9, 38.0])]
    feats = build_fraud_features(frame_of(rows)).frame.set_index("transaction_id")
    rate = feats["terminal_fraud_rate_30d"]
    assert rate[10] == 0.0
    assert rate[11] == 0.0
    assert rate[12] == 0.5
    assert rate[13] == 0.5
    assert rate[14] == pytest.approx(1 / 6)  # day 20: (day -17, day 13] holds six
    assert rate[15] == pytest.approx(1 / 7)  # day 36.9: (day -0.1, day 29.9] still holds day 0
    assert rate[16] == 0.0  # day 38: (day 1, day 31] no longer does
    assert feats["terminal_fraud_rate_1d"][12] == 0.0  # (day 4, day 5] holds nothing


def test_timestamp_ties_are_ordered_by_transaction_id() -> None:
    rows = [_one(i, 1.0) for i in (5, 3, 4)]
    for row in rows:
        row["customer_id"] = 1
        row["card_id"] = 1
    feats = build_fraud_features(frame_of(rows)).frame
    assert feats["transaction_id"].tolist() == [3, 4, 5]
    assert feats["customer_txn_count_1d"].tolist() == [1.0, 2.0, 3.0]
    assert feats["terminal_txn_count_1d"].tolist() == [1.0, 2.0, 3.0]
    assert feats["card_new_terminal"].tolist() == [1.0, 0.0, 0.0]


def test_a_row_without_a_card_gets_nan_card_features(table: pd.DataFrame) -> None:
    df = table.head(50).copy()
    df["card_id"] = df["card_id"].astype("Int64")
    df.loc[3, "card_id"] = pd.NA
    feats = build_fraud_features(df).frame.set_index("transaction_id")
    row = feats.loc[df.loc[3, "transaction_id"]]
    assert np.isnan(row["card_small_txn_count_1h"])
    assert np.isnan(row["card_new_country"])
    assert not np.isnan(row["customer_txn_count_1d"])


def test_csv_input_gives_the_same_features_as_a_frame(
    table: pd.DataFrame, built: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "transactions.csv"
    table.to_csv(path, index=False)
    from_csv = build_fraud_features(path).frame
    assert_features_equal(from_csv, built, list(FEATURE_NAMES))
    assert str(from_csv["timestamp"].dtype) == "datetime64[us, UTC]"


def test_parquet_with_a_bank_mapping_gives_the_same_features(
    table: pd.DataFrame, built: pd.DataFrame, tmp_path: Path
) -> None:
    names = {
        "transaction_id": "txn_id",
        "ts": "booked_at",
        "customer_id": "cust",
        "terminal_id": "tid",
        "amount": "amt",
        "is_fraud": "fraud",
        "label_available_at": "confirmed_at",
        "card_id": "card_token",
        "country": "ctry",
    }
    table.rename(columns=names).to_parquet(tmp_path / "bank.parquet")
    (tmp_path / "mapping.toml").write_text(
        "[columns]\n"
        + "".join(f'{role} = "{names[col]}"\n' for role, col in DEFAULT_MAPPING.as_dict().items())
    )
    mapping = load_mapping(tmp_path / "mapping.toml")
    got = build_fraud_features(tmp_path / "bank.parquet", mapping)
    assert_features_equal(got.frame, built, list(FEATURE_NAMES))
    assert got.warnings == []


def test_missing_required_column_is_named(table: pd.DataFrame) -> None:
    with pytest.raises(
        InputError, match=r"column 'amount' \(mapped as amount\) is not in the file"
    ):
        build_fraud_features(table.drop(columns="amount"))


def test_missing_optional_columns_disable_their_features_with_a_warning(
    table: pd.DataFrame,
) -> None:
    got = build_fraud_features(table.drop(columns=["card_id", "country"]))
    assert not any(n.startswith("card_") for n in got.feature_names)
    assert "customer_txn_count_1d" in got.feature_names
    assert any("'card_id' (mapped as card)" in w and "card_new_terminal" in w for w in got.warnings)
    assert any("card_new_country" in w for w in got.warnings)
    assert "card" not in got.frame.columns

    no_country = build_fraud_features(table.drop(columns=["country"]))
    assert "card_new_country" not in no_country.feature_names
    assert "card_new_terminal" in no_country.feature_names
    assert no_country.definitions_hash != build_fraud_features(table).definitions_hash


def test_resolve_warns_for_an_unmapped_optional_column() -> None:
    mapping = ColumnMapping(**{**DEFAULT_MAPPING.as_dict(), "card": None})
    resolved, warnings = resolve(mapping, set(DEFAULT_MAPPING.as_dict().values()))
    assert resolved.card is None
    assert warnings == [
        "no card column mapped: disabled card_small_txn_count_10m, card_small_txn_count_1h, "
        "card_new_terminal, card_new_country"
    ]


def test_load_mapping_refuses_unknown_and_missing_keys_and_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('[columns]\ntransaction_id = "id"\ncostumer = "c"\n')
    with pytest.raises(InputError, match=r"unknown key.*costumer"):
        load_mapping(path)
    path.write_text('[columns]\ntransaction_id = "id"\n')
    with pytest.raises(InputError, match=r"lacks required key.*timestamp"):
        load_mapping(path)
    path.write_text("[columns\n")
    with pytest.raises(InputError, match="cannot read mapping file") as info:
        load_mapping(path)
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="does not exist"):
        load_mapping(tmp_path / "absent.toml")


def test_bad_inputs_get_one_line_errors(table: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="does not exist"):
        build_fraud_features(tmp_path / "nope.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataFileError, match="cannot read"):
        build_fraud_features(tmp_path / "broken.parquet")
    dup = pd.concat([table.head(3), table.head(1)])
    with pytest.raises(InputError, match="appear more than once"):
        build_fraud_features(dup)
    with pytest.raises(InputError, match="no rows"):
        build_fraud_features(table.head(0))
    with pytest.raises(InputError, match="at least 1"):
        build_fraud_features(table, label_delay_days=0)


def test_definitions_hash_is_stable_and_sensitive() -> None:
    assert definitions_hash(FRAUD_FEATURES) == definitions_hash(tuple(FRAUD_FEATURES))
    assert definitions_hash(FRAUD_FEATURES) != definitions_hash(FRAUD_FEATURES[::-1])
    assert definitions_hash(FRAUD_FEATURES, {"d": 7}) != definitions_hash(FRAUD_FEATURES, {"d": 3})
    assert len(definitions_hash(FRAUD_FEATURES)) == 64


def test_feature_definitions_are_validated() -> None:
    with pytest.raises(InputError, match="needs a window"):
        FeatureDef("x", "customer", None, "", "count")
    with pytest.raises(InputError, match="not a duration"):
        FeatureDef("x", "customer", "7 days", "", "count")
    with pytest.raises(InputError, match="needs an expr"):
        FeatureDef("x", "customer", "7d", "", "mean")
    assert parse_window("10m") == 600_000_000


def test_engine_sum_kind_and_null_entities() -> None:
    df = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "t": pd.to_datetime(
                ["2026-01-01 00:00", "2026-01-01 00:30", "2026-01-01 02:00", "2026-01-01 02:10"],
                utc=True,
            ),
            "acct": pd.array([7, 7, None, 7], dtype="Int64"),
            "x": [1.0, 2.0, 4.0, 8.0],
        }
    )
    defs = [FeatureDef("x_sum_1h", "acct", "1h", "sum of x", "sum", "x")]
    got = compute_features(
        df, defs, EventTable({"id": "id", "time": "t", "acct": "acct", "x": "x"})
    )
    assert got["x_sum_1h"].tolist()[:2] == [1.0, 3.0]
    assert np.isnan(got["x_sum_1h"][2])
    assert got["x_sum_1h"][3] == 8.0


@st.composite
def later_rows(draw: st.DrawFn) -> tuple[int, int, list[tuple[float, int, int, int, float, bool]]]:
    seed = draw(st.integers(0, 10_000))
    n_base = draw(st.integers(1, 40))
    extra = draw(
        st.lists(
            st.tuples(
                st.floats(0.0, 40.0),  # days after the base table's last transaction (>0 below)
                st.integers(0, 5),  # customer
                st.integers(0, 4),  # terminal
                st.integers(0, 7),  # card
                st.sampled_from([0.5, 3.0, 20.0, 150.0]),
                st.booleans(),  # fraud
            ),
            min_size=1,
            max_size=12,
        )
    )
    return seed, n_base, extra


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(later_rows())
def test_appending_later_transactions_never_changes_earlier_features(
    case: tuple[int, int, list[tuple[float, int, int, int, float, bool]]],
) -> None:
    seed, n_base, extra = case
    base = transactions(n_base, seed=seed, days=45)
    last = base["ts"].max()
    rows = []
    for k, (days, cust, term, card, amount, fraud) in enumerate(extra):
        ts = last + pd.Timedelta(days=days) + pd.Timedelta(microseconds=1)
        known = ts + pd.Timedelta(days=1 + k % 9 if fraud else 7)
        rows.append(
            {
                "transaction_id": 10_000 + k,
                "ts": ts,
                "card_id": card,
                "customer_id": cust,
                "terminal_id": term,
                "amount": amount,
                "country": ["FR", "DE", "US"][k % 3],
                "is_fraud": fraud,
                "label_available_at": known,
            }
        )
    grown = pd.concat([base, frame_of(rows)], ignore_index=True)
    before = build_fraud_features(base).frame
    after = build_fraud_features(grown).frame
    after = after[after["transaction_id"].isin(before["transaction_id"])].reset_index(drop=True)
    assert_features_equal(after, before, list(FEATURE_NAMES))


def test_a_zero_label_delay_is_refused_so_no_event_sees_its_own_label() -> None:
    columns = {"id": "a", "time": "b", "label": "c"}
    with pytest.raises(InputError, match="positive"):
        EventTable(columns, label="label", label_delay=timedelta(0))


def test_models_trained_before_the_history_kinds_keep_their_definitions_hash() -> None:
    # Literal hashes of main before the four history features became engine kinds: a model
    # trained then must still validate (validation recomputes and compares this hash).
    # Validation rebuilds with the model's feature names: terminal_known_frauds_7d, added
    # later, enters the hash only for the models that read it.
    df = transactions(n=200, seed=1)
    old = [n for n in FEATURE_NAMES if n != "terminal_known_frauds_7d"]
    assert build_fraud_features(df, model_features=old).definitions_hash == (
        "a1aaca8ae601a2249a5979c2f22ca0e437991753893d6779aa7bfea0619fabe4"
    )
    no_label_time = df.drop(columns=["label_available_at"])
    assert build_fraud_features(
        no_label_time, label_delay_days=3, model_features=old
    ).definitions_hash == ("5470f5bf93f98eb228e2dabe4c380ea2ccd4d6ce01d80accb234f4e2f3cb844e")
    # A model that reads it (what training records: every enabled feature) hashes apart.
    new = build_fraud_features(df)
    assert "terminal_known_frauds_7d" in new.feature_names
    assert (
        new.definitions_hash != "a1aaca8ae601a2249a5979c2f22ca0e437991753893d6779aa7bfea0619fabe4"
    )
    assert build_fraud_features(df, model_features=new.feature_names).definitions_hash == (
        new.definitions_hash
    )


def test_gap_features_are_capped_where_the_online_store_caps_them() -> None:
    from bankml.fraud.features import GAP_CAP_HOURS

    gaps = [d for d in FRAUD_FEATURES if d.kind == "hours_since_prior"]
    assert [d.name for d in gaps] == ["hours_since_customer_txn", "hours_since_terminal_txn"]
    assert all(parse_window(d.window or "") == GAP_CAP_HOURS * 3_600_000_000 for d in gaps)
