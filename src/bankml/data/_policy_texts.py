"""Templates for the policy corpus (rendered by :mod:`bankml.data.policy_corpus`).

Placeholders ``{name}`` are filled from, in order of precedence: the document's own
``params``, the generic parameters every document draws (approver, review cycle ...), and
the corpus-wide ``SHARED_PARAMS`` (facts several documents state and must agree on, such as
the cash reporting threshold). ``[[POL-AREA-NNN#section_key]]`` is a cross-reference. A rule
text starting with ``### `` is a subsection heading, not a rule.

Facts are deliberately specific and different from document to document, so a
question-answering evaluation can target one section and check the citation.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A subject section of a policy: a key for cross-references, a heading, rule texts."""

    key: str
    heading: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class DocSpec:
    """The template of one policy document."""

    id: str
    title: str
    owner: str
    classification: str
    groups: tuple[str, ...]
    purpose: str
    scope: str
    sections: tuple[Section, ...]
    related: tuple[tuple[str, str, str], ...]
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)
    definitions: tuple[tuple[str, str], ...] = ()


EVERYONE = ("everyone",)

# Facts stated in more than one document: drawn once per corpus so the documents agree.
SHARED_PARAMS: dict[str, tuple[str, ...]] = {
    "cash_threshold": ("EUR 10,000", "EUR 15,000"),
    "sar_days": ("2 business days", "3 business days"),
    "dispute_window": ("120 days", "90 days"),
    "alert_capacity": ("150", "200", "250"),
    "kyc_refresh_high": ("12 months", "18 months"),
}

# Drawn per document for the sections every policy has.
GENERIC_PARAMS: dict[str, tuple[str, ...]] = {
    "approver": (
        "the Board Risk Committee",
        "the Executive Risk Committee",
        "the Chief Risk Officer",
        "the Executive Committee",
        "the Operational Risk Committee",
    ),
    "second_line": (
        "The Compliance Monitoring team",
        "Operational Risk",
        "The Second Line Assurance team",
        "Enterprise Risk Management",
    ),
    "test_months": ("6", "12", "18"),
    "exception_approver": (
        "the Chief Risk Officer",
        "the Head of Compliance",
        "the policy owner and the Head of Operational Risk",
        "the Chief Operating Officer",
        "the accountable Executive Committee member",
    ),
    "exception_months": ("3", "6", "9", "12"),
    "register": (
        "Policy Exceptions Register",
        "Risk Acceptance Register",
        "operational risk system (ORS)",
    ),
    "breach_to": (
        "Operational Risk",
        "the Compliance Monitoring team",
        "the policy owner and Operational Risk",
    ),
    "breach_days": ("1 business day", "2 business days", "3 business days", "5 business days"),
    "review_months": ("12", "24"),
}

_LENDING = (
    DocSpec(
        id="POL-LEND-001",
        title="Consumer Credit Underwriting Standards",
        owner="Head of Retail Credit Risk",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy sets the minimum standards for approving unsecured consumer credit "
            "(personal loans and credit cards) so that the bank lends only what a customer "
            "can afford to repay without hardship."
        ),
        scope=(
            "It applies to every unsecured consumer credit application in the United Kingdom "
            "and Germany, whether decided by a credit officer or by an automated model."
        ),
        sections=(
            Section(
                "eligibility",
                "Eligibility",
                (
                    "Applicants must be at least 18 years old and resident in the United "
                    "Kingdom or Germany for at least {residency_months} months.",
                    "A credit history of at least {min_history} months is required for loans "
                    "above EUR 5,000 or GBP 4,000.",
                    "Applicants with {max_delinq} or more delinquencies in the last 24 months "
                    "are declined without referral.",
                ),
            ),
            Section(
                "affordability",
                "Affordability",
                (
                    "Applications with a debt-to-income ratio above {max_dti} are declined "
                    "unless a credit officer at grade C3 or above approves a documented "
                    "exception.",
                    "Declared income above {verify_income} a year must be verified with two "
                    "recent payslips or the latest tax assessment before funds are released.",
                    "Revolving credit utilisation above {max_util} at application triggers a "
                    "manual referral under [[POL-LEND-002#referrals]].",
                    "More than {max_inquiries} credit inquiries in the last six months is a "
                    "warning sign that the credit officer must address in the file note.",
                ),
            ),
            Section(
                "limits",
                "Loan limits and terms",
                (
                    "The maximum unsecured personal loan is {max_loan}; terms are 12, 24, 36, "
                    "48 or 60 months.",
                    "Loans above {senior_amount} require approval by the Head of Retail "
                    "Credit in addition to the model decision.",
                    "Reasons for a decline are given to the applicant as set out in "
                    "[[POL-LEND-002#adverse_action]].",
                ),
            ),
        ),
        related=(
            ("POL-LEND-002", "adverse_action", "reason codes and adverse-action notices"),
            ("POL-MRM-004", "testing", "fairness testing of credit models"),
            ("POL-LEND-006", "appetite", "credit risk appetite"),
        ),
        params={
            "residency_months": ("3", "6"),
            "min_history": ("6", "12"),
            "max_delinq": ("3", "4"),
            "max_dti": ("40%", "43%", "45%"),
            "verify_income": ("EUR 60,000", "EUR 75,000"),
            "max_util": ("85%", "90%"),
            "max_inquiries": ("4", "5"),
            "max_loan": ("EUR 40,000", "EUR 50,000"),
            "senior_amount": ("EUR 25,000", "EUR 30,000"),
        },
    ),
    DocSpec(
        id="POL-LEND-002",
        title="Credit Decisioning, Reason Codes and Adverse Action",
        owner="Credit Decisioning Manager",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy governs how credit decisions are made by models and people, and how "
            "the bank explains adverse decisions to applicants, in line with Regulation B "
            "(12 CFR 1002.9) for US-connected customers and the EU Consumer Credit Directive."
        ),
        scope=(
            "It covers approvals, declines, counter-offers and referrals for all consumer "
            "credit products, and every model that scores an application."
        ),
        sections=(
            Section(
                "automated_decisions",
                "Automated decisions",
                (
                    "Only a model version approved under [[POL-MRM-001#validation]] and "
                    "marked champion in the model registry may decide applications.",
                    "Every decision is written to the decision ledger with the model version, "
                    "the inputs and the reason codes before the applicant is told.",
                    "Scores within {grey_zone} points of the cut-off are referred to a credit "
                    "officer rather than declined automatically.",
                ),
            ),
            Section(
                "adverse_action",
                "Adverse action and reason codes",
                (
                    "A declined applicant receives a written notice within {notice_days} "
                    "calendar days of the decision.",
                    "The notice states at most four principal reasons, ranked by their "
                    "contribution to the decision; 'internal standards' or 'insufficient "
                    "score' alone are never acceptable reasons.",
                    "Reason codes are validated against the model's explanations every "
                    "{reason_review} months by Model Validation.",
                ),
            ),
            Section(
                "referrals",
                "Manual referrals",
                (
                    "Referred applications are decided within {referral_hours} working hours.",
                    "A credit officer may override a model decline only with a written "
                    "rationale; overrides above {override_rate} of monthly decisions are "
                    "escalated to the Head of Retail Credit.",
                    "The officer who overrides a decision may not be the one who checks it "
                    "(four-eyes principle).",
                ),
            ),
        ),
        related=(
            ("POL-LEND-001", "affordability", "affordability criteria"),
            ("POL-MRM-001", "validation", "model validation before use"),
            ("POL-MRM-004", "protected", "protected characteristics"),
        ),
        params={
            "grey_zone": ("10", "15", "20"),
            "notice_days": ("30", "21"),
            "reason_review": ("6", "12"),
            "referral_hours": ("24", "48"),
            "override_rate": ("5%", "8%"),
        },
    ),
    DocSpec(
        id="POL-LEND-003",
        title="Residential Mortgage Lending",
        owner="Head of Mortgages",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy sets the lending criteria for residential mortgages, including "
            "loan-to-value limits, the interest-rate stress test and valuation standards."
        ),
        scope=(
            "It applies to first-charge residential mortgages for owner-occupiers; buy-to-let "
            "lending is out of scope."
        ),
        sections=(
            Section(
                "ltv",
                "Loan-to-value limits",
                (
                    "The maximum loan-to-value is {max_ltv} for purchases and {remortgage_ltv} "
                    "for remortgages.",
                    "No more than 15% of new mortgage lending by value in a quarter may have "
                    "a loan-to-income multiple of 4.5 or more.",
                    "Interest-only lending is limited to loans with a loan-to-value of "
                    "{io_ltv} or less and a credible repayment vehicle.",
                ),
            ),
            Section(
                "stress",
                "Affordability stress test",
                (
                    "Affordability is tested at the higher of the product rate plus "
                    "{stress_add} percentage points and a floor rate of {stress_floor}.",
                    "Committed expenditure includes all existing credit repayments, childcare "
                    "and a living-cost allowance from the bank's expenditure model.",
                ),
            ),
            Section(
                "valuation",
                "Valuation",
                (
                    "Every property is valued by a panel surveyor; automated valuations are "
                    "allowed only up to {avm_ltv} loan-to-value and loans below {avm_amount}.",
                    "A valuation is valid for {valuation_months} months from inspection.",
                ),
            ),
        ),
        related=(
            ("POL-LEND-001", "eligibility", "general eligibility criteria"),
            ("POL-LEND-006", "concentration", "concentration limits"),
        ),
        params={
            "max_ltv": ("90%", "95%"),
            "remortgage_ltv": ("85%", "80%"),
            "io_ltv": ("60%", "75%"),
            "stress_add": ("3", "2.5"),
            "stress_floor": ("7%", "6.5%"),
            "avm_ltv": ("70%", "75%"),
            "avm_amount": ("EUR 500,000", "EUR 400,000"),
            "valuation_months": ("4", "6"),
        },
    ),
    DocSpec(
        id="POL-LEND-004",
        title="Credit Card Limit Management",
        owner="Cards Credit Manager",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy explains how credit card limits are set at account opening and "
            "changed over the life of the account."
        ),
        scope="It applies to all consumer credit card accounts.",
        sections=(
            Section(
                "initial",
                "Initial limits",
                (
                    "The initial limit may not exceed {initial_share} of verified gross "
                    "monthly income multiplied by 12, and never exceeds {max_limit}.",
                    "Customers under 21 receive an initial limit of at most {young_limit}.",
                ),
            ),
            Section(
                "increases",
                "Limit increases",
                (
                    "No limit increase is offered in the first {first_increase} months after "
                    "account opening.",
                    "A customer may opt out of unsolicited limit increases at any time, and "
                    "the opt-out is honoured within 2 business days.",
                    "Increases are not offered to customers who have been in arrears at any "
                    "time in the last {arrears_months} months.",
                ),
            ),
            Section(
                "decreases",
                "Limit decreases",
                (
                    "The customer is told of a limit decrease at least {decrease_notice} days "
                    "before it takes effect, unless fraud is suspected.",
                    "Persistent debt (more interest and fees than principal repaid over 18 "
                    "months) triggers contact under [[POL-LEND-005#contact]].",
                ),
            ),
        ),
        related=(
            ("POL-LEND-005", "forbearance", "forbearance options"),
            ("POL-CMP-002", "adjustments", "support for vulnerable customers"),
        ),
        params={
            "initial_share": ("25%", "30%"),
            "max_limit": ("EUR 15,000", "EUR 20,000"),
            "young_limit": ("EUR 1,500", "EUR 2,000"),
            "first_increase": ("6", "9"),
            "arrears_months": ("6", "12"),
            "decrease_notice": ("30", "14"),
        },
    ),
    DocSpec(
        id="POL-LEND-005",
        title="Arrears, Collections and Forbearance",
        owner="Head of Collections and Recoveries",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy makes sure customers in financial difficulty are treated fairly and "
            "offered realistic forbearance before any enforcement action."
        ),
        scope="It applies to all consumer loans, cards, overdrafts and mortgages in arrears.",
        sections=(
            Section(
                "contact",
                "Customer contact",
                (
                    "The first arrears contact is made within {first_contact} days of a missed "
                    "payment.",
                    "Collections staff may call a customer at most {max_calls} times a week "
                    "and never before 08:00 or after 21:00 local time.",
                    "Any sign of vulnerability is handled under [[POL-CMP-002#identification]] "
                    "before collection continues.",
                ),
            ),
            Section(
                "forbearance",
                "Forbearance",
                (
                    "Forbearance options are payment holidays of up to {holiday_months} "
                    "months, reduced payments, term extensions and interest freezes.",
                    "Arrears fees are capped at {fee_cap} per month and stop once a "
                    "forbearance plan is agreed.",
                ),
            ),
            Section(
                "write_off",
                "Default and write-off",
                (
                    "An account is in default at {default_dpd} days past due.",
                    "Unsecured balances are written off at {writeoff_dpd} days past due, or "
                    "earlier on bankruptcy or death.",
                    "Debts are not sold to a third party while a complaint about them is open.",
                ),
            ),
        ),
        related=(
            ("POL-CMP-002", "identification", "identifying vulnerable customers"),
            ("POL-LEND-004", "decreases", "limit decreases"),
        ),
        params={
            "first_contact": ("3", "5"),
            "max_calls": ("3", "2"),
            "holiday_months": ("3", "6"),
            "fee_cap": ("EUR 12", "EUR 15"),
            "default_dpd": ("90", "120"),
            "writeoff_dpd": ("180", "210"),
        },
    ),
    DocSpec(
        id="POL-LEND-006",
        title="Credit Risk Appetite and Concentration Limits",
        owner="Chief Credit Officer",
        classification="restricted",
        groups=("credit-risk",),
        purpose=(
            "This policy states the bank's appetite for credit risk and the limits that keep "
            "the loan book diversified. Its figures are commercially sensitive."
        ),
        scope="It applies to the whole consumer and small-business loan book.",
        sections=(
            Section(
                "appetite",
                "Risk appetite",
                (
                    "The expected 12-month default rate of new consumer lending must stay "
                    "below {max_pd} on a rolling three-month basis.",
                    "Annual credit losses must not exceed {loss_budget} of average "
                    "receivables; reaching 80% of that budget triggers an amber status.",
                    "The approval rate of the consumer loan model is reported monthly; a move "
                    "of more than {approval_move} percentage points in a month is escalated.",
                ),
            ),
            Section(
                "concentration",
                "Concentration limits",
                (
                    "No single borrower group may exceed {single_name} of total credit exposure.",
                    "Lending to the hospitality sector is capped at {sector_cap} of the "
                    "small-business book.",
                    "Mortgages in one postcode district may not exceed 3% of the mortgage book.",
                ),
            ),
            Section(
                "escalation",
                "Limit breaches",
                (
                    "A limit breach is reported to the Chief Risk Officer within 1 business "
                    "day and to the Board Risk Committee at its next meeting.",
                    "A remediation plan is agreed within {remediation_days} days of a breach.",
                ),
            ),
        ),
        related=(
            ("POL-LEND-001", "limits", "consumer loan limits"),
            ("POL-LEND-007", "limits", "small-business limits"),
            ("POL-MRM-002", "escalation", "model monitoring escalation"),
        ),
        params={
            "max_pd": ("4.5%", "5%"),
            "loss_budget": ("2.2%", "2.5%"),
            "approval_move": ("5", "7"),
            "single_name": ("2%", "1.5%"),
            "sector_cap": ("12%", "15%"),
            "remediation_days": ("20", "30"),
        },
    ),
    DocSpec(
        id="POL-LEND-007",
        title="Small Business Lending",
        owner="Head of Business Banking Credit",
        classification="confidential",
        groups=("credit-risk", "business-banking"),
        purpose=(
            "This policy sets the credit criteria for loans and overdrafts to sole traders "
            "and small companies."
        ),
        scope=(
            "It applies to business customers with annual turnover up to EUR 5 million and "
            "total borrowing up to EUR 1 million."
        ),
        sections=(
            Section(
                "criteria",
                "Credit criteria",
                (
                    "The business must have traded for at least {trading_months} months and "
                    "filed at least one set of accounts.",
                    "Debt service cover must be at least {dscr} times on the latest accounts.",
                    "Lending above {guarantee_amount} requires a personal guarantee from the "
                    "directors.",
                ),
            ),
            Section(
                "limits",
                "Limits and approval",
                (
                    "Branch business managers may approve up to {branch_limit}; larger "
                    "facilities go to the Business Credit Committee.",
                    "Overdrafts are reviewed every 12 months and may not stay hardcore (never "
                    "in credit) for more than 90 consecutive days.",
                ),
            ),
            Section(
                "monitoring",
                "Monitoring",
                (
                    "Management accounts are requested quarterly for facilities above EUR 250,000.",
                    "Two missed covenant tests move the customer to the watch list within "
                    "5 business days.",
                ),
            ),
        ),
        related=(
            ("POL-LEND-006", "concentration", "sector concentration limits"),
            ("POL-AML-002", "identification", "identifying business owners"),
        ),
        params={
            "trading_months": ("12", "24"),
            "dscr": ("1.25", "1.35"),
            "guarantee_amount": ("EUR 100,000", "EUR 150,000"),
            "branch_limit": ("EUR 150,000", "EUR 250,000"),
        },
    ),
)

