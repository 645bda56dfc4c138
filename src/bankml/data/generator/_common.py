"""Constants, vocabularies and array helpers every stage of the generator shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from bankml.data.generator.tables import TS

ProgressFn = Callable[[str, int, int], None]
Arr = npt.NDArray[Any]
# Error messages built in one place so the CLI tests can assert them.
MSG_CUSTOMERS = "customers must be between 1 and {max:,}, got {value}"
MSG_DAYS = "days must be between 1 and {max:,}, got {value}"
MSG_FRAUD_RATE = "fraud_rate must be strictly between 0 and 0.5, got {value}"
MSG_APPLICATIONS = "applications must be at least 1, got {value}"
MSG_SEED = "seed must be a non-negative integer, got {value}"
MSG_START = "start must be a date (YYYY-MM-DD), got {value!r}"
MSG_OUT_IS_FILE = "output path {out} is a file: choose a directory"
MSG_OUT_FOREIGN = (
    "refusing to write into {out}: it is not empty and not a bankml bank (found {entry!r}); "
    "choose an empty or new directory"
)
MSG_NO_MANIFEST = "no bankml bank at {out}: {manifest} is missing or unreadable"

MAX_CUSTOMERS = 20_000_000  # keeps every id family inside its own range (see _*_BASE)
MAX_DAYS = 3_660

# Id families live in disjoint ranges, so joining card_id to customer_id by mistake matches
# nothing instead of silently matching the wrong rows.
CUSTOMER_BASE = 100_000_000
CARD_BASE = 200_000_000
TERMINAL_BASE = 300_000_000
APPLICATION_BASE = 400_000_000

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
MIN_US = 60_000_000
SEC_US = 1_000_000

# Stream ids for numpy SeedSequence spawn keys: each stage draws from its own stream, so
# changing one stage's draws does not reshuffle every other table.
S_CUSTOMERS, S_TERMINALS, S_CARDS, S_LINKS, S_FRAUD, S_BLOCK, S_CREDIT = range(7)

# --------------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------------

EMPLOYMENTS = ("employed", "self_employed", "unemployed", "retired", "student")
SEGMENTS = ("retail", "premier", "student", "small_business")
RISK_RATINGS = ("low", "medium", "high")
CARD_TYPES = ("debit", "credit")
CURRENCIES = ("EUR", "GBP", "USD")
CHANNELS = ("pos", "ecom", "atm")  # index == terminal kind
ENTRY_MODES = ("chip", "contactless", "swipe", "manual", "ecom")
SCENARIOS = ("none", "compromised_terminal", "account_takeover", "card_testing", "high_amount")
HOUSING = ("own", "mortgage", "rent", "other")
PURPOSES = ("car", "home_improvement", "debt_consolidation", "education", "other")
TERMS = (12, 24, 36, 48, 60)
AGE_BANDS = ("18-25", "26-40", "41-60", "61+")

POS, ECOM, ATM = 0, 1, 2
CHIP, CONTACTLESS, SWIPE, MANUAL, ECOM_ENTRY = range(5)
NONE, CT, ATO, TEST, HIGH = range(5)

# Country -> (currency index, cities (name, x, y, weight)). Countries overlap on the grid;
# nearest-terminal search separates them (see _nearest), so only within-country distance
# matters.
COUNTRIES: dict[str, tuple[int, tuple[tuple[str, float, float, float], ...]]] = {
    "GB": (
        1,
        (
            ("London", 22, 30, 5),
            ("Manchester", 16, 62, 2),
            ("Birmingham", 20, 48, 2),
            ("Leeds", 24, 66, 1),
            ("Edinburgh", 14, 88, 1),
            ("Bristol", 8, 36, 1),
        ),
    ),
    "DE": (
        0,
        (
            ("Berlin", 80, 72, 4),
            ("Hamburg", 64, 84, 2),
            ("Munich", 72, 16, 2),
            ("Frankfurt", 58, 42, 2),
            ("Cologne", 50, 52, 1),
            ("Stuttgart", 60, 24, 1),
        ),
    ),
    "FR": (0, (("Paris", 36, 22, 3), ("Lyon", 42, 10, 1))),
    "NL": (0, (("Amsterdam", 46, 66, 2), ("Rotterdam", 44, 60, 1))),
    "IE": (0, (("Dublin", 4, 70, 2), ("Cork", 3, 55, 1))),
    "ES": (0, (("Madrid", 24, 6, 2), ("Barcelona", 34, 4, 1))),
    "IT": (0, (("Milan", 56, 8, 1), ("Rome", 62, 3, 1))),
    "US": (2, (("New York", 95, 94, 2), ("Chicago", 90, 88, 1))),
}
COUNTRY_CODES = tuple(COUNTRIES)
CURRENCY_OF = np.array([COUNTRIES[c][0] for c in COUNTRY_CODES], dtype=np.int8)
HOME_P = np.array([0.50, 0.38, 0.04, 0.03, 0.03, 0.02, 0.0, 0.0])
TRAVEL_P = np.array([0.0, 0.0, 0.2, 0.1, 0.0, 0.3, 0.25, 0.15])  # foreign physical terminals
ECOM_FOREIGN_P = np.array([0.05, 0.05, 0.05, 0.2, 0.2, 0.0, 0.0, 0.45])
GB, DE = COUNTRY_CODES.index("GB"), COUNTRY_CODES.index("DE")

# Merchant categories: (mcc, kind, amount factor, weight within kind, brands).
MCCS: tuple[tuple[str, int, float, float, tuple[str, ...]], ...] = (
    ("5411", POS, 1.4, 26, ("FreshWay", "Market Hall", "GreenBasket", "DailyGrocer")),
    ("5812", POS, 1.3, 12, ("The Olive Tree", "Brasserie Nord", "Red Lantern", "Bistro 21")),
    ("5814", POS, 0.4, 12, ("QuickBite", "Burger Lane", "Bean & Leaf", "Noodle Box")),
    ("5541", POS, 1.8, 9, ("FuelPoint", "Roadstar", "Petro Plus")),
    ("5912", POS, 0.7, 6, ("CarePharm", "Apotheke am Markt", "HealthFirst")),
    ("5311", POS, 1.8, 5, ("Grand Stores", "Kaufhalle", "Metro Department")),
    ("5651", POS, 2.0, 7, ("Threadline", "Urban Wear", "Modehaus")),
    ("5732", POS, 4.0, 3, ("Volt Electronics", "TechCorner", "Digitalmarkt")),
    ("5944", POS, 6.0, 1, ("Goldsmiths & Co", "Juwelier Stein", "Carat House")),
    ("4111", POS, 0.25, 7, ("City Transit", "Metro Rail", "Verkehrsbetriebe")),
    ("5499", POS, 0.45, 9, ("Corner Shop", "Kiosk 24", "QuickStop")),
    ("7011", POS, 5.0, 2, ("Harbour Hotel", "Hotel Adler", "Parkview Inn")),
    ("4121", POS, 0.8, 1, ("City Cabs", "Taxi Zentrale")),
    ("6011", ATM, 3.0, 1, ("ATM", "Cash Point", "Geldautomat")),
    ("5999", ECOM, 1.5, 30, ("ShopNova", "Marketly", "BuyBright", "Kaufnet")),
    ("5815", ECOM, 0.35, 20, ("AppVault", "PixelPlay", "TuneStream", "GameHub")),
    ("4899", ECOM, 0.5, 15, ("StreamBox", "CloudTV", "NewsPass")),
    ("4511", ECOM, 7.0, 8, ("SkyLink Air", "Atlantic Airways", "Nordflug")),
    ("5964", ECOM, 1.6, 12, ("HomeDirect", "CatalogOne", "Versandhaus")),
    ("5732", ECOM, 4.0, 10, ("GadgetPort", "TechDirect", "ElektroShop")),
    ("7011", ECOM, 5.0, 5, ("StayFinder", "RoomBook", "TripNest")),
)
HIGH_VALUE_MCCS = {"5732", "5944", "5311", "7011", "4511"}
TESTING_MCCS = {"5999", "5815"}

# Behaviour profiles.
HOUR_LEGIT = np.array(
    [
        *(0.6, 0.35, 0.25, 0.2, 0.25, 0.5, 1.3, 2.8, 4.2, 4.8, 5.2, 6.0),  # 00-11
        *(7.2, 6.8, 5.9, 5.7, 6.2, 7.0, 7.3, 6.4, 5.0, 3.6, 2.3, 1.2),  # 12-23
    ]
)
HOUR_FRAUD = np.array(
    [
        *(4.0, 4.5, 4.8, 4.6, 4.0, 3.2, 2.5, 2.5, 3.0, 3.3, 3.5, 3.8),
        *(4.0, 4.0, 3.8, 3.8, 4.0, 4.2, 4.5, 4.8, 5.0, 5.0, 4.8, 4.4),
    ]
)
_DOW = np.array([0.94, 0.96, 0.99, 1.02, 1.14, 1.13, 0.82])  # Monday .. Sunday
_DOW = _DOW / _DOW.mean()

# Channel groups: pos (nearest terminals), atm (nearest ATMs), ecom (favourite shops), and
# "travel" (any terminal anywhere): the last keeps new terminals/countries from being a
# perfect fraud flag.
K_POS, K_ATM, K_ECOM = 10, 2, 4
W_POS = 1.0 / np.arange(1, K_POS + 1) ** 0.8
W_POS /= W_POS.sum()
W_ATM = np.array([0.7, 0.3])
W_ECOM = np.array([0.4, 0.3, 0.2, 0.1])
CONTACTLESS_LIMIT = 100.0

SCENARIO_SHARE = {CT: 0.30, ATO: 0.40, TEST: 0.18, HIGH: 0.12}
ROWS_PER_BLOCK = 1_000_000

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def stream_rng(seed: int, stream: int, *index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, *index)))


def decode_strings(labels: tuple[str, ...] | list[str], codes: Arr) -> pa.Array:
    """Decode integer codes into a plain string column (taken in C, not in Python)."""
    return pc.take(pa.array(labels, pa.string()), pa.array(codes))


def timestamps(us: Arr) -> pa.Array:
    return pa.array(us, pa.int64()).view(TS)


def choice_index(rng: np.random.Generator, p: Arr, n: int) -> Arr:
    """Draw ``n`` indices from probabilities ``p`` (inverse-CDF; faster than rng.choice)."""
    cum = np.cumsum(p, dtype=np.float64)
    idx = np.searchsorted(cum / cum[-1], rng.random(n), side="right")
    return np.minimum(idx, len(p) - 1)


def ymd(days: Arr) -> tuple[Arr, Arr, Arr]:
    """Year, month, day of datetime64[D] values."""
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    y = years.astype(np.int64) + 1970
    m = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    d = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, d


def age_on(dob: Arr, on: Arr) -> Arr:
    """Whole years between ``dob`` and ``on`` (both datetime64[D]), birthday-exact."""
    by, bm, bd = ymd(dob)
    oy, om, od = ymd(on)
    return oy - by - ((om * 100 + od) < (bm * 100 + bd)).astype(np.int64)


def age_band(age: Arr) -> Arr:
    return np.searchsorted(np.array([26, 41, 61]), age, side="right")


def day_weights(start: date, days: int) -> Arr:
    """Weekly-cycle multiplier for each simulated day."""
    dow = (np.arange(days) + start.weekday()) % 7
    return np.asarray(_DOW[dow])


def time_of_day(rng: np.random.Generator, hours: Arr, n: int) -> Arr:
    return np.asarray(choice_index(rng, hours, n) * HOUR_US + rng.integers(0, HOUR_US, n))
