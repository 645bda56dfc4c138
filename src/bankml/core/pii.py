"""PII in free text and tables: find it, redact it, or replace it by a keyed token.

Two tools for two jobs:

* ``redact_text`` / ``redact_payload`` replace card numbers, IBANs, US SSNs, emails, phone
  numbers and context-introduced bank account numbers with typed placeholders (``[PAN]``,
  ``[IBAN]`` ...). Everything that leaves the process as text goes through them: log records,
  ledger payloads, LLM prompts.
* ``PIITokenizer`` replaces an identifier by a keyed hash (HMAC-SHA256), so features and
  ledger entries can still join on "the same card" without holding the card number.

Detection is rules plus validators, pure stdlib: Luhn and issuer ranges for PANs, mod-97 and
the registered country length for IBANs, the SSA area/group/serial rules for SSNs, a context
word for account numbers. The rules are tuned for the digit-heavy text a bank's systems write
(order numbers, timestamps, amounts, model scores), and where precision and a missed PAN pull
in different directions they side with redaction: a PAN is redacted whatever words surround
it, because a lost order number costs less than a leaked card.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from bankml.core.errors import InputError
from bankml.core.text import clean_text

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PIIKind",
    "PIIMatch",
    "PIITokenizer",
    "contains_pii",
    "find_pii",
    "redact_free_text",
    "redact_payload",
    "redact_text",
]

EMPTY_KEY_ERROR = "the tokenization key must not be empty"
BAD_KIND_ERROR = "token kind must be a short lowercase identifier like 'pan' or 'customer_id'"
MISSING_COLUMN_ERROR = "cannot tokenize: the frame has no column {column!r}"


class PIIKind(StrEnum):
    """The kinds of PII the detector finds; each value is also its redaction placeholder.

    Names of people and addresses are not here: they need a language model, not rules, and the
    callers that handle them (policy assistant, documents) tokenise them at the source.
    """

    PAN = "PAN"
    IBAN = "IBAN"
    SSN = "SSN"
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    ACCOUNT = "ACCOUNT"


@dataclass(frozen=True)
class PIIMatch:
    """One piece of PII found in a text: its kind and ``text[start:end]`` offsets.

    Offsets cover the value only, not the context word that revealed it ("account no" stays,
    the number goes), so a redacted text still reads.
    """

    kind: PIIKind
    start: int
    end: int


# Every kind contains a digit or an "@": text without either is returned untouched, which is
# most log lines and keeps the logging filter cheap. The digit patterns below open with a
# lookahead on their first character, so the engine skips most positions before trying the
# costlier lookbehinds (a third faster on the bench corpus).
_TRIGGER = re.compile(r"[0-9@]")
# Identifiers bankml mints itself carry no PII by construction: a keyed token (HMAC output,
# ``tok_<kind>_<24 hex>``) or a UUID, optionally after a ``word:`` prefix ("decision:<uuid>").
# Recognised whole, they skip the scan: a decision's payload holds several, and scanning each
# cost more than the rest of the ledger append (bench/ledger.py). A random hex run can look
# like a card number to the rules; rewriting a token would only break its joins.
_MINTED = re.compile(
    r"(?:[a-z][a-z0-9_.]{0,31}:)?"
    r"(?:tok_[a-z][a-z0-9_]{0,31}_[0-9a-f]{24}"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
    re.ASCII,
)

# --- PAN ---------------------------------------------------------------------------------------
# Three printed shapes: one run of 13-19 digits, 4-4-4-4(-3) / 4-4-4-1 groups, and the 4-6-5
# (Amex) / 4-6-4 (Diners) groups; one separator (space or dash) used throughout. A PAN is a
# whole token: no letter or digit glued on, not the fraction of a decimal (a model score such as
# 0.4111111111111111 is not a card; a comma is not excluded, it separates CSV fields), and a
# grouped PAN is not the middle of a longer run of 4-character groups (parcel tracking numbers
# and the body of a mistyped IBAN are printed that way).
_PAN_RE = re.compile(
    r"""
    (?=[0-9]) (?<![0-9A-Za-z])
    (?:
        (?<![0-9]\.) [0-9]{13,19} (?!\.[0-9])
      | (?<![0-9]{4}[ -]) (?<![A-Za-z]{2}[0-9]{2}[ ])
        [0-9]{4} (?P<s1>[ -]) [0-9]{4} (?P=s1) [0-9]{4} (?P=s1)
        (?: [0-9]{4} (?: (?P=s1) [0-9]{3} )? | [0-9] )
        (?! (?P=s1) [0-9]{4} )
      | (?<![0-9]{4}[ -]) (?<![A-Za-z]{2}[0-9]{2}[ ])
        [0-9]{4} (?P<s2>[ -]) [0-9]{6} (?P=s2) [0-9]{4,5}
    )
    (?![0-9A-Za-z])
    """,
    re.VERBOSE | re.ASCII,
)
_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn_ok(digits: str) -> bool:
    values = [ord(ch) - 48 for ch in digits]
    total = sum(values[-1::-2]) + sum(_LUHN_DOUBLED[v] for v in values[-2::-2])
    return total % 10 == 0


def _issuer_ok(digits: str) -> bool:
    """Whether the leading digits and the length fit a real card scheme (ISO/IEC 7812 IINs).

    Luhn alone lets one random number in ten through; the issuer table removes most of the
    rest, e.g. timestamps starting with a year (2026...) and epoch milliseconds (17...).
    """
    n = len(digits)
    first = digits[0]
    if first == "4":  # Visa
        return n in (13, 16, 19)
    two = int(digits[:2])
    if first == "5":  # Mastercard 51-55; Maestro 50, 56-59
        return n == 16 if 51 <= two <= 55 else n >= 13
    if first == "2":  # Mastercard 2221-2720; Mir 2200-2204
        four = int(digits[:4])
        if 2221 <= four <= 2720:
            return n == 16
        return 2200 <= four <= 2204 and n >= 16
    if first == "3":
        if two in (34, 37):  # Amex
            return n == 15
        if two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:  # Diners
            return n >= 14
        return 3528 <= int(digits[:4]) <= 3589 and n >= 16  # JCB
    if first == "6":  # Discover, UnionPay, RuPay; Maestro 63/67 also prints shorter numbers
        return n >= 16 or two in (63, 67)
    return False


def _scan_pans(text: str, found: list[tuple[int, int, int, PIIKind]]) -> None:
    for m in _PAN_RE.finditer(text):
        start, end = m.span()
        digits = m.group().replace(" ", "").replace("-", "")
        if len(digits) == 19 and m.group("s1") and not (_issuer_ok(digits) and _luhn_ok(digits)):
            # 4-4-4-4 followed by a 3-digit group: usually a 16-digit PAN and its CVV. The PAN
            # is its first 19 characters (16 digits, 3 separators).
            digits, end = digits[:16], start + 19
        if _issuer_ok(digits) and _luhn_ok(digits):
            found.append((_RANK[PIIKind.PAN], start, end, PIIKind.PAN))


# --- IBAN --------------------------------------------------------------------------------------
# Registered lengths (SWIFT IBAN registry). The length plus mod-97 is what separates an IBAN
# from an invoice reference such as "DE12 2026 0042": one random candidate in 97 passes mod-97,
# and almost none has the right length for its country as well.
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
    "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27,
    "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
# Country, check digits, then alphanumerics with at most single spaces between them (print
# groups of four, or none). The match deliberately runs on; the country length decides where
# the IBAN ends, so "DE89 3704 0044 0532 0130 00 BIC COBADEFF" still ends at "00".
_IBAN_RE = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{2}[0-9]{2}(?:[ ]?[0-9A-Za-z]){10,30}", re.ASCII)
_IBAN_TO_DIGITS = str.maketrans({chr(c): str(c - 55) for c in range(ord("A"), ord("Z") + 1)})


def _iban_end(text: str, start: int, candidate: str) -> int | None:
    """End offset of a valid IBAN starting at ``start``, or None."""
    length = _IBAN_LENGTHS.get(candidate[:2].upper())
    if length is None:
        return None
    seen = 0
    end = -1
    for i, ch in enumerate(candidate):
        if ch != " ":
            seen += 1
            if seen == length:
                end = start + i + 1
                break
    if end < 0 or (end < len(text) and text[end].isascii() and text[end].isalnum()):
        return None
    iban = text[start:end].replace(" ", "").upper()
    return end if int((iban[4:] + iban[:4]).translate(_IBAN_TO_DIGITS)) % 97 == 1 else None


def _scan_ibans(text: str, found: list[tuple[int, int, int, PIIKind]]) -> None:
    # search() from a moving position rather than finditer(): a failed candidate must not
    # swallow the text after it, where the next IBAN may start.
    pos = 0
    while (m := _IBAN_RE.search(text, pos)) is not None:
        end = _iban_end(text, m.start(), m.group())
        if end is None:
            pos = m.start() + 1
        else:
            found.append((_RANK[PIIKind.IBAN], m.start(), end, PIIKind.IBAN))
            pos = end


# --- SSN ---------------------------------------------------------------------------------------
# SSA rules: area 000, 666 and 900-999 are never issued, nor group 00 or serial 0000. A bare
# 9-digit number is an SSN only right after "SSN" / "social security": otherwise it is as likely
# a routing number or an order number.
_SSN_RE = re.compile(
    r"""
    (?=[0-9]) (?<![0-9A-Za-z]) (?<![0-9][ -])
    (?!000|666|9) [0-9]{3} (?P<sep>[ -]) (?!00) [0-9]{2} (?P=sep) (?!0000) [0-9]{4}
    (?![0-9A-Za-z]) (?![ -][0-9]) (?!\.[0-9])
    """,
    re.VERBOSE | re.ASCII,
)
_SSN_WORDS = ("ssn", "ss#", "social")
_SSN_KEYWORD_RE = re.compile(
    r"""
    (?<![0-9A-Za-z])
    (?: ssn | ss\# | social[ ]security (?:[ ](?:number|no\.?|\#))? ) [ ]* (?:[:\#=]|is)? [ ]*
    (?P<bare> (?!000|666|9) [0-9]{3} (?!00) [0-9]{2} (?!0000) [0-9]{4} )
    (?![0-9A-Za-z]) (?!\.[0-9])
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)


