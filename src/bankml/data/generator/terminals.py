"""Terminals and merchants, and which terminals each customer uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.spatial import cKDTree

from bankml.data.generator._common import (
    _ATM,
    _ECOM,
    _ECOM_FOREIGN_P,
    _HOME_P,
    _K_ATM,
    _K_ECOM,
    _K_POS,
    _MCCS,
    _POS,
    _TERMINAL_BASE,
    _TRAVEL_P,
    _W_ATM,
    _W_ECOM,
    _W_POS,
    COUNTRY_CODES,
    Arr,
    _choice,
    _strings,
)
from bankml.data.generator.customers import _city_name, _Customers, _place
from bankml.data.generator.tables import TABLE_SCHEMAS

# --------------------------------------------------------------------------------------------
# Terminals
# --------------------------------------------------------------------------------------------


@dataclass
class _Terminals:
    n: int
    table: pa.Table
    kind: Arr
    country: Arr
    x: Arr
    y: Arr
    factor: Arr  # amount multiplier of the merchant category
    mcc: Arr  # index into _MCCS


def _make_terminals(rng: np.random.Generator, n: int) -> _Terminals:
    # At least one terminal of each kind, so every channel and scenario can occur.
    n_atm = max(1, round(0.08 * n))
    n_ecom = max(1, round(0.15 * n))
    kind = np.concatenate(
        [np.full(n - n_atm - n_ecom, _POS), np.full(n_atm, _ATM), np.full(n_ecom, _ECOM)]
    )
    kind = rng.permutation(kind)

    country = np.empty(n, dtype=np.int64)
    physical = np.flatnonzero(kind != _ECOM)
    ecom = np.flatnonzero(kind == _ECOM)
    # Physical terminals follow the customers (90%) plus travel destinations (10%); online
    # merchants are often abroad (45%).
    country[physical] = _choice(rng, 0.9 * _HOME_P + 0.1 * _TRAVEL_P, physical.size)
    country[ecom] = _choice(rng, 0.55 * _HOME_P + 0.45 * _ECOM_FOREIGN_P, ecom.size)
    x, y, city = _place(rng, country, spread=5.0)

    mcc = np.empty(n, dtype=np.int64)
    for k in (_POS, _ATM, _ECOM):
        rows = np.flatnonzero(kind == k)
        options = [i for i, m in enumerate(_MCCS) if m[1] == k]
        weights = np.array([_MCCS[i][3] for i in options], dtype=float)
        mcc[rows] = np.array(options)[_choice(rng, weights, rows.size)]
    factor = np.array([m[2] for m in _MCCS])[mcc]

    brand_pick = rng.integers(0, 1_000, n)
    names = []
    for i in range(n):
        brands = _MCCS[mcc[i]][4]
        brand = brands[brand_pick[i] % len(brands)]
        town = _city_name(int(country[i]), int(city[i]))
        if kind[i] == _ECOM:
            names.append(f"{brand} Online {COUNTRY_CODES[country[i]]}")
        elif kind[i] == _ATM:
            names.append(f"{brand} {town} #{brand_pick[i]:03d}")
        else:
            names.append(f"{brand} {town}")

    table = pa.Table.from_arrays(
        [
            pa.array(_TERMINAL_BASE + np.arange(1, n + 1, dtype=np.int64)),
            pa.array(names, pa.string()),
            _strings([m[0] for m in _MCCS], mcc),
            _strings(COUNTRY_CODES, country),
            pa.array(x),
            pa.array(y),
        ],
        schema=TABLE_SCHEMAS["terminals"],
    )
    return _Terminals(
        n=n, table=table, kind=kind, country=country, x=x, y=y, factor=factor, mcc=mcc
    )


def _nearest(cust: _Customers, term: _Terminals, kind: int, k: int) -> Arr:
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


def _link_customers_to_terminals(
    rng: np.random.Generator, cust: _Customers, term: _Terminals
) -> None:
    """Give each customer usual terminals and a channel mix (pos, atm, ecom, travel)."""
    cust.nn_pos = _nearest(cust, term, _POS, _K_POS)
    cust.nn_atm = _nearest(cust, term, _ATM, _K_ATM)
    # Favourite online shops: a popularity-skewed (Zipf) draw, so a few big merchants carry
    # much of the e-commerce volume as in reality.
    ecom = np.flatnonzero(term.kind == _ECOM)
    popularity = 1.0 / np.arange(1, ecom.size + 1)
    ranked = rng.permutation(ecom)
    cust.fav_ecom = ranked[_choice(rng, popularity, cust.n * _K_ECOM)].reshape(cust.n, _K_ECOM)

    p = np.tile(np.array([0.76, 0.06, 0.16, 0.02]), (cust.n, 1))
    age = np.asarray(cust.table.column("age").to_numpy())
    p[cust.segment == 2] += [-0.08, 0.0, 0.08, 0.0]
    p[cust.segment == 3] += [-0.05, 0.0, 0.05, 0.0]
    p[age >= 61] += [0.04, 0.03, -0.07, 0.0]
    p *= np.exp(rng.normal(0, 0.25, p.shape))
    p /= p.sum(axis=1, keepdims=True)
    cust.group_p = p
    cust.group_cum = np.cumsum(p, axis=1)[:, :3]


def _usual_amount(cust: _Customers, term: _Terminals) -> Arr:
    """Each customer's expected legitimate amount: the yardstick for fraud multiples.

    It is the lognormal mean times the average merchant-category factor of where they shop,
    i.e. what a per-customer average-amount feature sees, so "3-8x the usual" holds in data.
    """
    f = term.factor
    mix = (
        cust.group_p[:, 0] * (f[cust.nn_pos] @ _W_POS)
        + cust.group_p[:, 1] * (f[cust.nn_atm] @ _W_ATM)
        + cust.group_p[:, 2] * (f[cust.fav_ecom] @ _W_ECOM)
        + cust.group_p[:, 3] * f.mean()
    )
    return np.asarray(np.exp(cust.mu + cust.sigma**2 / 2) * mix)


def _expected_terminal_volume(cust: _Customers, term: _Terminals) -> Arr:
    """Expected legitimate transactions per (average) day on each terminal."""
    w = cust.rate[:, None] * cust.group_p
    vol = np.bincount(cust.nn_pos.ravel(), weights=(w[:, [0]] * _W_POS).ravel(), minlength=term.n)
    vol += np.bincount(cust.nn_atm.ravel(), weights=(w[:, [1]] * _W_ATM).ravel(), minlength=term.n)
    vol += np.bincount(
        cust.fav_ecom.ravel(), weights=(w[:, [2]] * _W_ECOM).ravel(), minlength=term.n
    )
    vol += w[:, 3].sum() / term.n
    return np.asarray(vol)