_AML = (
    DocSpec(
        id="POL-AML-001",
        title="Anti-Money Laundering and Counter-Terrorist Financing",
        owner="Money Laundering Reporting Officer (MLRO)",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy sets out how the bank prevents its services from being used to "
            "launder money or finance terrorism, as required by the EU Anti-Money Laundering "
            "Directives and the UK Money Laundering Regulations 2017."
        ),
        scope="It applies to all staff, contractors, products, channels and countries.",
        sections=(
            Section(
                "framework",
                "Risk-based framework",
                (
                    "The bank carries out a business-wide money laundering risk assessment "
                    "every {bwra_months} months, approved by the Board.",
                    "Customers are risk-rated low, medium or high at onboarding under "
                    "[[POL-AML-002#risk_rating]].",
                    "Cash transactions of {cash_threshold} or more are reported under "
                    "[[POL-AML-003#reporting]].",
                ),
            ),
            Section(
                "mlro",
                "The MLRO",
                (
                    "The MLRO reports to the Board at least annually and has direct access to "
                    "the Chair of the Board Risk Committee.",
                    "Staff report a suspicion to the MLRO within {sar_days} under "
                    "[[POL-AML-004#internal_reports]]; they must not investigate it "
                    "themselves.",
                ),
            ),
            Section(
                "training",
                "Training",
                (
                    "All staff complete AML training within {training_days} days of joining "
                    "and every year after.",
                    "Staff in high-risk roles (payments, onboarding, investigations) complete "
                    "additional training every {high_risk_training} months.",
                ),
            ),
        ),
        related=(
            ("POL-AML-002", "identification", "customer due diligence"),
            ("POL-AML-004", "filing", "suspicious activity reports"),
            ("POL-AML-005", "screening", "sanctions screening"),
        ),
        params={
            "bwra_months": ("12", "24"),
            "training_days": ("30", "60"),
            "high_risk_training": ("6", "12"),
        },
    ),
    DocSpec(
        id="POL-AML-002",
        title="Customer Due Diligence and Know Your Customer",
        owner="Head of Financial Crime Operations",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy defines how the bank identifies and verifies customers, understands "
            "the purpose of the relationship, and keeps that knowledge up to date."
        ),
        scope="It applies to every new and existing personal and business customer.",
        definitions=(
            (
                "Beneficial owner",
                "a natural person who owns or controls more than 25% of a business customer",
            ),
            ("EDD", "enhanced due diligence, required for high-risk customers"),
        ),
        sections=(
            Section(
                "identification",
                "Identification and verification",
                (
                    "Personal customers provide one photographic identity document and one "
                    "proof of address dated within the last {address_months} months.",
                    "For business customers, every beneficial owner is identified and "
                    "verified before the account is opened.",
                    "An account may not be used before verification is complete, except to "
                    "receive an initial deposit of up to {initial_deposit}.",
                ),
            ),
            Section(
                "risk_rating",
                "Customer risk rating",
                (
                    "Customers are rated high risk if they are politically exposed (see "
                    "[[POL-AML-006#identification]]), resident in a high-risk third country, "
                    "or run a cash-intensive business.",
                    "High-risk customers require EDD, including source of wealth evidence, "
                    "and sign-off by a senior manager.",
                ),
            ),
            Section(
                "refresh",
                "Periodic review",
                (
                    "Customer due diligence is refreshed every {kyc_refresh_high} for high "
                    "risk, every {refresh_medium} for medium risk and every {refresh_low} "
                    "for low risk customers.",
                    "A customer who does not respond to two refresh requests within "
                    "{refresh_response} days has outgoing payments restricted.",
                ),
            ),
        ),
        related=(
            ("POL-AML-001", "framework", "the AML framework"),
            ("POL-AML-006", "edd", "politically exposed persons"),
            ("POL-DP-002", "schedule", "retention of KYC records"),
        ),
        params={
            "address_months": ("3", "6"),
            "initial_deposit": ("EUR 500", "EUR 1,000"),
            "refresh_medium": ("3 years", "2 years"),
            "refresh_low": ("5 years", "7 years"),
            "refresh_response": ("60", "45"),
        },
    ),
    DocSpec(
        id="POL-AML-003",
        title="Cash Transaction Reporting",
        owner="AML Compliance Manager",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy sets the thresholds and deadlines for reporting large cash "
            "transactions, and the controls against structuring."
        ),
        scope="It applies to cash deposits, withdrawals and exchanges at branches and ATMs.",
        sections=(
            Section(
                "thresholds",
                "Thresholds",
                (
                    "A cash transaction of {cash_threshold} or more, or its equivalent in "
                    "another currency, is a reportable cash transaction.",
                    "Cash transactions by the same customer on the same business day are "
                    "added together when applying the threshold.",
                ),
            ),
            Section(
                "reporting",
                "Reporting",
                (
                    "Cash transactions of {cash_threshold} or more must be reported to the "
                    "AML team within {cash_report_days}.",
                    "The branch records the source of funds declared by the customer for "
                    "every deposit above {source_threshold}.",
                    "Reports are retained for {cash_retention} years after the end of the "
                    "customer relationship.",
                ),
            ),
            Section(
                "structuring",
                "Structuring",
                (
                    "Three or more cash deposits between {struct_low} and the reporting "
                    "threshold within {struct_days} days are treated as possible structuring "
                    "and raised as an alert.",
                    "A structuring alert that is not closed as explained within 5 business "
                    "days becomes an internal suspicious activity report under "
                    "[[POL-AML-004#internal_reports]].",
                ),
            ),
        ),
        related=(
            ("POL-AML-004", "internal_reports", "internal suspicious activity reports"),
            ("POL-AML-007", "scenarios", "transaction monitoring scenarios"),
        ),
        params={
            "cash_report_days": ("2 business days", "1 business day"),
            "source_threshold": ("EUR 5,000", "EUR 3,000"),
            "cash_retention": ("5", "10"),
            "struct_low": ("EUR 7,500", "EUR 8,000"),
            "struct_days": ("7", "10"),
        },
    ),
    DocSpec(
        id="POL-AML-004",
        title="Suspicious Activity Reporting",
        owner="Money Laundering Reporting Officer (MLRO)",
        classification="restricted",
        groups=("aml-investigations",),
        purpose=(
            "This policy explains how suspicions of money laundering or terrorist financing "
            "are reported internally, investigated and, where required, disclosed to the "
            "Financial Intelligence Unit (FIU)."
        ),
        scope=(
            "It applies to the Financial Intelligence team and the MLRO; other staff follow "
            "the reporting duty in [[POL-AML-001#mlro]]."
        ),
        sections=(
            Section(
                "internal_reports",
                "Internal reports",
                (
                    "Any member of staff with a suspicion submits an internal report to the "
                    "MLRO within {sar_days}.",
                    "The Financial Intelligence team acknowledges each internal report within "
                    "{ack_hours} hours.",
                ),
            ),
            Section(
                "investigation",
                "Investigation",
                (
                    "Investigations are completed within {investigation_days} days of the "
                    "internal report; the MLRO may extend this once by 15 days.",
                    "Investigators review at least {lookback_months} months of account "
                    "activity and all linked parties.",
                ),
            ),
            Section(
                "filing",
                "Filing with the FIU",
                (
                    "Where the MLRO decides to disclose, the report is filed with the FIU "
                    "within {filing_days} business days of that decision.",
                    "If the bank needs consent to proceed with a transaction, the "
                    "transaction is held and the FIU is asked for a defence; the customer is "
                    "not told why.",
                    "Accounts with {exit_sars} or more filed reports in 12 months are "
                    "referred to the Customer Exit Committee.",
                ),
            ),
            Section(
                "tipping_off",
                "Tipping off",
                (
                    "Telling a customer, or anyone outside the investigation, that a report "
                    "has been made is a criminal offence and a disciplinary matter under "
                    "[[POL-HR-003#investigation]].",
                    "Case notes are stored only in the restricted investigations system; "
                    "they may not be copied into the customer relationship system.",
                ),
            ),
        ),
        related=(
            ("POL-AML-003", "structuring", "structuring alerts"),
            ("POL-AML-007", "alert_handling", "monitoring alert handling"),
        ),
        params={
            "ack_hours": ("24", "48"),
            "investigation_days": ("30", "20"),
            "lookback_months": ("12", "6"),
            "filing_days": ("3", "5"),
            "exit_sars": ("2", "3"),
        },
    ),
    DocSpec(
        id="POL-AML-005",
        title="Sanctions Screening",
        owner="Head of Sanctions Compliance",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy makes sure the bank does not deal with sanctioned persons, entities "
            "or countries under UN, EU, UK (OFSI) and US (OFAC) sanctions regimes."
        ),
        scope="It applies to customers, related parties and all incoming and outgoing payments.",
        sections=(
            Section(
                "screening",
                "Screening",
                (
                    "Customers are screened at onboarding and re-screened within "
                    "{rescreen_hours} hours of every sanctions list update.",
                    "Payments are screened in real time before release; a payment with a "
                    "potential match is held until the alert is cleared.",
                    "The name-matching threshold is set at a similarity score of {match_score} "
                    "and may only be changed with the approval of the Head of Sanctions "
                    "Compliance.",
                ),
            ),
            Section(
                "alerts",
                "Alert handling",
                (
                    "Payment alerts are reviewed within {payment_alert_minutes} minutes "
                    "during operating hours.",
                    "A confirmed match is frozen immediately and reported to the relevant "
                    "authority within {report_days} business day(s).",
                ),
            ),
            Section(
                "payments",
                "Payments and trade",
                (
                    "The bank does not process payments involving comprehensively sanctioned "
                    "countries, even where a licence exemption might apply.",
                    "Payment messages must carry full originator and beneficiary "
                    "information; incomplete messages are returned within 2 business days.",
                ),
            ),
        ),
        related=(
            ("POL-AML-001", "framework", "the AML framework"),
            ("POL-TRY-004", "cutoffs", "payment cut-off times"),
        ),
        params={
            "rescreen_hours": ("24", "12"),
            "match_score": ("0.85", "0.88"),
            "payment_alert_minutes": ("30", "60"),
            "report_days": ("1", "2"),
        },
    ),
    DocSpec(
        id="POL-AML-006",
        title="Politically Exposed Persons",
        owner="Head of Financial Crime Operations",
        classification="confidential",
        groups=("compliance", "aml-investigations"),
        purpose=(
            "This policy sets the enhanced due diligence the bank applies to politically "
            "exposed persons (PEPs), their family members and close associates."
        ),
        scope="It applies to personal and business customers and their beneficial owners.",
        sections=(
            Section(
                "identification",
                "Identification",
                (
                    "Every customer is screened against the PEP database at onboarding and "
                    "monthly thereafter.",
                    "A person remains a PEP for {pep_years} months after leaving the "
                    "prominent public function, and longer if the risk warrants it.",
                ),
            ),
            Section(
                "edd",
                "Enhanced due diligence",
                (
                    "Source of wealth and source of funds are evidenced for every PEP "
                    "relationship.",
                    "PEP relationships are reviewed every {pep_review} months.",
                    "Single transactions above {pep_txn} by a PEP customer are reviewed by "
                    "the Financial Crime team within 2 business days.",
                ),
            ),
            Section(
                "approval",
                "Approval",
                (
                    "Opening or continuing a PEP relationship requires approval by {pep_approver}.",
                    "Foreign PEPs from high-risk third countries also require approval by the "
                    "MLRO.",
                ),
            ),
        ),
        related=(
            ("POL-AML-002", "risk_rating", "customer risk rating"),
            ("POL-AML-004", "investigation", "investigations"),
        ),
        params={
            "pep_years": ("12", "18", "24"),
            "pep_review": ("12", "6"),
            "pep_txn": ("EUR 25,000", "EUR 50,000"),
            "pep_approver": ("a member of the Executive Committee", "the Head of Compliance"),
        },
    ),
    DocSpec(
        id="POL-AML-007",
        title="Transaction Monitoring Scenarios and Thresholds",
        owner="Head of Financial Intelligence",
        classification="restricted",
        groups=("aml-investigations",),
        purpose=(
            "This policy records the transaction monitoring scenarios the bank runs, their "
            "thresholds and how they are tuned. The thresholds must not be disclosed outside "
            "the investigations team, as knowing them helps criminals avoid them."
        ),
        scope="It applies to the transaction monitoring system for all retail accounts.",
        sections=(
            Section(
                "scenarios",
                "Scenarios",
                (
                    "### Cash and velocity",
                    "Rapid movement of funds: incoming funds of {rapid_amount} or more "
                    "moved out within {rapid_hours} hours raise an alert.",
                    "Cash deposits totalling {cash_threshold} or more in 30 days by a "
                    "customer with declared income below EUR 20,000 raise an alert.",
                    "### Geography",
                    "Transfers to high-risk third countries above {country_amount} in a "
                    "calendar month raise an alert.",
                    "Dormant accounts (no activity for 12 months) receiving more than "
                    "{dormant_amount} raise an alert.",
                ),
            ),
            Section(
                "tuning",
                "Tuning",
                (
                    "Thresholds are tuned every {tuning_months} months using above-the-line "
                    "and below-the-line testing.",
                    "A scenario whose alerts convert to reports at less than {min_conversion} "
                    "for two consecutive quarters is reviewed for retirement.",
                ),
            ),
            Section(
                "alert_handling",
                "Alert handling",
                (
                    "Level 1 analysts disposition an alert within {l1_days} business days; "
                    "escalated alerts are investigated under [[POL-AML-004#investigation]].",
                    "A 5% sample of closed alerts is quality-checked each month.",
                ),
            ),
        ),
        related=(
            ("POL-AML-003", "thresholds", "cash reporting thresholds"),
            ("POL-MRM-001", "tiering", "tiering of monitoring models"),
        ),
        params={
            "rapid_amount": ("EUR 20,000", "EUR 15,000"),
            "rapid_hours": ("48", "72"),
            "country_amount": ("EUR 5,000", "EUR 7,500"),
            "dormant_amount": ("EUR 2,000", "EUR 3,000"),
            "tuning_months": ("12", "6"),
            "min_conversion": ("1%", "2%"),
            "l1_days": ("5", "10"),
        },
    ),
)