def _scan_ssns(text: str, lowered: str, found: list[tuple[int, int, int, PIIKind]]) -> None:
    for m in _SSN_RE.finditer(text):
        found.append((_RANK[PIIKind.SSN], m.start(), m.end(), PIIKind.SSN))
    if any(word in lowered for word in _SSN_WORDS):
        for m in _SSN_KEYWORD_RE.finditer(text):
            found.append((_RANK[PIIKind.SSN], m.start("bare"), m.end("bare"), PIIKind.SSN))


# --- EMAIL -------------------------------------------------------------------------------------
_EMAIL_RE = re.compile(
    r"""
    (?<![A-Za-z0-9._%+-])
    [A-Za-z0-9_%+-]+ (?:\.[A-Za-z0-9_%+-]+)*
    @
    (?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+
    (?P<tld>[A-Za-z]{2,24})
    (?![A-Za-z0-9-])
    """,
    re.VERBOSE | re.ASCII,
)
# Without the public suffix list (no network), the TLD is only checked for shape; these file
# extensions are not TLDs and turn up after an "@" in asset names such as "logo@2x.png".
# fmt: off
_NOT_TLDS = frozenset({
    "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "pdf", "csv",
    "tsv", "txt", "log", "json", "yaml", "yml", "xml", "js", "css", "html", "htm", "ini",
    "cfg", "toml", "lock", "whl", "gz", "tgz", "bz2", "xz", "parquet",
})
# fmt: on


