"""Synthetic bank generator: customers, cards, terminals, card transactions with labelled
fraud, credit applications with a 12-month default outcome, and a policy corpus.

Everything is drawn from one seed, so the same arguments give byte-identical files, and the
data is built to be *learnable* by the models downstream rather than merely plausible.

Legitimate card behaviour
    Each customer has a home location on a 0-100 grid (clustered around their country's
    cities), a spending profile (lognormal amounts whose median grows with income and
    segment), a daily transaction rate in [0.5, 3], and a channel mix (point of sale, ATM,
    e-commerce, and a small share of "anywhere" travel transactions). Point-of-sale and ATM
    transactions go to the customer's nearest terminals in their home country, so the set of
    terminals and countries a card uses is stable; that is what makes "first time at this
    terminal / in this country" a meaningful fraud signal. Hours are daytime-heavy and days
    follow a weekly cycle (busy Friday/Saturday, quiet Sunday). Hours are generated and stored
    as UTC; the bank is treated as running on UTC.

Fraud scenarios (``fraud_scenario``)
    ``compromised_terminal``
        A physical terminal is skimmed for 14-28 days: every transaction on it in that window
        is fraud. Amounts look normal; the signal is the terminal's fraud rate from labels
        that are already known (see label delay).
    ``account_takeover``
        A card is taken over for 2-10 days. The fraudster adds 0.8-2.5 transactions a day on
        top of the customer's own, at 3-8x the customer's usual amount, mostly at night,
        half e-commerce and much of the rest at physical terminals in one foreign country
        (cloned cards often fall back to the magnetic stripe: ``swipe``).
    ``card_testing``
        A burst of 3-10 amounts under 5 units on one e-commerce "testing" merchant, 10-90 s
        apart (so the whole burst spans minutes), keyed as ``ecom`` or ``manual``; in 60% of
        bursts one large purchase follows 5 minutes to 6 hours later. The follow-up purchase
        carries the same scenario because it is the same attack.
    ``high_amount``
        An isolated purchase of 10-25x the customer's usual amount at a high-value merchant.

    The target ``fraud_rate`` is split 30/40/18/12 across the four scenarios. Injected
    scenarios are generated until their share of the budget is spent, and compromised
    terminals are chosen until their *expected* volume fills theirs, so the realised rate
    lands close to the target (within a few percent once there are 50k+ transactions).

Label delay (``label_available_at``)
    Fraud is confirmed by chargeback or investigation 1-30 days after the transaction:
    ``1 day + Gamma(shape=1.6, scale=3 days)``, capped at 30 days (median about 5.5 days,
    90% within about 11). For legitimate transactions nothing is ever "confirmed"; we use
    ``ts + 7 days``, the point after which the bank treats an undisputed transaction as
    genuine for training, so a point-in-time training set never sees a label at ``ts``.
    Labels may fall after the last simulated day; that is realistic (not yet known).

Credit applications and the default model
    Applications are dated in the two years before ``start`` so that most 12-month outcomes
    would already be observed when the bank's data starts. A latent "financial stress" factor
    z ~ N(0, 1) makes debt-to-income, utilisation, delinquencies and inquiries correlate.
    The outcome uses the application's features only, never sex or age::

        logit(p) = b0 + 0.55 s(debt_to_income) + 0.50 s(utilisation)
                      + 0.45 s(delinquencies_2y) + 0.30 s(inquiries_6m)
                      + 0.20 s(requested_amount / income)
                      - 0.35 s(log income) - 0.30 s(credit_history_months)
                      - 0.20 s(years_employed) + e,          e ~ N(0, 0.6^2)
        defaulted_12m ~ Bernoulli(p)

    where ``s(.)`` standardises over the generated applications and ``b0`` is solved (by
    bisection) so the mean of ``p`` is 10%; the realised rate is therefore 10% give or take
    sampling noise. Each coefficient's sign is the intuitive one, so the model is monotone.
    The protected attributes act only *through* features, mildly, as they do in real data:
    income is lower for the youngest and oldest bands and about 7% lower for women, young
    applicants are more often students or renters, and credit history cannot be longer than
    adult life. Fairness metrics are therefore non-trivial without the outcome using sex or
    age directly.

``credit_protected`` is a separate table on purpose: protected attributes must not be
features (Reg B / Equality Act), but fairness testing needs them. Keeping them in their own
table, joined on ``application_id`` only by the fairness evaluation, makes "the model never
saw them" checkable by construction, and lets access to them be restricted separately.

Scale
    Transactions are generated for all customers one block of days at a time (about a
    million rows per block) and written with a ``ParquetWriter``: blocks cover disjoint,
    increasing time ranges and each is sorted by ``ts`` before writing, so the file is
    globally time-ordered without a second sorting pass, and memory stays bounded.
    ``transaction_id`` is assigned in that order.

Files are written under a temporary name in the same directory and renamed into place, so an
interrupted run never leaves a half-written file under its final name; ``manifest.json`` is
written last and removed first on a re-run, so a bank with a manifest is complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy.spatial import cKDTree

from bankml.core.errors import InputError
from bankml.data.policy_corpus import build_policy_corpus

__all__ = [
    "TABLE_SCHEMAS",
    "BankManifest",
    "ProgressFn",
    "generate_bank",
    "load_manifest",
]

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, int, int], None]
Arr = npt.NDArray[Any]

# --------------------------------------------------------------------------------------------
# Output contract
# --------------------------------------------------------------------------------------------

_TS = pa.timestamp("us", tz="UTC")

TABLE_SCHEMAS: Mapping[str, pa.Schema] = {
    "customers": pa.schema(
        [
            ("customer_id", pa.int64()),
            ("name", pa.string()),
            ("date_of_birth", pa.date32()),
            ("address", pa.string()),
            ("email", pa.string()),
            ("phone", pa.string()),
            ("national_id", pa.string()),
            ("iban", pa.string()),
            ("income", pa.float64()),
            ("employment", pa.string()),
            ("segment", pa.string()),
            ("risk_rating", pa.string()),
            ("home_country", pa.string()),
            ("x_location", pa.float64()),
            ("y_location", pa.float64()),
            ("sex", pa.string()),
            ("age", pa.int64()),
        ]
    ),
    "cards": pa.schema(
        [
            ("card_id", pa.int64()),
            ("customer_id", pa.int64()),
            ("pan", pa.string()),
            ("card_type", pa.string()),
            ("issued_at", pa.date32()),
            ("expiry", pa.string()),
        ]
    ),
    "terminals": pa.schema(
        [
            ("terminal_id", pa.int64()),
            ("merchant_name", pa.string()),
            ("mcc", pa.string()),
            ("country", pa.string()),
            ("x_location", pa.float64()),
            ("y_location", pa.float64()),
        ]
    ),
    "transactions": pa.schema(
        [
            ("transaction_id", pa.int64()),
            ("ts", _TS),
            ("card_id", pa.int64()),
            ("customer_id", pa.int64()),
            ("terminal_id", pa.int64()),
            ("amount", pa.float64()),
            ("currency", pa.string()),
            ("channel", pa.string()),
            ("entry_mode", pa.string()),
            ("country", pa.string()),
            ("is_fraud", pa.bool_()),
            ("fraud_scenario", pa.string()),
            ("label_available_at", _TS),
        ]
    ),
    "credit_applications": pa.schema(
        [
            ("application_id", pa.int64()),
            ("customer_id", pa.int64()),
            ("applied_at", _TS),
            ("income", pa.float64()),
            ("employment", pa.string()),
            ("years_employed", pa.float64()),
            ("housing", pa.string()),
            ("purpose", pa.string()),
            ("requested_amount", pa.float64()),
            ("term_months", pa.int64()),
            ("debt_to_income", pa.float64()),
            ("utilisation", pa.float64()),
            ("delinquencies_2y", pa.int64()),
            ("inquiries_6m", pa.int64()),
            ("credit_history_months", pa.int64()),
            ("open_accounts", pa.int64()),
            ("defaulted_12m", pa.bool_()),
        ]
    ),
    "credit_protected": pa.schema(
        [
            ("application_id", pa.int64()),
            ("sex", pa.string()),
            ("age", pa.int64()),
            ("age_band", pa.string()),
        ]
    ),
}
"""The Parquet schema of every table the generator writes (table name -> arrow schema)."""

_MANIFEST = "manifest.json"
_POLICY_DIR = "policies"
_PARTIAL = re.compile(r"^\..+\.partial$")
_MANIFEST_KEYS = {"customers", "days", "files", "fraud_rate", "out", "row_counts", "seed", "start"}

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

_MAX_CUSTOMERS = 20_000_000  # keeps every id family inside its own range (see _*_BASE)
_MAX_DAYS = 3_660

# Id families live in disjoint ranges, so joining card_id to customer_id by mistake matches
# nothing instead of silently matching the wrong rows.
_CUSTOMER_BASE = 100_000_000
_CARD_BASE = 200_000_000
_TERMINAL_BASE = 300_000_000
_APPLICATION_BASE = 400_000_000

_DAY_US = 86_400_000_000
_HOUR_US = 3_600_000_000
_MIN_US = 60_000_000
_SEC_US = 1_000_000

# Stream ids for numpy SeedSequence spawn keys: each stage draws from its own stream, so
# changing one stage's draws does not reshuffle every other table.
_S_CUSTOMERS, _S_TERMINALS, _S_CARDS, _S_LINKS, _S_FRAUD, _S_BLOCK, _S_CREDIT = range(7)

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

_POS, _ECOM, _ATM = 0, 1, 2
_CHIP, _CONTACTLESS, _SWIPE, _MANUAL, _ECOM_ENTRY = range(5)
_NONE, _CT, _ATO, _TEST, _HIGH = range(5)

# Country -> (currency index, cities (name, x, y, weight)). Countries overlap on the grid;
# nearest-terminal search separates them (see _nearest), so only within-country distance
# matters.
_COUNTRIES: dict[str, tuple[int, tuple[tuple[str, float, float, float], ...]]] = {
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
COUNTRY_CODES = tuple(_COUNTRIES)
_CURRENCY_OF = np.array([_COUNTRIES[c][0] for c in COUNTRY_CODES], dtype=np.int8)
_HOME_P = np.array([0.50, 0.38, 0.04, 0.03, 0.03, 0.02, 0.0, 0.0])
_TRAVEL_P = np.array([0.0, 0.0, 0.2, 0.1, 0.0, 0.3, 0.25, 0.15])  # foreign physical terminals
_ECOM_FOREIGN_P = np.array([0.05, 0.05, 0.05, 0.2, 0.2, 0.0, 0.0, 0.45])
_GB, _DE = COUNTRY_CODES.index("GB"), COUNTRY_CODES.index("DE")

# Merchant categories: (mcc, kind, amount factor, weight within kind, brands).
_MCCS: tuple[tuple[str, int, float, float, tuple[str, ...]], ...] = (
    ("5411", _POS, 1.4, 26, ("FreshWay", "Market Hall", "GreenBasket", "DailyGrocer")),
    ("5812", _POS, 1.3, 12, ("The Olive Tree", "Brasserie Nord", "Red Lantern", "Bistro 21")),
    ("5814", _POS, 0.4, 12, ("QuickBite", "Burger Lane", "Bean & Leaf", "Noodle Box")),
    ("5541", _POS, 1.8, 9, ("FuelPoint", "Roadstar", "Petro Plus")),
    ("5912", _POS, 0.7, 6, ("CarePharm", "Apotheke am Markt", "HealthFirst")),
    ("5311", _POS, 1.8, 5, ("Grand Stores", "Kaufhalle", "Metro Department")),
    ("5651", _POS, 2.0, 7, ("Threadline", "Urban Wear", "Modehaus")),
    ("5732", _POS, 4.0, 3, ("Volt Electronics", "TechCorner", "Digitalmarkt")),
    ("5944", _POS, 6.0, 1, ("Goldsmiths & Co", "Juwelier Stein", "Carat House")),
    ("4111", _POS, 0.25, 7, ("City Transit", "Metro Rail", "Verkehrsbetriebe")),
    ("5499", _POS, 0.45, 9, ("Corner Shop", "Kiosk 24", "QuickStop")),
    ("7011", _POS, 5.0, 2, ("Harbour Hotel", "Hotel Adler", "Parkview Inn")),
    ("4121", _POS, 0.8, 1, ("City Cabs", "Taxi Zentrale")),
    ("6011", _ATM, 3.0, 1, ("ATM", "Cash Point", "Geldautomat")),
    ("5999", _ECOM, 1.5, 30, ("ShopNova", "Marketly", "BuyBright", "Kaufnet")),
    ("5815", _ECOM, 0.35, 20, ("AppVault", "PixelPlay", "TuneStream", "GameHub")),
    ("4899", _ECOM, 0.5, 15, ("StreamBox", "CloudTV", "NewsPass")),
    ("4511", _ECOM, 7.0, 8, ("SkyLink Air", "Atlantic Airways", "Nordflug")),
    ("5964", _ECOM, 1.6, 12, ("HomeDirect", "CatalogOne", "Versandhaus")),
    ("5732", _ECOM, 4.0, 10, ("GadgetPort", "TechDirect", "ElektroShop")),
    ("7011", _ECOM, 5.0, 5, ("StayFinder", "RoomBook", "TripNest")),
)
_HIGH_VALUE_MCCS = {"5732", "5944", "5311", "7011", "4511"}
_TESTING_MCCS = {"5999", "5815"}

# Behaviour profiles.
_HOUR_LEGIT = np.array(
    [
        *(0.6, 0.35, 0.25, 0.2, 0.25, 0.5, 1.3, 2.8, 4.2, 4.8, 5.2, 6.0),  # 00-11
        *(7.2, 6.8, 5.9, 5.7, 6.2, 7.0, 7.3, 6.4, 5.0, 3.6, 2.3, 1.2),  # 12-23
    ]
)
_HOUR_FRAUD = np.array(
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
_K_POS, _K_ATM, _K_ECOM = 10, 2, 4
_W_POS = 1.0 / np.arange(1, _K_POS + 1) ** 0.8
_W_POS /= _W_POS.sum()
_W_ATM = np.array([0.7, 0.3])
_W_ECOM = np.array([0.4, 0.3, 0.2, 0.1])
_CONTACTLESS_LIMIT = 100.0

_SCENARIO_SHARE = {_CT: 0.30, _ATO: 0.40, _TEST: 0.18, _HIGH: 0.12}
_ROWS_PER_BLOCK = 1_000_000

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
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BankManifest:
    """What a generated bank contains: its arguments, row counts and file checksums.

    ``files`` maps each path relative to ``out`` (POSIX separators) to its SHA-256, so a bank
    can be verified or compared byte for byte. ``fraud_rate`` is the *realised* share of
    fraudulent transactions, not the requested target. In ``manifest.json`` ``out`` is
    written as ``"."`` (the manifest's own directory), so a bank can be moved or copied and
    two banks with the same seed are identical file for file, manifest included.
    """

    out: Path
    seed: int
    customers: int
    days: int
    start: date
    row_counts: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    fraud_rate: float = 0.0

    def to_json(self) -> str:
        """The manifest as JSON text with sorted keys (the content of ``manifest.json``)."""
        doc = {
            "customers": self.customers,
            "days": self.days,
            "files": dict(sorted(self.files.items())),
            "fraud_rate": self.fraud_rate,
            "out": ".",
            "row_counts": dict(sorted(self.row_counts.items())),
            "seed": self.seed,
            "start": self.start.isoformat(),
        }
        return json.dumps(doc, sort_keys=True, indent=2) + "\n"


def load_manifest(out: Path) -> BankManifest:
    """Read ``out/manifest.json`` back into a :class:`BankManifest` (``out`` set to ``out``).

    Raises :class:`InputError` if there is no readable manifest, i.e. ``out`` is not a
    complete bank.
    """
    out = Path(out)
    path = out / _MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return BankManifest(
            out=out,
            seed=int(doc["seed"]),
            customers=int(doc["customers"]),
            days=int(doc["days"]),
            start=date.fromisoformat(doc["start"]),
            row_counts={str(k): int(v) for k, v in doc["row_counts"].items()},
            files={str(k): str(v) for k, v in doc["files"].items()},
            fraud_rate=float(doc["fraud_rate"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(MSG_NO_MANIFEST.format(out=out, manifest=_MANIFEST)) from exc


def generate_bank(
    out: Path,
    *,
    customers: int = 2_000,
    days: int = 90,
    seed: int = 7,
    start: date = date(2026, 1, 1),
    fraud_rate: float = 0.006,
    applications: int | None = None,
    progress: ProgressFn | None = None,
) -> BankManifest:
    """Generate a synthetic bank into directory ``out`` and return its manifest.

    Writes ``customers``, ``cards``, ``terminals``, ``transactions`` (sorted by ``ts``),
    ``credit_applications`` and ``credit_protected`` as Parquet, ``policies/*.md`` and
    ``manifest.json``. ``applications`` defaults to 60% of ``customers``. ``progress`` is
    called as ``progress(stage, done, total)``; for the ``transactions`` stage the unit is
    days. ``out`` may be new, empty, or a previous bank (which is overwritten); anything else
    is refused with :class:`InputError` so a typo cannot clobber unrelated files.

    The same arguments give byte-identical files; see the module docstring for how the
    data is shaped.
    """
    out = Path(out)
    _validate(out, customers, days, seed, start, fraud_rate, applications)
    if isinstance(start, datetime):  # a datetime is a date; keep only the calendar day
        start = start.date()
    n_apps = applications if applications is not None else max(1, round(0.6 * customers))
    report: ProgressFn = progress or (lambda _stage, _done, _total: None)

    _prepare_dir(out)
    log.info("generating bank: customers=%s days=%s seed=%s", customers, days, seed)
    start_us = (start - date(1970, 1, 1)).days * _DAY_US  # midnight UTC, in microseconds
    written: list[str] = []
    row_counts: dict[str, int] = {}

    report("customers", 0, customers)
    cust = _make_customers(_rng(seed, _S_CUSTOMERS), customers, start)
    _write_table(out / "customers.parquet", cust.table)
    written.append("customers.parquet")
    row_counts["customers"] = customers
    report("customers", customers, customers)

    n_terminals = max(50, customers // 5)
    report("terminals", 0, n_terminals)
    term = _make_terminals(_rng(seed, _S_TERMINALS), n_terminals)
    _write_table(out / "terminals.parquet", term.table)
    written.append("terminals.parquet")
    row_counts["terminals"] = n_terminals
    report("terminals", n_terminals, n_terminals)

    report("cards", 0, customers)
    cards = _make_cards(_rng(seed, _S_CARDS), cust, start, days)
    _write_table(out / "cards.parquet", cards.table)
    written.append("cards.parquet")
    row_counts["cards"] = cards.n
    report("cards", customers, customers)

    report("fraud_plan", 0, 1)
    _link_customers_to_terminals(_rng(seed, _S_LINKS), cust, term)
    plan = _plan_fraud(_rng(seed, _S_FRAUD), cust, cards, term, days, start, start_us, fraud_rate)
    report("fraud_plan", 1, 1)
    n_tx, n_fraud = _write_transactions(
        out / "transactions.parquet", seed, cust, cards, term, plan, days, start, start_us, report
    )
    written.append("transactions.parquet")
    row_counts["transactions"] = n_tx

    report("credit", 0, n_apps)
    apps, protected = _make_credit(_rng(seed, _S_CREDIT), cust, n_apps, start, start_us)
    _write_table(out / "credit_applications.parquet", apps)
    _write_table(out / "credit_protected.parquet", protected)
    written += ["credit_applications.parquet", "credit_protected.parquet"]
    row_counts["credit_applications"] = n_apps
    row_counts["credit_protected"] = n_apps
    report("credit", n_apps, n_apps)

    docs = build_policy_corpus(seed)
    report("policies", 0, len(docs))
    policy_dir = out / _POLICY_DIR
    policy_dir.mkdir(exist_ok=True)
    for i, doc in enumerate(docs, 1):
        _write_bytes(policy_dir / f"{doc.id}.md", doc.markdown.encode("utf-8"))
        written.append(f"{_POLICY_DIR}/{doc.id}.md")
        report("policies", i, len(docs))
    _remove_stale(out, set(written))

    report("checksums", 0, len(written))
    files: dict[str, str] = {}
    for i, rel in enumerate(sorted(written), 1):
        files[rel] = _sha256(out / rel)
        report("checksums", i, len(written))

    manifest = BankManifest(
        out=out,
        seed=seed,
        customers=customers,
        days=days,
        start=start,
        row_counts=row_counts,
        files=files,
        fraud_rate=round(n_fraud / n_tx, 6) if n_tx else 0.0,
    )
    _write_bytes(out / _MANIFEST, manifest.to_json().encode("utf-8"))
    log.info("bank written: %s transactions, fraud rate %s", n_tx, manifest.fraud_rate)
    return manifest


# --------------------------------------------------------------------------------------------
# Validation and file handling
# --------------------------------------------------------------------------------------------


def _validate(
    out: Path,
    customers: int,
    days: int,
    seed: int,
    start: date,
    fraud_rate: float,
    applications: int | None,
) -> None:
    def is_int(v: object) -> bool:
        return isinstance(v, int | np.integer) and not isinstance(v, bool)

    if not is_int(customers) or not 1 <= customers <= _MAX_CUSTOMERS:
        raise InputError(MSG_CUSTOMERS.format(max=_MAX_CUSTOMERS, value=customers))
    if not is_int(days) or not 1 <= days <= _MAX_DAYS:
        raise InputError(MSG_DAYS.format(max=_MAX_DAYS, value=days))
    if not is_int(seed) or seed < 0:
        raise InputError(MSG_SEED.format(value=seed))
    if not isinstance(start, date):
        raise InputError(MSG_START.format(value=start))
    if (
        not isinstance(fraud_rate, int | float)
        or isinstance(fraud_rate, bool)
        or not 0 < fraud_rate < 0.5
    ):
        raise InputError(MSG_FRAUD_RATE.format(value=fraud_rate))
    if applications is not None and (not is_int(applications) or applications < 1):
        raise InputError(MSG_APPLICATIONS.format(value=applications))
    if out.exists() and not out.is_dir():
        raise InputError(MSG_OUT_IS_FILE.format(out=out))
    if out.is_dir():
        foreign = _foreign_entry(out)
        if foreign is not None:
            raise InputError(MSG_OUT_FOREIGN.format(out=out, entry=foreign))


def _known_names() -> set[str]:
    return {f"{name}.parquet" for name in TABLE_SCHEMAS} | {_MANIFEST, _POLICY_DIR}


def _foreign_entry(out: Path) -> str | None:
    """The first entry in ``out`` that a bankml bank would not contain, or None."""
    known = _known_names()
    for entry in sorted(out.iterdir()):
        if entry.name in known or _PARTIAL.match(entry.name):
            if entry.name == _POLICY_DIR:
                if not entry.is_dir():
                    return entry.name
                for sub in sorted(entry.iterdir()):
                    if not (sub.suffix == ".md" or _PARTIAL.match(sub.name)) or sub.is_dir():
                        return f"{_POLICY_DIR}/{sub.name}"
            continue
        return entry.name
    return None


def _prepare_dir(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # The manifest goes first: until the new one is written, the directory is not a bank.
    (out / _MANIFEST).unlink(missing_ok=True)
    for directory in (out, out / _POLICY_DIR):
        if directory.is_dir():
            for entry in directory.iterdir():
                if _PARTIAL.match(entry.name):
                    entry.unlink()


def _remove_stale(out: Path, written: set[str]) -> None:
    """Delete policy files a previous run wrote that this run did not (ours by construction)."""
    for path in (out / _POLICY_DIR).glob("*.md"):
        if f"{_POLICY_DIR}/{path.name}" not in written:
            path.unlink()


@contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling path; rename it to ``path`` only if the block succeeds."""
    tmp = path.with_name(f".{path.name}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_bytes(path: Path, data: bytes) -> None:
    with _atomic_path(path) as tmp:
        tmp.write_bytes(data)


_PARQUET_OPTS: dict[str, Any] = {"compression": "zstd", "compression_level": 3}


def _write_table(path: Path, table: pa.Table) -> None:
    with _atomic_path(path) as tmp:
        pq.write_table(table, tmp, **_PARQUET_OPTS)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _rng(seed: int, stream: int, *index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, *index)))


def _strings(labels: tuple[str, ...] | list[str], codes: Arr) -> pa.Array:
    """Decode integer codes into a plain string column (taken in C, not in Python)."""
    return pc.take(pa.array(labels, pa.string()), pa.array(codes))


def _timestamps(us: Arr) -> pa.Array:
    return pa.array(us, pa.int64()).view(_TS)


def _choice(rng: np.random.Generator, p: Arr, n: int) -> Arr:
    """Draw ``n`` indices from probabilities ``p`` (inverse-CDF; faster than rng.choice)."""
    cum = np.cumsum(p, dtype=np.float64)
    idx = np.searchsorted(cum / cum[-1], rng.random(n), side="right")
    return np.minimum(idx, len(p) - 1)


def _ymd(days: Arr) -> tuple[Arr, Arr, Arr]:
    """Year, month, day of datetime64[D] values."""
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    y = years.astype(np.int64) + 1970
    m = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    d = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, d


def _age_on(dob: Arr, on: Arr) -> Arr:
    """Whole years between ``dob`` and ``on`` (both datetime64[D]), birthday-exact."""
    by, bm, bd = _ymd(dob)
    oy, om, od = _ymd(on)
    return oy - by - ((om * 100 + od) < (bm * 100 + bd)).astype(np.int64)


def _age_band(age: Arr) -> Arr:
    return np.searchsorted(np.array([26, 41, 61]), age, side="right")


# --------------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------------


@dataclass
class _Customers:
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


def _place(rng: np.random.Generator, country: Arr, spread: float) -> tuple[Arr, Arr, Arr]:
    """Locations near a city of each row's country; also returns the city index per row."""
    x = np.empty(len(country))
    y = np.empty(len(country))
    city = np.zeros(len(country), dtype=np.int64)
    for ci, code in enumerate(COUNTRY_CODES):
        rows = np.flatnonzero(country == ci)
        if rows.size == 0:
            continue
        cities = _COUNTRIES[code][1]
        pick = _choice(rng, np.array([c[3] for c in cities], dtype=float), rows.size)
        cx = np.array([c[1] for c in cities], dtype=float)[pick]
        cy = np.array([c[2] for c in cities], dtype=float)[pick]
        x[rows] = cx + rng.normal(0, spread, rows.size)
        y[rows] = cy + rng.normal(0, spread, rows.size)
        city[rows] = pick
    return np.clip(x, 0, 100).round(4), np.clip(y, 0, 100).round(4), city


def _city_name(country: int, city: int) -> str:
    return _COUNTRIES[COUNTRY_CODES[country]][1][city][0]


def _make_customers(rng: np.random.Generator, n: int, start: date) -> _Customers:
    start_d = np.datetime64(start.isoformat(), "D")
    # Age: adults 18-95, mode in the early thirties, about a fifth over 60 (a retail book).
    age_f = np.clip(rng.gamma(2.4, 11.5, n) + 18.0, 18.0, 95.5)
    dob = start_d - (age_f * 365.2425).astype(np.int64).astype("timedelta64[D]")
    age = _age_on(dob, np.full(n, start_d))
    # A birthday on the start date can round an 18.0 draw down to 17: nudge those back.
    young = age < 18
    dob[young] -= np.timedelta64(366, "D")
    age = _age_on(dob, np.full(n, start_d))
    sex = (rng.random(n) < 0.49).astype(np.int64)
    band = _age_band(age)

    country = _choice(rng, _HOME_P, n)
    x, y, city = _place(rng, country, spread=4.0)

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
        employment[rows] = _choice(rng, emp_p[b], rows.size)
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
        + 0.2 * ~np.isin(country, [_GB, _DE])
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

    ids = _CUSTOMER_BASE + np.arange(1, n + 1, dtype=np.int64)
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
            _strings(EMPLOYMENTS, employment),
            _strings(SEGMENTS, segment),
            _strings(RISK_RATINGS, risk),
            _strings(COUNTRY_CODES, country),
            pa.array(x),
            pa.array(y),
            _strings(("F", "M"), sex),
            pa.array(age.astype(np.int64)),
        ],
        schema=TABLE_SCHEMAS["customers"],
    )
    return _Customers(
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
        town = _city_name(int(country[i]), int(city[i]))
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
        if country[i] in (_GB, COUNTRY_CODES.index("IE")):
            bban = f"BKML40{sort[i]:04d}{accounts[i]:08d}"
            out.append(f"GB{_iban_check('GB', bban)}{bban}")
        else:
            bban = f"50010517{accounts[i]:010d}"
            out.append(f"DE{_iban_check('DE', bban)}{bban}")
    return pa.array(out, pa.string())


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


# --------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------


@dataclass
class _Cards:
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


def _make_cards(rng: np.random.Generator, cust: _Customers, start: date, days: int) -> _Cards:
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
    iy, im, _ = _ymd(issued)
    life = rng.integers(4, 6, n)
    ey = iy + life
    end_d = start_d + np.timedelta64(days, "D")
    end_y, end_m, _ = _ymd(np.array([end_d]))
    behind = (ey * 12 + im) <= (end_y[0] * 12 + end_m[0])
    ey = np.where(behind, end_y[0] + life, ey)
    expiry = [f"{m:02d}/{y % 100:02d}" for m, y in zip(im.tolist(), ey.tolist(), strict=True)]

    table = pa.Table.from_arrays(
        [
            pa.array(_CARD_BASE + np.arange(1, n + 1, dtype=np.int64)),
            pa.array(_CUSTOMER_BASE + 1 + customer),
            pa.array(pan_str, pa.string()),
            _strings(CARD_TYPES, ctype),
            pa.array(issued, pa.date32()),
            pa.array(expiry, pa.string()),
        ],
        schema=TABLE_SCHEMAS["cards"],
    )
    return _Cards(
        n=n,
        table=table,
        customer=customer,
        first=first,
        second=second,
        p_second=rng.uniform(0.15, 0.45, n_c),
    )


# --------------------------------------------------------------------------------------------
# Fraud plan
# --------------------------------------------------------------------------------------------


@dataclass
class _FraudPlan:
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


def _day_weights(start: date, days: int) -> Arr:
    """Weekly-cycle multiplier for each simulated day."""
    dow = (np.arange(days) + start.weekday()) % 7
    return np.asarray(_DOW[dow])


def _time_of_day(rng: np.random.Generator, hours: Arr, n: int) -> Arr:
    return np.asarray(_choice(rng, hours, n) * _HOUR_US + rng.integers(0, _HOUR_US, n))


def _plan_fraud(
    rng: np.random.Generator,
    cust: _Customers,
    cards: _Cards,
    term: _Terminals,
    days: int,
    start: date,
    start_us: int,
    fraud_rate: float,
) -> _FraudPlan:
    dayw = _day_weights(start, days)
    expected_legit = float(cust.rate.sum() * dayw.sum())
    injected_share = 1.0 - _SCENARIO_SHARE[_CT]
    # Injected rows add to the denominator: F = r (L + F * injected_share).
    budget = fraud_rate * expected_legit / (1.0 - fraud_rate * injected_share)
    target = {s: budget * share for s, share in _SCENARIO_SHARE.items()}
    end_us = start_us + days * _DAY_US
    usual = _usual_amount(cust, term)

    # 1. Compromised terminals: add windows while the expected count gets closer to target.
    comp_start = np.full(term.n, np.iinfo(np.int64).max, dtype=np.int64)
    comp_end = np.full(term.n, np.iinfo(np.int64).max, dtype=np.int64)
    vol = _expected_terminal_volume(cust, term)
    physical = rng.permutation(np.flatnonzero((term.kind != _ECOM) & (vol > 0)))
    got, misses = 0.0, 0
    for t in physical:
        if got >= target[_CT] or misses > 20:
            break
        length = int(rng.integers(14, 29))
        first_day = int(rng.integers(0, days))
        last_day = min(days, first_day + length)
        expected = vol[t] * dayw[first_day:last_day].sum()
        if abs(got + expected - target[_CT]) < abs(got - target[_CT]):
            got += expected
            comp_start[t] = start_us + first_day * _DAY_US + int(rng.integers(0, _DAY_US))
            comp_end[t] = comp_start[t] + length * _DAY_US
        else:
            misses += 1

    rows: dict[str, list[Arr]] = {k: [] for k in ("ts", "card", "term", "amount", "entry", "sc")}

    def add(ts: Arr, card: int | Arr, t: Arr, amount: Arr, entry: Arr, scenario: int) -> None:
        m = ts.size
        rows["ts"].append(ts.astype(np.int64))
        rows["card"].append(np.broadcast_to(np.asarray(card, dtype=np.int64), (m,)).copy())
        rows["term"].append(t.astype(np.int64))
        rows["amount"].append(np.maximum(np.round(amount, 2), 0.01))
        rows["entry"].append(entry.astype(np.int64))
        rows["sc"].append(np.full(m, scenario, dtype=np.int64))

    ecom = np.flatnonzero(term.kind == _ECOM)
    physical_all = np.flatnonzero(term.kind != _ECOM)

    # 2. Account takeover: a few days of extra, inflated, night-heavy transactions.
    done = 0
    while done < target[_ATO]:
        card = int(rng.integers(0, cards.n))
        c = cards.customer[card]
        first_day = int(rng.integers(0, days))
        length = min(int(rng.integers(2, 11)), days - first_day)
        m = max(1, int(rng.poisson(rng.uniform(0.8, 2.5) * length)))
        ts = (
            start_us
            + (first_day + rng.integers(0, length, m)) * _DAY_US
            + _time_of_day(rng, _HOUR_FRAUD, m)
        )
        abroad = np.flatnonzero((term.country != cust.country[c]) & (term.kind == _POS))
        where = np.where(rng.random(m) < 0.5, 0, np.where(rng.random(m) < 0.7, 1, 2))
        t = np.empty(m, dtype=np.int64)
        t[where == 0] = rng.choice(ecom, int((where == 0).sum()))
        if abroad.size:  # the fraudster sits in one foreign country
            fraud_country = term.country[rng.choice(abroad)]
            local = abroad[term.country[abroad] == fraud_country]
            t[where == 1] = rng.choice(local, int((where == 1).sum()))
        else:
            t[where == 1] = rng.choice(physical_all, int((where == 1).sum()))
        t[where == 2] = rng.choice(physical_all, int((where == 2).sum()))
        amount = usual[c] * rng.uniform(3, 8, m) * np.exp(rng.normal(0, 0.2, m))
        is_ecom = term.kind[t] == _ECOM
        entry = np.where(
            is_ecom,
            np.where(rng.random(m) < 0.85, _ECOM_ENTRY, _MANUAL),
            np.where(rng.random(m) < 0.6, _SWIPE, _CHIP),
        )
        add(ts, card, t, amount, entry, _ATO)
        done += m

    # 3. Card testing: bursts of tiny amounts minutes apart on one "testing" merchant.
    testing_pool = ecom[
        np.isin(np.array([_MCCS[i][0] for i in term.mcc[ecom]]), list(_TESTING_MCCS))
    ]
    if testing_pool.size == 0:
        testing_pool = ecom
    testing_pool = rng.choice(testing_pool, max(1, testing_pool.size // 10), replace=False)
    done = 0
    while done < target[_TEST]:
        card = int(rng.integers(0, cards.n))
        c = cards.customer[card]
        m = int(rng.integers(3, 11))
        # Testers work around the clock, night-heavy; bursts running past the end are cut.
        t0 = start_us + int(rng.integers(0, days)) * _DAY_US
        t0 += int(_time_of_day(rng, _HOUR_FRAUD, 1)[0])
        ts = t0 + np.cumsum(rng.integers(10 * _SEC_US, 90 * _SEC_US, m))
        entry_mode = _ECOM_ENTRY if rng.random() < 0.7 else _MANUAL
        add(
            ts,
            card,
            np.full(m, rng.choice(testing_pool)),
            rng.uniform(0.5, 4.99, m),
            np.full(m, entry_mode),
            _TEST,
        )
        done += m
        if rng.random() < 0.6:
            ts_big = ts[-1] + int(rng.integers(5 * _MIN_US, 6 * _HOUR_US))
            if ts_big < end_us:
                big = usual[c] * rng.uniform(4, 10, 1)
                entry = np.array([_ECOM_ENTRY])
                add(np.array([ts_big]), card, rng.choice(ecom, 1), big, entry, _TEST)
                done += 1

    # 4. High amount: isolated purchases far above the customer's profile.
    m = round(target[_HIGH])
    if m:
        hv = np.flatnonzero(
            (term.kind != _ATM)
            & np.isin(np.array([_MCCS[i][0] for i in term.mcc]), list(_HIGH_VALUE_MCCS))
        )
        if hv.size == 0:
            hv = np.flatnonzero(term.kind != _ATM)
        card_arr = rng.integers(0, cards.n, m)
        c_arr = cards.customer[card_arr]
        ts = start_us + rng.integers(0, days, m) * _DAY_US + _time_of_day(rng, _HOUR_LEGIT, m)
        t = rng.choice(hv, m)
        amount = usual[c_arr] * rng.uniform(10, 25, m)
        entry = np.where(term.kind[t] == _ECOM, _ECOM_ENTRY, _CHIP)
        add(ts, card_arr, t, amount, entry, _HIGH)

    if rows["ts"]:
        cat = {k: np.concatenate(v) for k, v in rows.items()}
    else:
        cat = {k: np.empty(0, dtype=np.int64) for k in rows}
        cat["amount"] = np.empty(0)
    keep = cat["ts"] < end_us
    order = np.argsort(cat["ts"][keep], kind="stable")
    cat = {k: v[keep][order] for k, v in cat.items()}
    return _FraudPlan(
        comp_start=comp_start,
        comp_end=comp_end,
        ts=cat["ts"],
        card=cat["card"],
        term=cat["term"],
        amount=cat["amount"],
        entry=cat["entry"],
        scenario=cat["sc"],
    )


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


def _make_credit(
    rng: np.random.Generator, cust: _Customers, n: int, start: date, start_us: int
) -> tuple[pa.Table, pa.Table]:
    c = rng.choice(cust.n, size=n, replace=n > cust.n)
    start_d = np.datetime64(start.isoformat(), "D")
    # Dated up to two years before start, but never before the applicant turned 18.
    eighteenth = _eighteenth_birthday(cust.dob[c])
    max_back = np.minimum(730, (start_d - eighteenth).astype(np.int64))
    back = (rng.random(n) * (max_back + 1)).astype(np.int64)
    applied_d = start_d - back.astype("timedelta64[D]")
    # Business hours, 08:00-20:00.
    applied_us = (
        start_us - back * _DAY_US + 8 * _HOUR_US + rng.integers(0, 12 * _HOUR_US, n)
    ).astype(np.int64)
    age = _age_on(cust.dob[c], applied_d)
    band = _age_band(age)
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
        housing[rows] = _choice(rng, housing_p[b], rows.size)

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
    ids = _APPLICATION_BASE + np.arange(1, n + 1, dtype=np.int64)

    def o(a: Arr) -> Arr:
        return np.asarray(a[order])

    apps = pa.Table.from_arrays(
        [
            pa.array(ids),
            pa.array(_CUSTOMER_BASE + 1 + o(c)),
            _timestamps(o(applied_us)),
            pa.array(o(income)),
            _strings(EMPLOYMENTS, o(employment)),
            pa.array(o(years_employed)),
            _strings(HOUSING, o(housing)),
            _strings(PURPOSES, o(purpose)),
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
            _strings(("F", "M"), o(sex)),
            pa.array(o(age).astype(np.int64)),
            _strings(AGE_BANDS, o(band)),
        ],
        schema=TABLE_SCHEMAS["credit_protected"],
    )
    return apps, protected


def _eighteenth_birthday(dob: Arr) -> Arr:
    """The date each person turned 18 (29 February birthdays fall on 1 March)."""
    y, m, d = _ymd(dob)
    months = ((y + 18 - 1970) * 12 + m - 1).astype("datetime64[M]")
    return np.asarray(months.astype("datetime64[D]") + (d - 1).astype("timedelta64[D]"))