_FRAUD = (
    DocSpec(
        id="POL-FRD-001",
        title="Card Fraud Operations",
        owner="Head of Fraud Operations",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy sets out how the bank detects, confirms and contains card fraud "
            "while keeping disruption to genuine customers low."
        ),
        scope="It applies to debit and credit cards in all channels (POS, e-commerce, ATM).",
        sections=(
            Section(
                "alert_handling",
                "Alert handling",
                (
                    "Real-time fraud alerts scoring above the block threshold decline the "
                    "transaction; alerts above the review threshold enter the fraud queue "
                    "described in [[POL-FRD-002#queue]].",
                    "High-priority alerts are worked within {priority_minutes} minutes, 24 "
                    "hours a day.",
                ),
            ),
            Section(
                "customer_contact",
                "Customer contact",
                (
                    "The customer is contacted by push notification or SMS within "
                    "{contact_minutes} minutes of a high-priority alert to confirm the "
                    "transaction.",
                    "Staff never ask a customer for a full card number, PIN or one-time passcode.",
                    "If the customer cannot be reached within {unreachable_hours} hours, the "
                    "card stays blocked and a letter is sent.",
                ),
            ),
            Section(
                "card_blocking",
                "Blocking and reissue",
                (
                    "A card with confirmed fraud is blocked immediately and a replacement is "
                    "dispatched within {reissue_days} business days.",
                    "Cards used at a terminal confirmed as compromised in the last 30 days "
                    "are reissued proactively.",
                    "Confirmed fraud is labelled in the case system within 1 business day, so "
                    "models and terminal risk features learn from it.",
                ),
            ),
        ),
        related=(
            ("POL-FRD-002", "capacity", "investigator capacity"),
            ("POL-FRD-003", "dispute_intake", "disputes raised by customers"),
            ("POL-FRD-005", "thresholds", "alert thresholds"),
        ),
        params={
            "priority_minutes": ("15", "30"),
            "contact_minutes": ("5", "10"),
            "unreachable_hours": ("24", "12"),
            "reissue_days": ("3", "5"),
        },
    ),
    DocSpec(
        id="POL-FRD-002",
        title="Fraud Alert Triage and Investigator Capacity",
        owner="Fraud Operations Manager",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy explains how the fraud alert queue is ranked and sized to the "
            "team's daily capacity, and how the quality of dispositions is assured."
        ),
        scope="It applies to the card fraud alert queue and the analysts who work it.",
        sections=(
            Section(
                "queue",
                "Queue ranking",
                (
                    "Alerts are ranked by model score; cards are ranked by their highest "
                    "scoring transaction of the day.",
                    "Cards already confirmed as compromised are removed from the queue so "
                    "capacity is not spent twice.",
                ),
            ),
            Section(
                "capacity",
                "Capacity",
                (
                    "The team's planned capacity is {alert_capacity} cards a day; the alert "
                    "threshold is set so the expected daily volume does not exceed it.",
                    "Each analyst is planned at {per_analyst} alerts per shift.",
                    "If the queue exceeds 120% of capacity for {overload_days} consecutive "
                    "days, the Fraud Operations Manager requests overtime or a threshold "
                    "review under [[POL-FRD-005#rule_changes]].",
                ),
            ),
            Section(
                "quality",
                "Quality assurance",
                (
                    "Team leaders re-check {qa_sample} of closed alerts each week.",
                    "Every disposition records the outcome (fraud, genuine, unable to "
                    "contact) and the analyst's identity.",
                ),
            ),
        ),
        related=(
            ("POL-FRD-001", "alert_handling", "alert handling"),
            ("POL-MRM-002", "metrics", "model performance monitoring"),
        ),
        params={
            "per_analyst": ("40", "50", "60"),
            "overload_days": ("3", "5"),
            "qa_sample": ("5%", "3%"),
        },
    ),
    DocSpec(
        id="POL-FRD-003",
        title="Card Disputes and Chargebacks",
        owner="Head of Disputes",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy sets out how customers dispute card transactions and how the bank "
            "recovers funds through card scheme chargebacks."
        ),
        scope="It applies to disputes on Visa and Mastercard debit and credit cards.",
        sections=(
            Section(
                "dispute_intake",
                "Raising a dispute",
                (
                    "Customers may dispute a card transaction within {dispute_window} of the "
                    "transaction date.",
                    "Disputes can be raised in the app, by phone or in branch; the bank "
                    "acknowledges the dispute within {dispute_ack} business day(s).",
                ),
            ),
            Section(
                "provisional_credit",
                "Provisional credit",
                (
                    "Disputed amounts of up to {provisional_limit} are credited provisionally "
                    "within {provisional_days} business days while the case is investigated.",
                    "A provisional credit is reversed only after the customer has been given "
                    "14 days' written notice and the reasons.",
                ),
            ),
            Section(
                "chargebacks",
                "Chargebacks",
                (
                    "Chargebacks are submitted to the scheme within {chargeback_days} days of "
                    "the dispute being accepted.",
                    "A transaction confirmed as fraudulent is labelled in the case system on "
                    "the day the chargeback is raised; on average fraud is confirmed 5 to "
                    "10 days after the transaction.",
                ),
            ),
        ),
        related=(
            ("POL-FRD-001", "card_blocking", "blocking compromised cards"),
            ("POL-CMP-001", "timelines", "complaints about disputes"),
        ),
        params={
            "dispute_ack": ("1", "2"),
            "provisional_limit": ("EUR 500", "EUR 1,000"),
            "provisional_days": ("5", "10"),
            "chargeback_days": ("30", "45"),
        },
    ),
    DocSpec(
        id="POL-FRD-004",
        title="Account Takeover Response Playbook",
        owner="Fraud Incident Lead",
        classification="restricted",
        groups=("fraud-ops", "security"),
        purpose=(
            "This playbook tells fraud and security staff how to detect, contain and recover "
            "from account takeover, where a criminal gains control of a customer's card or "
            "online banking."
        ),
        scope="It applies to fraud operations and the security operations centre (SOC).",
        sections=(
            Section(
                "detection",
                "Detection signals",
                (
                    "Signals include a new device plus a password reset, card use in a new "
                    "country within {new_country_hours} hours of a login from another, and "
                    "spending at {ato_multiple} times the customer's usual amount.",
                    "Two or more signals within 24 hours open an account takeover case.",
                ),
            ),
            Section(
                "containment",
                "Containment",
                (
                    "Online banking sessions are revoked and cards blocked within "
                    "{containment_minutes} minutes of opening a case.",
                    "Payees added in the last {payee_days} days are suspended until the "
                    "customer confirms them.",
                    "The SOC is informed when more than {cluster_size} takeovers share a "
                    "device fingerprint or IP range, as this suggests a campaign "
                    "(see [[POL-SEC-004#severity]]).",
                ),
            ),
            Section(
                "recovery",
                "Recovery",
                (
                    "The customer re-verifies identity in branch or by video before access "
                    "is restored.",
                    "Fraud losses from a takeover are refunded within {refund_days} business "
                    "days unless the customer acted with gross negligence.",
                ),
            ),
        ),
        related=(
            ("POL-FRD-001", "customer_contact", "customer contact"),
            ("POL-SEC-003", "mfa", "multi-factor authentication"),
        ),
        params={
            "new_country_hours": ("2", "4"),
            "ato_multiple": ("3", "4"),
            "containment_minutes": ("15", "30"),
            "payee_days": ("7", "14"),
            "cluster_size": ("5", "10"),
            "refund_days": ("5", "10"),
        },
    ),
    DocSpec(
        id="POL-FRD-005",
        title="Fraud Detection Rules and Model Thresholds",
        owner="Fraud Strategy Manager",
        classification="restricted",
        groups=("fraud-ops",),
        purpose=(
            "This policy records how fraud rules and model thresholds are set, changed and "
            "monitored. Threshold values are restricted: disclosure would help fraudsters "
            "stay below them."
        ),
        scope="It applies to the real-time card fraud model and the rule engine.",
        sections=(
            Section(
                "thresholds",
                "Thresholds",
                (
                    "The review threshold is chosen so that the expected number of alerted "
                    "cards per day equals the capacity of {alert_capacity} set in "
                    "[[POL-FRD-002#capacity]].",
                    "Card-not-present transactions under EUR 5 repeated {testing_count} or "
                    "more times within 10 minutes are declined as card testing.",
                    "The block threshold may not decline more than {max_decline} of genuine "
                    "transactions, measured weekly.",
                ),
            ),
            Section(
                "rule_changes",
                "Rule and threshold changes",
                (
                    "Threshold changes are tested on the last {backtest_days} days of "
                    "labelled data before release.",
                    "A change is approved by the Fraud Strategy Manager and a second person "
                    "from Fraud Analytics; nobody approves their own change.",
                    "Emergency rules may be deployed without testing for at most "
                    "{emergency_hours} hours.",
                ),
            ),
            Section(
                "monitoring",
                "Monitoring",
                (
                    "Card precision at the daily capacity is reported weekly; a drop of more "
                    "than {precision_drop} points over four weeks is escalated under "
                    "[[POL-MRM-002#escalation]].",
                    "Terminal risk features use only fraud labels that were known at the "
                    "time of scoring, allowing for the confirmation delay.",
                ),
            ),
        ),
        related=(
            ("POL-FRD-002", "capacity", "investigator capacity"),
            ("POL-MRM-001", "validation", "validation of the fraud model"),
        ),
        params={
            "testing_count": ("3", "4"),
            "max_decline": ("0.1%", "0.2%"),
            "backtest_days": ("28", "56"),
            "emergency_hours": ("72", "48"),
            "precision_drop": ("5", "10"),
        },
    ),
    DocSpec(
        id="POL-FRD-006",
        title="Authorised Push Payment Scam Reimbursement",
        owner="Head of Fraud Operations",
        classification="public",
        groups=EVERYONE,
        purpose=(
            "This policy explains when the bank reimburses customers who were tricked into "
            "sending a payment to a fraudster (an authorised push payment scam)."
        ),
        scope="It applies to Faster Payments and SEPA credit transfers sent by personal customers.",
        sections=(
            Section(
                "eligibility",
                "Eligibility",
                (
                    "Claims must be made within {claim_months} months of the last payment "
                    "in the scam.",
                    "Reimbursement is capped at {reimbursement_cap} per claim.",
                ),
            ),
            Section(
                "reimbursement",
                "Reimbursement",
                (
                    "Eligible claims are reimbursed within {reimburse_days} business days of "
                    "the claim, or within 35 days where more information is needed.",
                    "An excess of up to {excess} may be deducted, but never for vulnerable "
                    "customers (see [[POL-CMP-002#adjustments]]).",
                ),
            ),
            Section(
                "exclusions",
                "Exclusions",
                (
                    "Claims are refused where the customer acted fraudulently or with gross "
                    "negligence, for example ignoring a specific scam warning confirmed in a "
                    "call.",
                    "Civil disputes with a genuine supplier are not scams and are handled as "
                    "complaints under [[POL-CMP-001#receiving]].",
                ),
            ),
        ),
        related=(
            ("POL-FRD-001", "customer_contact", "how the bank contacts customers"),
            ("POL-CMP-001", "final_response", "complaint responses"),
        ),
        params={
            "claim_months": ("13", "12"),
            "reimbursement_cap": ("GBP 85,000", "EUR 100,000"),
            "reimburse_days": ("5", "7"),
            "excess": ("GBP 100", "EUR 100"),
        },
    ),
)

