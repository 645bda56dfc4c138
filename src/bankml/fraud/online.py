"""Fraud features for one live transaction, from in-memory history: the scoring path.

:class:`OnlineFeatureStore` keeps, per customer, terminal and card, just enough recent
history to compute every feature in :mod:`bankml.fraud.features` for a new transaction in
a few microseconds, and gives the same numbers as the offline build (a test holds the two
together to 1e-9). The rules it follows are the offline ones:

* A new transaction sees every stored transaction with a timestamp at or before its own
  (stored ones with a *later* timestamp, e.g. when scoring late, are ignored), plus itself
  for the windows that include it. Offline, same-timestamp ties go by transaction id; the
  online store has no "later" same-timestamp transactions as long as transactions are
  added in the order they happen.
* A fraud label counts from the moment it was known (``known_at``), and only while it is
  the latest label of that transaction known by the scoring time, so a later "legitimate"
  disposition withdraws it from that point on.

Memory: rolling state is trimmed to the longest look-back (30 days + label delay), but the
"first use of this terminal / country by the card (terminal by the customer)" sets keep
every pair ever seen, as the offline build does over its whole table.
"""

from __future__ import annotations

import logging
import math
import statistics
import threading
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bankml.core.errors import InputError
from bankml.data.features import SPREAD_FLOOR, compute_features, parse_window
from bankml.fraud.features import (
    CARD_TESTING_WINDOWS,
    CUSTOMER_AMOUNT_CAP,
    CUSTOMER_WINDOWS,
    FRESH_FRAUD_FEATURE,
    FRESH_FRAUD_WINDOW,
    GAP_CAP_HOURS,
    SMALL_AMOUNT,
    TERMINAL_WINDOWS,
    VELOCITY_WINDOWS,
    enabled_feature_names,
    resolve_event_table,
)
from bankml.fraud.mapping import DEFAULT_MAPPING, ColumnMapping
from bankml.fraud.transaction import Transaction

__all__ = ["OnlineFeatureStore"]

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_HOUR_US = 3_600_000_000
_DAY_US = 86_400_000_000
_CUSTOMER_W = [(w, parse_window(w)) for w in CUSTOMER_WINDOWS]
_TERMINAL_W = [(w, parse_window(w)) for w in TERMINAL_WINDOWS]
_TERMINAL_W_US = tuple(w_us for _, w_us in _TERMINAL_W)
_TERMINAL_MAX_US = max(_TERMINAL_W_US)
_CARD_W = [(w, parse_window(w)) for w in CARD_TESTING_WINDOWS]
_VELOCITY_W = [(w, parse_window(w)) for w in VELOCITY_WINDOWS]
_RATIO_W = parse_window("30d")
_FRESH_US = parse_window(FRESH_FRAUD_WINDOW)
_COMPACT_AT = 256  # drop trimmed list heads once this many have piled up

MSG_MISSING_FIELD = "transaction lacks {role!r} (column {column!r})"
MSG_BAD_TIME = "transaction {role} {value!r} is not a timestamp"


