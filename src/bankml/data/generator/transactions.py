"""Card transactions: each customer's own, blocks of days at a time, plus the planned fraud."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bankml.data.generator._common import (
    _ATM,
    _CARD_BASE,
    _CHIP,
    _CONTACTLESS,
    _CONTACTLESS_LIMIT,
    _CT,
    _CURRENCY_OF,
    _CUSTOMER_BASE,
    _DAY_US,
    _ECOM_ENTRY,
    _HOUR_LEGIT,
    _MANUAL,
    _NONE,
    _POS,
    _ROWS_PER_BLOCK,
    _S_BLOCK,
    _SWIPE,
    _TERMINAL_BASE,
    _W_ATM,
    _W_ECOM,
    _W_POS,
    CHANNELS,
    COUNTRY_CODES,
    CURRENCIES,
    ENTRY_MODES,
    SCENARIOS,
    Arr,
    ProgressFn,
    _choice,
    _day_weights,
    _rng,
    _strings,
    _time_of_day,
    _timestamps,
)
from bankml.data.generator.customers import _Cards, _Customers
from bankml.data.generator.fraud import _FraudPlan
from bankml.data.generator.tables import TABLE_SCHEMAS
from bankml.data.generator.terminals import _Terminals
from bankml.data.generator.writing import _PARQUET_OPTS, _atomic_path

# --------------------------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------------------------


def _legit_block(
    rng: np.random.Generator,
    cust: _Customers,
    cards: _Cards,
    term: _Terminals,
    dayw: Arr,
    d0: int,
    d1: int,
    start_us: int,
) -> dict[str, Arr]:
    """Every customer's own transactions on days [d0, d1): Poisson counts per customer-day."""
    nd = d1 - d0
    counts = rng.poisson(cust.rate[:, None] * dayw[None, d0:d1]).ravel()
    pair = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    c = pair // nd
    n = c.size
    ts = start_us + (pair % nd + d0) * _DAY_US + _time_of_day(rng, _HOUR_LEGIT, n)

    use_second = (cards.second[c] >= 0) & (rng.random(n) < cards.p_second[c])
    card = np.where(use_second, cards.second[c], cards.first[c])

    u = rng.random(n)
    group = (u[:, None] >= cust.group_cum[c]).sum(axis=1)
    t = np.where(
        group == 0,
        cust.nn_pos[c, _choice(rng, _W_POS, n)],
        np.where(
            group == 1,
            cust.nn_atm[c, _choice(rng, _W_ATM, n)],
            np.where(
                group == 2, cust.fav_ecom[c, _choice(rng, _W_ECOM, n)], rng.integers(0, term.n, n)
            ),
        ),
    )
    kind = term.kind[t]
    amount = np.exp(cust.mu[c] + cust.sigma[c] * rng.standard_normal(n)) * term.factor[t]
    # Cash machines pay out notes: multiples of 10, at least 20.
    amount = np.where(kind == _ATM, np.maximum(20.0, np.round(amount / 10) * 10), amount)
    # Nothing on a card costs less than 50 cents; the floor keeps cent-sized noise out of the
    # range card testing uses (0.50-4.99), which legitimate small purchases still share.
    amount = np.maximum(np.round(amount, 2), 0.5)

    e = rng.random(n)
    small = amount <= _CONTACTLESS_LIMIT
    pos_entry = np.where(
        small,
        np.where(e < 0.65, _CONTACTLESS, np.where(e < 0.95, _CHIP, _SWIPE)),
        np.where(e < 0.92, _CHIP, _SWIPE),
    )
    entry = np.where(
        kind == _POS,
        pos_entry,
        np.where(
            kind == _ATM,
            np.where(e < 0.95, _CHIP, _SWIPE),
            np.where(e < 0.96, _ECOM_ENTRY, _MANUAL),  # mail/phone orders keyed by hand
        ),
    )
    return {
        "ts": ts,
        "card": card,
        "term": t,
        "amount": amount,
        "entry": entry,
        "sc": np.zeros(n, dtype=np.int64),
    }