_COMPLAINTS = (
    DocSpec(
        id="POL-CMP-001",
        title="Complaints Handling",
        owner="Head of Customer Relations",
        classification="public",
        groups=EVERYONE,
        purpose=(
            "This policy describes how the bank receives, investigates and resolves customer "
            "complaints fairly and promptly, in line with the FCA's DISP rules and BaFin "
            "guidance."
        ),
        scope=(
            "It applies to complaints from customers, former customers and their representatives."
        ),
        sections=(
            Section(
                "receiving",
                "Receiving complaints",
                (
                    "Complaints may be made by any channel, and any member of staff may "
                    "receive one.",
                    "Every complaint is logged in the complaints system within "
                    "{log_hours} hours of receipt.",
                    "The customer receives an acknowledgement within {ack_days} business "
                    "day(s) naming the case handler.",
                ),
            ),
            Section(
                "timelines",
                "Timelines",
                (
                    "Complaints resolved by the end of the third business day may be closed "
                    "with a summary resolution communication.",
                    "Complaints about payment services receive a final response within "
                    "15 business days, or 35 in exceptional circumstances.",
                    "All other complaints receive a final response within 8 weeks.",
                ),
            ),
            Section(
                "final_response",
                "Final response and redress",
                (
                    "The final response explains the decision and the customer's right to "
                    "refer the complaint to the ombudsman within 6 months (see "
                    "[[POL-CMP-004#referral]]).",
                    "Redress puts the customer back in the position they would have been "
                    "in, plus interest at {redress_interest} a year, and a payment of up to "
                    "{distress_cap} for distress and inconvenience where appropriate.",
                ),
            ),
        ),
        related=(
            ("POL-CMP-003", "rca", "root cause analysis"),
            ("POL-CMP-002", "identification", "vulnerable customers"),
        ),
        params={
            "log_hours": ("24", "4"),
            "ack_days": ("1", "2"),
            "redress_interest": ("8%", "5%"),
            "distress_cap": ("GBP 300", "EUR 350"),
        },
    ),
    DocSpec(
        id="POL-CMP-002",
        title="Vulnerable Customers",
        owner="Customer Vulnerability Lead",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy makes sure customers in vulnerable circumstances get outcomes as "
            "good as other customers."
        ),
        scope="It applies to every customer-facing team and every product.",
        sections=(
            Section(
                "identification",
                "Identifying vulnerability",
                (
                    "Staff consider four drivers of vulnerability: health, life events, "
                    "resilience and capability.",
                    "Customer-facing staff complete vulnerability training within "
                    "{vuln_training_days} days of joining.",
                ),
            ),
            Section(
                "adjustments",
                "Adjustments",
                (
                    "Adjustments include large-print or audio statements, a nominated third "
                    "party and longer response times.",
                    "Collections activity pauses for at least {breathing_days} days when a "
                    "customer tells us of a serious illness or bereavement.",
                    "A specialist team handles cases involving financial abuse, reachable "
                    "on a dedicated line from {support_hours}.",
                ),
            ),
            Section(
                "recording",
                "Recording",
                (
                    "Vulnerability information is recorded only with the customer's explicit "
                    "consent and reviewed every {vuln_review} months.",
                    "Health information is special category data and handled under "
                    "[[POL-DP-001#principles]].",
                ),
            ),
        ),
        related=(
            ("POL-LEND-005", "contact", "collections contact"),
            ("POL-DP-001", "principles", "data protection principles"),
        ),
        params={
            "vuln_training_days": ("30", "45"),
            "breathing_days": ("30", "60"),
            "support_hours": ("08:00 to 20:00", "08:00 to 22:00"),
            "vuln_review": ("12", "6"),
        },
    ),
    DocSpec(
        id="POL-CMP-003",
        title="Complaint Root Cause Analysis and Reporting",
        owner="Head of Customer Relations",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy makes sure complaints are used to find and fix the causes of "
            "customer harm."
        ),
        scope="It applies to all upheld and partially upheld complaints.",
        sections=(
            Section(
                "classification",
                "Classification",
                (
                    "Each complaint is tagged with a product, a cause and an outcome within "
                    "{tag_days} business days of closure.",
                    "Complaints mentioning an automated decision are tagged so the model "
                    "owner can be told.",
                ),
            ),
            Section(
                "rca",
                "Root cause analysis",
                (
                    "A root cause review starts when a cause appears in more than "
                    "{rca_count} upheld complaints in a month.",
                    "Root cause reviews are completed within {rca_days} days and name an "
                    "accountable owner for each action.",
                ),
            ),
            Section(
                "reporting",
                "Reporting",
                (
                    "Complaint data is reported to the Executive Committee monthly and to "
                    "the regulator every six months.",
                    "The uphold rate by product is published on the bank's website every "
                    "{publish_months} months.",
                ),
            ),
        ),
        related=(
            ("POL-CMP-001", "final_response", "final responses"),
            ("POL-MRM-002", "metrics", "model monitoring"),
        ),
        params={
            "tag_days": ("2", "5"),
            "rca_count": ("10", "20"),
            "rca_days": ("30", "45"),
            "publish_months": ("6", "12"),
        },
    ),
    DocSpec(
        id="POL-CMP-004",
        title="Ombudsman and Regulator Referrals",
        owner="Complaints Legal Counsel",
        classification="confidential",
        groups=("complaints", "legal"),
        purpose=(
            "This policy sets out how the bank handles complaints referred to the Financial "
            "Ombudsman Service or a regulator, including case fees and settlement authority."
        ),
        scope="It applies to the complaints team and the legal department.",
        sections=(
            Section(
                "referral",
                "Referrals",
                (
                    "The bank sends its case file to the ombudsman within {file_days} days "
                    "of a request.",
                    "Referral rights are explained in the final response (see "
                    "[[POL-CMP-001#final_response]]).",
                ),
            ),
            Section(
                "settlement",
                "Settlement authority",
                (
                    "Complaint handlers may settle referred cases up to {handler_authority}; "
                    "the Head of Customer Relations up to {head_authority}; above that, the "
                    "General Counsel.",
                    "Each ombudsman case fee (currently GBP 650 after the free cases) is "
                    "charged to the business unit that caused the complaint.",
                ),
            ),
            Section(
                "lessons",
                "Lessons learned",
                (
                    "Every ombudsman decision against the bank is reviewed within "
                    "{decision_review} days for wider impact.",
                    "Where a decision affects other customers, proactive redress is "
                    "considered within 3 months.",
                ),
            ),
        ),
        related=(
            ("POL-CMP-003", "rca", "root cause analysis"),
            ("POL-HR-004", "raising", "whistleblowing channel"),
        ),
        params={
            "file_days": ("14", "21"),
            "handler_authority": ("GBP 1,000", "GBP 2,500"),
            "head_authority": ("GBP 25,000", "GBP 10,000"),
            "decision_review": ("10", "20"),
        },
    ),
)

