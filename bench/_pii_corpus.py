"""A labelled corpus of short bank-system texts: real PII and the numbers that look like it.

Each snippet is built from a template whose slots are filled by generators; a slot that holds
PII records its kind and span, so the ground truth is exact. Look-alike slots (order and
tracking numbers, dates, timestamps, amounts, model scores, Luhn-failing card-shaped numbers,
IBANs with a bad checksum, invalid SSNs, masked cards, invoice refs, versions, UUIDs ...) are
not labelled: any detection there is a false positive. Some realistic shapes that rules find
hard are in on purpose (emails spelt out in chat, national phone formats without a "+", long
US account numbers, the "00" international prefix), so recall is not a foregone conclusion.

Deterministic: the same seed gives the same corpus.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Entity", "Snippet", "check_generators", "generate_corpus"]


@dataclass(frozen=True)
class Entity:
    """One true PII value in a snippet: kind (a PIIKind value) and text offsets."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Snippet:
    """A text, its true PII entities, and the template family it came from."""

    text: str
    entities: tuple[Entity, ...]
    family: str


# A slot filler returns the text to insert and the PII kind it holds (None for look-alikes).
Filler = Callable[[random.Random], tuple[str, str | None]]

# --- helpers -----------------------------------------------------------------------------------


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _luhn_ok(number: str) -> bool:
    return _luhn_check_digit(number[:-1]) == number[-1]


def _group(number: str, sizes: tuple[int, ...], sep: str) -> str:
    parts, pos = [], 0
    for size in sizes:
        parts.append(number[pos : pos + size])
        pos += size
    if pos < len(number):
        parts.append(number[pos:])
    return sep.join(p for p in parts if p)


# --- PAN -------------------------------------------------------------------------------------
# (prefix chooser, length, weight)
_BRANDS: list[tuple[Callable[[random.Random], str], int, float]] = [
    (lambda r: "4", 16, 34),  # Visa
    (lambda r: "4", 13, 1),  # old Visa
    (lambda r: "4", 19, 1),  # Visa 19
    (lambda r: str(r.randint(51, 55)), 16, 20),  # Mastercard
    (lambda r: str(r.randint(2221, 2720)), 16, 6),  # Mastercard 2-series
    (lambda r: r.choice(["34", "37"]), 15, 10),  # Amex
    (lambda r: r.choice(["6011", "65", str(r.randint(644, 649))]), 16, 7),  # Discover
    (lambda r: str(r.randint(3528, 3589)), 16, 5),  # JCB
    (lambda r: "62", 16, 5),  # UnionPay
    (lambda r: "62", 19, 2),  # UnionPay 19
    (lambda r: r.choice(["36", "38", str(r.randint(300, 305))]), 14, 3),  # Diners
    (lambda r: r.choice(["50", "56", "57", "58", "6759", "6761"]), 16, 4),  # Maestro
    (lambda r: r.choice(["50", "56", "57", "58", "6759", "6761"]), 19, 2),  # Maestro 19
]


def _pan_number(rng: random.Random) -> str:
    prefix_fn, length, _ = rng.choices(_BRANDS, weights=[b[2] for b in _BRANDS])[0]
    prefix = prefix_fn(rng)
    body = prefix + _digits(rng, length - len(prefix) - 1)
    return body + _luhn_check_digit(body)


def _format_card(rng: random.Random, number: str) -> str:
    n = len(number)
    style = rng.random()
    if style < 0.45:
        return number
    sep = " " if style < 0.8 else "-"
    if n == 15:
        return _group(number, (4, 6, 5), sep)
    if n == 14:
        return _group(number, (4, 6, 4), sep) if rng.random() < 0.6 else number
    return _group(number, (4, 4, 4, 4, 3), sep)


def pan(rng: random.Random) -> tuple[str, str | None]:
    return _format_card(rng, _pan_number(rng)), "PAN"


def pan_luhn_fail(rng: random.Random) -> tuple[str, str | None]:
    """Card-shaped (issuer prefix, 16 digits) but the check digit is wrong: a typo, not a card."""
    number = _pan_number(rng)
    while len(number) != 16:
        number = _pan_number(rng)
    bad = str((int(number[-1]) + rng.randint(1, 9)) % 10)
    return _format_card(rng, number[:-1] + bad), None