def _to_us(value: Any, role: str = "timestamp") -> int:
    """Epoch microseconds (UTC) of a datetime, pandas/numpy timestamp or ISO string.

    Naive values are read as UTC, as the offline build reads them.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InputError(MSG_BAD_TIME.format(role=role, value=value)) from exc
    elif isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if not isinstance(value, datetime):
        raise InputError(MSG_BAD_TIME.format(role=role, value=value))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int((value - _EPOCH) // _US)


@dataclass
class _Times:
    """Ascending timestamps (µs) of one entity, with optional parallel amounts.

    Trimming only moves ``start``; the dead head is sliced off now and then so appends stay
    O(1) amortised. Out-of-order inserts go to their sorted place.
    """

    ts: list[int] = field(default_factory=list)
    values: list[float] | None = None
    start: int = 0

    def add(self, t: int, value: float = 0.0) -> None:
        if not self.ts or t >= self.ts[-1]:
            self.ts.append(t)
            if self.values is not None:
                self.values.append(value)
            return
        i = bisect_right(self.ts, t)
        self.ts.insert(i, t)
        if self.values is not None:
            self.values.insert(i, value)

    def trim(self, before: int) -> None:
        self.start = bisect_right(self.ts, before - 1, lo=self.start)
        if self.start >= _COMPACT_AT and self.start * 2 >= len(self.ts):
            del self.ts[: self.start]
            if self.values is not None:
                del self.values[: self.start]
            self.start = 0

    def upto(self, t: int) -> int:
        """Index one past the last stored time <= t."""
        return bisect_right(self.ts, t, lo=self.start)

    def after(self, t: int, hi: int) -> int:
        """Index of the first stored time > t (within [start, hi))."""
        return bisect_right(self.ts, t, lo=self.start, hi=hi)


@dataclass
class _Fraud:
    """A transaction with at least one fraud label: its time and label history."""

    ts: int
    labels: list[tuple[int, bool]]  # (known_at µs, is_fraud), ascending known_at

    def fraud_at(self, t: int) -> bool:
        """Whether the latest label known by ``t`` says fraud."""
        state = False
        for known_at, is_fraud in self.labels:
            if known_at > t:
                break
            state = is_fraud
        return state


@dataclass
class _FraudLog:
    """One terminal's fraud-labelled transactions, sorted by transaction time."""

    ts: list[int] = field(default_factory=list)
    records: list[_Fraud] = field(default_factory=list)

    def insert(self, rec: _Fraud) -> None:
        i = bisect_right(self.ts, rec.ts)
        self.ts.insert(i, rec.ts)
        self.records.insert(i, rec)

    def trim(self, before: int) -> list[_Fraud]:
        """Drop and return records older than ``before``."""
        i = bisect_right(self.ts, before - 1)
        dropped = self.records[:i]
        if i:
            del self.ts[:i]
            del self.records[:i]
        return dropped


