"""Customers (with their synthetic PII) and their cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from bankml.data.generator._common import (
    CARD_BASE,
    CARD_TYPES,
    COUNTRIES,
    COUNTRY_CODES,
    CUSTOMER_BASE,
    DE,
    EMPLOYMENTS,
    GB,
    HOME_P,
    RISK_RATINGS,
    SEGMENTS,
    Arr,
    age_band,
    age_on,
    choice_index,
    decode_strings,
    ymd,
)
from bankml.data.generator.tables import TABLE_SCHEMAS

# --------------------------------------------------------------------------------------------
# Name pools for PII-looking columns (all synthetic; emails use reserved example domains).
# --------------------------------------------------------------------------------------------

# fmt: off
_FIRST_F = (
    "Olivia", "Emma", "Amelia", "Isla", "Ava", "Mia", "Sophie", "Grace", "Lily", "Freya",
    "Hannah", "Lena", "Anna", "Leonie", "Marie", "Laura", "Julia", "Sarah", "Clara", "Emily",
    "Charlotte", "Chloe", "Lucy", "Ella", "Niamh", "Aoife", "Camille", "Chiara", "Lucia",
    "Sofia", "Maria", "Elena", "Katharina", "Johanna", "Ruth", "Margaret", "Susan", "Helen",
    "Priya", "Aisha",
)
_FIRST_M = (
    "Oliver", "George", "Harry", "Jack", "Noah", "Leo", "Arthur", "Oscar", "Charlie", "Jacob",
    "Thomas", "James", "William", "Lukas", "Leon", "Paul", "Jonas", "Finn", "Felix", "Max",
    "Ben", "Elias", "Daniel", "David", "Sean", "Conor", "Pierre", "Luca", "Marco", "Pablo",
    "Javier", "Matteo", "Michael", "Peter", "Robert", "Richard", "Stefan", "Klaus", "Rahul",
    "Omar",
)
_LAST = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Wright", "Robinson", "Walker", "Thompson", "Evans", "Hughes", "Green", "Hall", "Wood",
    "Clarke", "Murphy", "Kelly", "Byrne", "Muller", "Schmidt", "Schneider", "Fischer", "Weber",
    "Meyer", "Wagner", "Becker", "Hoffmann", "Schulz", "Koch", "Richter", "Klein", "Wolf",
    "Neumann", "Schwarz", "Braun", "Zimmermann", "Hartmann", "Kruger", "Lange", "Martin",
    "Bernard", "Dubois", "Rossi", "Russo", "Garcia", "Fernandez", "Lopez", "DeVries", "Jansen",
    "Bakker", "Visser", "Khan", "Ali", "Nowak", "Kowalski", "Novak",
)
_STREETS_EN = (
    "Oak", "Elm", "Mill", "Church", "High", "Station", "Park", "Victoria", "Queen", "King",
    "Bridge", "Market", "Garden", "Meadow", "Castle", "Harbour", "River", "Hill", "Chapel",
    "Manor",
)
_STREETS_DE = (
    "Linden", "Birken", "Berg", "Schul", "Kirch", "Haupt", "Bahnhof", "Wald", "Rosen", "Ahorn",
    "Garten", "Mühlen",
)
_STREETS_ROMANCE = (
    "Roma", "Verdi", "Mayor", "Sol", "Victor", "Hugo", "Pasteur", "Garibaldi", "Cervantes",
    "Molière",
)
_STREETS_NL = (
    "Kerk", "Molen", "Dorps", "Heren", "Keizers", "Prinsen", "Linden", "Beuken",
)
# fmt: on
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example")

# --------------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------------


@dataclass
class Customers:
    n: int
    table: pa.Table
    country: Arr
    x: Arr
    y: Arr
    dob: Arr  # datetime64[D]
    sex: Arr  # 0 = F, 1 = M
    employment: Arr
    segment: Arr
    income: Arr
    rate: Arr  # expected transactions per day
    mu: Arr  # lognormal log-median of the amount
    sigma: Arr
    group_cum: Arr = field(default_factory=lambda: np.empty(0))  # (n, 3) channel-group CDF
    group_p: Arr = field(default_factory=lambda: np.empty(0))  # (n, 4)
    nn_pos: Arr = field(default_factory=lambda: np.empty(0))  # (n, _K_POS) terminal indices
    nn_atm: Arr = field(default_factory=lambda: np.empty(0))
    fav_ecom: Arr = field(default_factory=lambda: np.empty(0))


def place(rng: np.random.Generator, country: Arr, spread: float) -> tuple[Arr, Arr, Arr]:
    """Locations near a city of each row's country; also returns the city index per row."""
    x = np.empty(len(country))
    y = np.empty(len(country))
    city = np.zeros(len(country), dtype=np.int64)
    for ci, code in enumerate(COUNTRY_CODES):
        rows = np.flatnonzero(country == ci)
        if rows.size == 0:
            continue
        cities = COUNTRIES[code][1]
        pick = choice_index(rng, np.array([c[3] for c in cities], dtype=float), rows.size)
        cx = np.array([c[1] for c in cities], dtype=float)[pick]
        cy = np.array([c[2] for c in cities], dtype=float)[pick]
        x[rows] = cx + rng.normal(0, spread, rows.size)
        y[rows] = cy + rng.normal(0, spread, rows.size)
        city[rows] = pick
    return np.clip(x, 0, 100).round(4), np.clip(y, 0, 100).round(4), city