# --- IBAN ------------------------------------------------------------------------------------
# BBAN shape per country: a = upper letter, n = digit, c = alphanumeric.
_BBAN: dict[str, str] = {
    "GB": "aaaannnnnnnnnnnnnn",
    "IE": "aaaannnnnnnnnnnnnn",
    "DE": "nnnnnnnnnnnnnnnnnn",
    "FR": "nnnnnnnnnncccccccccccnn",
    "NL": "aaaannnnnnnnnn",
    "ES": "nnnnnnnnnnnnnnnnnnnn",
    "IT": "annnnnnnnnncccccccccccc",
    "BE": "nnnnnnnnnnnn",
    "CH": "nnnnncccccccccccc",
    "PL": "nnnnnnnnnnnnnnnnnnnnnnnn",
    "PT": "nnnnnnnnnnnnnnnnnnnnn",
    "AT": "nnnnnnnnnnnnnnnn",
    "LU": "nnnccccccccccccc",
    "SE": "nnnnnnnnnnnnnnnnnnnn",
    "DK": "nnnnnnnnnnnnnn",
    "NO": "nnnnnnnnnnn",
    "FI": "nnnnnnnnnnnnnn",
    "CZ": "nnnnnnnnnnnnnnnnnnnn",
    "GR": "nnnnnnncccccccccccccccc",
    "RO": "aaaacccccccccccccccc",
    "HU": "nnnnnnnnnnnnnnnnnnnnnnnn",
    "LT": "nnnnnnnnnnnnnnnn",
    "SA": "nncccccccccccccccccc",
    "AE": "nnnnnnnnnnnnnnnnnnn",
}
_COUNTRY_WEIGHTS = {"GB": 14, "DE": 12, "FR": 10, "NL": 6, "ES": 6, "IT": 6, "IE": 4, "BE": 4}


def _iban_check(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def _bban(rng: random.Random, country: str) -> str:
    alphabet = {"a": string.ascii_uppercase, "n": string.digits}
    alnum = string.ascii_uppercase + string.digits
    return "".join(rng.choice(alphabet.get(ch, alnum)) for ch in _BBAN[country])


def _format_iban(rng: random.Random, iban: str) -> str:
    style = rng.random()
    if style < 0.5:
        return iban
    if style < 0.95:
        return _group(iban, (4,) * 8, " ")
    return iban.lower()


def _iban_country(rng: random.Random) -> str:
    countries = list(_BBAN)
    weights = [_COUNTRY_WEIGHTS.get(c, 2) for c in countries]
    return rng.choices(countries, weights=weights)[0]


def iban(rng: random.Random) -> tuple[str, str | None]:
    country = _iban_country(rng)
    bban = _bban(rng, country)
    return _format_iban(rng, country + _iban_check(country, bban) + bban), "IBAN"


def iban_invalid(rng: random.Random) -> tuple[str, str | None]:
    """IBAN-shaped but invalid: wrong check digits, a dropped character, or a typo'd digit."""
    country = _iban_country(rng)
    bban = _bban(rng, country)
    check = _iban_check(country, bban)
    how = rng.random()
    if how < 0.4:
        check = f"{(int(check) + rng.randint(1, 96)) % 97 + 2:02d}"[-2:]
        if check == _iban_check(country, bban):
            check = f"{(int(check) + 1) % 98:02d}"
    elif how < 0.7:
        cut = rng.randrange(len(bban))
        bban = bban[:cut] + bban[cut + 1 :]
    else:
        digits_at = [i for i, ch in enumerate(bban) if ch.isdigit()]
        i = rng.choice(digits_at)
        bban = bban[:i] + str((int(bban[i]) + rng.randint(1, 9)) % 10) + bban[i + 1 :]
    return _format_iban(rng, country + check + bban), None


# --- SSN -------------------------------------------------------------------------------------


def _ssn_parts(rng: random.Random) -> tuple[str, str, str]:
    area = rng.randint(1, 899)
    while area == 666:
        area = rng.randint(1, 899)
    return f"{area:03d}", f"{rng.randint(1, 99):02d}", f"{rng.randint(1, 9999):04d}"


def ssn(rng: random.Random) -> tuple[str, str | None]:
    a, g, s = _ssn_parts(rng)
    return (f"{a}-{g}-{s}" if rng.random() < 0.8 else f"{a} {g} {s}"), "SSN"


def ssn_bare(rng: random.Random) -> tuple[str, str | None]:
    a, g, s = _ssn_parts(rng)
    return a + g + s, "SSN"


def ssn_invalid(rng: random.Random) -> tuple[str, str | None]:
    a, g, s = _ssn_parts(rng)
    how = rng.randrange(5)
    if how == 0:
        a = "000"
    elif how == 1:
        a = "666"
    elif how == 2:
        a = str(rng.randint(900, 999))  # ITIN / never issued
    elif how == 3:
        g = "00"
    else:
        s = "0000"
    return f"{a}-{g}-{s}", None


# --- EMAIL -----------------------------------------------------------------------------------
# fmt: off
_FIRST = ["james", "mary", "olivia", "noah", "amelia", "liam", "sofia", "oliver", "isla",
          "aiden", "priya", "wei", "fatima", "jose"]
_LAST = ["smith", "jones", "taylor", "brown", "wilson", "evans", "patel", "nguyen", "garcia",
         "muller", "rossi", "okafor"]
_DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "hotmail.fr", "icloud.com",
            "btinternet.com", "protonmail.ch", "examplebank.com", "mail.example.org",
            "acme-corp.de", "uni.ac.uk", "web.de", "orange.fr", "libero.it"]