_HR = (
    DocSpec(
        id="POL-HR-001",
        title="Code of Conduct",
        owner="Chief People Officer",
        classification="public",
        groups=EVERYONE,
        purpose=(
            "The Code of Conduct sets the standards of behaviour the bank expects of "
            "everyone who works for it."
        ),
        scope="It applies to employees, directors, contractors and temporary staff.",
        sections=(
            Section(
                "conduct",
                "Standards of conduct",
                (
                    "Everyone acts with integrity, treats customers fairly and speaks up "
                    "about wrongdoing under [[POL-HR-004#raising]].",
                    "Harassment, bullying and discrimination are gross misconduct.",
                ),
            ),
            Section(
                "gifts",
                "Gifts and hospitality",
                (
                    "Gifts or hospitality worth more than {gift_limit} must be recorded in "
                    "the gifts register within {gift_days} business days.",
                    "Gifts worth more than {gift_approval} need prior approval from a line "
                    "manager and Compliance; cash gifts are never accepted.",
                ),
            ),
            Section(
                "conflicts",
                "Conflicts of interest",
                (
                    "Outside business interests and directorships are declared before they "
                    "start and confirmed every {conflict_months} months.",
                    "Staff may not process transactions on their own accounts or those of "
                    "family members.",
                ),
            ),
        ),
        related=(
            ("POL-HR-006", "pre_clearance", "personal account dealing"),
            ("POL-HR-003", "investigation", "disciplinary investigations"),
        ),
        params={
            "gift_limit": ("EUR 50", "EUR 75", "EUR 100"),
            "gift_days": ("5", "10"),
            "gift_approval": ("EUR 150", "EUR 250"),
            "conflict_months": ("12", "6"),
        },
    ),
    DocSpec(
        id="POL-HR-002",
        title="Remuneration and Variable Pay",
        owner="Head of Reward",
        classification="restricted",
        groups=("hr",),
        purpose=(
            "This policy sets the structure of pay and variable remuneration so that it "
            "rewards sound risk management and complies with the Capital Requirements "
            "Directive."
        ),
        scope="It applies to all employees; additional rules apply to material risk takers.",
        sections=(
            Section(
                "structure",
                "Pay structure",
                (
                    "Variable pay may not exceed 100% of fixed pay, or 200% with "
                    "shareholder approval.",
                    "Pay bands are benchmarked every {benchmark_months} months; the gender "
                    "pay gap is published every April.",
                ),
            ),
            Section(
                "deferral",
                "Deferral",
                (
                    "At least {deferral_share} of a material risk taker's variable pay is "
                    "deferred for {deferral_years} years.",
                    "At least 50% of variable pay is paid in shares or share-linked instruments.",
                ),
            ),
            Section(
                "malus_clawback",
                "Malus and clawback",
                (
                    "Unvested awards may be reduced to zero (malus) after misconduct or a "
                    "material risk failure.",
                    "Paid awards can be clawed back for {clawback_years} years from award.",
                ),
            ),
        ),
        related=(
            ("POL-HR-003", "hearings", "disciplinary outcomes"),
            ("POL-HR-001", "conduct", "standards of conduct"),
        ),
        params={
            "benchmark_months": ("12", "24"),
            "deferral_share": ("40%", "60%"),
            "deferral_years": ("4", "5"),
            "clawback_years": ("7", "10"),
        },
    ),
    DocSpec(
        id="POL-HR-003",
        title="Disciplinary and Grievance Procedure",
        owner="Head of Employee Relations",
        classification="restricted",
        groups=("hr",),
        purpose=(
            "This procedure makes sure disciplinary matters and grievances are handled "
            "fairly, consistently and confidentially."
        ),
        scope="It applies to all employees after their probation period.",
        sections=(
            Section(
                "investigation",
                "Investigation",
                (
                    "An investigation starts within {investigation_start} business days of "
                    "an allegation and is carried out by someone not involved.",
                    "Suspension on full pay is a neutral act, reviewed every "
                    "{suspension_review} days.",
                ),
            ),
            Section(
                "hearings",
                "Hearings and outcomes",
                (
                    "The employee receives at least {hearing_notice} working days' written "
                    "notice of a hearing and may be accompanied.",
                    "A first written warning stays on file for {warning_months} months; a "
                    "final written warning for 12 months.",
                    "Gross misconduct by a certified person is reported to the regulator "
                    "within {regulator_days} business days.",
                ),
            ),
            Section(
                "appeals",
                "Appeals and grievances",
                (
                    "An appeal is lodged within {appeal_days} working days of the outcome.",
                    "A grievance meeting is held within 10 working days of a written grievance.",
                ),
            ),
        ),
        related=(
            ("POL-HR-004", "protection", "protection of whistleblowers"),
            ("POL-HR-001", "conduct", "standards of conduct"),
        ),
        params={
            "investigation_start": ("5", "3"),
            "suspension_review": ("14", "10"),
            "hearing_notice": ("5", "3"),
            "warning_months": ("6", "9"),
            "regulator_days": ("10", "5"),
            "appeal_days": ("5", "7"),
        },
    ),
    DocSpec(
        id="POL-HR-004",
        title="Whistleblowing",
        owner="Whistleblowing Champion (Non-Executive Director)",
        classification="public",
        groups=EVERYONE,
        purpose=("This policy encourages staff to report wrongdoing and protects those who do."),
        scope="It applies to current and former staff, contractors and suppliers.",
        sections=(
            Section(
                "raising",
                "Raising a concern",
                (
                    "Concerns can be raised with a line manager, the Whistleblowing Officer, "
                    "or anonymously through the independent hotline open 24 hours a day.",
                    "Concerns can also be raised directly with the FCA, the PRA or BaFin.",
                ),
            ),
            Section(
                "protection",
                "Protection",
                (
                    "Retaliation against a whistleblower is gross misconduct.",
                    "The whistleblower's identity is shared only with their consent, unless "
                    "the law requires otherwise.",
                ),
            ),
            Section(
                "handling",
                "Handling",
                (
                    "Concerns are acknowledged within {wb_ack} days and assessed within "
                    "{wb_assess} days.",
                    "The whistleblower is told the outcome, as far as confidentiality "
                    "allows, within {wb_feedback} months.",
                    "The Whistleblowing Champion reports to the Board every "
                    "{wb_report_months} months.",
                ),
            ),
        ),
        related=(
            ("POL-HR-001", "conduct", "standards of conduct"),
            ("POL-HR-003", "investigation", "investigations"),
        ),
        params={
            "wb_ack": ("7", "5"),
            "wb_assess": ("14", "21"),
            "wb_feedback": ("3", "2"),
            "wb_report_months": ("6", "12"),
        },
    ),
    DocSpec(
        id="POL-HR-005",
        title="Leave and Absence",
        owner="Head of HR Operations",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy sets out holiday entitlement, sickness reporting and the mandatory "
            "block leave that supports fraud controls."
        ),
        scope="It applies to all employees.",
        sections=(
            Section(
                "annual_leave",
                "Annual leave",
                (
                    "Full-time employees receive {leave_days} days of annual leave plus "
                    "public holidays.",
                    "Up to {carry_days} unused days may be carried into the first quarter of "
                    "the next year.",
                ),
            ),
            Section(
                "sickness",
                "Sickness absence",
                (
                    "Sickness is reported to the line manager before {sick_call_time} on "
                    "the first day.",
                    "A medical certificate is required from the {certificate_day} day of absence.",
                ),
            ),
            Section(
                "mandatory_leave",
                "Mandatory block leave",
                (
                    "Staff in sensitive roles (payments, treasury dealing, fraud operations) "
                    "take at least {block_days} consecutive business days of leave each "
                    "year, during which their system access is suspended.",
                    "Block leave is recorded and checked by HR; gaps are reported to "
                    "Operational Risk.",
                ),
            ),
        ),
        related=(
            ("POL-SEC-002", "provisioning", "suspension of access"),
            ("POL-TRY-003", "dealing", "dealing roles"),
        ),
        params={
            "leave_days": ("25", "28", "30"),
            "carry_days": ("5", "3"),
            "sick_call_time": ("09:30", "10:00"),
            "certificate_day": ("fourth", "eighth"),
            "block_days": ("10", "5"),
        },
    ),
    DocSpec(
        id="POL-HR-006",
        title="Personal Account Dealing",
        owner="Head of Compliance",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy prevents staff from using confidential information for personal "
            "trading and avoids conflicts with customers."
        ),
        scope="It applies to all staff and their connected persons.",
        sections=(
            Section(
                "pre_clearance",
                "Pre-clearance",
                (
                    "Staff obtain pre-clearance from Compliance before trading listed "
                    "securities; clearance is valid for {clearance_hours} hours.",
                    "Funds, government bonds and savings plans are exempt from pre-clearance.",
                ),
            ),
            Section(
                "holding",
                "Minimum holding period",
                (
                    "Securities are held for at least {holding_days} days; losses may be "
                    "realised earlier with Compliance approval.",
                    "Spread betting and contracts for difference on the bank's own shares "
                    "are prohibited.",
                ),
            ),
            Section(
                "restricted_list",
                "Restricted list",
                (
                    "No trading is allowed in securities on the restricted list, which "
                    "Compliance updates daily.",
                    "Staff confirm their holdings and trades every {attest_months} months.",
                ),
            ),
        ),
        related=(
            ("POL-HR-001", "conflicts", "conflicts of interest"),
            ("POL-TRY-003", "dealing", "treasury dealing"),
        ),
        params={
            "clearance_hours": ("24", "48"),
            "holding_days": ("30", "60"),
            "attest_months": ("12", "6"),
        },
    ),
)

