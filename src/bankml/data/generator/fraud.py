"""Fraud scenarios, planned before any transaction is drawn.

:func:`_plan_fraud` reads as its steps: size the budget of each scenario from the target rate,
compromise terminals until their expected volume fills theirs, then inject account takeovers,
card-testing bursts and high-amount purchases, each until its budget is spent. Every step
draws from the same generator in this order, so the same seed gives the same plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from bankml.data.generator._common import (
    ATM,
    ATO,
    CHIP,
    CT,
    DAY_US,
    ECOM,
    ECOM_ENTRY,
    HIGH,
    HIGH_VALUE_MCCS,
    HOUR_FRAUD,
    HOUR_LEGIT,
    HOUR_US,
    MANUAL,
    MCCS,
    MIN_US,
    POS,
    SCENARIO_SHARE,
    SEC_US,
    SWIPE,
    TEST,
    TESTING_MCCS,
    Arr,
    day_weights,
    time_of_day,
)
from bankml.data.generator.customers import Cards, Customers
from bankml.data.generator.terminals import Terminals, expected_terminal_volume, usual_amount


@dataclass
class FraudPlan:
    """Fraud decided before any transaction is drawn, so blocks of days stay independent."""

    comp_start: Arr  # per terminal: compromise window start (us), int64 max if never
    comp_end: Arr
    # Injected fraudulent transactions, sorted by ts.
    ts: Arr
    card: Arr
    term: Arr
    amount: Arr
    entry: Arr
    scenario: Arr


@dataclass(frozen=True)
class _World:
    """What every scenario step reads: the bank, the simulated period and usual amounts."""

    cust: Customers
    cards: Cards
    term: Terminals
    days: int
    start_us: int
    end_us: int
    dayw: Arr  # weekly-cycle weight of each day
    usual: Arr  # per customer: their usual amount
    ecom: Arr  # indices of e-commerce terminals
    physical: Arr  # indices of physical (pos, atm) terminals


class _Injected:
    """Fraudulent transactions added on top of the customers' own, collected per step."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Arr]] = {
            k: [] for k in ("ts", "card", "term", "amount", "entry", "sc")
        }

    def add(self, ts: Arr, card: int | Arr, t: Arr, amount: Arr, entry: Arr, scenario: int) -> int:
        """Append ``ts.size`` rows of one scenario; return how many were added."""
        m = ts.size
        rows = self.rows
        rows["ts"].append(ts.astype(np.int64))
        rows["card"].append(np.broadcast_to(np.asarray(card, dtype=np.int64), (m,)).copy())
        rows["term"].append(t.astype(np.int64))
        rows["amount"].append(np.maximum(np.round(amount, 2), 0.01))
        rows["entry"].append(entry.astype(np.int64))
        rows["sc"].append(np.full(m, scenario, dtype=np.int64))
        return m

    def plan(self, comp_start: Arr, comp_end: Arr, end_us: int) -> FraudPlan:
        """The plan: injected rows before ``end_us``, sorted by time (stable)."""
        if self.rows["ts"]:
            cat = {k: np.concatenate(v) for k, v in self.rows.items()}
        else:
            cat = {k: np.empty(0, dtype=np.int64) for k in self.rows}
            cat["amount"] = np.empty(0)
        keep = cat["ts"] < end_us
        order = np.argsort(cat["ts"][keep], kind="stable")
        cat = {k: v[keep][order] for k, v in cat.items()}
        return FraudPlan(
            comp_start=comp_start,
            comp_end=comp_end,
            ts=cat["ts"],
            card=cat["card"],
            term=cat["term"],
            amount=cat["amount"],
            entry=cat["entry"],
            scenario=cat["sc"],
        )


def plan_fraud(
    rng: np.random.Generator,
    cust: Customers,
    cards: Cards,
    term: Terminals,
    days: int,
    start: date,
    start_us: int,
    fraud_rate: float,
) -> FraudPlan:
    """Plan every fraud scenario for the period, in named steps (see the module docstring)."""
    world = _World(
        cust=cust,
        cards=cards,
        term=term,
        days=days,
        start_us=start_us,
        end_us=start_us + days * DAY_US,
        dayw=day_weights(start, days),
        usual=usual_amount(cust, term),
        ecom=np.flatnonzero(term.kind == ECOM),
        physical=np.flatnonzero(term.kind != ECOM),
    )
    target = _scenario_budgets(world, fraud_rate)
    comp_start, comp_end = _compromise_terminals(rng, world, target[CT])
    injected = _Injected()
    _take_over_accounts(rng, world, injected, target[ATO])
    _test_cards(rng, world, injected, target[TEST])
    _high_amounts(rng, world, injected, target[HIGH])
    return injected.plan(comp_start, comp_end, world.end_us)


def _scenario_budgets(world: _World, fraud_rate: float) -> dict[int, float]:
    """Expected fraudulent rows per scenario so the realised rate lands near ``fraud_rate``."""
    expected_legit = float(world.cust.rate.sum() * world.dayw.sum())
    injected_share = 1.0 - SCENARIO_SHARE[CT]
    # Injected rows add to the denominator: F = r (L + F * injected_share).
    budget = fraud_rate * expected_legit / (1.0 - fraud_rate * injected_share)
    return {s: budget * share for s, share in SCENARIO_SHARE.items()}