# fmt: on


def email(rng: random.Random) -> tuple[str, str | None]:
    f, last = rng.choice(_FIRST), rng.choice(_LAST)
    local = rng.choice(
        [
            f"{f}.{last}",
            f"{f[0]}{last}",
            f"{f}_{last}{rng.randint(1, 99)}",
            f"{f}+bank",
            f"{f}.{last}{rng.randint(1970, 2005)}",
            f"{last}.{f[0]}",
        ]
    )
    address = f"{local}@{rng.choice(_DOMAINS)}"
    if rng.random() < 0.02:  # spelt out to dodge filters, as customers do in chat
        return address.replace("@", " at ").replace(".", " dot "), "EMAIL"
    return (address.upper() if rng.random() < 0.03 else address), "EMAIL"


def email_lookalike(rng: random.Random) -> tuple[str, str | None]:
    return rng.choice(
        [
            f"logo@{rng.randint(2, 3)}x.png",
            f"icon-{rng.choice(['home', 'card', 'user'])}@2x.webp",
            "admin@localhost",
            f"@{rng.choice(_FIRST)}{rng.choice(_LAST)}",
            f"numpy@1.{rng.randint(20, 26)}.{rng.randint(0, 9)}",
            f"service@{rng.randint(1, 9)}.{rng.randint(0, 9)}",
            f"{rng.choice(_LAST)}@",
        ]
    ), None


# --- PHONE -----------------------------------------------------------------------------------


# Numbers follow the real numbering plans (assigned US area codes, London 020 3/7/8, UK
# mobiles 074-079), so a validating detector such as Presidio's is not penalised for rejecting
# numbers no operator could have issued.
_US_AREAS = ["212", "213", "305", "312", "404", "415", "503", "602", "617", "646", "702", "713"]


