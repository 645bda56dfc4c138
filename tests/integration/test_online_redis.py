"""The shared (Redis) online feature store: offline parity, with concurrent writers too."""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bankml.data.generator import generate_bank
from bankml.fraud.features import build_fraud_features
from bankml.fraud.mapping import DEFAULT_MAPPING
from bankml.fraud.online import OnlineFeatureStore
from bankml.fraud.online_redis import RedisFeatureStore

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("BANKML_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
M = DEFAULT_MAPPING


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    out = tmp_path_factory.mktemp("bank")
    generate_bank(out, customers=120, days=40, seed=5)
    return pd.read_parquet(out / "transactions.parquet"), out / "transactions.parquet"


@pytest.fixture
def base() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    name = f"bankml-test-{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(client.scan_iter(match=f"{name}:*", count=1000))
    if keys:
        client.delete(*keys)


def fresh(base: str, history: pd.DataFrame) -> RedisFeatureStore:
    """An empty shared store (same mapping as ``history``) under the test's prefix."""
    local = OnlineFeatureStore.from_history(history.head(1), M)
    store = RedisFeatureStore.__new__(RedisFeatureStore)
    import redis

    RedisFeatureStore.__init__(
        store, local.mapping, client=redis.Redis.from_url(REDIS_URL), prefix=f"{base}:x"
    )
    store.clear()
    return store


def label_of(txn: dict) -> pd.Timestamp:
    return txn[M.label_time]


def replay(store: OnlineFeatureStore, later: pd.DataFrame, offline: pd.DataFrame) -> int:
    """Score-then-add every row in order; each vector must equal the offline one."""
    names = store.feature_names
    for txn in later.to_dict("records"):
        got = store.features(txn)
        want = offline.loc[txn[M.transaction_id], names].to_numpy(dtype=np.float64)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, err_msg=str(txn))
        assert store.add(txn) is True
        if txn[M.label]:
            store.add_label(txn[M.transaction_id], True, label_of(txn))
    return len(later)


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    offline = build_fraud_features(df, M).frame.set_index("transaction_id")
    cut = df[M.timestamp].max().normalize()
    history = df[df[M.timestamp] < cut]
    later = df[df[M.timestamp] >= cut].sort_values([M.timestamp, M.transaction_id])
    return offline, history, later


def test_shared_store_loaded_from_history_equals_offline(
    bank: tuple[pd.DataFrame, Path], base: str, tmp_path: Path
) -> None:
    df, _path = bank
    offline, history, later = split(df)
    path = tmp_path / "history.parquet"
    history.to_parquet(path)
    store = RedisFeatureStore.attach(REDIS_URL, path, M, base=base)
    assert len(store) > 0
    assert replay(store, later, offline) > 50
    # A second replica joins the same state instead of reloading it, and sees the adds.
    other = RedisFeatureStore.attach(REDIS_URL, path, M, base=base)
    assert other.prefix == store.prefix
    assert len(other) == len(store)
    last = later.to_dict("records")[-1]
    assert other.add(last) is False  # already stored by the first replica


def _writer(args: tuple[str, str, list[dict], str]) -> int:
    """One writer process: add its share of transactions (or of their labels)."""
    import redis

    prefix, url, rows, what = args
    store = RedisFeatureStore.__new__(RedisFeatureStore)
    RedisFeatureStore.__init__(store, M, client=redis.Redis.from_url(url), prefix=prefix)
    done = 0
    for txn in rows:
        if what == "add":
            done += store.add(txn)
        elif txn[M.label]:
            done += store.add_label(txn[M.transaction_id], True, label_of(txn))
    return done


def shares(history: pd.DataFrame, n: int, seed: int) -> list[list[dict]]:
    """Every transaction given to two writers, in a shuffled order per writer."""
    rows = history.to_dict("records")
    rng = random.Random(seed)
    out: list[list[dict]] = [[] for _ in range(n)]
    for i, txn in enumerate(rows):
        out[i % n].append(txn)
        out[(i + 1) % n].append(txn)
    for share in out:
        rng.shuffle(share)
    return out