def _scan_emails(text: str, found: list[tuple[int, int, int, PIIKind]]) -> None:
    for m in _EMAIL_RE.finditer(text):
        if m.group("tld").lower() not in _NOT_TLDS:
            found.append((_RANK[PIIKind.EMAIL], m.start(), m.end(), PIIKind.EMAIL))


# --- PHONE -------------------------------------------------------------------------------------
# Three families, each ending where the number ends (no letter or digit glued on, not followed
# by ".5" or "-12", which is how amounts, versions and part numbers continue):
#   international: "+", then 8-15 digits with single spaces/dashes and a parenthesised trunk or
#   area code; or "00", a country code and space-separated groups ("0044 20 7946 0958"), not
#   preceded by another group, as zero-padded references in 4-digit groups would be;
#   North American (NPA) NXX-NNNN with one separator style (the exchange is not checked:
#   "555-123-4567" is how people write example and test numbers);
#   UK national 07xxx / 02x / 01xx / 03xx / 08xx; bare 11 digits only for mobiles and 02x.
# Ten or eleven bare digits, and the French five pairs "01 23 45 67 89" / "06.12.34.56.78", are
# a phone only after a word such as "phone", "tel" or "call": without it they are as likely a
# reference or a zero-padded schedule. Other national formats (German "030 12345678") are not
# attempted.
_PHONE_RE = re.compile(
    r"""
    (?=[0-9+(]) (?<![0-9A-Za-z+]) (?<![0-9A-Za-z][.-])
    (?:
        (?P<intl> \+ [1-9] (?: [ -]? (?: \([0-9]{1,4}\) | [0-9] ) ){7,14} )
      | (?<![0-9][ -])
        (?P<intl00> 00 [ ]? (?: 1 | 7 | [2-9][0-9]{1,2} )
                    (?: [ ] (?: \([0-9]{1,4}\) | [0-9]+ ) ){2,5} )
      | (?: \+?1 [ .-]? )?
        (?: \( [2-9][0-9]{2} \) [ ]? [0-9]{3} [ .-]
          | [2-9][0-9]{2} (?P<nsep>[ .-]) [0-9]{3} (?P=nsep) )
        [0-9]{4}
      | 0 (?: 7[0-9]{3} [ ]? (?: [0-9]{6} | [0-9]{3}[ ][0-9]{3} )
            | 2[0-9] [ ]? [0-9]{4} [ ]? [0-9]{4}
            | 1[0-9]{2} [ ] [0-9]{3} [ ] [0-9]{4}
            | 1[0-9]{3} [ ] [0-9]{5,6}
            | [38][0-9]{2} [ ] [0-9]{3} [ ] [0-9]{4} )
    )
    (?![0-9A-Za-z]) (?![.-][0-9])
    """,
    re.VERBOSE | re.ASCII,
)
_PHONE_WORDS = ("phone", "tel", "mob", "cell", "fax", "sms", "whatsapp", "call")
_PHONE_CONTEXT_RE = re.compile(
    r"""
    (?<![A-Za-z])
    (?: telephone | phone | tel | mobile | mob | cell | fax | sms | whatsapp
      | call(?:ed)? (?:[ ]back)? )
    (?: [ ]* (?: number | no\.? | is | on | from | at | [:\#=] ) )* [ ]*
    (?P<bare> (?:\+?1)? [2-9][0-9]{9} | 0[0-9]{10}
      | 0[1-9] (?P<frsep>[ .]) [0-9]{2} (?P=frsep) [0-9]{2} (?P=frsep) [0-9]{2}
        (?P=frsep) [0-9]{2} )
    (?![0-9A-Za-z]) (?![.-][0-9])
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)


def _scan_phones(text: str, lowered: str, found: list[tuple[int, int, int, PIIKind]]) -> None:
    for m in _PHONE_RE.finditer(text):
        intl = m.group("intl") or m.group("intl00")
        if intl is not None:
            digits = sum(ch.isdigit() for ch in intl) - (2 if intl[0] == "0" else 0)
            if not 8 <= digits <= 15:
                continue
        found.append((_RANK[PIIKind.PHONE], m.start(), m.end(), PIIKind.PHONE))
    if any(word in lowered for word in _PHONE_WORDS):
        for m in _PHONE_CONTEXT_RE.finditer(text):
            found.append((_RANK[PIIKind.PHONE], m.start("bare"), m.end("bare"), PIIKind.PHONE))


# --- ACCOUNT -----------------------------------------------------------------------------------
# An account number is just digits; only the words before it say what it is. The number is
# matched right after a context word ("account", "acct", "a/c", "sort code"), optionally
# followed by "no.", "number", "#", ":" or "is"; 6-17 digits (US account numbers run to 17),
# run together or in groups ("1234 5678"). A UK sort code and its 8-digit account are one match
# so neither half survives; a sort code on its own names a branch, not a person, and stays.
_ACCOUNT_WORD = r"(?:account|acct|acc|a/c)\.?"  # not "accounts": "accounts: 1500" is a count
_ACCOUNT_FILLER = r"(?:[ ]*(?:number|num|nr|no\.?|id|is|[:\#=]))*[ ]*"
_SORT_CODE = r"[0-9]{2}(?P<scsep>[ -])[0-9]{2}(?P=scsep)[0-9]{2}"
_ACCOUNT_RE = re.compile(
    rf"""
    (?<![A-Za-z])
    (?:
        {_ACCOUNT_WORD} {_ACCOUNT_FILLER}
        (?P<acct> [0-9]{{2}}-[0-9]{{2}}-[0-9]{{2}} [ ]* [,/]? [ ]* [0-9]{{8}}
          | [0-9]{{6,17}}
          | [0-9]{{2,6}} (?P<asep>[ -]) [0-9]{{2,6}} (?: (?P=asep) [0-9]{{2,6}} ){{0,2}} )
      | sort[ -]?code [ ]* [:\#=]? [ ]*
        (?P<sort> {_SORT_CODE} [ ]* [,;/]? [ ]*
                  (?: {_ACCOUNT_WORD} {_ACCOUNT_FILLER} )? [0-9]{{8}} )
    )
    (?![0-9A-Za-z]) (?![.-][0-9])
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)
_ACCOUNT_WORDS = ("acc", "a/c", "sort")


def _scan_accounts(text: str, lowered: str, found: list[tuple[int, int, int, PIIKind]]) -> None:
    if not any(word in lowered for word in _ACCOUNT_WORDS):
        return
    for m in _ACCOUNT_RE.finditer(text):
        if m.group("acct"):
            start, end = m.span("acct")
            if not 6 <= sum(ch.isdigit() for ch in m.group("acct")) <= 17:
                continue
        else:
            start, end = m.span("sort")
        found.append((_RANK[PIIKind.ACCOUNT], start, end, PIIKind.ACCOUNT))


# Overlaps: checksum-validated and structural kinds beat the contextual ones (an IBAN after the
# word "account" is an IBAN; a PAN never loses to a phone shape), then the longer span wins.
_RANK: dict[PIIKind, int] = {
    PIIKind.IBAN: 0,
    PIIKind.PAN: 0,
    PIIKind.EMAIL: 0,
    PIIKind.SSN: 1,
    PIIKind.ACCOUNT: 2,
    PIIKind.PHONE: 3,
}


def find_pii(text: str) -> list[PIIMatch]:
    """Find PANs, IBANs, SSNs, emails, phones and account numbers in ``text``.

    Returns non-overlapping matches sorted by start. Rule-based: it finds these six kinds in
    the shapes banks print them, not names or addresses, and not numbers spelt out in words.
    """
    if _TRIGGER.search(text) is None:
        return []
    # The context-word rules run only when a context word is present at all: a cheap test on
    # the lowered text (used for membership only, never for offsets).
    lowered = text.lower()
    found: list[tuple[int, int, int, PIIKind]] = []
    _scan_pans(text, found)
    _scan_ibans(text, found)
    _scan_ssns(text, lowered, found)
    if "@" in text:
        _scan_emails(text, found)
    _scan_phones(text, lowered, found)
    _scan_accounts(text, lowered, found)
    if len(found) < 2:
        return [PIIMatch(kind, start, end) for _, start, end, kind in found]
    # Greedy by (rank, longest first); the kept spans never overlap, so sorted by start they
    # are sorted by end too, and one bisect finds the only neighbours that could collide.
    found.sort(key=lambda c: (c[0], c[1] - c[2], c[1]))
    starts: list[int] = []
    kept: list[PIIMatch] = []
    for _, start, end, kind in found:
        i = bisect.bisect_right(starts, start)
        if (i > 0 and kept[i - 1].end > start) or (i < len(kept) and kept[i].start < end):
            continue
        starts.insert(i, start)
        kept.insert(i, PIIMatch(kind, start, end))
    return kept


def _replace(text: str, matches: list[PIIMatch]) -> str:
    parts: list[str] = []
    pos = 0
    for m in matches:
        parts.append(text[pos : m.start])
        parts.append(f"[{m.kind.value}]")
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts)


