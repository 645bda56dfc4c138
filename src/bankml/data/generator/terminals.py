"""Terminals and merchants, and which terminals each customer uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.spatial import cKDTree

from bankml.data.generator._common import (
    ATM,
    COUNTRY_CODES,
    ECOM,
    ECOM_FOREIGN_P,
    HOME_P,
    K_ATM,
    K_ECOM,
    K_POS,
    MCCS,
    POS,
    TERMINAL_BASE,
    TRAVEL_P,
    W_ATM,
    W_ECOM,
    W_POS,
    Arr,
    choice_index,
    decode_strings,
)
from bankml.data.generator.customers import Customers, city_name, place
from bankml.data.generator.tables import TABLE_SCHEMAS

# --------------------------------------------------------------------------------------------
# Terminals
# --------------------------------------------------------------------------------------------


@dataclass
class Terminals:
    n: int
    table: pa.Table
    kind: Arr
    country: Arr
    x: Arr
    y: Arr
    factor: Arr  # amount multiplier of the merchant category
    mcc: Arr  # index into _MCCS


def make_terminals(rng: np.random.Generator, n: int) -> Terminals:
    # At least one terminal of each kind, so every channel and scenario can occur.
    n_atm = max(1, round(0.08 * n))
    n_ecom = max(1, round(0.15 * n))
    kind = np.concatenate(
        [np.full(n - n_atm - n_ecom, POS), np.full(n_atm, ATM), np.full(n_ecom, ECOM)]
    )
    kind = rng.permutation(kind)

    country = np.empty(n, dtype=np.int64)
    physical = np.flatnonzero(kind != ECOM)
    ecom = np.flatnonzero(kind == ECOM)
    # Physical terminals follow the customers (90%) plus travel destinations (10%); online
    # merchants are often abroad (45%).
    country[physical] = choice_index(rng, 0.9 * HOME_P + 0.1 * TRAVEL_P, physical.size)
    country[ecom] = choice_index(rng, 0.55 * HOME_P + 0.45 * ECOM_FOREIGN_P, ecom.size)
    x, y, city = place(rng, country, spread=5.0)

    mcc = np.empty(n, dtype=np.int64)
    for k in (POS, ATM, ECOM):
        rows = np.flatnonzero(kind == k)
        options = [i for i, m in enumerate(MCCS) if m[1] == k]
        weights = np.array([MCCS[i][3] for i in options], dtype=float)
        mcc[rows] = np.array(options)[choice_index(rng, weights, rows.size)]
    factor = np.array([m[2] for m in MCCS])[mcc]

    brand_pick = rng.integers(0, 1_000, n)
    names = []
    for i in range(n):
        brands = MCCS[mcc[i]][4]
        brand = brands[brand_pick[i] % len(brands)]
        town = city_name(int(country[i]), int(city[i]))
        if kind[i] == ECOM:
            names.append(f"{brand} Online {COUNTRY_CODES[country[i]]}")
        elif kind[i] == ATM:
            names.append(f"{brand} {town} #{brand_pick[i]:03d}")
        else:
            names.append(f"{brand} {town}")

    table = pa.Table.from_arrays(
        [
            pa.array(TERMINAL_BASE + np.arange(1, n + 1, dtype=np.int64)),
            pa.array(names, pa.string()),
            decode_strings([m[0] for m in MCCS], mcc),
            decode_strings(COUNTRY_CODES, country),
            pa.array(x),
            pa.array(y),
        ],
        schema=TABLE_SCHEMAS["terminals"],
    )
    return Terminals(n=n, table=table, kind=kind, country=country, x=x, y=y, factor=factor, mcc=mcc)


def _nearest(cust: Customers, term: Terminals, kind: int, k: int) -> Arr:
    """Indices of each customer's ``k`` nearest terminals of ``kind`` in their own country.

    Country is a third coordinate scaled far beyond the grid, so a KD-tree query returns
    same-country terminals first and only spills abroad when a country has fewer than ``k``.
    """
    rows = np.flatnonzero(term.kind == kind)
    pts = np.column_stack([term.x[rows], term.y[rows], 1_000.0 * term.country[rows]])
    tree = cKDTree(pts)
    q = np.column_stack([cust.x, cust.y, 1_000.0 * cust.country])
    kk = min(k, rows.size)
    _, idx = tree.query(q, k=list(range(1, kk + 1)))
    idx = np.asarray(idx).reshape(cust.n, kk)
    if kk < k:  # tiny banks: reuse the nearest ones
        idx = idx[:, np.arange(k) % kk]
    return np.asarray(rows[idx])


def link_customers_to_terminals(rng: np.random.Generator, cust: Customers, term: Terminals) -> None:
    """Give each customer usual terminals and a channel mix (pos, atm, ecom, travel)."""
    cust.nn_pos = _nearest(cust, term, POS, K_POS)
    cust.nn_atm = _nearest(cust, term, ATM, K_ATM)
    # Favourite online shops: a popularity-skewed (Zipf) draw, so a few big merchants carry
    # much of the e-commerce volume as in reality.
    ecom = np.flatnonzero(term.kind == ECOM)
    popularity = 1.0 / np.arange(1, ecom.size + 1)
    ranked = rng.permutation(ecom)
    cust.fav_ecom = ranked[choice_index(rng, popularity, cust.n * K_ECOM)].reshape(cust.n, K_ECOM)

    p = np.tile(np.array([0.76, 0.06, 0.16, 0.02]), (cust.n, 1))
    age = np.asarray(cust.table.column("age").to_numpy())
    p[cust.segment == 2] += [-0.08, 0.0, 0.08, 0.0]
    p[cust.segment == 3] += [-0.05, 0.0, 0.05, 0.0]
    p[age >= 61] += [0.04, 0.03, -0.07, 0.0]
    p *= np.exp(rng.normal(0, 0.25, p.shape))
    p /= p.sum(axis=1, keepdims=True)
    cust.group_p = p
    cust.group_cum = np.cumsum(p, axis=1)[:, :3]


def usual_amount(cust: Customers, term: Terminals) -> Arr:
    """Each customer's expected legitimate amount: the yardstick for fraud multiples.

    It is the lognormal mean times the average merchant-category factor of where they shop,
    i.e. what a per-customer average-amount feature sees, so "3-8x the usual" holds in data.
    """
    f = term.factor
    mix = (
        cust.group_p[:, 0] * (f[cust.nn_pos] @ W_POS)
        + cust.group_p[:, 1] * (f[cust.nn_atm] @ W_ATM)
        + cust.group_p[:, 2] * (f[cust.fav_ecom] @ W_ECOM)
        + cust.group_p[:, 3] * f.mean()
    )
    return np.asarray(np.exp(cust.mu + cust.sigma**2 / 2) * mix)


def expected_terminal_volume(cust: Customers, term: Terminals) -> Arr:
    """Expected legitimate transactions per (average) day on each terminal."""
    w = cust.rate[:, None] * cust.group_p
    vol = np.bincount(cust.nn_pos.ravel(), weights=(w[:, [0]] * W_POS).ravel(), minlength=term.n)
    vol += np.bincount(cust.nn_atm.ravel(), weights=(w[:, [1]] * W_ATM).ravel(), minlength=term.n)
    vol += np.bincount(
        cust.fav_ecom.ravel(), weights=(w[:, [2]] * W_ECOM).ravel(), minlength=term.n
    )
    vol += w[:, 3].sum() / term.n
    return np.asarray(vol)
