"""Benchmark bankml.core.pii against Presidio's pattern recognizers on one labelled corpus.

    .venv/bin/python bench/pii.py [--n 12000] [--seed 20261128] [--show-errors 5]

Both detectors see the same snippets in the same run (see ``_pii_corpus``). Scoring is
span-level: a true entity is found when a predicted span of the same kind overlaps it; a
predicted span is correct when it overlaps a true entity of its kind. Presidio runs offline
(no-op NLP engine, tldextract on its bundled suffix list, a socket audit hook to prove it) and
is asked for the six entity types that map onto ours. Presidio is optional: it lives in the
``bench`` extra (``pip install presidio-analyzer==2.2.366``).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Before anything imports tldextract: an empty URL list makes it use its bundled snapshot of
# the public suffix list instead of downloading one.
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

_NETWORK_EVENTS: list[str] = []
_NETWORK_AUDIT = frozenset(
    {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"}
)


def _audit(event: str, _args: tuple[object, ...]) -> None:
    if event in _NETWORK_AUDIT:
        _NETWORK_EVENTS.append(event)


sys.addaudithook(_audit)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pii_corpus import Snippet, check_generators, generate_corpus  # noqa: E402 - after set-up
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.table import Table  # noqa: E402

from bankml.core.pii import PIIKind, find_pii, redact_text  # noqa: E402

KINDS = [kind.value for kind in PIIKind]
PRESIDIO_VERSION = "2.2.366"
PRESIDIO_TO_KIND = {
    "CREDIT_CARD": "PAN",
    "IBAN_CODE": "IBAN",
    "US_SSN": "SSN",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "US_BANK_NUMBER": "ACCOUNT",
}
PRESIDIO_BUDGET_S = 180.0
PRESIDIO_MIN_SAMPLE = 2000
MIN_TIMED_S = 1.0

Span = tuple[str, int, int]  # kind, start, end


@dataclass
class Counts:
    """Per-kind tallies for recall (true entities found) and precision (predictions right)."""

    n_true: int = 0
    found: int = 0
    n_pred: int = 0
    correct: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.n_true if self.n_true else float("nan")

    @property
    def precision(self) -> float:
        return self.correct / self.n_pred if self.n_pred else float("nan")


@dataclass
class Result:
    """One detector's scores on one set of snippets, plus its errors for inspection."""

    by_kind: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    missed: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    false_pos: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})

    @property
    def overall(self) -> Counts:
        total = Counts()
        for c in self.by_kind.values():
            total.n_true += c.n_true
            total.found += c.found
            total.n_pred += c.n_pred
            total.correct += c.correct
        return total


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def score(snippets: Sequence[Snippet], predictions: Sequence[Sequence[Span]]) -> Result:
    """Span-level recall and precision per kind."""
    result = Result()
    for snippet, predicted in zip(snippets, predictions, strict=True):
        truth = [(e.kind, e.start, e.end) for e in snippet.entities]
        for t in truth:
            counts = result.by_kind[t[0]]
            counts.n_true += 1
            if any(_overlaps(t, p) for p in predicted):
                counts.found += 1
            else:
                result.missed[t[0]].append(f"{snippet.text!r}  <- {snippet.text[t[1] : t[2]]!r}")
        for p in predicted:
            counts = result.by_kind[p[0]]
            counts.n_pred += 1
            if any(_overlaps(p, t) for t in truth):
                counts.correct += 1
            else:
                result.false_pos[p[0]].append(f"{snippet.text!r}  -> {snippet.text[p[1] : p[2]]!r}")
    return result


def bankml_spans(text: str) -> list[Span]:
    return [(m.kind.value, m.start, m.end) for m in find_pii(text)]


def timed_throughput(fn: Callable[[str], object], texts: Sequence[str]) -> tuple[float, int]:
    """MB/s of ``fn`` over ``texts``, repeating whole passes until MIN_TIMED_S has elapsed."""
    size = sum(len(t.encode()) for t in texts)
    passes = 0
    start = time.perf_counter()
    while True:
        for t in texts:
            fn(t)
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_TIMED_S:
            return size * passes / elapsed / 1e6, passes


# --- Presidio ----------------------------------------------------------------------------------


def build_presidio() -> tuple[Any, str]:
    """An offline Presidio AnalyzerEngine, or None and the reason it is unavailable."""
    try:
        import tldextract.tldextract as tld
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
    except ImportError as exc:
        return None, f"presidio-analyzer is not installed ({exc.name}); pip install '.[bench]'"
    # The email recognizer calls tldextract.extract(), which uses this module-level extractor:
    # no suffix-list URLs means the bundled snapshot; no cache dir means no writes to $HOME.
    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    from importlib.metadata import version

    installed = version("presidio-analyzer")
    pinned = "" if installed == PRESIDIO_VERSION else f" (the bench extra pins {PRESIDIO_VERSION})"
    return analyzer, f"presidio-analyzer {installed}{pinned}"


