"""The fraud feature set: declarations, and the offline build over a transaction table.

Every feature is point-in-time correct: a transaction's features use only transactions at
or before it in ``(timestamp, transaction_id)`` order, and labels only once they were known.
Windows are ``(t - w, t]``; which of them include the transaction itself:

=============================  ============================================================
feature                        definition at transaction time ``t``
=============================  ============================================================
amount                         the transaction's amount
customer_txn_count_{w}         customer's transactions in ``(t - w, t]``, **this one
                               included** (so >= 1); w = 1d, 7d, 30d
customer_mean_amount_{w}       mean amount over the same transactions (this one included),
                               each amount clipped at ``CUSTOMER_AMOUNT_CAP``
amount_to_customer_mean_30d    clipped amount / mean clipped amount of the customer's
                               *earlier* transactions in ``(t - 30d, t)`` (this one
                               excluded); 1.0 when there are none
terminal_txn_count_{w}         terminal's transactions in ``(t - w, t]``, this one included
terminal_fraud_rate_{w}        over the terminal's transactions in the *delayed* window
                               ``(t - d - w, t - d]`` (d = ``label_delay_days``): those
                               whose fraud label was known by ``t`` / all of them; 0.0 when
                               there are none. A label is known at the mapped label time,
                               or at ``timestamp + d`` when the table has none. The current
                               transaction is never in its own delayed window.
card_small_txn_count_{w}       card's transactions with amount < 5.0 in ``(t - w, t]``,
                               this one included; w = 10m, 1h  (needs ``card``)
card_new_terminal              1.0 if the card has no earlier transaction at this terminal
                               in the table, else 0.0  (needs ``card``)
card_new_country               the same for the transaction's country  (needs ``card``
                               and ``country``)
is_night                       1.0 for 00:00-05:59 UTC
is_weekend                     1.0 on Saturday and Sunday (UTC)
customer_txn_count_1h          velocity: customer's transactions in ``(t - 1h, t]``, this
                               one included
customer_new_terminal          1.0 if the customer has no earlier transaction at this
                               terminal in the table, else 0.0
hours_since_customer_txn       hours since the customer's previous (earlier) transaction,
                               capped at 720 (30 days); 720 when there is none
hours_since_terminal_txn       the same for the terminal
amount_to_customer_median_30d  amount / median amount of the customer's transactions in
                               ``(t - 30d, t]`` (this one included); 1.0 when the median
                               is not positive
amount_zscore_customer_30d     (amount - mean) / standard deviation (population) of the
                               customer's amounts in ``(t - 30d, t]``, this one included;
                               0.0 when the deviation is below 1e-6
terminal_known_frauds_7d       the terminal's transactions in ``(t - 7d, t)`` (strictly
                               earlier in time) whose fraud label was known by ``t``; no
                               label-delay window, so a skimmed terminal shows from its
                               first confirmed fraud rather than a week later
=============================  ============================================================

The last five read the entity's own history (the engine's ``hours_since_prior``,
``ratio_to_median``, ``zscore`` and ``known_label_count`` kinds): every engine computes them
from the same declarations (pandas in memory, generated SQL when streamed or on Spark), the
online store from the same per-entity history. The first four were added after the first
models as *derived* features (:data:`DERIVED_FEATURES`) and keep hashing as such, so older
models' feature hashes still match; ``terminal_known_frauds_7d`` enters a model's feature
hash only when the model uses it (see :func:`build_fraud_features`).

Clipping (issue 9 item 5): an amount enters the customer's rolling state at most at
``CUSTOMER_AMOUNT_CAP``, so one absurd transaction (1e12) cannot inflate a customer's means
for 30 days and make every later transaction of theirs look ordinary. The ``amount`` feature
itself is not clipped. The derived median ratio and z-score read the same clipped amounts
(their numerator stays the raw amount). The online store applies the same rule (parity tests
hold them equal).

"Earlier" means earlier in ``(timestamp, transaction_id)`` order, so two transactions with
the same timestamp are ordered by id. Novelty looks back over the whole table: the first
days of a table see every terminal as new. Features of a transaction with no card (or
country) are NaN.

The output frame uses **fixed canonical column names** whatever the source calls them:
``transaction_id, timestamp, customer, terminal, [card], amount, label, label_time`` and
then the features in :data:`FEATURE_NAMES` order (the model's column order), rows sorted
by ``(timestamp, transaction_id)``. ``label_time`` is when the label became known (the
mapped column, or ``timestamp + label_delay_days``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from bankml.core.errors import InputError
from bankml.data.features import (
    SPREAD_FLOOR,
    EngineOptions,
    EventTable,
    FeatureDef,
    compute_features,
    definitions_hash,
    source_columns,
)
from bankml.fraud.mapping import (
    DEFAULT_MAPPING,
    MSG_ABSENT_PREFIX,
    MSG_MISSING_REQUIRED,
    MSG_NO_LABEL_TIME,
    MSG_OPTIONAL_UNMAPPED,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ColumnMapping,
)

__all__ = [
    "CUSTOMER_AMOUNT_CAP",
    "CUSTOMER_WINDOWS",
    "DERIVED_FEATURES",
    "FEATURE_NAMES",
    "FRAUD_FEATURES",
    "FRESH_FRAUD_FEATURE",
    "FRESH_FRAUD_WINDOW",
    "GAP_CAP_HOURS",
    "SMALL_AMOUNT",
    "TERMINAL_WINDOWS",
    "DerivedFeature",
    "FeatureFrame",
    "build_fraud_features",
    "enabled_feature_names",
    "enabled_features",
    "resolve",
]

log = logging.getLogger(__name__)

CUSTOMER_WINDOWS: tuple[str, ...] = ("1d", "7d", "30d")
TERMINAL_WINDOWS: tuple[str, ...] = ("1d", "7d", "30d")
CARD_TESTING_WINDOWS: tuple[str, ...] = ("10m", "1h")
VELOCITY_WINDOWS: tuple[str, ...] = ("1h",)
FRESH_FRAUD_WINDOW = "7d"
"""Look-back of ``terminal_known_frauds_7d`` (no label-delay window)."""
FRESH_FRAUD_FEATURE = f"terminal_known_frauds_{FRESH_FRAUD_WINDOW}"
GAP_CAP_HOURS = 720.0
"""Time-since-previous features stop at 30 days (the online store's history horizon)."""
_GAP_WINDOW = "30d"  # GAP_CAP_HOURS as the engine's window (a test holds them equal)
SMALL_AMOUNT = 5.0
"""Card testing probes a stolen card with amounts below this (in the table's currency)."""

_SMALL = f"CASE WHEN amount < {SMALL_AMOUNT} THEN 1 ELSE 0 END"
CUSTOMER_AMOUNT_CAP = 10_000.0
"""Amounts enter a customer's rolling means clipped at this (above any legitimate amount in
the synthetic banks, far below an amount meant to poison the means)."""
_CAPPED = f"LEAST(amount, {CUSTOMER_AMOUNT_CAP})"


def _declare() -> tuple[FeatureDef, ...]:
    defs = [FeatureDef("amount", None, None, "The transaction's amount.", "row", "amount")]
    for w in CUSTOMER_WINDOWS:
        defs += [
            FeatureDef(
                f"customer_txn_count_{w}",
                "customer",
                w,
                f"Customer's transactions in the last {w}, this one included.",
                "count",
            ),
            FeatureDef(
                f"customer_mean_amount_{w}",
                "customer",
                w,
                f"Mean amount (clipped at {CUSTOMER_AMOUNT_CAP:g}) of the customer's "
                f"transactions in the last {w}, this one included.",
                "mean",
                _CAPPED,
            ),
        ]
    defs.append(
        FeatureDef(
            "amount_to_customer_mean_30d",
            "customer",
            "30d",
            f"Amount / mean amount of the customer's earlier transactions in the last 30d, "
            f"amounts clipped at {CUSTOMER_AMOUNT_CAP:g} (1.0 without any).",
            "ratio_to_prior_mean",
            _CAPPED,
        )
    )
    for w in TERMINAL_WINDOWS:
        defs += [
            FeatureDef(
                f"terminal_txn_count_{w}",
                "terminal",
                w,
                f"Terminal's transactions in the last {w}, this one included.",
                "count",
            ),
            FeatureDef(
                f"terminal_fraud_rate_{w}",
                "terminal",
                w,
                f"Share of the terminal's transactions in the {w} before the label delay "
                "whose fraud label was known at scoring time.",
                "label_rate",
            ),
        ]
    for w in CARD_TESTING_WINDOWS:
        defs.append(
            FeatureDef(
                f"card_small_txn_count_{w}",
                "card",
                w,
                f"Card's transactions under {SMALL_AMOUNT:g} in the last {w}, this one included.",
                "sum",
                _SMALL,
                requires=("card",),
            )
        )
    defs += [
        FeatureDef(
            "card_new_terminal",
            "card",
            None,
            "1 if the card was never used at this terminal before.",
            "first_seen",
            key="terminal",
            requires=("card",),
        ),
        FeatureDef(
            "card_new_country",
            "card",
            None,
            "1 if the card was never used in this country before.",
            "first_seen",
            key="country",
            requires=("card", "country"),
        ),
        FeatureDef(
            "is_night",
            None,
            None,
            "1 between 00:00 and 05:59 UTC.",
            "row",
            'CASE WHEN hour("timestamp") < 6 THEN 1 ELSE 0 END',
        ),
        FeatureDef(
            "is_weekend",
            None,
            None,
            "1 on Saturday or Sunday (UTC).",
            "row",
            'CASE WHEN isodow("timestamp") >= 6 THEN 1 ELSE 0 END',
        ),
    ]
    defs += [
        FeatureDef(
            f"customer_txn_count_{w}",
            "customer",
            w,
            f"Velocity: customer's transactions in the last {w}, this one included.",
            "count",
        )
        for w in VELOCITY_WINDOWS
    ]
    defs.append(
        FeatureDef(
            "customer_new_terminal",
            "customer",
            None,
            "1 if the customer was never seen at this terminal before.",
            "first_seen",
            key="terminal",
        )
    )
    # The entity's own history; declared as DERIVED_FEATURES too (descriptions included),
    # which is how the definitions hash has always covered them.
    derived = {d.name: d.description for d in DERIVED_FEATURES}
    defs += [
        FeatureDef(
            "hours_since_customer_txn",
            "customer",
            _GAP_WINDOW,
            derived["hours_since_customer_txn"],
            "hours_since_prior",
        ),
        FeatureDef(
            "hours_since_terminal_txn",
            "terminal",
            _GAP_WINDOW,
            derived["hours_since_terminal_txn"],
            "hours_since_prior",
        ),
        # The window's amounts as they entered the customer's state (clipped, issue 9);
        # the numerator is the raw amount.
        FeatureDef(
            "amount_to_customer_median_30d",
            "customer",
            "30d",
            derived["amount_to_customer_median_30d"],
            "ratio_to_median",
            _CAPPED,
            key="amount",
        ),
        FeatureDef(
            "amount_zscore_customer_30d",
            "customer",
            "30d",
            derived["amount_zscore_customer_30d"],
            "zscore",
            _CAPPED,
            key="amount",
        ),
    ]
    # Added after the history kinds: hashed only for the models that use it.
    defs.append(
        FeatureDef(
            FRESH_FRAUD_FEATURE,
            "terminal",
            FRESH_FRAUD_WINDOW,
            f"The terminal's earlier transactions in the last {FRESH_FRAUD_WINDOW} whose fraud "
            "was already confirmed at this transaction's time (no label-delay window).",
            "known_label_count",
        )
    )
    return tuple(defs)


@dataclass(frozen=True)
class DerivedFeature:
    """How the history features were first declared, outside the engine; kept because the
    definitions hash covers them in this form (see :func:`build_fraud_features`)."""

    name: str
    entity: str
    window: str | None
    description: str
    kind: str = "derived"


DERIVED_FEATURES: tuple[DerivedFeature, ...] = (
    DerivedFeature(
        "hours_since_customer_txn",
        "customer",
        None,
        f"Hours since the customer's previous transaction (at most {GAP_CAP_HOURS:g}).",
    ),
    DerivedFeature(
        "hours_since_terminal_txn",
        "terminal",
        None,
        f"Hours since the terminal's previous transaction (at most {GAP_CAP_HOURS:g}).",
    ),
    DerivedFeature(
        "amount_to_customer_median_30d",
        "customer",
        "30d",
        "Amount / median amount of the customer's transactions in the last 30d, this one "
        "included (1.0 when the median is not positive).",
    ),
    DerivedFeature(
        "amount_zscore_customer_30d",
        "customer",
        "30d",
        "Amount minus the customer's 30-day mean, in standard deviations (this one "
        "included; 0.0 without spread).",
    ),
)

FRAUD_FEATURES: tuple[FeatureDef, ...] = _declare()
FEATURE_NAMES: tuple[str, ...] = tuple(d.name for d in FRAUD_FEATURES)
"""Every fraud feature in the model's column order (a table may enable fewer)."""
_DERIVED_NAMES = frozenset(d.name for d in DERIVED_FEATURES)
_HASHED_WHEN_USED = frozenset({FRESH_FRAUD_FEATURE})
"""Features added after models were trained without them: a model's feature hash covers
them only when the model reads them, so those models' hashes do not change."""


def resolve(mapping: ColumnMapping, available_columns: set[str]) -> tuple[ColumnMapping, list[str]]:
    """Check ``mapping`` against a table's columns; drop optional columns it lacks.

    A missing required column raises :class:`InputError` naming it and listing what the
    table has. A missing (or unmapped) optional column becomes None and adds a warning
    naming the features it disables, so the caller can train on what there is and say so.
    """
    have = ", ".join(sorted(available_columns))
    for role in REQUIRED_COLUMNS:
        column = getattr(mapping, role)
        if column not in available_columns:
            raise InputError(MSG_MISSING_REQUIRED.format(column=column, role=role, have=have))

    warnings: list[str] = []
    kept: dict[str, Any] = mapping.as_dict()
    for role in OPTIONAL_COLUMNS:
        column = getattr(mapping, role)
        present = column is not None and column in available_columns
        if present:
            continue
        kept.pop(role, None)
        disabled = [f.name for f in FRAUD_FEATURES if role in f.requires]
        if role == "label_time":
            absent = "" if column is None else MSG_ABSENT_PREFIX.format(column=column, role=role)
            warnings.append(absent + MSG_NO_LABEL_TIME)
        elif column is None:
            warnings.append(MSG_OPTIONAL_UNMAPPED.format(role=role, features=", ".join(disabled)))
        else:
            absent = MSG_ABSENT_PREFIX.format(column=column, role=role)
            warnings.append(absent + f"disabled {', '.join(disabled)}")
    return ColumnMapping(**kept), warnings


def enabled_features(mapping: ColumnMapping) -> tuple[FeatureDef, ...]:
    """The engine features a (resolved) mapping can feed: their optional columns are mapped."""
    return tuple(
        d for d in FRAUD_FEATURES if all(getattr(mapping, col) is not None for col in d.requires)
    )


def enabled_feature_names(mapping: ColumnMapping) -> list[str]:
    """Every feature a mapping can feed, in model order."""
    return [d.name for d in enabled_features(mapping)]


@dataclass
class FeatureFrame:
    """Features of every transaction in a table, with what was left out and why.

    ``frame`` is sorted by (timestamp, transaction_id) with canonical column names (see the
    module docstring); ``feature_names`` are the enabled features in model order;
    ``definitions_hash`` covers those definitions and the label-delay settings, so the
    registry can tell two feature sets apart.
    """

    frame: pd.DataFrame
    feature_names: list[str]
    warnings: list[str] = field(default_factory=list)
    definitions_hash: str = ""
    mapping: ColumnMapping = DEFAULT_MAPPING
    label_delay_days: int = 7


def resolve_event_table(
    source: Path | pd.DataFrame, mapping: ColumnMapping, label_delay_days: int
) -> tuple[ColumnMapping, list[str], EventTable]:
    """Check the mapping against the table (warnings logged) and describe it for the engine.

    Shared by the offline build and the online store, so both read a table the same way.
    """
    resolved, warnings = resolve(mapping, set(source_columns(source)))
    for message in warnings:
        log.warning("%s", message)
    table = EventTable(
        columns=resolved.as_dict(),
        id="transaction_id",
        time="timestamp",
        label="label",
        label_time="label_time" if resolved.label_time is not None else None,
        label_delay=timedelta(days=label_delay_days),
    )
    return resolved, warnings, table


def build_fraud_features(
    source: Path | pd.DataFrame,
    mapping: ColumnMapping = DEFAULT_MAPPING,
    *,
    label_delay_days: int = 7,
    options: EngineOptions | None = None,
    model_features: Sequence[str] | None = None,
) -> FeatureFrame:
    """Compute the fraud features for every transaction in a Parquet/CSV file or frame.

    The mapping is checked against the table first (missing required column ->
    :class:`InputError`; missing optional column -> features disabled, reason in
    ``warnings``). ``label_delay_days`` is the delay of the terminal-risk window and, for
    tables without a label-time column, when a label counts as known.

    ``definitions_hash`` covers every enabled feature, except that a feature added later
    (``terminal_known_frauds_7d``) is left out when ``model_features`` (a model's feature
    names, for checking a trained model) does not hold it: a model trained without it keeps
    the hash it was registered with.
    """
    if isinstance(label_delay_days, bool) or not isinstance(label_delay_days, int):
        raise InputError("label_delay_days must be a whole number of days")
    if label_delay_days < 1:
        raise InputError("label_delay_days must be at least 1: a label is never known at once")
    resolved, warnings, table = resolve_event_table(source, mapping, label_delay_days)
    defs = enabled_features(resolved)
    roles = resolved.as_dict()
    passthrough = [c for c in ("customer", "terminal", "card") if c in roles]
    frame = compute_features(source, defs, table, passthrough=passthrough, options=options)
    # The "amount" feature is the amount itself (as float64), so it sits among the keys.
    head = ["transaction_id", "timestamp", *passthrough, "amount", "label", "label_time"]
    names = [d.name for d in defs]
    frame = frame[[*head, *(n for n in names if n not in head)]]
    params = {
        "label_delay_days": label_delay_days,
        "label_known_at": "label_time column" if resolved.label_time else "timestamp + delay",
        "derived": [[d.name, d.entity, d.window, d.description] for d in DERIVED_FEATURES],
        "gap_cap_hours": GAP_CAP_HOURS,
        "spread_floor": SPREAD_FLOOR,
    }
    return FeatureFrame(
        frame=frame,
        feature_names=names,
        warnings=warnings,
        # Hashed as before the history features joined the engine (they are in params).
        definitions_hash=definitions_hash(
            [
                d
                for d in defs
                if d.name not in _DERIVED_NAMES
                and (
                    d.name not in _HASHED_WHEN_USED
                    or model_features is None
                    or d.name in model_features
                )
            ],
            params,
        ),
        mapping=resolved,
        label_delay_days=label_delay_days,
    )