_SECURITY = (
    DocSpec(
        id="POL-SEC-001",
        title="Information Security Policy",
        owner="Chief Information Security Officer (CISO)",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy protects the confidentiality, integrity and availability of the "
            "bank's information and systems."
        ),
        scope="It applies to all information, systems, staff and third parties.",
        sections=(
            Section(
                "classification",
                "Information classification",
                (
                    "Information is classified public, internal, confidential or restricted "
                    "by its owner at creation.",
                    "Restricted information is shared only with named groups and is "
                    "encrypted at rest and in transit.",
                    "Card numbers are stored only in tokenised form outside the card vault, "
                    "in line with PCI DSS.",
                ),
            ),
            Section(
                "handling",
                "Handling",
                (
                    "Confidential and restricted documents may not be sent to personal "
                    "email addresses or uploaded to unapproved cloud services.",
                    "Screens lock after {screen_lock} minutes of inactivity.",
                ),
            ),
            Section(
                "third_parties",
                "Third parties",
                (
                    "Suppliers with access to customer data are security-assessed before "
                    "contract and every {supplier_months} months after.",
                    "Suppliers report security incidents affecting the bank within "
                    "{supplier_hours} hours.",
                ),
            ),
        ),
        related=(
            ("POL-SEC-002", "privileged", "privileged access"),
            ("POL-SEC-004", "response", "incident response"),
            ("POL-DP-001", "principles", "data protection"),
        ),
        params={
            "screen_lock": ("5", "10"),
            "supplier_months": ("12", "24"),
            "supplier_hours": ("24", "48"),
        },
    ),
    DocSpec(
        id="POL-SEC-002",
        title="Access Control and Privileged Access",
        owner="Head of Identity and Access Management",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy makes sure people have only the access they need, for as long as "
            "they need it."
        ),
        scope="It applies to all user, privileged and service accounts on bank systems.",
        sections=(
            Section(
                "provisioning",
                "Joiners, movers and leavers",
                (
                    "Access is granted by role and approved by the line manager and the "
                    "system owner.",
                    "Leavers' access is removed by the end of their last working day; "
                    "movers lose access they no longer need within {mover_days} business "
                    "days.",
                ),
            ),
            Section(
                "reviews",
                "Access reviews",
                (
                    "System owners recertify user access every {recert_months} months.",
                    "Access not used for {dormant_days} days is disabled automatically.",
                ),
            ),
            Section(
                "privileged",
                "Privileged access",
                (
                    "Privileged access is granted just in time for at most {jit_hours} hours "
                    "through the privileged access management tool, with session recording.",
                    "Privileged accounts are recertified every {priv_recert} months.",
                    "No one may hold both developer and production deployment rights for the "
                    "same system.",
                ),
            ),
        ),
        related=(
            ("POL-SEC-003", "passwords", "authentication"),
            ("POL-HR-005", "mandatory_leave", "access suspension during block leave"),
        ),
        params={
            "mover_days": ("5", "10"),
            "recert_months": ("6", "12"),
            "dormant_days": ("60", "90"),
            "jit_hours": ("4", "8"),
            "priv_recert": ("3", "6"),
        },
    ),
    DocSpec(
        id="POL-SEC-003",
        title="Authentication and Passwords",
        owner="Head of Identity and Access Management",
        classification="internal",
        groups=EVERYONE,
        purpose="This policy sets the minimum standards for authenticating people and systems.",
        scope="It applies to staff, contractors, service accounts and customer-facing systems.",
        sections=(
            Section(
                "passwords",
                "Passwords",
                (
                    "Staff passwords are at least {min_length} characters long and checked "
                    "against a list of breached passwords.",
                    "Passwords are not forced to expire, but are changed immediately if "
                    "compromise is suspected.",
                    "Accounts lock after {lockout} failed attempts.",
                ),
            ),
            Section(
                "mfa",
                "Multi-factor authentication",
                (
                    "Multi-factor authentication is required for remote access, email, "
                    "privileged access and all systems holding restricted information.",
                    "Customers authenticate strongly (PSD2 SCA) for online payments above "
                    "EUR 30, or after five contactless payments in a row.",
                ),
            ),
            Section(
                "service_accounts",
                "Service accounts and secrets",
                (
                    "Service account secrets are stored in the secrets vault and rotated "
                    "every {secret_rotation} days.",
                    "API keys are never written into source code or logs.",
                ),
            ),
        ),
        related=(
            ("POL-SEC-002", "privileged", "privileged access"),
            ("POL-SEC-007", "rotation", "key rotation"),
        ),
        params={
            "min_length": ("12", "14", "16"),
            "lockout": ("5", "10"),
            "secret_rotation": ("90", "180"),
        },
    ),
    DocSpec(
        id="POL-SEC-004",
        title="Security Incident Response",
        owner="Head of Security Operations",
        classification="restricted",
        groups=("security",),
        purpose=(
            "This policy sets how the security operations centre classifies, contains and "
            "reports security incidents."
        ),
        scope="It applies to all suspected and confirmed security incidents.",
        sections=(
            Section(
                "severity",
                "Severity",
                (
                    "Severity 1: customer data exposed, payments disrupted, or ransomware; "
                    "Severity 2: a single system compromised; Severity 3: a contained "
                    "event.",
                    "Severity 1 incidents are escalated to the CISO within {sev1_minutes} "
                    "minutes and the crisis team is convened within 1 hour.",
                ),
            ),
            Section(
                "response",
                "Response",
                (
                    "Affected systems are isolated before forensic imaging; evidence is kept "
                    "for {evidence_years} years.",
                    "Severity 2 incidents are contained within {sev2_hours} hours.",
                    "A post-incident review is completed within {pir_days} business days of "
                    "closure.",
                ),
            ),
            Section(
                "reporting",
                "Regulatory reporting",
                (
                    "Major ICT incidents are reported to the regulator under DORA: an "
                    "initial notification within 4 hours of classification and no later "
                    "than 24 hours after detection.",
                    "Incidents involving personal data are assessed under "
                    "[[POL-DP-003#assessment]] at the same time.",
                ),
            ),
        ),
        related=(
            ("POL-DP-003", "notification", "personal data breach notification"),
            ("POL-FRD-004", "containment", "account takeover containment"),
        ),
        params={
            "sev1_minutes": ("15", "30"),
            "evidence_years": ("5", "7"),
            "sev2_hours": ("24", "12"),
            "pir_days": ("10", "15"),
        },
    ),
    DocSpec(
        id="POL-SEC-005",
        title="Vulnerability and Patch Management",
        owner="Head of Security Engineering",
        classification="confidential",
        groups=("security", "it-operations"),
        purpose=(
            "This policy makes sure vulnerabilities are found and fixed before they can be "
            "exploited."
        ),
        scope="It applies to servers, endpoints, network devices, applications and containers.",
        sections=(
            Section(
                "scanning",
                "Scanning",
                (
                    "Internet-facing systems are scanned daily and internal systems every "
                    "{internal_scan_days} days.",
                    "Application dependencies are scanned on every build; a critical finding "
                    "fails the build.",
                ),
            ),
            Section(
                "patching",
                "Patching deadlines",
                (
                    "Critical vulnerabilities (CVSS 9.0 or more) are fixed within "
                    "{critical_days} days, or within 48 hours if actively exploited.",
                    "High vulnerabilities are fixed within {high_days} days and medium ones "
                    "within 90 days.",
                ),
            ),
            Section(
                "pentest",
                "Penetration testing",
                (
                    "Internet-facing applications are penetration tested every "
                    "{pentest_months} months and before major releases.",
                    "Red team exercises (TIBER-EU) run every three years.",
                ),
            ),
        ),
        related=(
            ("POL-SEC-004", "severity", "incident severity"),
            ("POL-SEC-001", "third_parties", "supplier security"),
        ),
        params={
            "internal_scan_days": ("7", "14"),
            "critical_days": ("14", "7"),
            "high_days": ("30", "45"),
            "pentest_months": ("12", "6"),
        },
    ),
    DocSpec(
        id="POL-SEC-006",
        title="Acceptable Use of IT and AI Tools",
        owner="Chief Information Security Officer (CISO)",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy sets what staff may and may not do with the bank's devices, email, "
            "internet access and AI tools."
        ),
        scope="It applies to anyone using bank IT equipment or accounts.",
        sections=(
            Section(
                "devices",
                "Devices",
                (
                    "Only bank-managed devices may access customer data; personal devices "
                    "may access email through the managed app only.",
                    "A lost or stolen device is reported to the IT service desk within "
                    "{lost_device_hours} hour(s).",
                ),
            ),
            Section(
                "email",
                "Email and internet",
                (
                    "Suspicious emails are reported with the 'Report phish' button and not "
                    "forwarded.",
                    "Staff complete phishing training every {phishing_months} months; those "
                    "who fail two simulations in a year repeat it.",
                ),
            ),
            Section(
                "ai_tools",
                "AI tools",
                (
                    "Only AI assistants approved under [[POL-MRM-003#approved_use]] may be "
                    "used for bank work.",
                    "Customer data, card numbers and confidential documents must never be "
                    "pasted into public AI tools.",
                ),
            ),
        ),
        related=(
            ("POL-SEC-001", "handling", "information handling"),
            ("POL-MRM-003", "assistant", "the policy assistant"),
        ),
        params={
            "lost_device_hours": ("1", "4"),
            "phishing_months": ("12", "6"),
        },
    ),
    DocSpec(
        id="POL-SEC-007",
        title="Cryptographic Key Management",
        owner="Head of Cryptography Services",
        classification="restricted",
        groups=("security",),
        purpose=(
            "This policy sets how cryptographic keys are generated, stored, rotated and destroyed."
        ),
        scope="It applies to all keys protecting customer data, payments and PINs.",
        sections=(
            Section(
                "keys",
                "Algorithms and key lengths",
                (
                    "Symmetric encryption uses AES-256; asymmetric keys are at least RSA "
                    "3072 bits or ECDSA P-256.",
                    "Tokenisation keys for card numbers are separate from all other keys.",
                ),
            ),
            Section(
                "hsm",
                "Hardware security modules",
                (
                    "PIN and card keys live only in FIPS 140-3 level 3 hardware security modules.",
                    "Key ceremonies need {custodians} key custodians, none of whom holds "
                    "more than one component.",
                ),
            ),
            Section(
                "rotation",
                "Rotation and destruction",
                (
                    "Data-encryption keys rotate every {dek_months} months and "
                    "key-encryption keys every {kek_months} months.",
                    "A key suspected of compromise is revoked within {revoke_hours} hours.",
                ),
            ),
        ),
        related=(
            ("POL-SEC-003", "service_accounts", "secrets"),
            ("POL-SEC-001", "classification", "restricted information"),
        ),
        params={
            "custodians": ("3", "2"),
            "dek_months": ("12", "6"),
            "kek_months": ("24", "36"),
            "revoke_hours": ("4", "2"),
        },
    ),
)