def _write_transactions(
    path: Path,
    seed: int,
    cust: _Customers,
    cards: _Cards,
    term: _Terminals,
    plan: _FraudPlan,
    days: int,
    start: date,
    start_us: int,
    report: ProgressFn,
) -> tuple[int, int]:
    """Generate and write transactions block by block; return (rows, fraudulent rows)."""
    dayw = _day_weights(start, days)
    per_day = max(1.0, float(cust.rate.sum()))
    block_days = int(min(days, max(1, _ROWS_PER_BLOCK // per_day)))
    next_id, n_fraud = 1, 0
    report("transactions", 0, days)
    with (
        _atomic_path(path) as tmp,
        pq.ParquetWriter(tmp, TABLE_SCHEMAS["transactions"], **_PARQUET_OPTS) as writer,
    ):
        for d0 in range(0, days, block_days):
            d1 = min(days, d0 + block_days)
            rng = _rng(seed, _S_BLOCK, d0)
            legit = _legit_block(rng, cust, cards, term, dayw, d0, d1, start_us)
            # Skimmed terminals: every transaction inside the compromise window is fraud.
            t = legit["term"]
            hit = (legit["ts"] >= plan.comp_start[t]) & (legit["ts"] < plan.comp_end[t])
            legit["sc"][hit] = _CT
            lo, hi = np.searchsorted(plan.ts, [start_us + d0 * _DAY_US, start_us + d1 * _DAY_US])
            block = {
                "ts": np.concatenate([legit["ts"], plan.ts[lo:hi]]),
                "card": np.concatenate([legit["card"], plan.card[lo:hi]]),
                "term": np.concatenate([t, plan.term[lo:hi]]),
                "amount": np.concatenate([legit["amount"], plan.amount[lo:hi]]),
                "entry": np.concatenate([legit["entry"], plan.entry[lo:hi]]),
                "sc": np.concatenate([legit["sc"], plan.scenario[lo:hi]]),
            }
            del legit
            order = np.argsort(block["ts"], kind="stable")
            block = {k: v[order] for k, v in block.items()}
            table = _transactions_table(rng, block, cards, term, next_id)
            writer.write_table(table)
            next_id += table.num_rows
            n_fraud += int(np.count_nonzero(block["sc"]))
            report("transactions", d1, days)
    return next_id - 1, n_fraud


def _transactions_table(
    rng: np.random.Generator,
    b: dict[str, Arr],
    cards: _Cards,
    term: _Terminals,
    first_id: int,
) -> pa.Table:
    n = b["ts"].size
    t = b["term"]
    is_fraud = b["sc"] != _NONE
    # Chargeback / confirmation delay for fraud; a fixed 7-day horizon for legitimate rows.
    delay = np.full(n, 7 * _DAY_US, dtype=np.int64)
    k = int(is_fraud.sum())
    fraud_delay = _DAY_US + rng.gamma(1.6, 3.0, k) * _DAY_US
    delay[is_fraud] = np.minimum(fraud_delay, 30 * _DAY_US).astype(np.int64)
    country = term.country[t]
    return pa.Table.from_arrays(
        [
            pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            _timestamps(b["ts"]),
            pa.array(_CARD_BASE + 1 + b["card"]),
            pa.array(_CUSTOMER_BASE + 1 + cards.customer[b["card"]]),
            pa.array(_TERMINAL_BASE + 1 + t),
            pa.array(b["amount"].astype(np.float64)),
            _strings(CURRENCIES, _CURRENCY_OF[country]),
            _strings(CHANNELS, term.kind[t]),
            _strings(ENTRY_MODES, b["entry"]),
            _strings(COUNTRY_CODES, country),
            pa.array(is_fraud),
            _strings(SCENARIOS, b["sc"]),
            _timestamps(b["ts"] + delay),
        ],
        schema=TABLE_SCHEMAS["transactions"],
    )