def redact_text(text: str) -> str:
    """Replace every PII match in ``text`` by its placeholder, e.g. ``[PAN]``.

    Idempotent by construction: it redacts again until nothing is found, so a value that only
    stands alone once its neighbour is replaced is caught too ("020 7946 0958(415) 555-0132":
    the second number is glued to the first). Each round removes digits or "@", so it stops.
    Text without a digit or "@" is returned as is, without scanning.
    """
    if _TRIGGER.search(text) is None or _MINTED.fullmatch(text) is not None:
        return text
    while matches := find_pii(text):
        text = _replace(text, matches)
    return text


def redact_free_text(value: object, field: str, max_len: int | None = None) -> str:
    """The one gate for free text a person typed (rationales, notes, corrections, feedback).

    Refuses control characters and over-long values (``clean_text``: ``InputError`` naming
    ``field``), strips surrounding whitespace and redacts PII, so what is stored, returned by
    the API and printed in the documentation pack is the same redacted text the ledger holds.
    """
    return redact_text(clean_text(value, field, max_len).strip())


def contains_pii(text: str) -> bool:
    """Whether ``text`` holds anything ``redact_text`` would replace."""
    return bool(find_pii(text))


def redact_payload(obj: object) -> object:
    """Redact every string inside nested dicts, lists and tuples; return other values as is.

    Used before a payload is hashed into the decision ledger. Dict keys are left alone: they are
    field names chosen by code, and rewriting them would change the payload's shape.
    """
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, dict):
        return {key: redact_payload(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [redact_payload(value) for value in obj]
    if isinstance(obj, tuple):
        items = [redact_payload(value) for value in obj]
        # A namedtuple keeps its type; its _make takes the fields as an iterable.
        make = getattr(type(obj), "_make", None)
        return make(items) if callable(make) else tuple(items)
    return obj


# --- tokenization ------------------------------------------------------------------------------
_KIND_RE = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)
_COMPACT_KINDS = frozenset({"pan", "account", "ssn"})
_PHONE_PUNCTUATION = str.maketrans("", "", "-().")


def _kind_label(kind: str) -> str:
    label = kind.lower()
    if _KIND_RE.fullmatch(label) is None:
        raise ValueError(BAD_KIND_ERROR)
    return label


def _normalize(value: str, label: str) -> str:
    """The form of ``value`` that is hashed, so printing variants of one value share a token."""
    value = value.strip()
    if label in _COMPACT_KINDS:
        return "".join(value.split()).replace("-", "")
    if label == "iban":
        return "".join(value.split()).replace("-", "").upper()
    if label == "phone":
        # "+44 (20) 7946-0958" and "+44 20 7946 0958" are the same line.
        return "".join(value.split()).translate(_PHONE_PUNCTUATION)
    if label == "email":
        return value.lower()
    return value


class PIITokenizer:
    """Replaces an identifier by ``tok_<kind>_<24 hex>``: HMAC-SHA256 under a secret key.

    The same value and key always give the same token, so tokens still join, count and group;
    without the key a token cannot be reversed or recomputed, even by enumerating all 10^16
    card numbers. The kind is part of the hashed message, so a phone and an account number
    that happen to share digits get different tokens. Rotating the key breaks every join with
    tokens made under the old key: that is the point of rotating it.
    """

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError(EMPTY_KEY_ERROR)
        # The keyed HMAC state is built once and copied per value, a third cheaper than
        # hmac.digest(), which rebuilds it on every call.
        self._mac = hmac.new(bytes(key), digestmod=hashlib.sha256)

    def __repr__(self) -> str:
        return "PIITokenizer(key=<redacted>)"

    def token(self, value: str, kind: str = "id") -> str:
        """The token for ``value`` of the given kind (``"pan"``, ``PIIKind.IBAN``, ``"id"`` ...).

        Values are normalised first (see ``_normalize``): card, account and SSN lose spaces and
        dashes, IBANs are upper-cased, emails lower-cased, phones lose punctuation.
        """
        return self._token(value, _kind_label(kind))

    def _token(self, value: str, label: str) -> str:
        mac = self._mac.copy()
        mac.update(f"{label}\x00{_normalize(value, label)}".encode())
        return f"tok_{label}_{mac.hexdigest()[:24]}"

    def tokenize_columns(self, frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
        """A copy of ``frame`` with each named column (column -> kind) replaced by its tokens.

        Each distinct value is hashed once and the rows are filled by index, so the cost is one
        HMAC per distinct value: a million rows take about a second with 250k distinct values,
        a few seconds when every value is distinct. Token columns come back as object dtype;
        missing values stay missing (None). Non-string values are tokenised by ``str(value)``,
        so keep identifiers as strings: a float id would hash as "12345678.0".
        """
        # Imported here, not at module level: logging imports this module, and a log filter
        # should not pull in pandas.
        import numpy as np
        import pandas as pd

        labels = {column: _kind_label(kind) for column, kind in columns.items()}
        for column in labels:
            if column not in frame.columns:
                raise InputError(MISSING_COLUMN_ERROR.format(column=column))
        out = frame.copy()
        for column, label in labels.items():
            # factorize: one code per row into the distinct values (-1 for missing), so each
            # distinct value is hashed once and the rows are filled by one take().
            codes, distinct = pd.factorize(out[column], use_na_sentinel=True)
            tokens = np.array([self._token(str(v), label) for v in distinct] + [None], object)
            out[column] = pd.Series(tokens[codes], index=out.index, dtype=object)
        return out