Finding = tuple[str, int, int, float]  # Presidio entity type, start, end, score


def resolve_like_anonymizer(results: Sequence[Finding]) -> list[Finding]:
    """The results presidio-anonymizer would act on, by its own two steps.

    1. Overlapping results of the same entity type merge into one span (highest score).
    2. A result contained in another, or at the same span with a lower or equal score, is
       dropped (``RecognizerResult.has_conflict``).

    Scoring the raw analyzer output instead would count a weak guess hiding under a strong one
    (a US_BANK_NUMBER inside a CREDIT_CARD) against Presidio.
    """
    merged: list[list[Any]] = []
    for entity, start, end, score in results:
        same = next((m for m in merged if m[0] == entity and start < m[2] and m[1] < end), None)
        if same is None:
            merged.append([entity, start, end, score])
        else:
            same[1], same[2], same[3] = min(start, same[1]), max(end, same[2]), max(score, same[3])

    def conflicts(r: list[Any], o: list[Any]) -> bool:
        if (r[1], r[2]) == (o[1], o[2]):
            return bool(r[3] <= o[3])
        return bool(o[1] <= r[1] and r[2] <= o[2])

    kept: list[list[Any]] = []
    others = list(merged)
    for r in merged:
        others.remove(r)
        if not any(conflicts(r, o) for o in others):
            others.append(r)
            kept.append(r)
    return [(r[0], r[1], r[2], r[3]) for r in kept]


def presidio_findings(analyzer: Any, text: str) -> list[Finding]:
    results = analyzer.analyze(text=text, language="en", entities=list(PRESIDIO_TO_KIND))
    return [(r.entity_type, r.start, r.end, r.score) for r in results]


def presidio_spans(findings: Sequence[Finding], threshold: float = 0.0) -> list[Span]:
    """Presidio's findings as scored spans: thresholded, then conflicts resolved, then mapped."""
    kept = resolve_like_anonymizer([f for f in findings if f[3] >= threshold])
    return [(PRESIDIO_TO_KIND[e], a, b) for e, a, b, _ in kept if e in PRESIDIO_TO_KIND]


# --- output ------------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return "-" if x != x else f"{x:.3f}"


