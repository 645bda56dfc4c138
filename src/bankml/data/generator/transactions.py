"""Card transactions: each customer's own, blocks of days at a time, plus the planned fraud."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bankml.data.generator._common import (
    ATM,
    CARD_BASE,
    CHANNELS,
    CHIP,
    CONTACTLESS,
    CONTACTLESS_LIMIT,
    COUNTRY_CODES,
    CT,
    CURRENCIES,
    CURRENCY_OF,
    CUSTOMER_BASE,
    DAY_US,
    ECOM_ENTRY,
    ENTRY_MODES,
    HOUR_LEGIT,
    MANUAL,
    NONE,
    POS,
    ROWS_PER_BLOCK,
    S_BLOCK,
    SCENARIOS,
    SWIPE,
    TERMINAL_BASE,
    W_ATM,
    W_ECOM,
    W_POS,
    Arr,
    ProgressFn,
    choice_index,
    day_weights,
    decode_strings,
    stream_rng,
    time_of_day,
    timestamps,
)
from bankml.data.generator.customers import Cards, Customers
from bankml.data.generator.fraud import FraudPlan
from bankml.data.generator.tables import TABLE_SCHEMAS
from bankml.data.generator.terminals import Terminals
from bankml.data.generator.writing import PARQUET_OPTS, atomic_path

# --------------------------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------------------------


def _legit_block(
    rng: np.random.Generator,
    cust: Customers,
    cards: Cards,
    term: Terminals,
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
    ts = start_us + (pair % nd + d0) * DAY_US + time_of_day(rng, HOUR_LEGIT, n)

    use_second = (cards.second[c] >= 0) & (rng.random(n) < cards.p_second[c])
    card = np.where(use_second, cards.second[c], cards.first[c])

    u = rng.random(n)
    group = (u[:, None] >= cust.group_cum[c]).sum(axis=1)
    t = np.where(
        group == 0,
        cust.nn_pos[c, choice_index(rng, W_POS, n)],
        np.where(
            group == 1,
            cust.nn_atm[c, choice_index(rng, W_ATM, n)],
            np.where(
                group == 2,
                cust.fav_ecom[c, choice_index(rng, W_ECOM, n)],
                rng.integers(0, term.n, n),
            ),
        ),
    )
    kind = term.kind[t]
    amount = np.exp(cust.mu[c] + cust.sigma[c] * rng.standard_normal(n)) * term.factor[t]
    # Cash machines pay out notes: multiples of 10, at least 20.
    amount = np.where(kind == ATM, np.maximum(20.0, np.round(amount / 10) * 10), amount)
    # Nothing on a card costs less than 50 cents; the floor keeps cent-sized noise out of the
    # range card testing uses (0.50-4.99), which legitimate small purchases still share.
    amount = np.maximum(np.round(amount, 2), 0.5)

    e = rng.random(n)
    small = amount <= CONTACTLESS_LIMIT
    pos_entry = np.where(
        small,
        np.where(e < 0.65, CONTACTLESS, np.where(e < 0.95, CHIP, SWIPE)),
        np.where(e < 0.92, CHIP, SWIPE),
    )
    entry = np.where(
        kind == POS,
        pos_entry,
        np.where(
            kind == ATM,
            np.where(e < 0.95, CHIP, SWIPE),
            np.where(e < 0.96, ECOM_ENTRY, MANUAL),  # mail/phone orders keyed by hand
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


def write_transactions(
    path: Path,
    seed: int,
    cust: Customers,
    cards: Cards,
    term: Terminals,
    plan: FraudPlan,
    days: int,
    start: date,
    start_us: int,
    report: ProgressFn,
) -> tuple[int, int]:
    """Generate and write transactions block by block; return (rows, fraudulent rows)."""
    dayw = day_weights(start, days)
    per_day = max(1.0, float(cust.rate.sum()))
    block_days = int(min(days, max(1, ROWS_PER_BLOCK // per_day)))
    next_id, n_fraud = 1, 0
    report("transactions", 0, days)
    with (
        atomic_path(path) as tmp,
        pq.ParquetWriter(tmp, TABLE_SCHEMAS["transactions"], **PARQUET_OPTS) as writer,
    ):
        for d0 in range(0, days, block_days):
            d1 = min(days, d0 + block_days)
            rng = stream_rng(seed, S_BLOCK, d0)
            legit = _legit_block(rng, cust, cards, term, dayw, d0, d1, start_us)
            # Skimmed terminals: every transaction inside the compromise window is fraud.
            t = legit["term"]
            hit = (legit["ts"] >= plan.comp_start[t]) & (legit["ts"] < plan.comp_end[t])
            legit["sc"][hit] = CT
            lo, hi = np.searchsorted(plan.ts, [start_us + d0 * DAY_US, start_us + d1 * DAY_US])
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
    cards: Cards,
    term: Terminals,
    first_id: int,
) -> pa.Table:
    n = b["ts"].size
    t = b["term"]
    is_fraud = b["sc"] != NONE
    # Chargeback / confirmation delay for fraud; a fixed 7-day horizon for legitimate rows.
    delay = np.full(n, 7 * DAY_US, dtype=np.int64)
    k = int(is_fraud.sum())
    fraud_delay = DAY_US + rng.gamma(1.6, 3.0, k) * DAY_US
    delay[is_fraud] = np.minimum(fraud_delay, 30 * DAY_US).astype(np.int64)
    country = term.country[t]
    return pa.Table.from_arrays(
        [
            pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            timestamps(b["ts"]),
            pa.array(CARD_BASE + 1 + b["card"]),
            pa.array(CUSTOMER_BASE + 1 + cards.customer[b["card"]]),
            pa.array(TERMINAL_BASE + 1 + t),
            pa.array(b["amount"].astype(np.float64)),
            decode_strings(CURRENCIES, CURRENCY_OF[country]),
            decode_strings(CHANNELS, term.kind[t]),
            decode_strings(ENTRY_MODES, b["entry"]),
            decode_strings(COUNTRY_CODES, country),
            pa.array(is_fraud),
            decode_strings(SCENARIOS, b["sc"]),
            timestamps(b["ts"] + delay),
        ],
        schema=TABLE_SCHEMAS["transactions"],
    )