def phone(rng: random.Random) -> tuple[str, str | None]:
    d = lambda n: _digits(rng, n)  # noqa: E731 - a one-letter helper keeps the table readable
    area = rng.choice(_US_AREAS)
    exch = str(rng.randint(200, 999))
    london = f"{rng.choice('378')}{d(3)} {d(4)}"
    mobile = f"7{rng.randint(4, 9)}{d(2)} {d(6)}"
    choices = [
        (f"+44 20 {london}", 6),
        (f"+44 {mobile}", 6),
        (f"+44 (0)20 {london}", 2),
        (f"+1 {area}-{exch}-{d(4)}", 5),
        (f"+1 ({area}) {exch}-{d(4)}", 3),
        (f"+49 30 {d(8)}", 3),
        (f"+49 171 {d(7)}", 2),
        (f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}", 3),
        (f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}", 2),
        (f"+353 1 {d(3)} {d(4)}", 2),
        (f"+61 2 {d(4)} {d(4)}", 1),
        (f"+91 9{d(4)} {d(5)}", 2),
        (f"+34 6{d(2)} {d(3)} {d(3)}", 2),
        (f"+447{rng.randint(4, 9)}{d(8)}", 1),
        (f"+1{area}{exch}{d(4)}", 1),
        (f"({area}) {exch}-{d(4)}", 8),
        (f"{area}-{exch}-{d(4)}", 8),
        (f"{area}.{exch}.{d(4)}", 3),
        (f"{area} {exch} {d(4)}", 2),
        (f"1-800-{exch}-{d(4)}", 2),
        (f"0{mobile}", 6),
        (f"0{mobile}".replace(" ", ""), 2),
        (f"020 {london}", 4),
        (f"0161 {rng.randint(2, 9)}{d(2)} {d(4)}", 2),
        (f"0113 {rng.randint(2, 9)}{d(2)} {d(4)}", 1),
        (f"0800 {d(3)} {d(4)}", 1),
        (f"0044 20 {london}", 1),
        (f"0033 6 {d(2)} {d(2)} {d(2)} {d(2)}", 1),
        (f"0{rng.randint(1, 7)} {d(2)} {d(2)} {d(2)} {d(2)}", 2),  # French national
        (f"0{rng.choice('67')}.{d(2)}.{d(2)}.{d(2)}.{d(2)}", 1),
        (f"+1.{area}.{exch}.{d(4)}", 1),
        (f"030 {d(8)}", 1),  # German national
        (f"0171 {d(7)}", 1),
    ]
    text = rng.choices([c[0] for c in choices], weights=[c[1] for c in choices])[0]
    return text, "PHONE"


# --- ACCOUNT ---------------------------------------------------------------------------------


def account_phrase(rng: random.Random) -> tuple[str, str | None]:
    """The context words for an account number (not PII themselves)."""
    return rng.choice(
        [
            "account number",
            "account no.",
            "Account No:",
            "acct #",
            "acct",
            "A/C",
            "a/c no",
            "account:",
            "Account Number",
            "beneficiary account",
            "savings account",
            "checking account number",
            "account number is",
            "Acct No.",
            "acc. no.",
            "Account #",
        ]
    ), None


def account_number(rng: random.Random) -> tuple[str, str | None]:
    # US account numbers run to 17 digits; most are 8-12.
    n = rng.choices([8, 6, 7, 9, 10, 12, 14, 17], weights=[10, 1, 1, 3, 3, 2, 0.4, 0.2])[0]
    if rng.random() < 0.03:  # spaced "1234 5678": people write it, the rules do not take it
        return f"{_digits(rng, 4)} {_digits(rng, 4)}", "ACCOUNT"
    return _digits(rng, n), "ACCOUNT"


def sort_code_account(rng: random.Random) -> tuple[str, str | None]:
    sc = f"{_digits(rng, 2)}-{_digits(rng, 2)}-{_digits(rng, 2)}"
    return rng.choice([f"{sc} {_digits(rng, 8)}", f"{sc}, account {_digits(rng, 8)}"]), "ACCOUNT"


# --- look-alikes -----------------------------------------------------------------------------


def order_number(rng: random.Random) -> tuple[str, str | None]:
    n = rng.choice([8, 10, 12, 13, 14, 15, 16, 16, 16, 17, 18, 19])
    return str(rng.randint(1, 9)) + _digits(rng, n - 1), None


def tracking_number(rng: random.Random) -> tuple[str, str | None]:
    how = rng.randrange(5)
    if how == 0:  # USPS, printed in groups of four
        return _group("9400" + _digits(rng, 18), (4,) * 5, " "), None
    if how == 1:
        return "9400" + _digits(rng, 18), None
    if how == 2:  # UPS
        alnum = string.ascii_uppercase + string.digits
        return "1Z" + "".join(rng.choice(alnum) for _ in range(16)), None
    if how == 3:  # FedEx
        return _group(_digits(rng, 12), (4, 4, 4), " "), None
    return f"JD{_digits(rng, 18)}", None  # DHL parcel


def date(rng: random.Random) -> tuple[str, str | None]:
    y, m, d = rng.randint(2019, 2027), rng.randint(1, 12), rng.randint(1, 28)
    iso, uk, us = f"{y}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y}", f"{m:02d}/{d:02d}/{y}"
    return rng.choice(
        [iso, uk, us, f"{d:02d}.{m:02d}.{y}", iso.replace("-", ""), f"{d:02d}-{m:02d}-{y}"]
    ), None


