"""Online fraud features on a shared Redis: stateless replicas, one feature state.

:class:`RedisFeatureStore` keeps the same per-entity history as the in-process
:class:`~bankml.fraud.online.OnlineFeatureStore`, but in Redis, so any number of API
workers (threads, processes, hosts) read and write one state. Each write is one Lua script
(atomic on the server across every key it touches): adding a transaction checks the
transaction id, appends it to its customer, terminal and card histories, records the
novelty sets and trims what fell out of the look-back, all or nothing. Concurrent writers
therefore cannot lose or double an update, and features computed from the shared state
equal the offline build (the parity tests hold the two together).

Reading a transaction's features is one pipelined round trip (two when its terminal has
fraud labels in the window): only the entries inside the feature windows are fetched, and
the numbers come from the very same code as the in-process store (a per-request view), so
the two backends cannot drift apart.

Layout under ``prefix`` (one prefix per history file, mapping and label delay):
``c:<customer>`` / ``t:<terminal>`` / ``s:<card>`` sorted sets scored by epoch µs,
``cut:<customer>`` / ``ct:<card>`` / ``cc:<card>`` novelty sets, ``f:<terminal>`` fraud-
labelled transactions, ``fl`` their label histories, ``idx`` / ``arr`` the id index. A
single Redis (or a primary with replicas) is assumed; Redis Cluster would need hash tags.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from bankml.core.errors import ConfigError
from bankml.fraud.features import CUSTOMER_AMOUNT_CAP, SMALL_AMOUNT
from bankml.fraud.mapping import DEFAULT_MAPPING, ColumnMapping
from bankml.fraud.online import (
    CARD_LOOKBACK_US,
    CUSTOMER_LOOKBACK_US,
    TERMINAL_LOOKBACK_US,
    EntityTimes,
    FraudLog,
    FraudRecord,
    OnlineFeatureStore,
    to_epoch_us,
)
from bankml.fraud.transaction import Transaction

__all__ = ["RedisFeatureStore", "store_prefix"]

log = logging.getLogger(__name__)

_SEP = "\x1f"
_LOAD_WAIT_S = 600.0
_BATCH = 5_000

# KEYS: idx arr latest c cut t s ct cc f fl
# ARGV: id ts cmember has_customer has_terminal terminal small has_card country
#       has_country idx_value horizon
_ADD = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[11]) == 0 then return 0 end
local ts = ARGV[2]
redis.call('ZADD', KEYS[2], ts, ARGV[1])
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[4], ts, ARGV[3])
  if ARGV[5] == '1' then redis.call('SADD', KEYS[5], ARGV[6]) end
end
if ARGV[5] == '1' then redis.call('ZADD', KEYS[6], ts, ARGV[1]) end
if ARGV[8] == '1' then
  if ARGV[7] == '1' then redis.call('ZADD', KEYS[7], ts, ARGV[1]) end
  if ARGV[5] == '1' then redis.call('SADD', KEYS[8], ARGV[6]) end
  if ARGV[10] == '1' then redis.call('SADD', KEYS[9], ARGV[9]) end
end
local latest = redis.call('GET', KEYS[3])
local t = tonumber(ts)
if latest == false or t > tonumber(latest) then
  redis.call('SET', KEYS[3], ts)
  if latest ~= false then
    local before = '(' .. string.format('%.0f', t - tonumber(ARGV[12]))
    if ARGV[4] == '1' then redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', before) end
    if ARGV[5] == '1' then
      redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', before)
      redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', before)
    end
    if ARGV[8] == '1' then redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', before) end
    local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', before)
    for i = 1, #old do
      redis.call('HDEL', KEYS[1], old[i])
      redis.call('HDEL', KEYS[11], old[i])
    end
    if #old > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', before) end
  end
end
return 1
"""