def city_name(country: int, city: int) -> str:
    return COUNTRIES[COUNTRY_CODES[country]][1][city][0]


def make_customers(rng: np.random.Generator, n: int, start: date) -> Customers:
    start_d = np.datetime64(start.isoformat(), "D")
    # Age: adults 18-95, mode in the early thirties, about a fifth over 60 (a retail book).
    age_f = np.clip(rng.gamma(2.4, 11.5, n) + 18.0, 18.0, 95.5)
    dob = start_d - (age_f * 365.2425).astype(np.int64).astype("timedelta64[D]")
    age = age_on(dob, np.full(n, start_d))
    # A birthday on the start date can round an 18.0 draw down to 17: nudge those back.
    young = age < 18
    dob[young] -= np.timedelta64(366, "D")
    age = age_on(dob, np.full(n, start_d))
    sex = (rng.random(n) < 0.49).astype(np.int64)
    band = age_band(age)

    country = choice_index(rng, HOME_P, n)
    x, y, city = place(rng, country, spread=4.0)

    # Employment depends on age (students are young, retirees old) -- a realistic, mild
    # channel through which age reaches the credit features.
    emp_p = np.array(
        [  # employed, self_employed, unemployed, retired, student
            [0.42, 0.05, 0.08, 0.00, 0.45],
            [0.76, 0.12, 0.07, 0.00, 0.05],
            [0.74, 0.15, 0.06, 0.05, 0.00],
            [0.22, 0.10, 0.03, 0.65, 0.00],
        ]
    )
    employment = np.empty(n, dtype=np.int64)
    for b in range(4):
        rows = np.flatnonzero(band == b)
        employment[rows] = choice_index(rng, emp_p[b], rows.size)
    employment[(employment == 3) & (age < 55)] = 0  # no early retirees below 55

    base_income = np.array([42_000, 48_000, 9_000, 24_000, 8_000], dtype=float)[employment]
    age_factor = np.array([0.78, 1.0, 1.12, 0.9])[band]
    sex_factor = np.where(sex == 0, 0.93, 1.0)  # mild pay gap: fairness metrics non-trivial
    spread = np.where(employment == 1, 0.6, 0.42)
    income = base_income * age_factor * sex_factor * np.exp(rng.normal(0, spread))
    income = np.round(np.clip(income, 3_000, 2_000_000), 2)

    segment = np.zeros(n, dtype=np.int64)
    segment[(employment == 4) | ((age < 24) & (rng.random(n) < 0.5))] = 2
    segment[(employment == 1) & (rng.random(n) < 0.6)] = 3
    segment[(income > 90_000) & (rng.random(n) < 0.8)] = 1

    risk_score = (
        rng.random(n)
        + 0.25 * (segment == 3)
        + 0.2 * ~np.isin(country, [GB, DE])
        + 0.1 * (employment == 2)
    )
    risk = np.digitize(risk_score, [0.75, 0.97])

    # Spending: median amount rises with income (elasticity ~0.45) and segment.
    seg_factor = np.array([1.0, 1.7, 0.55, 1.9])[segment]
    median = 22.0 * (income / 35_000) ** 0.45 * seg_factor * np.exp(rng.normal(0, 0.25, n))
    mu = np.log(np.clip(median, 4.0, 400.0))
    sigma = rng.uniform(0.55, 0.95, n)
    rate = np.exp(rng.normal(np.log(1.35), 0.45, n)) * np.array([1.0, 1.1, 1.2, 1.4])[segment]
    rate = np.clip(rate, 0.5, 3.0)

    ids = CUSTOMER_BASE + np.arange(1, n + 1, dtype=np.int64)
    pii = _customer_pii(rng, n, sex, country, city, ids)
    table = pa.Table.from_arrays(
        [
            pa.array(ids),
            pii["name"],
            pa.array(dob, pa.date32()),
            pii["address"],
            pii["email"],
            pii["phone"],
            pii["national_id"],
            pii["iban"],
            pa.array(income),
            decode_strings(EMPLOYMENTS, employment),
            decode_strings(SEGMENTS, segment),
            decode_strings(RISK_RATINGS, risk),
            decode_strings(COUNTRY_CODES, country),
            pa.array(x),
            pa.array(y),
            decode_strings(("F", "M"), sex),
            pa.array(age.astype(np.int64)),
        ],
        schema=TABLE_SCHEMAS["customers"],
    )
    return Customers(
        n=n,
        table=table,
        country=country,
        x=x,
        y=y,
        dob=dob,
        sex=sex,
        employment=employment,
        segment=segment,
        income=income,
        rate=rate,
        mu=mu,
        sigma=sigma,
    )


