"""Credit applications with a 12-month default outcome, and their protected attributes."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from bankml.data.generator._common import (
    AGE_BANDS,
    APPLICATION_BASE,
    CUSTOMER_BASE,
    DAY_US,
    EMPLOYMENTS,
    HOUR_US,
    HOUSING,
    PURPOSES,
    TERMS,
    Arr,
    age_band,
    age_on,
    choice_index,
    decode_strings,
    timestamps,
    ymd,
)
from bankml.data.generator.customers import Customers
from bankml.data.generator.tables import TABLE_SCHEMAS

# --------------------------------------------------------------------------------------------
# Credit applications
# --------------------------------------------------------------------------------------------


def _standardise(v: Arr) -> Arr:
    sd = float(v.std())
    return np.asarray((v - v.mean()) / (sd if sd > 0 else 1.0))


def _calibrate_intercept(score: Arr, target: float) -> float:
    """b0 such that mean(sigmoid(b0 + score)) == target (bisection; the mean is monotone)."""
    lo, hi = -20.0, 20.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if float(np.mean(1 / (1 + np.exp(-(mid + score))))) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def make_credit(
    rng: np.random.Generator, cust: Customers, n: int, start: date, start_us: int
) -> tuple[pa.Table, pa.Table]:
    c = rng.choice(cust.n, size=n, replace=n > cust.n)
    start_d = np.datetime64(start.isoformat(), "D")
    # Dated up to two years before start, but never before the applicant turned 18.
    eighteenth = _eighteenth_birthday(cust.dob[c])
    max_back = np.minimum(730, (start_d - eighteenth).astype(np.int64))
    back = (rng.random(n) * (max_back + 1)).astype(np.int64)
    applied_d = start_d - back.astype("timedelta64[D]")
    # Business hours, 08:00-20:00.
    applied_us = (start_us - back * DAY_US + 8 * HOUR_US + rng.integers(0, 12 * HOUR_US, n)).astype(
        np.int64
    )
    age = age_on(cust.dob[c], applied_d)
    band = age_band(age)
    sex = cust.sex[c]
    employment = cust.employment[c]
    working = np.isin(employment, [0, 1])

    income = np.round(cust.income[c] * np.exp(rng.normal(-0.03, 0.08, n)), 2)
    z = rng.standard_normal(n)  # latent financial stress: correlates the risk features

    adult_years = np.maximum(age - 18, 0).astype(float)
    years_employed = np.where(
        working,
        np.minimum(adult_years, rng.gamma(2.0, 2.0 + 0.12 * adult_years)),
        np.where(employment == 4, rng.uniform(0, 1.5, n) * (rng.random(n) < 0.3), 0.0),
    )
    years_employed = np.round(years_employed, 1)

    housing_p = np.array(
        [  # own, mortgage, rent, other
            [0.02, 0.05, 0.55, 0.38],
            [0.08, 0.37, 0.45, 0.10],
            [0.22, 0.50, 0.24, 0.04],
            [0.62, 0.18, 0.16, 0.04],
        ]
    )
    housing = np.empty(n, dtype=np.int64)
    for b in range(4):
        rows = np.flatnonzero(band == b)
        housing[rows] = choice_index(rng, housing_p[b], rows.size)

    purpose_p = np.tile(np.array([0.28, 0.18, 0.30, 0.06, 0.18]), (n, 1))
    purpose_p[band == 0] = [0.30, 0.02, 0.22, 0.30, 0.16]
    purpose_p[np.isin(housing, [0, 1]), 1] += 0.15  # owners improve homes
    purpose_p[:, 2] *= np.exp(0.4 * z)  # stressed applicants consolidate debt
    purpose_p /= purpose_p.sum(axis=1, keepdims=True)
    u = rng.random(n)
    purpose = np.minimum((u[:, None] >= np.cumsum(purpose_p, axis=1)).sum(axis=1), 4)

    base = np.array([15_000, 20_000, 12_000, 9_000, 5_000], dtype=float)[purpose]
    requested = base * (income / 40_000) ** 0.5 * np.exp(rng.normal(0, 0.45, n))
    requested = np.clip(np.round(requested / 100) * 100, 1_000, 100_000)
    term_idx = np.clip(
        np.round(np.log2(requested / 2_500) + rng.normal(0, 0.8, n)).astype(np.int64) - 1, 0, 4
    )
    term_months = np.array(TERMS, dtype=np.int64)[term_idx]

    dti = np.clip(rng.beta(2.2, 6.0, n) + 0.07 * z + 0.06 * (income < 15_000), 0.0, 1.5)
    dti = np.round(dti, 4)
    utilisation = np.round(1 / (1 + np.exp(-(-0.6 + 0.9 * z + rng.normal(0, 0.8, n)))), 4)
    delinquencies = rng.poisson(np.exp(-1.9 + 0.8 * z)).astype(np.int64)
    inquiries = rng.poisson(np.exp(-0.1 + 0.45 * z + 0.25 * (band == 0))).astype(np.int64)
    history = np.floor(adult_years * 12 * rng.beta(5.0, 1.8, n)).astype(np.int64)
    open_accounts = rng.poisson(1.0 + 0.06 * np.minimum(adult_years, 40) + 0.4 * (z > 1))
    open_accounts = open_accounts.astype(np.int64)

    # The latent risk model of the module docstring. Protected attributes are not inputs.
    score = (
        0.55 * _standardise(dti)
        + 0.50 * _standardise(utilisation)
        + 0.45 * _standardise(delinquencies.astype(float))
        + 0.30 * _standardise(inquiries.astype(float))
        + 0.20 * _standardise(requested / income)
        - 0.35 * _standardise(np.log(income))
        - 0.30 * _standardise(history.astype(float))
        - 0.20 * _standardise(years_employed)
        + rng.normal(0, 0.6, n)
    )
    b0 = _calibrate_intercept(score, 0.10)
    p = 1 / (1 + np.exp(-(b0 + score)))
    defaulted = rng.random(n) < p

    order = np.argsort(applied_us, kind="stable")  # application ids follow time
    ids = APPLICATION_BASE + np.arange(1, n + 1, dtype=np.int64)

    def o(a: Arr) -> Arr:
        return np.asarray(a[order])

    apps = pa.Table.from_arrays(
        [
            pa.array(ids),
            pa.array(CUSTOMER_BASE + 1 + o(c)),
            timestamps(o(applied_us)),
            pa.array(o(income)),
            decode_strings(EMPLOYMENTS, o(employment)),
            pa.array(o(years_employed)),
            decode_strings(HOUSING, o(housing)),
            decode_strings(PURPOSES, o(purpose)),
            pa.array(o(requested)),
            pa.array(o(term_months)),
            pa.array(o(dti)),
            pa.array(o(utilisation)),
            pa.array(o(delinquencies)),
            pa.array(o(inquiries)),
            pa.array(o(history)),
            pa.array(o(open_accounts)),
            pa.array(o(defaulted)),
        ],
        schema=TABLE_SCHEMAS["credit_applications"],
    )
    protected = pa.Table.from_arrays(
        [
            pa.array(ids),
            decode_strings(("F", "M"), o(sex)),
            pa.array(o(age).astype(np.int64)),
            decode_strings(AGE_BANDS, o(band)),
        ],
        schema=TABLE_SCHEMAS["credit_protected"],
    )
    return apps, protected


def _eighteenth_birthday(dob: Arr) -> Arr:
    """The date each person turned 18 (29 February birthdays fall on 1 March)."""
    y, m, d = ymd(dob)
    months = ((y + 18 - 1970) * 12 + m - 1).astype("datetime64[M]")
    return np.asarray(months.astype("datetime64[D]") + (d - 1).astype("timedelta64[D]"))
