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

Modules, one per concern: :mod:`.tables` (the output contract), :mod:`.customers` (customers
and cards), :mod:`.terminals`, :mod:`.fraud` (the fraud scenarios, planned as named steps),
:mod:`.transactions`, :mod:`.credit`, :mod:`.policies`, :mod:`.writing` (atomic files and the
manifest) and :mod:`.bank`, which runs the stages in order.
"""

from __future__ import annotations

from bankml.data.generator._common import ProgressFn
from bankml.data.generator.bank import generate_bank
from bankml.data.generator.tables import TABLE_SCHEMAS
from bankml.data.generator.writing import BankManifest, load_manifest

__all__ = [
    "TABLE_SCHEMAS",
    "BankManifest",
    "ProgressFn",
    "generate_bank",
    "load_manifest",
]