def _customer_pii(
    rng: np.random.Generator, n: int, sex: Arr, country: Arr, city: Arr, ids: Arr
) -> dict[str, pa.Array]:
    """The identifying columns: name, address, email, phone, national_id, iban."""
    first_f = rng.integers(0, len(_FIRST_F), n)
    first_m = rng.integers(0, len(_FIRST_M), n)
    last = rng.integers(0, len(_LAST), n)
    street = rng.integers(0, 1_000, n)
    house = rng.integers(1, 180, n)
    post_a = rng.integers(0, 26, (n, 4))
    post_n = rng.integers(0, 100_000, n)
    phone_n = rng.integers(0, 10**9, n)
    domain = rng.integers(0, len(_EMAIL_DOMAINS), n)
    letters = "ABCDEFGHJKLMNPRSTUWXYZABCD"

    names, addresses, emails, phones = [], [], [], []
    for i in range(n):
        first = _FIRST_F[first_f[i]] if sex[i] == 0 else _FIRST_M[first_m[i]]
        surname = _LAST[last[i]]
        names.append(f"{first} {surname}")
        code = COUNTRY_CODES[country[i]]
        town = city_name(int(country[i]), int(city[i]))
        pool = {"DE": _STREETS_DE, "NL": _STREETS_NL}.get(code, _STREETS_EN)
        if code in ("FR", "ES", "IT"):
            pool = _STREETS_ROMANCE
        st = pool[street[i] % len(pool)]
        pa_ = post_a[i]
        if code == "GB":
            pc_ = f"{letters[pa_[0]]}{letters[pa_[1]]}{post_n[i] % 20 + 1} {post_n[i] % 9 + 1}"
            addresses.append(
                f"{house[i]} {st} Road, {town} {pc_}{letters[pa_[2]]}{letters[pa_[3]]}"
            )
            phones.append(f"+44 7{phone_n[i] // 10**6:03d} {phone_n[i] % 10**6:06d}")
        elif code == "DE":
            addresses.append(f"{st}straße {house[i]}, {post_n[i] % 90_000 + 10_000} {town}")
            phones.append(f"+49 15{phone_n[i] % 10} {phone_n[i] // 10:08d}")
        elif code == "FR":
            addresses.append(f"{house[i]} rue {st}, {post_n[i] % 90_000 + 10_000} {town}")
            phones.append(f"+33 6 {phone_n[i] % 10**8:08d}")
        elif code == "NL":
            addresses.append(
                f"{st}straat {house[i]}, {post_n[i] % 9_000 + 1_000} "
                f"{letters[pa_[0]]}{letters[pa_[1]]} {town}"
            )
            phones.append(f"+31 6 {phone_n[i] % 10**8:08d}")
        elif code == "IE":
            addresses.append(f"{house[i]} {st} Avenue, {town} D{post_n[i] % 24 + 1:02d}")
            phones.append(f"+353 8{phone_n[i] % 10} {phone_n[i] // 10 % 10**7:07d}")
        elif code == "ES":
            addresses.append(f"Calle {st} {house[i]}, {post_n[i] % 50_000 + 1_000:05d} {town}")
            phones.append(f"+34 6{phone_n[i] % 10**8:08d}")
        elif code == "IT":
            addresses.append(f"Via {st} {house[i]}, {post_n[i] % 90_000 + 10_000} {town}")
            phones.append(f"+39 3{phone_n[i] % 10**9:09d}")
        else:
            addresses.append(f"{house[i]} {st} Street, {town}")
            phones.append(f"+1 {phone_n[i] % 800 + 200}-555-{phone_n[i] // 1000 % 10_000:04d}")
        emails.append(f"{first}.{surname}.{ids[i] % 100_000}@{_EMAIL_DOMAINS[domain[i]]}".lower())
    return {
        "name": pa.array(names, pa.string()),
        "address": pa.array(addresses, pa.string()),
        "email": pa.array(emails, pa.string()),
        "phone": pa.array(phones, pa.string()),
        "national_id": _ssns(rng, n),
        "iban": _ibans(rng, country),
    }