def timestamp(rng: random.Random) -> tuple[str, str | None]:
    y, m, d = rng.randint(2019, 2027), rng.randint(1, 12), rng.randint(1, 28)
    hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    epoch = rng.randint(1_500_000_000, 1_800_000_000)
    return rng.choice(
        [
            f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z",
            f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}:{ss:02d}.{_digits(rng, 6)}",
            f"{y}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}.{_digits(rng, 3)}+01:00",
            str(epoch),
            f"{epoch}{_digits(rng, 3)}",
            f"{epoch}{_digits(rng, 6)}",
            f"{y}{m:02d}{d:02d}{hh:02d}{mm:02d}{ss:02d}",
            f"{y}{m:02d}{d:02d}{hh:02d}{mm:02d}{ss:02d}{_digits(rng, 3)}",
            f"{hh:02d}:{mm:02d}-{(hh + 1) % 24:02d}:{mm:02d}",
        ]
    ), None


def amount(rng: random.Random) -> tuple[str, str | None]:
    whole = rng.choice([rng.randint(1, 999), rng.randint(1000, 99_999), rng.randint(10**5, 10**9)])
    cents = rng.randint(0, 99)
    uk = f"{whole:,}.{cents:02d}"
    eu = uk.replace(",", "_").replace(".", ",").replace("_", ".")
    return rng.choice(
        [
            uk,
            f"GBP {uk}",
            f"EUR {eu}",
            f"${uk}",
            f"-{whole}.{cents:02d}",
            f"+{uk}",
            f"{whole}.{cents:02d}",
        ]
    ), None


def score(rng: random.Random) -> tuple[str, str | None]:
    return rng.choice(
        [
            f"0.{_digits(rng, 16)}",
            f"0.{_digits(rng, 17)}",
            f"{rng.randint(1, 9)}.{_digits(rng, 15)}e-0{rng.randint(1, 9)}",
            f"0.{_digits(rng, 4)}",
            f"51.{_digits(rng, 8)}, -0.{_digits(rng, 8)}",
        ]
    ), None


def invoice_ref(rng: random.Random) -> tuple[str, str | None]:
    y = rng.randint(2019, 2027)
    return rng.choice(
        [
            f"INV-{y}-{_digits(rng, 6)}",
            f"{y}/{rng.randint(1, 12):02d}/{_digits(rng, 6)}",
            f"INV{y}{_digits(rng, 4)}-{_digits(rng, 4)}",
            f"PO 45{_digits(rng, 8)}",
            f"CASE-{y}-{_digits(rng, 4)}-{_digits(rng, 3)}",
            f"RF{_digits(rng, 2)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)}",
            f"DE{_digits(rng, 2)} {y} {_digits(rng, 4)}",
            f"{_digits(rng, 3)}-{_digits(rng, 3)}-{_digits(rng, 4)}-{_digits(rng, 2)}",
            f"978-{rng.randint(0, 1)}-{_digits(rng, 3)}-{_digits(rng, 5)}-{rng.randint(0, 9)}",
        ]
    ), None


def version(rng: random.Random) -> tuple[str, str | None]:
    a, b, c = rng.randint(0, 12), rng.randint(0, 40), rng.randint(0, 20)
    return rng.choice(
        [
            f"v{a}.{b}.{c}",
            f"{a}.{b}.{c}-rc.{rng.randint(1, 5)}",
            f"build {rng.randint(2019, 2027)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}.{c}",
            f"6.8.0-{b}-generic",
            f"10.{a}.{b}.{c}",
            f"192.168.{b}.{rng.randint(1, 254)}",
        ]
    ), None


def bare_id(rng: random.Random) -> tuple[str, str | None]:
    """Digit runs with no account context: batch sizes, customer and ticket ids."""
    return _digits(rng, rng.choice([6, 7, 8, 9, 10, 11, 12])).lstrip("0") or "7", None


def card_last4(rng: random.Random) -> tuple[str, str | None]:
    return _digits(rng, 4), None


def cvv(rng: random.Random) -> tuple[str, str | None]:
    return _digits(rng, 3), None