@pytest.mark.parametrize("how", ["threads", "processes"])
def test_concurrent_writers_build_the_state_the_offline_engine_agrees_with(
    bank: tuple[pd.DataFrame, Path], base: str, how: str
) -> None:
    df, _path = bank
    # 36 days: nothing falls out of the look-back (38 days) while writers race, so the
    # stored-once count below is exact.
    df = df[df[M.timestamp] >= df[M.timestamp].max() - pd.Timedelta(days=36)]
    offline, history, later = split(df)
    store = fresh(base, history)
    parts = shares(history, 4, seed=7)
    counts: dict[str, int] = {}
    for what in ("add", "label"):  # labels race each other once their transactions exist
        jobs = [(store.prefix, REDIS_URL, p, what) for p in parts]
        if how == "threads":
            with ThreadPoolExecutor(len(jobs)) as pool:
                done = list(pool.map(_writer, jobs))
        else:
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(len(jobs)) as pool:
                done = pool.map(_writer, jobs)
        counts[what] = sum(done)
    # Each transaction was sent twice, out of order, by racing writers: stored exactly once.
    assert counts["add"] == len(history)
    assert counts["label"] == 2 * int(history[M.label].sum())
    local = OnlineFeatureStore.from_history(history, M)
    first = later.to_dict("records")[0]
    np.testing.assert_allclose(store.features(first), local.features(first), rtol=1e-9, atol=0)
    # The shared state then scores the next day exactly as the offline engine does, and as
    # the in-process store built from the same history in one go (checked above).
    assert replay(store, later, offline) > 50


def test_concurrent_scorers_on_disjoint_customers_and_terminals_match_offline(
    bank: tuple[pd.DataFrame, Path], base: str, tmp_path: Path
) -> None:
    """Workers scoring live traffic at once, each score-then-add, agree with offline.

    Traffic is partitioned so no two workers touch the same customer, terminal or card at
    the same time (the order within an entity is the order of events, as a partitioned
    stream delivers it); the shared keys (index, trimming) are written by all at once.
    """
    df, _path = bank
    offline, history, later = split(df)
    path = tmp_path / "h.parquet"
    history.to_parquet(path)
    store = RedisFeatureStore.attach(REDIS_URL, path, M, base=base)
    # Group transactions that share any entity (union-find), then deal groups to workers.
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for txn in later.to_dict("records"):
        ids = [f"c{txn[M.customer]}", f"t{txn[M.terminal]}", f"k{txn[M.card]}"]
        for other in ids[1:]:
            parent[find(other)] = find(ids[0])
    groups: dict[str, list[dict]] = {}
    for txn in later.to_dict("records"):
        groups.setdefault(find(f"c{txn[M.customer]}"), []).append(txn)
    workers: list[list[dict]] = [[] for _ in range(3)]
    for i, rows in enumerate(sorted(groups.values(), key=len, reverse=True)):
        workers[i % 3].extend(rows)
    assert sum(1 for w in workers if w) >= 2
    errors: list[BaseException] = []

    def run(rows: list[dict]) -> None:
        try:
            frame = pd.DataFrame(rows).sort_values([M.timestamp, M.transaction_id])
            replay(store, frame, offline)
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers if w]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_an_outlier_enters_the_shared_means_clipped_as_in_process(
    bank: tuple[pd.DataFrame, Path], base: str, tmp_path: Path
) -> None:
    from bankml.fraud.features import CUSTOMER_AMOUNT_CAP

    df, _path = bank
    _offline, history, later = split(df)
    path = tmp_path / "h.parquet"
    history.to_parquet(path)
    shared = RedisFeatureStore.attach(REDIS_URL, path, M, base=base)
    local = OnlineFeatureStore.from_history(path, M)
    first, second = later.to_dict("records")[:2]
    huge = {**first, M.amount: CUSTOMER_AMOUNT_CAP * 1000}
    follow = {**second, M.customer: first[M.customer]}
    for store in (shared, local):
        store.add(huge)
    got, want = shared.features(follow), local.features(follow)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    means = [i for i, n in enumerate(local.feature_names) if n.startswith("customer_mean")]
    assert max(got[means]) < CUSTOMER_AMOUNT_CAP * 10  # the raw outlier would dominate