# KEYS: idx fl   ARGV: id known_at is_fraud fraud_key_prefix
_LABEL = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local sep = string.find(v, '\\31', 1, true)
local ts = string.sub(v, 1, sep - 1)
if string.sub(v, sep + 1, sep + 1) == '0' then return 0 end
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if not cur then
  if ARGV[3] == '0' then return 1 end
  redis.call('ZADD', ARGV[4] .. string.sub(v, sep + 2), ts, ARGV[1])
  cur = ''
end
redis.call('HSET', KEYS[2], ARGV[1], cur .. ARGV[2] .. ':' .. ARGV[3] .. ';')
return 1
"""


def store_prefix(base: str, history: str, mapping: ColumnMapping, label_delay_days: int) -> str:
    """The key prefix of one feature state: same history, mapping and delay = same state."""
    key = repr((history, sorted(mapping.as_dict().items()), label_delay_days))
    return f"{base}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _connect(url: str) -> Any:
    try:
        import redis
    except ImportError as exc:  # pragma: no cover - redis is a dependency
        raise ConfigError("the redis online store needs the 'redis' package") from exc
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ConfigError(f"the online feature store at {_safe_url(url)} is unreachable") from exc
    return client


def _safe_url(url: str) -> str:
    """The URL without a password."""
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}"
    return url


def _scores(pairs: list[tuple[bytes, float]]) -> list[int]:
    return [int(score) for _m, score in pairs]


class RedisFeatureStore(OnlineFeatureStore):
    """The online feature store on a shared Redis (same API and numbers as in-process).

    Build it with :meth:`attach`: the first replica to arrive loads the history (under a
    Redis lock); the others wait for it and then share the state.
    """

    def __init__(
        self,
        mapping: ColumnMapping = DEFAULT_MAPPING,
        *,
        label_delay_days: int = 7,
        client: Any,
        prefix: str,
    ) -> None:
        super().__init__(mapping, label_delay_days=label_delay_days)
        self._r = client
        self.prefix = prefix
        self._add_script = client.register_script(_ADD)
        self._label_script = client.register_script(_LABEL)

    # -- building ----------------------------------------------------------------------

    @classmethod
    def attach(
        cls,
        url: str,
        history: Path,
        mapping: ColumnMapping = DEFAULT_MAPPING,
        *,
        label_delay_days: int = 7,
        base: str = "bankml:online",
        client: Any = None,
    ) -> RedisFeatureStore:
        """Join the shared state of ``history``, loading it once if no replica has yet."""
        client = client if client is not None else _connect(url)
        prefix = store_prefix(base, str(Path(history).resolve()), mapping, label_delay_days)
        ready, lock = f"{prefix}:ready", f"{prefix}:loading"
        deadline = time.monotonic() + _LOAD_WAIT_S
        while not client.exists(ready):
            if client.set(lock, "1", nx=True, ex=int(_LOAD_WAIT_S)):
                try:
                    local = OnlineFeatureStore.from_history(
                        history, mapping, label_delay_days=label_delay_days
                    )
                    store = cls(
                        local.mapping,
                        label_delay_days=label_delay_days,
                        client=client,
                        prefix=prefix,
                    )
                    store.load_from(local)
                    client.set(ready, "1")
                    return store
                finally:
                    client.delete(lock)
            if time.monotonic() > deadline:
                raise ConfigError("timed out waiting for another replica to load the store")
            time.sleep(0.2)
        resolved = OnlineFeatureStore(mapping, label_delay_days=label_delay_days).mapping
        return cls(resolved, label_delay_days=label_delay_days, client=client, prefix=prefix)

    def load_from(self, local: OnlineFeatureStore) -> None:
        """Copy an in-process store's state into Redis (replacing this prefix's keys)."""
        self.clear()
        k = self._key
        pipe = self._r.pipeline(transaction=False)
        n = 0

        def flush(force: bool = False) -> None:
            nonlocal pipe, n
            if force or len(pipe) >= _BATCH:
                pipe.execute()
                pipe = self._r.pipeline(transaction=False)

        for customer, times in local._customers.items():
            vals = times.values or []
            members = {}
            for i in range(times.start, len(times.ts)):
                n += 1
                members[f"\x1eh{n}{_SEP}{vals[i]!r}"] = times.ts[i]
            if members:
                pipe.zadd(k("c", customer), members)
                flush()
        for store, tag in ((local._terminals, "t"), (local._small, "s")):
            for entity, times in store.items():
                members = {}
                for i in range(times.start, len(times.ts)):
                    n += 1
                    members[f"\x1eh{n}"] = times.ts[i]
                if members:
                    pipe.zadd(k(tag, entity), members)
                    flush()
        for sets, tag in (
            (local._customer_terminals, "cut"),
            (local._card_terminals, "ct"),
            (local._card_countries, "cc"),
        ):
            for entity, seen in sets.items():
                if seen:
                    pipe.sadd(k(tag, entity), *[str(v) for v in seen])
                    flush()
        fraud_ids = {id(rec): tid for tid, rec in local._fraud_by_id.items()}
        for terminal, flog in local._frauds.items():
            members = {}
            for rec in flog.records:
                tid = fraud_ids.get(id(rec))
                if tid is None:
                    continue
                members[str(tid)] = rec.ts
                pipe.hset(k("fl"), str(tid), _labels_text(rec.labels))
            if members:
                pipe.zadd(k("f", terminal), members)
                flush()
        for tid, (terminal, ts) in local._index.items():
            pipe.hset(k("idx"), str(tid), _idx_value(ts, terminal))
            pipe.zadd(k("arr"), {str(tid): ts})
            flush()
        if local._index:
            pipe.set(k("latest"), str(local._latest))
        flush(force=True)
        log.info("online feature store copied to redis (%s transactions)", len(local._index))

    def clear(self) -> None:
        """Delete every key of this store's prefix."""
        keys = list(self._r.scan_iter(match=f"{self.prefix}:*", count=1000))
        for i in range(0, len(keys), 1000):
            self._r.delete(*keys[i : i + 1000])

    def _key(self, tag: str, entity: Any = None) -> str:
        return f"{self.prefix}:{tag}" if entity is None else f"{self.prefix}:{tag}:{entity}"

    # -- public API --------------------------------------------------------------------

    def features(self, txn: Transaction | Mapping[str, Any]) -> np.ndarray:
        """Feature vector for a new transaction, from the shared state (see the base class)."""
        _id, t, customer, terminal, card, country, amount = self._parse(txn)
        view = self._view(t, customer, terminal, card, country)
        values = view._compute(t, customer, terminal, card, country, amount)
        return np.array([values[name] for name in self.feature_names], dtype=np.float64)

    def _view(
        self, t: int, customer: Any, terminal: Any, card: Any, country: Any
    ) -> OnlineFeatureStore:
        """An in-process store holding just what this transaction's features can see."""
        k = self._key
        end = t - self._delay
        pipe = self._r.pipeline(transaction=False)
        asks: list[str] = []
        if customer is not None:
            pipe.zrangebyscore(k("c", customer), f"({t - CUSTOMER_LOOKBACK_US}", t, withscores=True)
            asks.append("c")
            if terminal is not None:
                pipe.sismember(k("cut", customer), str(terminal))
                asks.append("cut")
        if terminal is not None:
            low = end - TERMINAL_LOOKBACK_US
            pipe.zrangebyscore(k("t", terminal), f"({low}", t, withscores=True)
            # Up to t (exclusive): the delayed windows end at t - d, the fresh count at t.
            pipe.zrangebyscore(k("f", terminal), f"({low}", f"({t}", withscores=True)
            asks += ["t", "f"]
        if self._has_card and card is not None:
            pipe.zrangebyscore(k("s", card), f"({t - CARD_LOOKBACK_US}", t, withscores=True)
            asks.append("s")
            if terminal is not None:
                pipe.sismember(k("ct", card), str(terminal))
                asks.append("ct")
            if self._has_country and country is not None:
                pipe.sismember(k("cc", card), str(country))
                asks.append("cc")
        got = dict(zip(asks, pipe.execute() if asks else [], strict=True))

        view = OnlineFeatureStore.__new__(OnlineFeatureStore)
        view.__dict__.update(self.__dict__)
        view._customers, view._terminals, view._small = {}, {}, {}
        view._customer_terminals, view._card_terminals, view._card_countries = {}, {}, {}
        view._frauds, view._fraud_by_id, view._index = {}, {}, {}
        if got.get("c"):
            pairs = got["c"]
            amounts = [float(m.split(_SEP.encode(), 1)[1]) for m, _s in pairs]
            view._customers[customer] = EntityTimes(_scores(pairs), amounts)
        if got.get("cut"):
            view._customer_terminals[customer] = {terminal}
        if got.get("t"):
            view._terminals[terminal] = EntityTimes(_scores(got["t"]))
        if got.get("f"):
            ids = [m for m, _s in got["f"]]
            texts = self._r.hmget(k("fl"), ids)
            flog = FraudLog()
            for (_m, score), text in zip(got["f"], texts, strict=True):
                if text:
                    flog.insert(FraudRecord(int(score), _parse_labels(text.decode())))
            view._frauds[terminal] = flog
        if got.get("s"):
            view._small[card] = EntityTimes(_scores(got["s"]))
        if got.get("ct"):
            view._card_terminals[card] = {terminal}
        if got.get("cc"):
            view._card_countries[card] = {country}
        return view

    def add(self, txn: Transaction | Mapping[str, Any]) -> bool:
        """Store a scored transaction (atomically); False if already stored."""
        txn_id, t, customer, terminal, card, country, amount = self._parse(txn)
        k = self._key
        has_card = card is not None and self._has_card
        keys = [
            k("idx"),
            k("arr"),
            k("latest"),
            k("c", customer),
            k("cut", customer),
            k("t", terminal),
            k("s", card),
            k("ct", card),
            k("cc", card),
            k("f", terminal),
            k("fl"),
        ]
        args = [
            str(txn_id),
            str(t),
            f"{txn_id}{_SEP}{min(amount, CUSTOMER_AMOUNT_CAP)!r}",  # the offline clip rule
            "1" if customer is not None else "0",
            "1" if terminal is not None else "0",
            "" if terminal is None else str(terminal),
            "1" if amount < SMALL_AMOUNT else "0",
            "1" if has_card else "0",
            "" if country is None else str(country),
            "1" if country is not None and self._has_country else "0",
            _idx_value(t, terminal),
            str(self._horizon),
        ]
        added = bool(self._add_script(keys=keys, args=args))
        if not added:
            log.debug("transaction already stored; not added again")
        return added

    def add_label(self, transaction_id: Any, is_fraud: bool, known_at: datetime) -> bool:
        """Record a label that became known at ``known_at`` (atomically)."""
        known_us = to_epoch_us(known_at, "known_at")
        args = [str(transaction_id), str(known_us), "1" if is_fraud else "0", self._key("f", "")]
        return bool(self._label_script(keys=[self._key("idx"), self._key("fl")], args=args))

    def __len__(self) -> int:
        """Transactions currently indexed (within the look-back)."""
        return int(self._r.hlen(self._key("idx")))


def _idx_value(ts: int, terminal: Any) -> str:
    return f"{ts}{_SEP}0" if terminal is None else f"{ts}{_SEP}1{terminal}"


def _labels_text(labels: list[tuple[int, bool]]) -> str:
    return "".join(f"{known}:{int(flag)};" for known, flag in labels)


def _parse_labels(text: str) -> list[tuple[int, bool]]:
    labels = []
    for item in text.split(";"):
        if item:
            known, _, flag = item.partition(":")
            labels.append((int(known), flag == "1"))
    labels.sort(key=lambda item: item[0])
    return labels
