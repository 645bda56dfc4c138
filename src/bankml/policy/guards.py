"""Prompt-injection detection for questions (direct) and document chunks (indirect).

Rule-based on purpose: the field notes found the available model-based guards archived,
download-dependent, or blind to indirect injection. Rules are explainable to a document owner
("this sentence addresses the assistant") and measured on the ordinary corpus for false
positives (``bankml policy eval`` reports the rate). The catch: rules catch the phrasings
they know; the deeper defence is structural (the extractive answerer follows no instructions,
the ACL filter sits inside the query, and a generator only sees text marked untrusted).
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["InjectionGuard", "InjectionSignal", "normalize_for_scan"]

# Zero-width characters and Unicode "tag" characters hide instructions from human readers.
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\U000e0000-\U000e007f]")
_I = re.IGNORECASE

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "override",
        re.compile(
            r"\b(ignore|disregard|forget|override|bypass|skip)\b[^.\n]{0,40}\b(previous|prior|above|"
            r"earlier|preceding|all|any|your|the|these|system|safety|original)\b[^.\n]{0,30}\b"
            r"(instructions?|rules?|prompts?|directives?|guidelines|guardrails|restrictions|"
            r"constraints|polic(?:y|ies) (?:of|for) (?:the )?(?:assistant|ai|model))\b",
            _I,
        ),
    ),
    (
        "override",
        re.compile(r"\b(new|updated|real|actual|secret) (instructions?|orders|task)\s*:", _I),
    ),
    (
        "override",
        re.compile(r"\bfrom now on,? (you|the assistant|answer|respond|always|never)\b", _I),
    ),
    (
        "override",
        re.compile(
            r"\bdo not (follow|obey) (your|the|any) (rules|instructions|"
            r"guidelines)\b",
            _I,
        ),
    ),
    (
        "role_play",
        re.compile(
            r"\b(you are now|you're now|pretend (to be|you are|you're)|"
            r"act as (an?|the) (unfiltered|"
            r"unrestricted|different|new|evil|jailbroken|admin|administrator|system|developer)|"
            r"role-?play as|roleplay as|switch (to|into) (developer|god|admin|dan) mode|"
            r"developer mode|jailbreak|\bDAN\b mode|do anything now)\b",
            _I,
        ),
    ),
    (
        "system_impersonation",
        re.compile(
            r"(^|\n)\s*(\[?\s*(system|assistant|developer)\s*\]?\s*:|<\|?(im_start|system|"
            r"endoftext)\|?>|\[/?INST\]|\[/?(system|sys)\]|###\s*(system|instruction)s?\b|<\s*/?\s*system\s*>)",
            _I,
        ),
    ),
    (
        "addressed_to_assistant",
        re.compile(
            r"\b(note|message|attention|instruction|reminder) (to|for) (the |any |all )?(ai|llm|"
            r"assistant|chatbot|language model|model|bot)s?\b|\b(ai|llm) (assistants?|models?|"
            r"systems?) (reading|processing|summari[sz]ing) this\b|\bif you are an? (ai|llm|"
            r"assistant|language model)\b",
            _I,
        ),
    ),
    (
        "exfiltration",
        re.compile(
            r"!\[[^\]]*\]\(\s*https?://[^)\s]*[?&][^)\s]*\)|https?://[^\s)]+[?&](q|data|d|payload|"
            r"exfil|secret|token|key|text|content)=|\b(send|post|forward|upload|email|transmit|leak)"
            r"\b[^.\n]{0,40}\b(to|at)\b[^.\n]{0,20}(https?://|www\.|[\w.-]+@[\w-]+\.\w+)",
            _I,
        ),
    ),
    (
        "prompt_leak",
        re.compile(
            r"\b(reveal|print|show|repeat|output|disclose|tell me|display|dump)\b[^.\n]{0,30}\b"
            r"(system prompt|your (instructions|prompt|rules|configuration)|hidden (text|"
            r"instructions|prompt)|the text above|everything above|initial prompt)\b",
            _I,
        ),
    ),
    (
        "acl_bypass",
        re.compile(
            r"\b(ignore|bypass|disable|skip|override|without)\b[^.\n]{0,25}\b"
            r"(access[- ]control|acl|"
            r"permissions?|access restrictions|clearance|authori[sz]ation checks?)\b|\b(i am|i'm) "
            r"(an? |the )?(admin|administrator|system owner|superuser|root)\b|\b(grant|give) "
            r"(me|yourself) (full |admin )?access\b|\b(all|every) (restricted|confidential|"
            r"secret) documents?\b",
            _I,
        ),
    ),
    (
        "encoded_payload",
        re.compile(
            r"\b(base64|rot13|hex)[- ]?(decode|encoded|decoded)\b|\bdecode (this|the following)\b",
            _I,
        ),
    ),
)
_BASE64_RE = re.compile(r"[A-Za-z0-9+/]{32,}={0,2}")
_HEX_RE = re.compile(r"\b(?:[0-9a-fA-F]{2}){24,}\b")
_DECODED_HINT_RE = re.compile(
    r"\b(ignore|instruction|system|assistant|password|reveal|disregard|prompt|send)\b", _I
)


@dataclass(frozen=True)
class InjectionSignal:
    """One reason a text looks like it addresses the assistant: rule kind and the matched text."""

    kind: str
    excerpt: str


def normalize_for_scan(text: str) -> str:
    """NFKC-fold and drop invisible characters, so look-alike tricks match the rules."""
    return _INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text))


def _decoded_payloads(text: str) -> list[str]:
    found: list[str] = []
    for m in _BASE64_RE.finditer(text):
        token = m.group(0)
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
            found.append(decoded.decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    for m in _HEX_RE.finditer(text):
        try:
            found.append(bytes.fromhex(m.group(0)).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
    return found


class InjectionGuard:
    """Flags text carrying instructions aimed at the assistant.

    ``scan`` returns every signal found (empty when the text looks ordinary). Decoded
    base64/hex payloads are scanned again, one level deep, so an encoded "ignore previous
    instructions" is caught as ``encoded_payload``.
    """

    def scan(self, text: str) -> list[InjectionSignal]:
        """All signals in ``text``, at most one per rule kind."""
        raw_invisible = len(_INVISIBLE_RE.findall(text))
        clean = normalize_for_scan(text)
        signals: dict[str, InjectionSignal] = {}
        for kind, pattern in _RULES:
            m = pattern.search(clean)
            if m and kind not in signals:
                signals[kind] = InjectionSignal(kind, _excerpt(clean, m.start(), m.end()))
        for payload in _decoded_payloads(clean):
            if _DECODED_HINT_RE.search(payload) or any(p.search(payload) for _, p in _RULES):
                signals.setdefault(
                    "encoded_payload", InjectionSignal("encoded_payload", payload[:80])
                )
        if raw_invisible >= 3:
            signals.setdefault(
                "hidden_text",
                InjectionSignal("hidden_text", f"{raw_invisible} invisible characters"),
            )
        return list(signals.values())

    def is_injection(self, text: str) -> bool:
        """True when ``scan`` finds anything."""
        return bool(self.scan(text))


def _excerpt(text: str, start: int, end: int, pad: int = 30) -> str:
    lo, hi = max(0, start - pad), min(len(text), end + pad)
    return re.sub(r"\s+", " ", text[lo:hi]).strip()[:160]