class OnlineFeatureStore:
    """In-memory per-entity history that computes fraud features for one new transaction.

    Build it with :meth:`from_history` from the same table (and mapping) the model was
    trained on, then per request: :meth:`features` -> score -> :meth:`add`. Dispositions
    and chargebacks arrive through :meth:`add_label`. A lock makes it safe to share between
    request threads; every call holds it for microseconds.

    Transactions are typed :class:`~bankml.fraud.transaction.Transaction` objects (what the
    service passes), or mappings keyed by the table's column names (as in ``mapping``) or by
    the canonical role names (``timestamp``, ``customer``, ...).
    """

    def __init__(self, mapping: ColumnMapping = DEFAULT_MAPPING, *, label_delay_days: int = 7):
        if isinstance(label_delay_days, bool) or not isinstance(label_delay_days, int):
            raise InputError("label_delay_days must be a whole number of days")
        if label_delay_days < 1:
            raise InputError("label_delay_days must be at least 1: a label is never known at once")
        self.mapping = mapping
        self.label_delay_days = label_delay_days
        self._delay = label_delay_days * _DAY_US
        # Longest look-back (delayed 30-day terminal window), plus a day so a transaction
        # that arrives up to a day late still sees everything it should.
        self._horizon = _TERMINAL_MAX_US + self._delay + _DAY_US
        self.feature_names: list[str] = enabled_feature_names(mapping)
        self._has_card = mapping.card is not None
        self._has_country = self._has_card and mapping.country is not None
        self._keys = {role: (column, role) for role, column in mapping.as_dict().items()}
        self._lock = threading.Lock()
        self._customers: dict[Any, _Times] = {}
        self._terminals: dict[Any, _Times] = {}
        self._small: dict[Any, _Times] = {}  # per card: times of small-amount transactions
        self._card_terminals: dict[Any, set[Any]] = {}
        self._card_countries: dict[Any, set[Any]] = {}
        self._customer_terminals: dict[Any, set[Any]] = {}
        self._frauds: dict[Any, _FraudLog] = {}  # per terminal
        self._fraud_by_id: dict[Any, _Fraud] = {}
        self._index: dict[Any, tuple[Any, int]] = {}  # id -> (terminal, ts) within horizon
        self._arrivals: deque[tuple[int, Any]] = deque()
        self._latest = -(2**62)

    @classmethod
    def from_history(
        cls,
        history: Path | pd.DataFrame,
        mapping: ColumnMapping = DEFAULT_MAPPING,
        *,
        label_delay_days: int = 7,
    ) -> OnlineFeatureStore:
        """Load stored transactions (and their labels, with the times they became known).

        Labels known only after the last stored transaction are kept too: each counts from
        its own ``known_at``, so the store stays point-in-time correct for any later
        scoring time. Without a label-time column a label is known ``label_delay_days``
        after its transaction, as offline.
        """
        resolved, _warnings, table = resolve_event_table(history, mapping, label_delay_days)
        store = cls(resolved, label_delay_days=label_delay_days)
        roles = resolved.as_dict()
        keep = [r for r in ("customer", "terminal", "card", "country", "amount") if r in roles]
        frame = compute_features(history, [], table, passthrough=keep)
        store._load(frame)
        return store

    def _load(self, frame: pd.DataFrame) -> None:
        """Bulk-load a canonical frame sorted by (timestamp, transaction_id)."""
        ts = frame["timestamp"].to_numpy(dtype="datetime64[us]").astype(np.int64)
        latest = int(ts.max())
        keep = ts >= latest - self._horizon
        amount = frame["amount"].to_numpy(dtype=np.float64)
        recent = frame.loc[keep].assign(_t=ts[keep], _a=amount[keep])
        capped = np.minimum(amount[keep], CUSTOMER_AMOUNT_CAP)  # the offline clip rule
        for customer, g in recent.assign(_c=capped).groupby("customer", sort=False):
            self._customers[customer] = _Times(g["_t"].tolist(), g["_c"].tolist())
        for terminal, g in recent.groupby("terminal", sort=False):
            self._terminals[terminal] = _Times(g["_t"].tolist())
        # Customer-terminal novelty looks back over the whole history, as offline.
        for customer, g in frame.groupby("customer", sort=False):
            self._customer_terminals[customer] = set(g["terminal"].dropna().tolist())
        if self._has_card:
            small = recent.loc[recent["_a"] < SMALL_AMOUNT]
            for card, g in small.groupby("card", sort=False):
                self._small[card] = _Times(g["_t"].tolist())
            # Novelty looks back over the whole history, as the offline build does.
            for card, g in frame.groupby("card", sort=False):
                self._card_terminals[card] = set(g["terminal"].dropna().tolist())
            if self._has_country:
                for card, g in frame.groupby("card", sort=False):
                    self._card_countries[card] = set(g["country"].dropna().tolist())
        known = frame["label_time"].to_numpy(dtype="datetime64[us]")
        fraud = frame["label"].to_numpy(dtype=bool) & ~np.isnat(known)
        fraud &= keep
        known_us = known.astype(np.int64)
        ids = frame["transaction_id"].tolist()
        terminals = frame["terminal"].tolist()
        for i in np.flatnonzero(fraud).tolist():
            rec = _Fraud(int(ts[i]), [(int(known_us[i]), True)])
            self._frauds.setdefault(terminals[i], _FraudLog()).insert(rec)
            self._fraud_by_id[ids[i]] = rec
        for i in np.flatnonzero(keep).tolist():
            self._index[ids[i]] = (terminals[i], int(ts[i]))
            self._arrivals.append((int(ts[i]), ids[i]))
        self._latest = latest
        log.info(
            "online feature store loaded %s transactions (%s within %s days)",
            len(frame),
            int(keep.sum()),
            self._horizon // _DAY_US,
        )

    # -- reading a transaction --------------------------------------------------------

    def _get(self, txn: Mapping[str, Any], role: str, required: bool = True) -> Any:
        column, canonical = self._keys.get(role, (role, role))
        if column in txn:
            return txn[column]
        if canonical in txn:
            return txn[canonical]
        if required:
            raise InputError(MSG_MISSING_FIELD.format(role=role, column=column))
        return None

    def _parse(
        self, txn: Transaction | Mapping[str, Any]
    ) -> tuple[Any, int, Any, Any, Any, Any, float]:
        if isinstance(txn, Transaction):  # already parsed at the face: read its roles
            return (
                txn.transaction_id,
                _to_us(txn.timestamp),
                txn.customer,
                txn.terminal,
                txn.card if self._has_card else None,
                txn.country if self._has_country else None,
                float(txn.amount),
            )
        t = _to_us(self._get(txn, "timestamp"))
        raw_amount = self._get(txn, "amount")
        try:
            amount = float(raw_amount)
        except (TypeError, ValueError) as exc:
            raise InputError(f"transaction amount {raw_amount!r} is not a number") from exc
        if math.isnan(amount):
            raise InputError("transaction amount is missing")
        card = self._get(txn, "card", required=False) if self._has_card else None
        country = self._get(txn, "country", required=False) if self._has_country else None
        return (
            self._get(txn, "transaction_id"),
            t,
            self._get(txn, "customer"),
            self._get(txn, "terminal"),
            card,
            country,
            amount,
        )

    # -- public API ----------------------------------------------------------------------

    def features(self, txn: Transaction | Mapping[str, Any]) -> np.ndarray:
        """Feature vector (float64, ``feature_names`` order) for a new transaction.

        Uses everything stored with a timestamp at or before the transaction's, plus the
        transaction itself; it must not be stored yet (call :meth:`add` after scoring).
        """
        _id, t, customer, terminal, card, country, amount = self._parse(txn)
        with self._lock:
            values = self._compute(t, customer, terminal, card, country, amount)
        return np.array([values[name] for name in self.feature_names], dtype=np.float64)

    def _compute(
        self, t: int, customer: Any, terminal: Any, card: Any, country: Any, amount: float
    ) -> dict[str, float]:
        nan = math.nan
        out: dict[str, float] = {"amount": amount}

        hist = self._customers.get(customer) if customer is not None else None
        clipped = min(amount, CUSTOMER_AMOUNT_CAP)  # what enters the customer's means
        for w, w_us in _CUSTOMER_W:
            if customer is None:
                out[f"customer_txn_count_{w}"] = out[f"customer_mean_amount_{w}"] = nan
                continue
            n, total = 0, 0.0
            if hist is not None and hist.values is not None:
                hi = hist.upto(t)
                lo = hist.after(t - w_us, hi)
                n, total = hi - lo, sum(hist.values[lo:hi])
            out[f"customer_txn_count_{w}"] = n + 1.0
            out[f"customer_mean_amount_{w}"] = (total + clipped) / (n + 1)
            if w_us == _RATIO_W:
                prior_mean = total / n if n else 0.0
                ratio = clipped / prior_mean if n > 0 and prior_mean > 0 else 1.0
                out["amount_to_customer_mean_30d"] = ratio
        if customer is None:
            out["amount_to_customer_mean_30d"] = nan
        self._customer_extras(out, t, customer, terminal, amount, hist)
        out["hours_since_terminal_txn"] = self._gap_hours(
            t, self._terminals.get(terminal) if terminal is not None else None, terminal is None
        )

        times = self._terminals.get(terminal) if terminal is not None else None
        if terminal is None:
            for w, _w_us in _TERMINAL_W:
                out[f"terminal_txn_count_{w}"] = out[f"terminal_fraud_rate_{w}"] = nan
            out[FRESH_FRAUD_FEATURE] = nan
        else:
            # Delayed window (t - d - w, t - d]: all strictly before t, so the current
            # transaction never counts towards its own terminal's fraud rate.
            end = t - self._delay
            known = dict.fromkeys(_TERMINAL_W_US, 0)
            frauds = self._frauds.get(terminal)
            fresh = 0
            if frauds is not None and frauds.ts:
                # Frauds in (t - 7d, t) already known at t: no delayed window.
                f_lo = bisect_right(frauds.ts, t - _FRESH_US)
                for rec in frauds.records[f_lo : bisect_left(frauds.ts, t, lo=f_lo)]:
                    fresh += rec.fraud_at(t)
            out[FRESH_FRAUD_FEATURE] = float(fresh)
            if frauds is not None and frauds.ts:
                lo = bisect_right(frauds.ts, end - _TERMINAL_MAX_US)
                f_hi = bisect_right(frauds.ts, end, lo=lo)
                for rec in frauds.records[lo:f_hi]:
                    if rec.fraud_at(t):
                        for w_us in _TERMINAL_W_US:
                            if rec.ts > end - w_us:
                                known[w_us] += 1
            hi = times.upto(t) if times is not None else 0
            for w, w_us in _TERMINAL_W:
                if times is None:
                    out[f"terminal_txn_count_{w}"] = 1.0
                    out[f"terminal_fraud_rate_{w}"] = 0.0
                    continue
                out[f"terminal_txn_count_{w}"] = hi - times.after(t - w_us, hi) + 1.0
                d_hi = times.after(end, hi)
                events = d_hi - times.after(end - w_us, d_hi)
                out[f"terminal_fraud_rate_{w}"] = known[w_us] / events if events else 0.0

        if self._has_card:
            small = self._small.get(card) if card is not None else None
            is_small = 1.0 if amount < SMALL_AMOUNT else 0.0
            for w, w_us in _CARD_W:
                name = f"card_small_txn_count_{w}"
                if card is None:
                    out[name] = nan
                elif small is None:
                    out[name] = is_small
                else:
                    s_hi = small.upto(t)
                    out[name] = s_hi - small.after(t - w_us, s_hi) + is_small
            if card is None or terminal is None:
                out["card_new_terminal"] = nan
            else:
                seen = self._card_terminals.get(card)
                out["card_new_terminal"] = 0.0 if seen and terminal in seen else 1.0
            if self._has_country:
                if card is None or country is None:
                    out["card_new_country"] = nan
                else:
                    seen = self._card_countries.get(card)
                    out["card_new_country"] = 0.0 if seen and country in seen else 1.0

        out["is_night"] = 1.0 if (t // _HOUR_US) % 24 < 6 else 0.0
        out["is_weekend"] = 1.0 if (t // _DAY_US + 3) % 7 >= 5 else 0.0  # 1970-01-01: Thu
        return out

    @staticmethod
    def _gap_hours(t: int, times: _Times | None, missing: bool) -> float:
        """Hours since the latest stored time <= t, capped (see ``GAP_CAP_HOURS``)."""
        if missing:
            return math.nan
        if times is None:
            return GAP_CAP_HOURS
        hi = times.upto(t)
        if hi <= times.start:
            return GAP_CAP_HOURS
        return min((t - times.ts[hi - 1]) / _HOUR_US, GAP_CAP_HOURS)

    def _customer_extras(
        self,
        out: dict[str, float],
        t: int,
        customer: Any,
        terminal: Any,
        amount: float,
        hist: _Times | None,
    ) -> None:
        """Velocity, customer-terminal novelty, time since last, amount vs median/spread."""
        nan = math.nan
        names = (
            *(f"customer_txn_count_{w}" for w, _ in _VELOCITY_W),
            "customer_new_terminal",
            "hours_since_customer_txn",
            "amount_to_customer_median_30d",
            "amount_zscore_customer_30d",
        )
        if customer is None:
            out.update(dict.fromkeys(names, nan))
            return
        hi = hist.upto(t) if hist is not None else 0
        for w, w_us in _VELOCITY_W:
            n = hi - hist.after(t - w_us, hi) if hist is not None else 0
            out[f"customer_txn_count_{w}"] = n + 1.0
        if terminal is None:
            out["customer_new_terminal"] = nan
        else:
            seen = self._customer_terminals.get(customer)
            out["customer_new_terminal"] = 0.0 if seen and terminal in seen else 1.0
        out["hours_since_customer_txn"] = self._gap_hours(t, hist, False)
        clipped = min(amount, CUSTOMER_AMOUNT_CAP)  # the window holds clipped amounts
        window = [clipped]
        if hist is not None and hist.values is not None:
            lo = hist.after(t - _RATIO_W, hi)
            window = [*hist.values[lo:hi], clipped]
        # Plain Python: a window holds a few dozen amounts, where numpy's per-call overhead
        # was two thirds of the online features' time (125 us per transaction).
        median = statistics.median(window)
        out["amount_to_customer_median_30d"] = amount / median if median > 0 else 1.0
        mean = math.fsum(window) / len(window)
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in window) / len(window))
        out["amount_zscore_customer_30d"] = (amount - mean) / sd if sd >= SPREAD_FLOOR else 0.0

    def add(self, txn: Transaction | Mapping[str, Any]) -> bool:
        """Store a scored transaction so later transactions see it; False if already stored.

        Idempotent per transaction id (within the look-back), so a retried request cannot
        count a transaction twice. Its own label, if present, is ignored: labels come in
        through :meth:`add_label` with the time they became known.
        """
        txn_id, t, customer, terminal, card, country, amount = self._parse(txn)
        with self._lock:
            if txn_id in self._index:
                log.debug("transaction already stored; not added again")
                return False
            if customer is not None:
                clipped = min(amount, CUSTOMER_AMOUNT_CAP)  # one outlier cannot blind the means
                self._customers.setdefault(customer, _Times(values=[])).add(t, clipped)
                if terminal is not None:
                    self._customer_terminals.setdefault(customer, set()).add(terminal)
            if terminal is not None:
                self._terminals.setdefault(terminal, _Times()).add(t)
            if card is not None:
                if amount < SMALL_AMOUNT:
                    self._small.setdefault(card, _Times()).add(t)
                if terminal is not None:
                    self._card_terminals.setdefault(card, set()).add(terminal)
                if country is not None and self._has_country:
                    self._card_countries.setdefault(card, set()).add(country)
            self._index[txn_id] = (terminal, t)
            self._arrivals.append((t, txn_id))
            if t > self._latest:
                self._latest = t
                self._trim(customer, terminal, card)
        return True

    def add_label(self, transaction_id: Any, is_fraud: bool, known_at: datetime) -> bool:
        """Record a label (disposition, chargeback) that became known at ``known_at``.

        Returns False when the transaction is unknown or older than the look-back, where
        no feature can use it; the label is then dropped.
        """
        known_us = _to_us(known_at, "known_at")
        with self._lock:
            found = self._index.get(transaction_id)
            if found is None:
                log.debug("label for a transaction outside the store ignored")
                return False
            terminal, ts = found
            if terminal is None:
                return False
            rec = self._fraud_by_id.get(transaction_id)
            if rec is None:
                if not is_fraud:
                    return True  # legitimate is what an unlabelled transaction counts as
                rec = self._fraud_by_id[transaction_id] = _Fraud(ts, [])
                self._frauds.setdefault(terminal, _FraudLog()).insert(rec)
            rec.labels.append((known_us, bool(is_fraud)))
            rec.labels.sort(key=lambda item: item[0])
            return True

    def _trim(self, customer: Any, terminal: Any, card: Any) -> None:
        """Forget what no feature can look at any more (beyond the longest look-back)."""
        before = self._latest - self._horizon
        for store, key in (
            (self._customers, customer),
            (self._terminals, terminal),
            (self._small, card),
        ):
            times = store.get(key) if key is not None else None
            if times is not None:
                times.trim(before)
        frauds = self._frauds.get(terminal) if terminal is not None else None
        if frauds is not None:
            frauds.trim(before)
        while self._arrivals and self._arrivals[0][0] < before:
            _t, txn_id = self._arrivals.popleft()
            self._index.pop(txn_id, None)
            self._fraud_by_id.pop(txn_id, None)

    def __len__(self) -> int:
        """Transactions currently indexed (within the look-back)."""
        return len(self._index)


# -- building blocks for other store backends (bankml.fraud.online_redis) -----------------
# A backend fetches an entity's entries inside these look-backs and fills a per-request
# OnlineFeatureStore with them, so every backend computes with the very same code.
EntityTimes = _Times
FraudRecord = _Fraud
FraudLog = _FraudLog
to_epoch_us = _to_us
CUSTOMER_LOOKBACK_US = max(w_us for _, w_us in (*_CUSTOMER_W, *_VELOCITY_W, ("ratio", _RATIO_W)))
CARD_LOOKBACK_US = max(w_us for _, w_us in _CARD_W)
TERMINAL_LOOKBACK_US = _TERMINAL_MAX_US
