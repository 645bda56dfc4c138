"""``generate_bank``: the stages in order, from customers to the manifest."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import numpy as np

from bankml.core.errors import InputError
from bankml.data.generator._common import (
    DAY_US,
    MAX_CUSTOMERS,
    MAX_DAYS,
    MSG_APPLICATIONS,
    MSG_CUSTOMERS,
    MSG_DAYS,
    MSG_FRAUD_RATE,
    MSG_OUT_FOREIGN,
    MSG_OUT_IS_FILE,
    MSG_SEED,
    MSG_START,
    S_CARDS,
    S_CREDIT,
    S_CUSTOMERS,
    S_FRAUD,
    S_LINKS,
    S_TERMINALS,
    ProgressFn,
    stream_rng,
)
from bankml.data.generator.credit import make_credit
from bankml.data.generator.customers import make_cards, make_customers
from bankml.data.generator.fraud import plan_fraud
from bankml.data.generator.policies import write_policies
from bankml.data.generator.terminals import link_customers_to_terminals, make_terminals
from bankml.data.generator.transactions import write_transactions
from bankml.data.generator.writing import (
    MANIFEST,
    BankManifest,
    file_sha256,
    foreign_entry,
    prepare_dir,
    remove_stale,
    write_bytes_atomic,
    write_table_atomic,
)

log = logging.getLogger(__name__)


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

    prepare_dir(out)
    log.info("generating bank: customers=%s days=%s seed=%s", customers, days, seed)
    start_us = (start - date(1970, 1, 1)).days * DAY_US  # midnight UTC, in microseconds
    written: list[str] = []
    row_counts: dict[str, int] = {}

    report("customers", 0, customers)
    cust = make_customers(stream_rng(seed, S_CUSTOMERS), customers, start)
    write_table_atomic(out / "customers.parquet", cust.table)
    written.append("customers.parquet")
    row_counts["customers"] = customers
    report("customers", customers, customers)

    n_terminals = max(50, customers // 5)
    report("terminals", 0, n_terminals)
    term = make_terminals(stream_rng(seed, S_TERMINALS), n_terminals)
    write_table_atomic(out / "terminals.parquet", term.table)
    written.append("terminals.parquet")
    row_counts["terminals"] = n_terminals
    report("terminals", n_terminals, n_terminals)

    report("cards", 0, customers)
    cards = make_cards(stream_rng(seed, S_CARDS), cust, start, days)
    write_table_atomic(out / "cards.parquet", cards.table)
    written.append("cards.parquet")
    row_counts["cards"] = cards.n
    report("cards", customers, customers)

    report("fraud_plan", 0, 1)
    link_customers_to_terminals(stream_rng(seed, S_LINKS), cust, term)
    plan = plan_fraud(
        stream_rng(seed, S_FRAUD), cust, cards, term, days, start, start_us, fraud_rate
    )
    report("fraud_plan", 1, 1)
    n_tx, n_fraud = write_transactions(
        out / "transactions.parquet", seed, cust, cards, term, plan, days, start, start_us, report
    )
    written.append("transactions.parquet")
    row_counts["transactions"] = n_tx

    report("credit", 0, n_apps)
    apps, protected = make_credit(stream_rng(seed, S_CREDIT), cust, n_apps, start, start_us)
    write_table_atomic(out / "credit_applications.parquet", apps)
    write_table_atomic(out / "credit_protected.parquet", protected)
    written += ["credit_applications.parquet", "credit_protected.parquet"]
    row_counts["credit_applications"] = n_apps
    row_counts["credit_protected"] = n_apps
    report("credit", n_apps, n_apps)

    written += write_policies(out, seed, report)
    remove_stale(out, set(written))

    report("checksums", 0, len(written))
    files: dict[str, str] = {}
    for i, rel in enumerate(sorted(written), 1):
        files[rel] = file_sha256(out / rel)
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
    write_bytes_atomic(out / MANIFEST, manifest.to_json().encode("utf-8"))
    log.info("bank written: %s transactions, fraud rate %s", n_tx, manifest.fraud_rate)
    return manifest


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

    if not is_int(customers) or not 1 <= customers <= MAX_CUSTOMERS:
        raise InputError(MSG_CUSTOMERS.format(max=MAX_CUSTOMERS, value=customers))
    if not is_int(days) or not 1 <= days <= MAX_DAYS:
        raise InputError(MSG_DAYS.format(max=MAX_DAYS, value=days))
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
        foreign = foreign_entry(out)
        if foreign is not None:
            raise InputError(MSG_OUT_FOREIGN.format(out=out, entry=foreign))