def _ssns(rng: np.random.Generator, n: int) -> pa.Array:
    """Unique US SSNs in AAA-GG-SSSS form with valid parts.

    Area 001-899 except 666 (000, 666 and 900-999 are never issued), group 01-99, serial
    0001-9999.
    """
    areas = np.array([a for a in range(1, 900) if a != 666])
    space = len(areas) * 99 * 9999
    k = rng.choice(space, size=n, replace=False)
    area = areas[k // (99 * 9999)]
    group = (k // 9999) % 99 + 1
    serial = k % 9999 + 1
    return pa.array(
        [f"{a:03d}-{g:02d}-{s:04d}" for a, g, s in zip(area, group, serial, strict=True)],
        pa.string(),
    )


def _iban_check(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + '00' as digits) mod 97."""
    digits = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def _ibans(rng: np.random.Generator, country: Arr) -> pa.Array:
    """Unique, checksum-valid IBANs: GB accounts for GB/IE customers, DE for the rest.

    GB BBAN = bank code BKML + sort code 40-xx-xx + 8-digit account; DE BBAN = bank code
    (BLZ) 50010517 + 10-digit account. The bank has branches in the UK and Germany only.
    """
    n = len(country)
    accounts = rng.choice(10**8, size=n, replace=False)
    sort = rng.integers(0, 10_000, n)
    out = []
    for i in range(n):
        if country[i] in (GB, COUNTRY_CODES.index("IE")):
            bban = f"BKML40{sort[i]:04d}{accounts[i]:08d}"
            out.append(f"GB{_iban_check('GB', bban)}{bban}")
        else:
            bban = f"50010517{accounts[i]:010d}"
            out.append(f"DE{_iban_check('DE', bban)}{bban}")
    return pa.array(out, pa.string())


# --------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------


@dataclass
class Cards:
    n: int
    table: pa.Table
    customer: Arr  # customer index per card
    first: Arr  # per customer: index of the main card
    second: Arr  # per customer: index of the second card or -1
    p_second: Arr  # per customer: share of transactions on the second card


_BINS = ("492181", "455673", "535522", "545410")  # two Visa (4...), two Mastercard (5...)


def _luhn_complete(digits: Arr) -> Arr:
    """Append the Luhn check digit to each row of a (n, 15) digit matrix."""
    doubled = digits.copy()
    # The digit next to the check digit is doubled, then every second one leftwards.
    pos = np.arange(digits.shape[1])[::-1] % 2 == 0
    d = doubled[:, pos] * 2
    doubled[:, pos] = np.where(d > 9, d - 9, d)
    check = (10 - doubled.sum(axis=1) % 10) % 10
    return np.column_stack([digits, check])


def make_cards(rng: np.random.Generator, cust: Customers, start: date, days: int) -> Cards:
    n_c = cust.n
    p_two = np.where(np.isin(cust.segment, [1, 3]), 0.6, 0.3)
    two = rng.random(n_c) < p_two
    counts = 1 + two.astype(np.int64)
    customer = np.repeat(np.arange(n_c), counts)
    n = customer.size
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    second = np.where(two, first + 1, -1)

    # Card type: the main card is mostly debit (premier customers lean credit), a second
    # card is the other type.
    main_credit = rng.random(n_c) < np.where(cust.segment == 1, 0.5, 0.15)
    ctype = np.zeros(n, dtype=np.int64)
    ctype[first] = main_credit
    ctype[second[two]] = ~main_credit[two]

    # Unique PANs: a unique draw from 4 BINs x 10^9 account numbers, then the Luhn digit.
    k = rng.choice(len(_BINS) * 10**9, size=n, replace=False)
    bins = np.array([[int(c) for c in b] for b in _BINS])[k // 10**9]
    account = k % 10**9
    acct_digits = (account[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    pans = _luhn_complete(np.column_stack([bins, acct_digits]))
    pan_str = ["".join(map(str, row)) for row in pans.tolist()]

    # Issued in the three years before start; valid 4-5 years, rolled forward (re-issued)
    # until it outlives the simulation so no transaction uses an expired card.
    start_d = np.datetime64(start.isoformat(), "D")
    issued = start_d - rng.integers(7, 3 * 365, n).astype("timedelta64[D]")
    iy, im, _ = ymd(issued)
    life = rng.integers(4, 6, n)
    ey = iy + life
    end_d = start_d + np.timedelta64(days, "D")
    end_y, end_m, _ = ymd(np.array([end_d]))
    behind = (ey * 12 + im) <= (end_y[0] * 12 + end_m[0])
    ey = np.where(behind, end_y[0] + life, ey)
    expiry = [f"{m:02d}/{y % 100:02d}" for m, y in zip(im.tolist(), ey.tolist(), strict=True)]

    table = pa.Table.from_arrays(
        [
            pa.array(CARD_BASE + np.arange(1, n + 1, dtype=np.int64)),
            pa.array(CUSTOMER_BASE + 1 + customer),
            pa.array(pan_str, pa.string()),
            decode_strings(CARD_TYPES, ctype),
            pa.array(issued, pa.date32()),
            pa.array(expiry, pa.string()),
        ],
        schema=TABLE_SCHEMAS["cards"],
    )
    return Cards(
        n=n,
        table=table,
        customer=customer,
        first=first,
        second=second,
        p_second=rng.uniform(0.15, 0.45, n_c),
    )