_TREASURY = (
    DocSpec(
        id="POL-TRY-001",
        title="Liquidity Risk Management",
        owner="Group Treasurer",
        classification="restricted",
        groups=("treasury",),
        purpose=(
            "This policy makes sure the bank can meet its obligations as they fall due, in "
            "normal and stressed conditions."
        ),
        scope="It applies to the whole balance sheet in all currencies.",
        sections=(
            Section(
                "metrics",
                "Metrics and limits",
                (
                    "The liquidity coverage ratio (LCR) is kept at or above {lcr_floor}, "
                    "above the 100% regulatory minimum.",
                    "The net stable funding ratio (NSFR) is kept at or above {nsfr_floor}.",
                    "Survival under the bank's own severe stress scenario must be at least "
                    "{survival_days} days.",
                ),
            ),
            Section(
                "buffers",
                "Liquidity buffer",
                (
                    "At least {level1_share} of the buffer is held in Level 1 assets "
                    "(central bank reserves and government bonds).",
                    "Buffer assets are test-sold or repoed at least once every 12 months.",
                ),
            ),
            Section(
                "contingency",
                "Contingency funding",
                (
                    "The contingency funding plan is invoked when the LCR falls below "
                    "{cfp_trigger} or deposits fall by more than 5% in a week.",
                    "The Asset and Liability Committee (ALCO) meets within 24 hours of the "
                    "plan being invoked.",
                ),
            ),
        ),
        related=(
            ("POL-TRY-002", "limits", "interest rate risk limits"),
            ("POL-TRY-004", "high_value", "high-value payments"),
        ),
        params={
            "lcr_floor": ("120%", "130%"),
            "nsfr_floor": ("110%", "115%"),
            "survival_days": ("90", "60"),
            "level1_share": ("70%", "80%"),
            "cfp_trigger": ("110%", "115%"),
        },
    ),
    DocSpec(
        id="POL-TRY-002",
        title="Interest Rate Risk in the Banking Book",
        owner="Head of Balance Sheet Management",
        classification="restricted",
        groups=("treasury",),
        purpose=(
            "This policy limits the effect of interest rate changes on the bank's earnings "
            "and economic value."
        ),
        scope="It applies to all interest-bearing assets and liabilities outside the trading book.",
        sections=(
            Section(
                "measures",
                "Measures",
                (
                    "Economic value of equity (EVE) and net interest income (NII) "
                    "sensitivity are measured monthly under the six supervisory shocks.",
                    "Behavioural assumptions for non-maturity deposits are validated every "
                    "{assumption_months} months.",
                ),
            ),
            Section(
                "limits",
                "Limits",
                (
                    "The EVE loss under any supervisory shock may not exceed {eve_limit} of "
                    "Tier 1 capital.",
                    "The 12-month NII loss under a 200 basis point parallel shock may not "
                    "exceed {nii_limit}.",
                ),
            ),
            Section(
                "hedging",
                "Hedging",
                (
                    "Fixed-rate mortgages above EUR 50 million a month are hedged with "
                    "interest rate swaps within {hedge_days} business days.",
                    "Hedges are executed only with approved counterparties under "
                    "[[POL-TRY-003#limits]].",
                ),
            ),
        ),
        related=(
            ("POL-TRY-001", "metrics", "liquidity metrics"),
            ("POL-LEND-003", "ltv", "mortgage lending"),
        ),
        params={
            "assumption_months": ("12", "6"),
            "eve_limit": ("12%", "15%"),
            "nii_limit": ("EUR 25 million", "EUR 40 million"),
            "hedge_days": ("5", "10"),
        },
    ),
    DocSpec(
        id="POL-TRY-003",
        title="FX Dealing and Counterparty Limits",
        owner="Head of Treasury Dealing",
        classification="restricted",
        groups=("treasury",),
        purpose="This policy governs foreign exchange dealing and counterparty exposure limits.",
        scope="It applies to the treasury dealing desk and its counterparties.",
        sections=(
            Section(
                "dealing",
                "Dealing",
                (
                    "Dealers trade only from recorded lines on the dealing floor; calls are "
                    "retained for {call_years} years.",
                    "The open FX position at the end of the day may not exceed "
                    "{fx_position} across all currencies.",
                ),
            ),
            Section(
                "limits",
                "Counterparty limits",
                (
                    "Counterparty limits are set by the Credit Risk team from external "
                    "ratings; no counterparty below {min_rating} is approved.",
                    "A limit excess is reported to the Group Treasurer immediately and "
                    "resolved within {excess_days} business day(s).",
                ),
            ),
            Section(
                "confirmations",
                "Confirmations",
                (
                    "Trades are confirmed by the back office, independent of the dealers, "
                    "within {confirm_hours} hours.",
                    "Unconfirmed trades older than 2 business days are escalated to the Head "
                    "of Treasury Operations.",
                ),
            ),
        ),
        related=(
            ("POL-HR-006", "pre_clearance", "personal dealing by treasury staff"),
            ("POL-HR-005", "mandatory_leave", "mandatory block leave for dealers"),
        ),
        params={
            "call_years": ("5", "7"),
            "fx_position": ("EUR 20 million", "EUR 10 million"),
            "min_rating": ("A-", "BBB+"),
            "excess_days": ("1", "2"),
            "confirm_hours": ("2", "4"),
        },
    ),
    DocSpec(
        id="POL-TRY-004",
        title="Payment Cut-off Times and Processing",
        owner="Head of Payments Operations",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy sets the cut-off times for payment types and the checks on "
            "high-value payments."
        ),
        scope="It applies to all customer and bank payments.",
        sections=(
            Section(
                "cutoffs",
                "Cut-off times",
                (
                    "SEPA credit transfers received by {sepa_cutoff} CET are executed the "
                    "same business day.",
                    "CHAPS payments received by {chaps_cutoff} UK time are sent the same day.",
                    "International SWIFT payments received by {swift_cutoff} CET are sent "
                    "the same day.",
                ),
            ),
            Section(
                "high_value",
                "High-value payments",
                (
                    "Payments above {dual_auth} need approval by two authorised signatories.",
                    "Payments to a new payee above {callback_amount} are confirmed by a "
                    "call-back to a known telephone number.",
                ),
            ),
            Section(
                "holidays",
                "Holidays",
                (
                    "TARGET2 closing days and UK bank holidays are published in the payments "
                    "calendar {calendar_weeks} weeks in advance.",
                    "Payments falling on a closing day are executed the next business day.",
                ),
            ),
        ),
        related=(
            ("POL-AML-005", "payments", "payment screening"),
            ("POL-FRD-006", "eligibility", "scam reimbursement"),
        ),
        params={
            "sepa_cutoff": ("15:00", "16:00"),
            "chaps_cutoff": ("16:00", "15:30"),
            "swift_cutoff": ("14:00", "13:30"),
            "dual_auth": ("EUR 250,000", "EUR 100,000"),
            "callback_amount": ("EUR 10,000", "EUR 25,000"),
            "calendar_weeks": ("8", "12"),
        },
    ),
)

