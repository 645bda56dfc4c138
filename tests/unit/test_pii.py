"""PII: each kind is found and replaced, look-alikes are left alone, tokens are keyed hashes."""

from __future__ import annotations

import itertools
import re
import string
from collections import namedtuple

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bankml.core import pii
from bankml.core.errors import InputError
from bankml.core.pii import (
    PIIKind,
    PIIMatch,
    PIITokenizer,
    contains_pii,
    find_pii,
    redact_payload,
    redact_text,
)

KEY = b"unit-test-tokenization-key-0123456789"


def _luhn_complete(body: str) -> str:
    """``body`` plus the check digit that makes it pass Luhn."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def _iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def _found(text: str) -> list[tuple[PIIKind, str]]:
    return [(m.kind, text[m.start : m.end]) for m in find_pii(text)]


def test_public_api_is_exactly_what_all_lists() -> None:
    assert set(pii.__all__) == {
        "PIIKind",
        "PIIMatch",
        "PIITokenizer",
        "contains_pii",
        "find_pii",
        "redact_free_text",
        "redact_payload",
        "redact_text",
    }
    assert all(hasattr(pii, name) for name in pii.__all__)


# --- detection ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Customer disputes card 4111 1111 1111 1111 charge.", PIIKind.PAN, "4111 1111 1111 1111"),
        ("pan=5500005555555559 status=DECLINED", PIIKind.PAN, "5500005555555559"),
        ("card 4012-8888-8888-1881, exp 09/27", PIIKind.PAN, "4012-8888-8888-1881"),
        ("Amex 3782 822463 10005 on file", PIIKind.PAN, "3782 822463 10005"),
        ("Diners 30569309025904 declined", PIIKind.PAN, "30569309025904"),
        ("charge 4111 1111 1111 1111 123 today", PIIKind.PAN, "4111 1111 1111 1111"),
        ("txn,20261128,6011111111111117,42.10,GBP", PIIKind.PAN, "6011111111111117"),
        ("Pay GB82 WEST 1234 5698 7654 32 by Friday.", PIIKind.IBAN, "GB82 WEST 1234 5698 7654 32"),
        ("iban=DE89370400440532013000&amount=10", PIIKind.IBAN, "DE89370400440532013000"),
        ("IBAN FR1420041010050500013M02606 BIC X", PIIKind.IBAN, "FR1420041010050500013M02606"),
        ("to nl91abna0417164300 please", PIIKind.IBAN, "nl91abna0417164300"),
        ("Norway NO9386011117947.", PIIKind.IBAN, "NO9386011117947"),
        ("SSN 123-45-6789 verified", PIIKind.SSN, "123-45-6789"),
        ("applicant ssn: 219099999, income 52k", PIIKind.SSN, "219099999"),
        ("social security number 078 05 1120.", PIIKind.SSN, "078 05 1120"),
        (
            "Statement to jane.doe+alerts@mail.example.co.uk.",
            PIIKind.EMAIL,
            "jane.doe+alerts@mail.example.co.uk",
        ),
        ("call +44 20 7946 0958 after 5", PIIKind.PHONE, "+44 20 7946 0958"),
        ("Tel: (415) 555-0132", PIIKind.PHONE, "(415) 555-0132"),
        ("phone 555-123-4567 or email", PIIKind.PHONE, "555-123-4567"),
        ("mobile 07700 900123", PIIKind.PHONE, "07700 900123"),
        ("office 020 7946 0958", PIIKind.PHONE, "020 7946 0958"),
        ("from abroad 0044 20 7946 0958", PIIKind.PHONE, "0044 20 7946 0958"),
        ("called back on 4155550132 at noon", PIIKind.PHONE, "4155550132"),
        ("Transfer from account number 12345678 today", PIIKind.ACCOUNT, "12345678"),
        ("acct #00123456 closed", PIIKind.ACCOUNT, "00123456"),
        ("A/C: 87654321", PIIKind.ACCOUNT, "87654321"),
        ("sort code 12-34-56 account 12345678.", PIIKind.ACCOUNT, "12-34-56 account 12345678"),
    ],
)
def test_each_kind_is_found_in_a_sentence_and_replaced_by_its_placeholder(
    text: str, kind: PIIKind, value: str
) -> None:
    assert _found(text) == [(kind, value)]
    redacted = redact_text(text)
    assert redacted == text.replace(value, f"[{kind}]")
    assert contains_pii(text)
    assert not contains_pii(redacted)


@pytest.mark.parametrize(
    "text",
    [
        "Order #20261128 shipped on 2026-11-28 at 10:03:22",
        "order_id=1234567890123456 created=2026-11-28T10:03:22.123+01:00",
        "ref 4111 1111 1111 1112 failed the check digit",
        "card 4111111111111112 declined",
        "Invoice INV-2026-004512 due 28/11/2026, PO 4500012345",
        "epoch 1764331402123, compact 20261128100322123, 17643314021234567",
        "Balance 1,234.56, pending GBP 12,345,678.90, EUR 1.234.567,89, delta +1,250.00",
        "model score=0.4111111111111111 threshold=0.82",
        "IBAN GB83 WEST 1234 5698 7654 32 is invalid",
        "IBAN DE89370400440532013001 is invalid",
        "Rejected SSN 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567, 123-45-0000",
        "bankml v2.11.3 on 10.0.12.7 with numpy 1.26.4, build 20261128.3",
        "asset logo@2x.png missing; ping admin@localhost or numpy@1.26.4",
        "batch 12345678 processed for customer 84739201 in 1048576 ms",
        "accounts: 1500000 migrated, account balance 1234567",
        "Card ending 4821, receipt 4111 11** **** 1111, SSN on file XXX-XX-6789",
        "tracking 9400 1111 1111 1111 1111 11 delivered",
        "Branch sort code 20-00-00, opened 2019",
        "uuid 550e8400-e29b-41d4-a716-446655440000 mac 00:1A:2B:3C:4D:5E",
        "part 123-456-7890-12 and ISBN 978-0-306-40615-7",
    ],
)
def test_look_alikes_are_not_flagged(text: str) -> None:
    assert find_pii(text) == []
    assert redact_text(text) == text


def test_an_iban_after_the_word_account_is_an_iban() -> None:
    assert _found("account GB82WEST12345698765432") == [(PIIKind.IBAN, "GB82WEST12345698765432")]


def test_a_card_number_after_the_word_account_is_a_pan() -> None:
    assert _found("account 4111111111111111") == [(PIIKind.PAN, "4111111111111111")]


def test_matches_are_sorted_and_do_not_overlap() -> None:
    text = (
        "KYC: ssn 123-45-6789, phone +44 20 7946 0958, email a.b@example.com, "
        "iban GB82 WEST 1234 5698 7654 32, card 4111111111111111, acct 12345678"
    )
    matches = find_pii(text)
    assert [m.kind for m in matches] == [
        PIIKind.SSN,
        PIIKind.PHONE,
        PIIKind.EMAIL,
        PIIKind.IBAN,
        PIIKind.PAN,
        PIIKind.ACCOUNT,
    ]
    assert all(a.end <= b.start for a, b in itertools.pairwise(matches))
    assert redact_text(text) == (
        "KYC: ssn [SSN], phone [PHONE], email [EMAIL], iban [IBAN], card [PAN], acct [ACCOUNT]"
    )


def test_match_is_a_frozen_value() -> None:
    match = PIIMatch(PIIKind.PAN, 0, 16)
    with pytest.raises(AttributeError):
        match.start = 1  # type: ignore[misc]


def test_redaction_is_idempotent() -> None:
    text = "card 4111 1111 1111 1111, call 020 7946 0958, mail x@example.org"
    once = redact_text(text)
    assert redact_text(once) == once


def test_text_without_digits_or_at_sign_is_returned_unchanged() -> None:
    text = "Alert closed as false positive after call-back with the cardholder."
    assert redact_text(text) is text
    assert find_pii(text) == []


# --- payloads ----------------------------------------------------------------------------------

Feature = namedtuple("Feature", ["name", "value"])


def test_redact_payload_redacts_strings_at_any_depth_and_keeps_everything_else() -> None:
    customer = {"email": "jane@example.com", "cards": ["4111 1111 1111 1111", 42, None]}
    payload = {
        "customer": customer,
        "note": ("call +44 20 7946 0958", 3.5, True),
        "feature": Feature("iban", "GB82WEST12345698765432"),
        "4111111111111111": "dict keys are field names and stay as written",
        "score": 0.42,
    }
    assert redact_payload(payload) == {
        "customer": {"email": "[EMAIL]", "cards": ["[PAN]", 42, None]},
        "note": ("call [PHONE]", 3.5, True),
        "feature": Feature("iban", "[IBAN]"),
        "4111111111111111": "dict keys are field names and stay as written",
        "score": 0.42,
    }
    redacted = redact_payload(payload)
    assert isinstance(redacted, dict)
    assert type(redacted["feature"]) is Feature
    assert customer["email"] == "jane@example.com"  # the input is not mutated


def test_redact_payload_returns_other_values_unchanged() -> None:
    marker = object()
    assert redact_payload(marker) is marker
    assert redact_payload(12345678) == 12345678
    assert redact_payload(b"4111111111111111") == b"4111111111111111"


# --- tokenization ------------------------------------------------------------------------------


def test_token_is_deterministic_and_shaped_like_tok_kind_hex() -> None:
    tokenizer = PIITokenizer(KEY)
    token = tokenizer.token("4111111111111111", "pan")
    assert token == PIITokenizer(KEY).token("4111111111111111", "pan")
    assert re.fullmatch(r"tok_pan_[0-9a-f]{24}", token)
    assert tokenizer.token("4111111111111111", PIIKind.PAN) == token


@pytest.mark.parametrize(
    ("kind", "variants"),
    [
        ("pan", ["4111 1111 1111 1111", "4111-1111-1111-1111", " 4111111111111111 "]),
        ("iban", ["GB82 WEST 1234 5698 7654 32", "gb82west12345698765432"]),
        ("email", ["Jane.Doe@Example.com", "jane.doe@example.com "]),
        ("phone", ["+44 20 7946 0958", "+44 (20) 7946-0958", "+44.20.7946.0958"]),
        ("account", ["1234 5678", "12345678"]),
        ("ssn", ["123-45-6789", "123 45 6789", "123456789"]),
    ],
)
def test_printing_variants_of_one_value_share_a_token(kind: str, variants: list[str]) -> None:
    tokenizer = PIITokenizer(KEY)
    assert len({tokenizer.token(v, kind) for v in variants}) == 1


def test_tokens_differ_by_key_and_by_kind() -> None:
    a, b = PIITokenizer(KEY), PIITokenizer(KEY + b"!")
    assert a.token("12345678", "account") != b.token("12345678", "account")
    assert a.token("12345678", "account") != a.token("12345678", "phone")
    assert a.token("x") != a.token("y")


def test_tokens_hold_no_digit_run_of_the_input_and_are_not_themselves_pii() -> None:
    tokenizer = PIITokenizer(KEY)
    for i in range(200):
        pan = _luhn_complete(f"4{i:014d}")
        token = tokenizer.token(pan, "pan")
        assert not any(pan[j : j + 6] in token for j in range(len(pan) - 5))
        assert not contains_pii(token)


def test_tokenizer_refuses_an_empty_key_and_a_malformed_kind() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        PIITokenizer(b"")
    with pytest.raises(ValueError, match="identifier"):
        PIITokenizer(KEY).token("x", "pan number")


def test_tokenizer_repr_does_not_show_the_key() -> None:
    assert KEY.decode() not in repr(PIITokenizer(KEY))


def test_tokenize_columns_returns_a_copy_with_tokens_and_missing_values_kept() -> None:
    tokenizer = PIITokenizer(KEY)
    frame = pd.DataFrame(
        {
            "pan": ["4111 1111 1111 1111", "4111111111111111", None, "5500005555555559"],
            "email": ["A@x.com", "a@x.com", "b@x.com", None],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    out = tokenizer.tokenize_columns(frame, {"pan": "pan", "email": "email"})
    assert out["pan"].tolist()[:2] == [tokenizer.token("4111111111111111", "pan")] * 2
    assert out["pan"].tolist()[3] == tokenizer.token("5500005555555559", "pan")
    assert out["email"].tolist()[:3] == [
        tokenizer.token("a@x.com", "email"),
        tokenizer.token("a@x.com", "email"),
        tokenizer.token("b@x.com", "email"),
    ]
    assert out["pan"].isna().tolist() == [False, False, True, False]
    assert out["email"].isna().tolist() == [False, False, False, True]
    assert out["amount"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert frame["pan"].tolist()[0] == "4111 1111 1111 1111"  # the input is not modified


def test_tokenize_columns_names_a_missing_column() -> None:
    frame = pd.DataFrame({"pan": ["4111111111111111"]})
    with pytest.raises(InputError, match="'iban'"):
        PIITokenizer(KEY).tokenize_columns(frame, {"iban": "iban"})


# --- properties --------------------------------------------------------------------------------

_words = st.text(alphabet=string.ascii_letters + " ", max_size=40)


@st.composite
def _pans(draw: st.DrawFn) -> str:
    digits = st.text(alphabet=string.digits, min_size=14, max_size=14)
    pan = _luhn_complete(draw(st.sampled_from("45")) + draw(digits))
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(pan[i : i + 4] for i in range(0, 16, 4)) if sep else pan


@given(pan=_pans(), before=_words, after=_words)
def test_a_luhn_valid_pan_in_any_words_never_survives_redaction(
    pan: str, before: str, after: str
) -> None:
    redacted = redact_text(f"{before} {pan} {after}")
    assert redacted == f"{before} [PAN] {after}"
    assert not any(ch.isdigit() for ch in redacted)


@st.composite
def _ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(["GB", "DE", "FR"]))
    digits = st.text(alphabet=string.digits, min_size=1, max_size=1)
    upper = st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=1)
    alnum = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=1)
    shape = {"GB": "aaaa" + "n" * 14, "DE": "n" * 18, "FR": "n" * 10 + "c" * 11 + "nn"}[country]
    bban = "".join(draw({"a": upper, "n": digits, "c": alnum}[ch]) for ch in shape)
    iban = _iban(country, bban)
    if draw(st.booleans()):
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


@given(iban=_ibans(), before=_words, after=_words)
def test_a_valid_iban_in_any_words_is_redacted(iban: str, before: str, after: str) -> None:
    assert redact_text(f"{before} {iban} {after}") == f"{before} [IBAN] {after}"


_digit_heavy = st.text(alphabet=string.digits + " -+().,:/#@_abcdeGBDEFRsnctSN", max_size=120)


@given(text=st.one_of(st.text(max_size=200), _digit_heavy))
def test_redaction_is_idempotent_on_any_text(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once
    matches = find_pii(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(matches))