def pan_masked(rng: random.Random) -> tuple[str, str | None]:
    """Truncated PANs as receipts print them: no longer PII, must stay readable."""
    number = _pan_number(rng)
    return rng.choice(
        [
            f"{number[:4]} {number[4:6]}** **** {number[-4:]}",
            "*" * (len(number) - 4) + number[-4:],
            number[:6] + "*" * (len(number) - 10) + number[-4:],
            f"XXXX-XXXX-XXXX-{number[-4:]}",
        ]
    ), None


def ssn_masked(rng: random.Random) -> tuple[str, str | None]:
    tail = _digits(rng, 4)
    return rng.choice([f"XXX-XX-{tail}", f"***-**-{tail}"]), None


def uuid_like(rng: random.Random) -> tuple[str, str | None]:
    hexd = "0123456789abcdef"
    h = lambda n: "".join(rng.choice(hexd) for _ in range(n))  # noqa: E731
    return rng.choice(
        [
            f"{h(8)}-{h(4)}-4{h(3)}-a{h(3)}-{h(12)}",
            f"{h(8)}-{h(4)}-4{h(3)}-8{h(3)}-{_digits(rng, 12)}",
            h(40),
            ":".join(h(2).upper() for _ in range(6)),
        ]
    ), None


def padded_list(rng: random.Random) -> tuple[str, str | None]:
    """Zero-padded numbers in a row (schedules, hours): the shape of a French phone number."""
    sep = rng.choice([" ", "."])
    start = rng.randint(1, 9)
    values = [start, *sorted(rng.sample(range(start + 1, 60), 4))]
    return sep.join(f"{v:02d}" for v in values), None


def sku(rng: random.Random) -> tuple[str, str | None]:
    """A 3-3-4 product code: the shape of a North American phone number."""
    return f"{rng.randint(200, 999)}-{_digits(rng, 3)}-{_digits(rng, 4)}", None


def sort_code(rng: random.Random) -> tuple[str, str | None]:
    """A sort code on its own names a branch, not a person."""
    return f"{_digits(rng, 2)}-{_digits(rng, 2)}-{_digits(rng, 2)}", None


FILLERS: dict[str, Filler] = {
    "pan": pan,
    "pan_bad": pan_luhn_fail,
    "iban": iban,
    "iban_bad": iban_invalid,
    "ssn": ssn,
    "ssn_bare": ssn_bare,
    "ssn_bad": ssn_invalid,
    "email": email,
    "email_like": email_lookalike,
    "phone": phone,
    "acct_ctx": account_phrase,
    "acct": account_number,
    "sortacct": sort_code_account,
    "order": order_number,
    "tracking": tracking_number,
    "date": date,
    "ts": timestamp,
    "amount": amount,
    "score": score,
    "inv": invoice_ref,
    "ver": version,
    "id": bare_id,
    "last4": card_last4,
    "cvv": cvv,
    "pan_masked": pan_masked,
    "ssn_masked": ssn_masked,
    "uuid": uuid_like,
    "sortcode": sort_code,
    "padded": padded_list,
    "sku": sku,
}

