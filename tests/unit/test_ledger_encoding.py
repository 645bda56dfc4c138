"""The ledger's fast paths produce exactly the bytes the 0004-era code hashed and stored, so
every existing ledger still verifies (issue 9 item 10)."""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bankml.core.canonical import canonical_json
from bankml.core.pii import redact_payload, redact_text
from bankml.governance.ledger import encode_payload, entry_hash


def _legacy_entry_hash(
    seq: int, ts: str, kind: str, actor: str, subject: str, payload_json: str, prev: str
) -> str:
    """The 0004-era definition: canonical JSON of a dict, built by canonical_json."""
    body = canonical_json(
        {"seq": seq, "ts": ts, "kind": kind, "actor": actor, "subject": subject,
         "payload": payload_json}
    )  # fmt: skip
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


def test_entry_hash_matches_a_known_good_value() -> None:
    # Computed with the 0004-era code (canonical_json over the dict) on 2026-11-30.
    assert (
        entry_hash(
            7,
            "2026-11-30T12:00:00.000000Z",
            "fraud.scored",
            "svc",
            'decision:é"1',
            '{"a":"x\\n","z":1.5}',
            "0" * 64,
        )
        == "238c46cab96cf4d80a0104f4a3e25cd59335f2359950d69047086b0ed21a61d8"
    )


@settings(max_examples=300, deadline=None)
@given(
    seq=st.integers(min_value=1, max_value=10**12),
    texts=st.lists(st.text(max_size=40), min_size=5, max_size=5),
)
def test_entry_hash_equals_the_legacy_definition_for_any_text(seq: int, texts: list[str]) -> None:
    ts, kind, actor, subject, payload = texts
    prev = hashlib.sha256(str(seq).encode()).hexdigest()
    assert entry_hash(seq, ts, kind, actor, subject, payload, prev) == _legacy_entry_hash(
        seq, ts, kind, actor, subject, payload, prev
    )


_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        ["card 4111 1111 1111 1111", "mail a.b@example.com", "tok_card_0123456789abcdef01234567"]
    ),
)
_payloads = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        _leaf,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=15,
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(payload=_payloads)
def test_one_pass_encoding_equals_redact_then_canonical_json(payload: dict[str, Any]) -> None:
    assert encode_payload(payload) == canonical_json(redact_payload(payload))


def test_payload_pii_is_redacted_once_encoded() -> None:
    out = encode_payload({"note": "card 4111 1111 1111 1111", "n": [1, 2.5, None], "ok": True})
    assert out == '{"n":[1,2.5,null],"note":"card [PAN]","ok":true}'


def test_identifiers_bankml_mints_are_not_scanned_but_pii_beside_them_is() -> None:
    # A token's hex can hold a Luhn-valid, issuer-valid 16-digit run; it is still a token.
    token = "tok_card_x4111111111111111abcdef0"
    assert redact_text("tok_card_4111111111111111abcdef01") == "tok_card_4111111111111111abcdef01"
    assert redact_text("decision:3a384d30-0761-4d58-a6f3-a4bdd0a92ddb") == (
        "decision:3a384d30-0761-4d58-a6f3-a4bdd0a92ddb"
    )
    assert redact_text(f"{token} 4111 1111 1111 1111") == f"{token} [PAN]"
    assert redact_text("tok_card_4111111111111111abcdef01 jane@example.com").endswith("[EMAIL]")