def _verdict(ok: bool) -> str:
    return "[green]PASS[/]" if ok else "[red]FAIL[/]"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12_000, help="corpus size (>= 10000)")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--show-errors", type=int, default=0, metavar="N",
                        help="print N missed / false-positive examples per kind")  # fmt: skip
    parser.add_argument("--no-presidio", action="store_true")
    args = parser.parse_args(argv)
    # A fixed width when piped, so the table does not wrap in logs and CI output.
    console = Console(width=None if sys.stdout.isatty() else 110)

    check_generators()
    corpus = generate_corpus(args.n, args.seed)
    texts = [s.text for s in corpus]
    corpus_bytes = sum(len(t.encode()) for t in texts)
    truth_counts = {k: sum(e.kind == k for s in corpus for e in s.entities) for k in KINDS}
    n_lookalike = sum(not s.entities for s in corpus)
    console.print(
        f"corpus: {len(corpus):,} snippets, {corpus_bytes / 1e6:.2f} MB, seed {args.seed}; "
        f"{sum(truth_counts.values()):,} true entities "
        + ", ".join(f"{k} {v}" for k, v in truth_counts.items())
        + f"; {n_lookalike:,} snippets with no PII (look-alikes and prose)"
    )

    ours_all = score(corpus, [bankml_spans(t) for t in texts])
    find_mbs, find_passes = timed_throughput(find_pii, texts)
    redact_mbs, _ = timed_throughput(redact_text, texts)

    analyzer, presidio_label = (None, "skipped (--no-presidio)")
    if not args.no_presidio:
        analyzer, presidio_label = build_presidio()
    theirs: Result | None = None
    theirs_strict: Result | None = None
    presidio_mbs = float("nan")
    subset: list[Snippet] = corpus
    sample_note = "whole corpus"
    if analyzer is not None:
        probe = corpus[:: max(1, len(corpus) // 200)][:200]
        t0 = time.perf_counter()
        for s in probe:
            presidio_findings(analyzer, s.text)
        per_text = (time.perf_counter() - t0) / len(probe)
        if per_text * len(corpus) > PRESIDIO_BUDGET_S:
            step = max(
                1, len(corpus) // max(PRESIDIO_MIN_SAMPLE, int(PRESIDIO_BUDGET_S / per_text))
            )
            subset = corpus[::step]
            sample_note = f"every {step}th snippet ({len(subset):,}), whole corpus too slow"
        console.print(f"presidio: {presidio_label}; running on {sample_note} ...")
        t0 = time.perf_counter()
        raw = [presidio_findings(analyzer, s.text) for s in subset]
        elapsed = time.perf_counter() - t0
        presidio_mbs = sum(len(s.text.encode()) for s in subset) / elapsed / 1e6
        theirs = score(subset, [presidio_spans(f) for f in raw])
        # The same findings with a 0.5 score threshold, for readers who would configure one.
        theirs_strict = score(subset, [presidio_spans(f, 0.5) for f in raw])
    ours = ours_all if subset is corpus else score(subset, [bankml_spans(s.text) for s in subset])

    table = Table(title=f"PII detection, {len(subset):,} snippets ({sample_note})")
    table.add_column("kind")
    table.add_column("entities", justify="right")
    for col in ("bankml\nrecall", "bankml\nprecision", "presidio\nrecall", "presidio\nprecision"):
        table.add_column(col, justify="right")
    table.add_column("presidio @0.5\nrecall / prec.", justify="right")
    rows = [(k, ours.by_kind[k], theirs.by_kind[k] if theirs else None) for k in KINDS]
    rows.append(("overall", ours.overall, theirs.overall if theirs else None))
    for name, c, p in rows:
        strict = None
        if theirs_strict is not None:
            strict = theirs_strict.overall if name == "overall" else theirs_strict.by_kind[name]
        table.add_row(
            name,
            f"{c.n_true:,}",
            _fmt(c.recall),
            _fmt(c.precision),
            _fmt(p.recall) if p else "-",
            _fmt(p.precision) if p else "-",
            f"{_fmt(strict.recall)} / {_fmt(strict.precision)}" if strict else "-",
            end_section=name in (KINDS[-1], "overall"),
        )
    ratio = find_mbs / presidio_mbs if presidio_mbs == presidio_mbs else float("nan")
    measured = theirs is not None
    table.add_row("MB/s", "", f"{find_mbs:.2f}", "", f"{presidio_mbs:.3f}" if measured else "-")
    table.add_row("speed", "", f"{ratio:.0f}x" if measured else "-", "", "1x" if measured else "-")
    console.print(table)
    console.print(
        f"bankml: find_pii {find_mbs:.2f} MB/s over {find_passes} passes, redact_text "
        f"{redact_mbs:.2f} MB/s; whole corpus recall {_fmt(ours_all.overall.recall)}, "
        f"precision {_fmt(ours_all.overall.precision)}"
    )
    if theirs is None:
        console.print(f"[yellow]presidio not measured: {escape(presidio_label)}[/]")
    else:
        console.print(
            f"presidio: {presidio_label}, pattern recognizers for {', '.join(PRESIDIO_TO_KIND)}, "
            "NoOpNlpEngine, default score threshold 0 (the @0.5 column re-scores the same results "
            "with a 0.5 threshold), overlaps resolved as presidio-anonymizer does; "
            f"network calls attempted: {len(_NETWORK_EVENTS)}"
        )

    if args.show_errors:
        for who, result in (("bankml", ours), ("presidio", theirs)):
            for k in KINDS if result else []:
                for label, items in (
                    ("missed", result.missed[k]),
                    ("false +", result.false_pos[k]),
                ):
                    for line in items[: args.show_errors]:
                        console.print(f"  {who} {k} {label}: {line}", markup=False, highlight=False)

    pan_ok = ours.by_kind["PAN"].recall >= 0.99
    iban_ok = ours.by_kind["IBAN"].recall >= 0.99
    goals = [
        f"PAN recall >= 0.99: {_verdict(pan_ok)} ({_fmt(ours.by_kind['PAN'].recall)})",
        f"IBAN recall >= 0.99: {_verdict(iban_ok)} ({_fmt(ours.by_kind['IBAN'].recall)})",
    ]
    all_ok = pan_ok and iban_ok
    if theirs is not None:
        prec_ok = ours.overall.precision > theirs.overall.precision
        speed_ok = ratio >= 20
        all_ok = all_ok and prec_ok and speed_ok
        goals += [
            f"precision > Presidio: {_verdict(prec_ok)} "
            f"({_fmt(ours.overall.precision)} vs {_fmt(theirs.overall.precision)})",
            f"throughput >= 20x Presidio: {_verdict(speed_ok)} ({ratio:.0f}x)",
        ]
    else:
        goals.append("precision and throughput vs Presidio: [yellow]NOT MEASURED[/]")
    console.print("Goals: " + " | ".join(goals))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