def _compromise_terminals(
    rng: np.random.Generator, world: _World, target: float
) -> tuple[Arr, Arr]:
    """Skim physical terminals for 14-28 days while the expected count gets closer to target."""
    term, days = world.term, world.days
    comp_start = np.full(term.n, np.iinfo(np.int64).max, dtype=np.int64)
    comp_end = np.full(term.n, np.iinfo(np.int64).max, dtype=np.int64)
    vol = expected_terminal_volume(world.cust, term)
    candidates = rng.permutation(np.flatnonzero((term.kind != ECOM) & (vol > 0)))
    got, misses = 0.0, 0
    for t in candidates:
        if got >= target or misses > 20:
            break
        length = int(rng.integers(14, 29))
        first_day = int(rng.integers(0, days))
        last_day = min(days, first_day + length)
        expected = vol[t] * world.dayw[first_day:last_day].sum()
        if abs(got + expected - target) < abs(got - target):
            got += expected
            comp_start[t] = world.start_us + first_day * DAY_US + int(rng.integers(0, DAY_US))
            comp_end[t] = comp_start[t] + length * DAY_US
        else:
            misses += 1
    return comp_start, comp_end


def _take_over_accounts(
    rng: np.random.Generator, world: _World, injected: _Injected, target: float
) -> None:
    """Account takeover: a few days of extra, inflated, night-heavy transactions."""
    cust, cards, term, days = world.cust, world.cards, world.term, world.days
    done = 0
    while done < target:
        card = int(rng.integers(0, cards.n))
        c = cards.customer[card]
        first_day = int(rng.integers(0, days))
        length = min(int(rng.integers(2, 11)), days - first_day)
        m = max(1, int(rng.poisson(rng.uniform(0.8, 2.5) * length)))
        ts = (
            world.start_us
            + (first_day + rng.integers(0, length, m)) * DAY_US
            + time_of_day(rng, HOUR_FRAUD, m)
        )
        abroad = np.flatnonzero((term.country != cust.country[c]) & (term.kind == POS))
        where = np.where(rng.random(m) < 0.5, 0, np.where(rng.random(m) < 0.7, 1, 2))
        t = np.empty(m, dtype=np.int64)
        t[where == 0] = rng.choice(world.ecom, int((where == 0).sum()))
        if abroad.size:  # the fraudster sits in one foreign country
            fraud_country = term.country[rng.choice(abroad)]
            local = abroad[term.country[abroad] == fraud_country]
            t[where == 1] = rng.choice(local, int((where == 1).sum()))
        else:
            t[where == 1] = rng.choice(world.physical, int((where == 1).sum()))
        t[where == 2] = rng.choice(world.physical, int((where == 2).sum()))
        amount = world.usual[c] * rng.uniform(3, 8, m) * np.exp(rng.normal(0, 0.2, m))
        is_ecom = term.kind[t] == ECOM
        entry = np.where(
            is_ecom,
            np.where(rng.random(m) < 0.85, ECOM_ENTRY, MANUAL),
            np.where(rng.random(m) < 0.6, SWIPE, CHIP),
        )
        done += injected.add(ts, card, t, amount, entry, ATO)


def _test_cards(
    rng: np.random.Generator, world: _World, injected: _Injected, target: float
) -> None:
    """Card testing: bursts of tiny amounts minutes apart on one "testing" merchant."""
    term, cards, ecom = world.term, world.cards, world.ecom
    testing_pool = ecom[np.isin(np.array([MCCS[i][0] for i in term.mcc[ecom]]), list(TESTING_MCCS))]
    if testing_pool.size == 0:
        testing_pool = ecom
    testing_pool = rng.choice(testing_pool, max(1, testing_pool.size // 10), replace=False)
    done = 0
    while done < target:
        card = int(rng.integers(0, cards.n))
        c = cards.customer[card]
        m = int(rng.integers(3, 11))
        # Testers work around the clock, night-heavy; bursts running past the end are cut.
        t0 = world.start_us + int(rng.integers(0, world.days)) * DAY_US
        t0 += int(time_of_day(rng, HOUR_FRAUD, 1)[0])
        ts = t0 + np.cumsum(rng.integers(10 * SEC_US, 90 * SEC_US, m))
        entry_mode = ECOM_ENTRY if rng.random() < 0.7 else MANUAL
        done += injected.add(
            ts,
            card,
            np.full(m, rng.choice(testing_pool)),
            rng.uniform(0.5, 4.99, m),
            np.full(m, entry_mode),
            TEST,
        )
        # In 60% of bursts one large purchase follows: the same attack, the same scenario.
        if rng.random() < 0.6:
            ts_big = ts[-1] + int(rng.integers(5 * MIN_US, 6 * HOUR_US))
            if ts_big < world.end_us:
                big = world.usual[c] * rng.uniform(4, 10, 1)
                where = rng.choice(ecom, 1)
                entry = np.array([ECOM_ENTRY])
                done += injected.add(np.array([ts_big]), card, where, big, entry, TEST)


def _high_amounts(
    rng: np.random.Generator, world: _World, injected: _Injected, target: float
) -> None:
    """High amount: isolated purchases far above the customer's profile."""
    m = round(target)
    if not m:
        return
    term = world.term
    hv = np.flatnonzero(
        (term.kind != ATM)
        & np.isin(np.array([MCCS[i][0] for i in term.mcc]), list(HIGH_VALUE_MCCS))
    )
    if hv.size == 0:
        hv = np.flatnonzero(term.kind != ATM)
    card_arr = rng.integers(0, world.cards.n, m)
    c_arr = world.cards.customer[card_arr]
    ts = world.start_us + rng.integers(0, world.days, m) * DAY_US + time_of_day(rng, HOUR_LEGIT, m)
    t = rng.choice(hv, m)
    amount = world.usual[c_arr] * rng.uniform(10, 25, m)
    entry = np.where(term.kind[t] == ECOM, ECOM_ENTRY, CHIP)
    injected.add(ts, card_arr, t, amount, entry, HIGH)