# --- templates -------------------------------------------------------------------------------
# (family, weight, template). Families starting "pii_" hold at least one PII slot; the
# "lookalike_" ones hold none. Several PII templates also carry look-alikes, as real tickets do.
TEMPLATES: list[tuple[str, float, str]] = [
    # PAN
    ("pii_pan", 3, "Customer called about card {pan} being declined at {ts}"),
    ("pii_pan", 2, "Refund of {amount} to card {pan} for order #{order} on {date}"),
    ("pii_pan", 2, "pan={pan} status=DECLINED reason=51 amount={amount}"),
    ("pii_pan", 2, "card: {pan}, exp 09/27"),
    ("pii_pan", 1, "Please charge {pan} cvv {cvv}"),
    ("pii_pan", 1, "Card details taken over the phone: {pan} 09/27 {cvv}"),
    ("pii_pan", 2, '{{"event": "auth", "card_number": "{pan}", "score": {score}}}'),
    ("pii_pan", 2, "txn,{order},{pan},{amount},GBP,{date}"),
    ("pii_pan", 1, "Chargeback filed: Visa {pan} dispute ref {inv}"),
    ("pii_pan", 1, "cust says her new card is {pan} not the old one ending {last4}"),
    ("pii_pan", 1, "CARD NO. {pan} / TRACKING {tracking}"),
    # IBAN
    ("pii_iban", 3, "Please pay the invoice {inv} to IBAN {iban} by {date}"),
    ("pii_iban", 2, "beneficiary_iban={iban} amount={amount} ref={inv}"),
    ("pii_iban", 2, "SEPA credit transfer from {iban} to {iban} at {ts}"),
    ("pii_iban", 1, "IBAN: {iban} BIC: COBADEFFXXX"),
    ("pii_iban", 1, "New payee added, account {iban}, name on account checked"),
    ("pii_iban", 1, "Customer updated direct debit mandate to {iban}."),
    # SSN
    ("pii_ssn", 2, "SSN {ssn} verified against the bureau file on {date}"),
    ("pii_ssn", 1, "applicant ssn: {ssn_bare}, income {amount}"),
    ("pii_ssn", 1, "Social Security Number {ssn} provided for the credit application {inv}"),
    ("pii_ssn", 1, "co-applicant SSN is {ssn}; ITIN applications go to team B"),
    # EMAIL
    ("pii_email", 3, "Statement for {date} sent to {email}"),
    ("pii_email", 2, "From: {email} Subject: dispute on order #{order}"),
    ("pii_email", 1, "user {email} reset password at {ts}, template logo@2x.png"),
    ("pii_email", 1, "Please cc {email} and {email} on case {inv}."),
    # PHONE
    ("pii_phone", 3, "Customer asked to be called back on {phone} after {ts}"),
    ("pii_phone", 2, "mobile={phone} otp_sent=true at {ts}"),
    ("pii_phone", 2, "Tel: {phone} | Ref: {inv} | Amount: {amount}"),
    ("pii_phone", 1, "Suspicious call from {phone} about order {order}"),
    ("pii_phone", 1, "Contact details changed: phone {phone}, email {email}"),
    # ACCOUNT
    ("pii_acct", 3, "Transfer {amount} from {acct_ctx} {acct} on {date}"),
    ("pii_acct", 2, "Payee details: sort code {sortacct}"),
    ("pii_acct", 2, "Customer {id} confirmed {acct_ctx} {acct} for the refund"),
    ("pii_acct", 1, "Closing {acct_ctx} {acct}; batch {id} reconciled"),
    # mixed
    ("pii_mixed", 2, "KYC: ssn {ssn}, phone {phone}, email {email}, iban {iban}"),
    ("pii_mixed", 2, "Dispute {inv}: card {pan} charged {amount}; call {phone}"),
    ("pii_mixed", 1, "Refund to {acct_ctx} {acct} instead of card {pan}, see {inv}"),
    # look-alikes only
    ("lookalike_order", 4, "Order #{order} shipped on {date}, tracking {tracking}"),
    ("lookalike_order", 3, "order_id={order} total={amount} created={ts}"),
    ("lookalike_order", 2, "Your order {order} of {amount} is confirmed."),
    ("lookalike_tracking", 3, "Parcel {tracking} delivered {ts}"),
    ("lookalike_time", 3, "job finished at {ts} after {amount} seconds, next run {date}"),
    ("lookalike_time", 2, "event_ts={ts} ingest_ts={ts} batch={id}"),
    ("lookalike_amount", 3, "Balance {amount}, pending {amount}, limit {amount}"),
    ("lookalike_score", 3, "model=fraud-gbm v{id} score={score} threshold=0.{last4}"),
    ("lookalike_score", 2, "features: amount_z={score}; velocity={score}"),
    ("lookalike_card", 3, "Card {pan_bad} rejected: failed check digit validation"),
    ("lookalike_card", 2, "ref {pan_bad} amount {amount}"),
    ("lookalike_card", 1, "Card ending {last4} was replaced on {date}"),
    ("lookalike_iban", 3, "Payment rejected, invalid IBAN {iban_bad} (checksum)"),
    ("lookalike_iban", 1, "IBAN {iban_bad} could not be validated"),
    ("lookalike_ssn", 2, "Rejected SSN {ssn_bad}: not issued"),
    ("lookalike_ssn", 1, "part no. {ssn_bad} restocked"),
    ("lookalike_invoice", 3, "Invoice {inv} due {date} for {amount}"),
    ("lookalike_invoice", 2, "See case {inv} and ticket {id}"),
    ("lookalike_version", 3, "Deployed bankml {ver} on host {ver} at {ts}"),
    ("lookalike_version", 1, "pip install numpy=={ver} pandas=={ver}"),
    ("lookalike_email", 2, "Asset {email_like} missing; ping {email_like} on chat"),
    ("lookalike_ids", 3, "Processed {id} rows for customer {id} in {amount} ms"),
    ("lookalike_ids", 2, "account balance {amount}; {id} accounts migrated"),
    ("lookalike_ids", 1, "The account for batch {id} was closed on {date}"),
    # chat transcripts
    ("pii_chat", 2, "hi, my card number is {pan} and you can reach me on {phone}"),
    ("pii_chat", 1, "my email is {email} and my ssn is {ssn}, thanks"),
    ("pii_chat", 1, "can you send it to {acct_ctx} {acct} please? sort code {sortacct}"),
    # look-alikes that are not digits-only
    ("lookalike_masked", 3, "Card {pan_masked} used at merchant {id}; SSN on file {ssn_masked}"),
    ("lookalike_masked", 1, "receipt: {pan_masked} AUTH {cvv}{cvv} {amount}"),
    ("lookalike_ids", 2, "request_id={uuid} host={uuid} latency_ms={id}"),
    ("lookalike_ids", 1, "Branch sort code {sortcode} (head office), opened {date}"),
    ("lookalike_ids", 1, "accounts: {id} migrated, {id} failed, {id} skipped"),
    ("lookalike_misc", 1, "retry schedule {padded} minutes; window {padded}"),
    ("lookalike_misc", 0.5, "SKU {sku} back in stock, {id} units"),
    ("plain", 3, "Customer asked about the overdraft fee and was referred to the policy."),
    ("plain", 2, "Model validation approved by the second line; no exceptions raised."),
    ("plain", 2, "Alert closed as false positive after call-back with the cardholder."),
]

