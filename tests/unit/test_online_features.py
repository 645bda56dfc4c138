"""Online fraud features: the same numbers as the offline build, and labels in real time."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankml.core.errors import InputError
from bankml.data.generator import generate_bank
from bankml.fraud.features import FEATURE_NAMES, build_fraud_features
from bankml.fraud.mapping import DEFAULT_MAPPING, ColumnMapping
from bankml.fraud.online import OnlineFeatureStore
from tests.unit.test_fraud_features import transactions


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("bank")
    generate_bank(out, customers=250, days=45, seed=11)
    return pd.read_parquet(out / "transactions.parquet")


def replay_and_compare(
    df: pd.DataFrame,
    cut: pd.Timestamp,
    mapping: ColumnMapping,
    offline: pd.DataFrame | None = None,
) -> int:
    """Build the store from rows before ``cut``; score-then-add every later row in order.

    Every online vector must equal the offline row computed on the full table (by
    ``build_fraud_features`` unless ``offline`` is given). Later frauds' labels go in
    through ``add_label`` with the time they become known.
    """
    if offline is None:
        offline = build_fraud_features(df, mapping).frame
    offline = offline.set_index("transaction_id")
    ts_col = mapping.timestamp
    store = OnlineFeatureStore.from_history(df[df[ts_col] < cut], mapping)
    later = df[df[ts_col] >= cut].sort_values([ts_col, mapping.transaction_id])
    assert len(later) > 0
    names = store.feature_names
    for txn in later.to_dict("records"):
        got = store.features(txn)
        want = offline.loc[txn[mapping.transaction_id], names].to_numpy(dtype=np.float64)
        np.testing.assert_allclose(
            got, want, rtol=1e-9, atol=1e-9, err_msg=str(txn[mapping.transaction_id])
        )
        store.add(txn)
        if txn[mapping.label]:
            # The chargeback, recorded now with the time it will be known: the store must
            # not use it before then (the offline build reads the same label time).
            known = (
                txn[mapping.label_time]
                if mapping.label_time is not None
                else txn[ts_col] + pd.Timedelta(days=7)
            )
            store.add_label(txn[mapping.transaction_id], True, known)
    return len(later)


def test_online_features_equal_offline_for_a_held_out_day(bank: pd.DataFrame) -> None:
    cut = bank["ts"].max().normalize()
    checked = replay_and_compare(bank, cut, DEFAULT_MAPPING)
    assert checked > 100


def test_online_features_equal_offline_with_ties_and_shuffled_ids() -> None:
    df = transactions(600, seed=3, days=40)
    cut = df["ts"].sort_values().iloc[450]
    replay_and_compare(df, cut, DEFAULT_MAPPING)


def test_online_features_equal_the_streamed_batch_engine(tmp_path: Path) -> None:
    # The batch engine's generated SQL (what Spark runs too) against the online store, on
    # every feature the model uses: ties, shuffled ids, labels known late.
    from bankml.data.features import compute_features_to_parquet
    from bankml.fraud.features import enabled_features, resolve_event_table

    df = transactions(600, seed=3, days=40)
    resolved, _warnings, table = resolve_event_table(df, DEFAULT_MAPPING, 7)
    out = tmp_path / "features.parquet"
    passthrough = ["customer", "terminal", "card"]
    compute_features_to_parquet(df, enabled_features(resolved), table, out, passthrough=passthrough)
    streamed = pd.read_parquet(out)
    assert [c for c in streamed.columns if c in FEATURE_NAMES] == list(FEATURE_NAMES)
    cut = df["ts"].sort_values().iloc[450]
    assert replay_and_compare(df, cut, DEFAULT_MAPPING, offline=streamed) == 150


def test_online_features_equal_offline_without_card_or_label_time(bank: pd.DataFrame) -> None:
    mapping = ColumnMapping(
        **{**DEFAULT_MAPPING.as_dict(), "card": None, "country": None, "label_time": None}
    )
    df = bank.drop(columns=["card_id", "label_available_at"])
    cut = df["ts"].max().normalize() + pd.Timedelta(hours=12)
    replay_and_compare(df, cut, mapping)
    store = OnlineFeatureStore.from_history(df.head(100), mapping)
    assert store.feature_names == [n for n in FEATURE_NAMES if not n.startswith("card_")]


def test_a_label_changes_terminal_risk_only_once_known(bank: pd.DataFrame) -> None:
    store = OnlineFeatureStore.from_history(bank)
    # A legitimate transaction on a busy terminal, ten days before the end of the data.
    legit = bank[~bank["is_fraud"] & (bank["ts"] < bank["ts"].max() - pd.Timedelta(days=10))]
    target = legit.iloc[-1]
    probe = target.to_dict()
    probe["transaction_id"] = -1
    probe["ts"] = target["ts"] + pd.Timedelta(days=8)  # its delayed 7d window holds target
    col = store.feature_names.index("terminal_fraud_rate_7d")
    before = store.features(probe)[col]

    known = target["ts"] + pd.Timedelta(days=7, hours=12)
    assert store.add_label(target["transaction_id"], True, known.to_pydatetime())
    after = store.features(probe)[col]
    assert after > before

    early = probe | {"ts": known - pd.Timedelta(minutes=1)}
    late = probe | {"ts": known}
    assert store.features(early)[col] < store.features(late)[col]  # not before it is known

    cleared = known + pd.Timedelta(hours=1)
    store.add_label(target["transaction_id"], False, cleared.to_pydatetime())
    assert store.features(probe | {"ts": cleared})[col] < store.features(late)[col]
    assert not store.add_label(123_456_789, True, cleared.to_pydatetime())


def test_transactions_may_use_canonical_names_and_bad_ones_are_refused(bank: pd.DataFrame) -> None:
    store = OnlineFeatureStore.from_history(bank.head(2000))
    row = bank.iloc[2000]
    canonical = {
        "transaction_id": row["transaction_id"],
        "timestamp": row["ts"].isoformat(),
        "customer": row["customer_id"],
        "terminal": row["terminal_id"],
        "card": row["card_id"],
        "country": row["country"],
        "amount": row["amount"],
    }
    np.testing.assert_array_equal(store.features(canonical), store.features(row.to_dict()))
    with pytest.raises(InputError, match="lacks 'terminal'"):
        store.features({k: v for k, v in canonical.items() if k != "terminal"})
    with pytest.raises(InputError, match="not a timestamp"):
        store.features(canonical | {"timestamp": "yesterday"})
    with pytest.raises(InputError, match="not a number"):
        store.features(canonical | {"amount": "ten"})


def test_concurrent_scoring_and_adding_is_safe(bank: pd.DataFrame) -> None:
    store = OnlineFeatureStore.from_history(bank.head(3000))
    rows = bank.iloc[3000:3400].to_dict("records")
    errors: list[BaseException] = []

    def work(part: list[dict[str, object]]) -> None:
        try:
            for txn in part:
                store.features(txn)
                store.add(txn)
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(rows[i::4],)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    final = store.features(bank.iloc[3400].to_dict())
    assert final.shape == (len(store.feature_names),)
    assert final.dtype == np.float64


def test_history_can_be_a_parquet_file(bank: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "history.parquet"
    bank.head(1000).to_parquet(path)
    from_file = OnlineFeatureStore.from_history(path)
    from_frame = OnlineFeatureStore.from_history(bank.head(1000))
    txn = bank.iloc[1000].to_dict()
    np.testing.assert_array_equal(from_file.features(txn), from_frame.features(txn))


def test_adding_the_same_transaction_twice_counts_it_once(bank: pd.DataFrame) -> None:
    store = OnlineFeatureStore.from_history(bank.head(500))
    txn, probe = bank.iloc[500].to_dict(), bank.iloc[501].to_dict()
    assert store.add(txn)
    once = store.features(probe)
    assert not store.add(txn)
    np.testing.assert_array_equal(store.features(probe), once)