_DATA = (
    DocSpec(
        id="POL-DP-001",
        title="Data Protection and Privacy",
        owner="Data Protection Officer (DPO)",
        classification="public",
        groups=EVERYONE,
        purpose=(
            "This policy sets out how the bank processes personal data lawfully, fairly and "
            "transparently under the GDPR and the UK GDPR."
        ),
        scope="It applies to all personal data of customers, staff and other individuals.",
        sections=(
            Section(
                "principles",
                "Principles",
                (
                    "Personal data is collected for specified purposes and no more than is "
                    "needed for them.",
                    "Special category data (health, ethnicity, biometrics) is processed "
                    "only with an Article 9 condition recorded in the processing register.",
                    "Personal data is kept no longer than the periods in [[POL-DP-002#schedule]].",
                ),
            ),
            Section(
                "rights",
                "Individual rights",
                (
                    "Subject access requests are answered within one month, extendable by "
                    "two further months for complex requests.",
                    "Requests are logged within {dsar_log_days} business days of receipt.",
                    "People can object to automated decisions and ask for a human review; "
                    "reviews are completed within {human_review_days} days.",
                ),
            ),
            Section(
                "dpia",
                "Data protection impact assessments",
                (
                    "A DPIA is completed before any new processing likely to result in a "
                    "high risk, including every new credit or fraud model.",
                    "The DPO is consulted on every DPIA and signs off high-risk ones.",
                ),
            ),
        ),
        related=(
            ("POL-DP-003", "notification", "breach notification"),
            ("POL-DP-004", "pseudonymisation", "pseudonymisation"),
        ),
        params={
            "dsar_log_days": ("1", "2"),
            "human_review_days": ("30", "21"),
        },
    ),
    DocSpec(
        id="POL-DP-002",
        title="Records Retention Schedule",
        owner="Head of Records Management",
        classification="internal",
        groups=EVERYONE,
        purpose="This policy sets how long the bank keeps records and how it disposes of them.",
        scope="It applies to records in any format, including emails and call recordings.",
        sections=(
            Section(
                "schedule",
                "Retention periods",
                (
                    "KYC and transaction records are kept for {kyc_years} years after the "
                    "end of the customer relationship.",
                    "Credit application records for declined applications are kept for "
                    "{declined_months} months.",
                    "Model decision ledger entries are kept for {ledger_years} years after "
                    "the model is retired.",
                    "Call recordings are kept for {call_years} years.",
                ),
            ),
            Section(
                "holds",
                "Legal holds",
                (
                    "A legal hold suspends deletion of the records it names until Legal lifts it.",
                    "Legal holds are reviewed every {hold_review} months.",
                ),
            ),
            Section(
                "deletion",
                "Deletion",
                (
                    "Records past their retention period are deleted within {deletion_days} days.",
                    "Deletion is logged with the record class, volume and date.",
                ),
            ),
        ),
        related=(
            ("POL-DP-001", "principles", "storage limitation"),
            ("POL-AML-002", "refresh", "customer due diligence records"),
        ),
        params={
            "kyc_years": ("5", "10"),
            "declined_months": ("12", "24"),
            "ledger_years": ("7", "10"),
            "call_years": ("5", "7"),
            "hold_review": ("6", "12"),
            "deletion_days": ("90", "60"),
        },
    ),
    DocSpec(
        id="POL-DP-003",
        title="Personal Data Breach Management",
        owner="Data Protection Officer (DPO)",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy makes sure personal data breaches are contained, assessed and "
            "notified on time."
        ),
        scope=(
            "It applies to any breach of security leading to loss or disclosure of personal data."
        ),
        sections=(
            Section(
                "assessment",
                "Reporting and assessment",
                (
                    "Staff report a suspected breach to the DPO within {internal_hours} "
                    "hours of becoming aware of it.",
                    "The DPO assesses the risk to individuals using the breach scoring "
                    "matrix within {assess_hours} hours.",
                ),
            ),
            Section(
                "notification",
                "Notification",
                (
                    "A breach likely to result in a risk to individuals is notified to the "
                    "supervisory authority within 72 hours of the bank becoming aware of it.",
                    "Individuals are told without undue delay when the risk is high.",
                    "Breaches involving card numbers are also reported to the card schemes "
                    "within {scheme_hours} hours.",
                ),
            ),
            Section(
                "records",
                "Breach log",
                (
                    "Every breach, notified or not, is recorded in the breach log with its "
                    "facts, effects and remedial action.",
                    "Breach trends are reported to the Data Governance Committee every "
                    "{trend_months} months.",
                ),
            ),
        ),
        related=(
            ("POL-SEC-004", "reporting", "security incident reporting"),
            ("POL-DP-001", "rights", "individual rights"),
        ),
        params={
            "internal_hours": ("1", "4"),
            "assess_hours": ("24", "48"),
            "scheme_hours": ("24", "72"),
            "trend_months": ("3", "6"),
        },
    ),
    DocSpec(
        id="POL-DP-004",
        title="Test Data, Pseudonymisation and Analytics",
        owner="Chief Data Officer",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy keeps real personal data out of test environments and limits "
            "identifiable data in analytics and model development."
        ),
        scope="It applies to development, test, analytics and data science environments.",
        sections=(
            Section(
                "test_data",
                "Test data",
                (
                    "Non-production environments use synthetic data by default.",
                    "Copying production personal data to a test environment requires DPO "
                    "approval and expires after {test_copy_days} days.",
                ),
            ),
            Section(
                "pseudonymisation",
                "Pseudonymisation",
                (
                    "Names, card numbers, IBANs, national identifiers, emails and phone "
                    "numbers are tokenised before data reaches analytics platforms.",
                    "Tokenisation keys are held by the Data Protection team and rotated "
                    "every {token_rotation} months.",
                    "Raw identifiers never appear in logs, model features, model artefacts "
                    "or prompts to AI systems.",
                ),
            ),
            Section(
                "analytics",
                "Analytics and model development",
                (
                    "Protected characteristics are stored separately from model features "
                    "and used only for fairness testing under [[POL-MRM-004#testing]].",
                    "Analytical extracts are deleted within {extract_days} days of the end "
                    "of the project.",
                ),
            ),
        ),
        related=(
            ("POL-MRM-004", "protected", "protected characteristics"),
            ("POL-SEC-007", "keys", "tokenisation keys"),
        ),
        params={
            "test_copy_days": ("30", "14"),
            "token_rotation": ("12", "24"),
            "extract_days": ("30", "90"),
        },
    ),
)

_MODEL_RISK = (
    DocSpec(
        id="POL-MRM-001",
        title="Model Risk Management",
        owner="Head of Model Risk Management",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy manages the risk of losses or harm from models that are wrong or "
            "wrongly used, following the interagency model risk principles and PRA SS1/23."
        ),
        scope=(
            "It applies to every model, including machine learning models and AI systems "
            "that make or support decisions."
        ),
        sections=(
            Section(
                "inventory",
                "Model inventory",
                (
                    "Every model is registered in the model inventory before use, with an "
                    "owner, a purpose and a tier.",
                    "The inventory is attested by model owners every {attest_months} months.",
                ),
            ),
            Section(
                "tiering",
                "Tiering",
                (
                    "Tier 1 models drive credit decisions, capital or regulatory reporting; "
                    "Tier 2 models drive fraud alerts or pricing; Tier 3 models support "
                    "internal analysis.",
                    "Tier 1 models are revalidated every {tier1_months} months, Tier 2 every "
                    "{tier2_months} months and Tier 3 every 36 months.",
                ),
            ),
            Section(
                "validation",
                "Independent validation",
                (
                    "No model is used for decisions before independent validation approves "
                    "it; the developer may not approve their own model.",
                    "Validation covers conceptual soundness, data quality, performance, "
                    "stability, fairness and reproducibility.",
                    "Validation findings rated high are remediated within {finding_days} "
                    "days, or the model is restricted.",
                ),
            ),
        ),
        related=(
            ("POL-MRM-002", "metrics", "ongoing monitoring"),
            ("POL-MRM-004", "testing", "fairness testing"),
            ("POL-LEND-002", "automated_decisions", "automated credit decisions"),
        ),
        params={
            "attest_months": ("6", "12"),
            "tier1_months": ("12", "18"),
            "tier2_months": ("24", "18"),
            "finding_days": ("90", "60"),
        },
    ),
    DocSpec(
        id="POL-MRM-002",
        title="Model Performance Monitoring",
        owner="Model Monitoring Lead",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy sets how models in production are monitored for drift and loss of "
            "performance, and when action is required."
        ),
        scope="It applies to all Tier 1 and Tier 2 models in production.",
        sections=(
            Section(
                "metrics",
                "Metrics",
                (
                    "Input drift is measured with the population stability index (PSI) on "
                    "reference-quantile bins: below 0.10 is stable, 0.10 to 0.25 is watch, "
                    "above 0.25 requires action.",
                    "Discrimination is tracked as the Gini coefficient once labels mature; "
                    "credit labels mature after 12 months and fraud labels after "
                    "{fraud_label_days} days.",
                    "Monitoring reports are produced {monitoring_frequency}.",
                ),
            ),
            Section(
                "drift",
                "Drift response",
                (
                    "A PSI above 0.25 on a top-five feature is investigated within "
                    "{drift_days} business days.",
                    "A fall in Gini of more than {gini_drop} points against validation "
                    "triggers a model review.",
                ),
            ),
            Section(
                "escalation",
                "Escalation and rollback",
                (
                    "Red monitoring results are escalated to the model owner and Model Risk "
                    "within 1 business day.",
                    "The operator may roll a model back to the previous approved version at "
                    "any time; every rollback is recorded in the decision ledger.",
                ),
            ),
        ),
        related=(
            ("POL-MRM-001", "validation", "model validation"),
            ("POL-FRD-005", "monitoring", "fraud model monitoring"),
        ),
        params={
            "fraud_label_days": ("30", "45"),
            "monitoring_frequency": ("monthly", "weekly"),
            "drift_days": ("5", "10"),
            "gini_drop": ("5", "8"),
        },
    ),
    DocSpec(
        id="POL-MRM-003",
        title="Use of Artificial Intelligence and Generative AI",
        owner="Head of AI Governance",
        classification="internal",
        groups=EVERYONE,
        purpose=(
            "This policy sets the conditions under which AI systems, including generative AI "
            "assistants, may be used in the bank, in line with the EU AI Act."
        ),
        scope="It applies to every AI system built, bought or used by the bank.",
        sections=(
            Section(
                "approved_use",
                "Approved use",
                (
                    "AI systems are approved by the AI Governance Forum before use; credit "
                    "scoring of individuals is a high-risk use under the EU AI Act.",
                    "Logs of high-risk AI systems are kept for at least {ai_log_months} months.",
                ),
            ),
            Section(
                "assistant",
                "Policy assistant",
                (
                    "The internal policy assistant answers only from policy documents the "
                    "user is allowed to read, and cites the section it relies on.",
                    "An answer without a supporting citation is not given; the assistant "
                    "says it cannot answer instead.",
                    "Flagged answers are reviewed by Compliance within {flag_review_days} "
                    "business days.",
                ),
            ),
            Section(
                "oversight",
                "Human oversight",
                (
                    "A named person is accountable for each AI system and can stop it.",
                    "Staff may not rely on an AI output for a customer decision without "
                    "reviewing it, except for models approved under "
                    "[[POL-MRM-001#validation]].",
                ),
            ),
        ),
        related=(
            ("POL-SEC-006", "ai_tools", "acceptable use of AI tools"),
            ("POL-DP-004", "pseudonymisation", "no raw identifiers in prompts"),
        ),
        params={
            "ai_log_months": ("6", "12"),
            "flag_review_days": ("2", "5"),
        },
    ),
    DocSpec(
        id="POL-MRM-004",
        title="Fair Lending and Model Fairness Testing",
        owner="Head of Credit Model Development",
        classification="confidential",
        groups=("credit-risk", "model-risk"),
        purpose=(
            "This policy makes sure credit models do not discriminate on protected "
            "characteristics, directly or through proxies."
        ),
        scope="It applies to every model used in credit decisions or pricing.",
        sections=(
            Section(
                "protected",
                "Protected characteristics",
                (
                    "Sex, age, ethnicity, religion, disability and marital status are never "
                    "model inputs.",
                    "Protected attributes are held in a separate table, joined only by the "
                    "fairness testing process (see [[POL-DP-004#analytics]]).",
                ),
            ),
            Section(
                "testing",
                "Fairness testing",
                (
                    "Approval-rate ratios between groups are tested before release and "
                    "every {fairness_months} months; a ratio below {air_threshold} (the "
                    "four-fifths rule) requires investigation.",
                    "Differences in true-positive rate between groups of more than "
                    "{tpr_gap} percentage points are reported to the model validator.",
                    "Features correlated with a protected attribute above {proxy_corr} are "
                    "reviewed as possible proxies.",
                ),
            ),
            Section(
                "remediation",
                "Remediation",
                (
                    "A failed fairness test blocks approval of the model version.",
                    "Remediation options are documented with their effect on accuracy and "
                    "on each group.",
                ),
            ),
        ),
        related=(
            ("POL-LEND-002", "adverse_action", "adverse-action reasons"),
            ("POL-MRM-001", "validation", "validation"),
        ),
        params={
            "fairness_months": ("6", "12"),
            "air_threshold": ("0.80", "0.85"),
            "tpr_gap": ("5", "10"),
            "proxy_corr": ("0.5", "0.4"),
        },
    ),
)

SPECS: tuple[DocSpec, ...] = (
    _LENDING + _AML + _FRAUD + _COMPLAINTS + _HR + _SECURITY + _TREASURY + _DATA + _MODEL_RISK
)