_SLOT = re.compile(r"\{(\w+)\}")


def _render(rng: random.Random, family: str, template: str) -> Snippet:
    parts: list[str] = []
    entities: list[Entity] = []
    pos = 0
    length = 0
    # Literal braces are doubled in templates, as in str.format.
    template = template.replace("{{", "\x01").replace("}}", "\x02")
    for m in _SLOT.finditer(template):
        literal = template[pos : m.start()].replace("\x01", "{").replace("\x02", "}")
        parts.append(literal)
        length += len(literal)
        value, kind = FILLERS[m.group(1)](rng)
        if kind is not None:
            entities.append(Entity(kind, length, length + len(value)))
        parts.append(value)
        length += len(value)
        pos = m.end()
    parts.append(template[pos:].replace("\x01", "{").replace("\x02", "}"))
    return Snippet("".join(parts), tuple(entities), family)


def generate_corpus(n: int = 12_000, seed: int = 20261128) -> list[Snippet]:
    """``n`` labelled snippets, the same ones for the same seed."""
    rng = random.Random(seed)
    weights = [t[1] for t in TEMPLATES]
    return [_render(rng, family, tpl) for family, _, tpl in rng.choices(TEMPLATES, weights, k=n)]


def check_generators(samples: int = 2000) -> None:
    """Raise if a generator does not produce what it claims: every PAN passes Luhn, every IBAN
    passes mod-97 at its country's length, and their look-alikes fail."""
    rng = random.Random(1)
    for _ in range(samples):
        checks = {
            "pan": _luhn_ok(re.sub(r"[ -]", "", pan(rng)[0])),
            "pan_bad": not _luhn_ok(re.sub(r"[ -]", "", pan_luhn_fail(rng)[0])),
            "iban": _iban_valid(iban(rng)[0].replace(" ", "").upper()),
            "iban_bad": not _iban_valid(iban_invalid(rng)[0].replace(" ", "").upper()),
        }
        broken = [name for name, ok in checks.items() if not ok]
        if broken:
            raise RuntimeError(f"corpus generator {broken[0]!r} produced a wrong value")


def _iban_valid(value: str) -> bool:
    if len(_BBAN.get(value[:2], "")) + 4 != len(value):
        return False
    return int("".join(str(int(ch, 36)) for ch in value[4:] + value[:4])) % 97 == 1
