"""The synthetic bank: contract (files, columns, types), determinism, realism of the PII
formats, fraud scenarios, credit outcome model and policy corpus, and argument errors."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from bankml.core.errors import InputError
from bankml.data.generator import TABLE_SCHEMAS, BankManifest, generate_bank, load_manifest
from bankml.data.policy_corpus import build_policy_corpus

SEED = 7
TS = pa.timestamp("us", tz="UTC")
TABLES = (
    "customers",
    "cards",
    "terminals",
    "transactions",
    "credit_applications",
    "credit_protected",
)
SMALL_GROUPS = {
    "credit-risk",
    "aml-investigations",
    "hr",
    "treasury",
    "security",
    "fraud-ops",
    "compliance",
    "model-risk",
    "business-banking",
    "complaints",
    "legal",
    "it-operations",
}


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> BankManifest:
    """A medium bank: big enough for every fraud scenario, small enough to be quick."""
    return generate_bank(
        tmp_path_factory.mktemp("bank") / "bank", customers=2_000, days=60, seed=SEED
    )


@pytest.fixture(scope="module")
def read(bank: BankManifest) -> Callable[[str], pd.DataFrame]:
    cache: dict[str, pd.DataFrame] = {}

    def _read(name: str) -> pd.DataFrame:
        if name not in cache:
            cache[name] = pd.read_parquet(bank.out / f"{name}.parquet")
        return cache[name]

    return _read


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): _sha(p) for p in root.rglob("*") if p.is_file()}


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _front_matter(text: str) -> dict[str, object]:
    assert text.startswith("---\n")
    head, _, _ = text[4:].partition("\n---\n")
    meta = yaml.safe_load(head)
    assert isinstance(meta, dict)
    return meta


# ---------------------------------------------------------------------------- contract


def test_every_table_is_written_with_the_documented_columns_and_types(
    bank: BankManifest,
) -> None:
    for name in TABLES:
        schema = pq.read_schema(bank.out / f"{name}.parquet")
        assert schema.names == TABLE_SCHEMAS[name].names
        assert [f.type for f in schema] == [f.type for f in TABLE_SCHEMAS[name]]
    tx = pq.read_schema(bank.out / "transactions.parquet")
    assert tx.field("ts").type == TS
    assert tx.field("label_available_at").type == TS
    assert tx.field("is_fraud").type == pa.bool_()
    assert pq.read_schema(bank.out / "customers.parquet").field("date_of_birth").type == (
        pa.date32()
    )
    assert pq.read_schema(bank.out / "cards.parquet").field("issued_at").type == pa.date32()


def test_manifest_records_row_counts_and_checksums_of_every_file(bank: BankManifest) -> None:
    files = _tree(bank.out)
    manifest_json = files.pop("manifest.json")
    assert bank.files == files
    for name in TABLES:
        assert bank.row_counts[name] == pq.read_metadata(bank.out / f"{name}.parquet").num_rows
    text = (bank.out / "manifest.json").read_text()
    doc = json.loads(text)
    assert list(doc) == sorted(doc)
    assert doc["out"] == "."  # relocatable: no absolute path inside the bank
    assert load_manifest(bank.out) == bank
    assert manifest_json == hashlib.sha256(text.encode()).hexdigest()


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(
    tmp_path: Path,
) -> None:
    kwargs = {"customers": 300, "days": 20, "applications": 200}
    a = generate_bank(tmp_path / "a" / "bank", seed=11, **kwargs)
    b = generate_bank(tmp_path / "b" / "bank", seed=11, **kwargs)
    c = generate_bank(tmp_path / "c" / "bank", seed=12, **kwargs)
    tree_a, tree_b, tree_c = _tree(a.out), _tree(b.out), _tree(c.out)
    assert tree_a == tree_b
    for name in TABLES:
        assert tree_a[f"{name}.parquet"] != tree_c[f"{name}.parquet"]


# ---------------------------------------------------------------------------- PII formats


def test_pans_are_luhn_valid_visa_or_mastercard_and_unique(read: Callable) -> None:
    cards = read("cards")
    assert cards["pan"].str.fullmatch(r"[45]\d{15}").all()
    assert all(_luhn_ok(p) for p in cards["pan"])
    assert cards["pan"].is_unique
    assert set(cards["card_type"]) == {"debit", "credit"}
    assert cards["expiry"].str.fullmatch(r"(0[1-9]|1[0-2])/\d\d").all()
    per_customer = cards.groupby("customer_id").size()
    assert per_customer.between(1, 2).all()
    assert len(per_customer) == 2_000


def test_ibans_have_valid_mod97_checksums(read: Callable) -> None:
    ibans = read("customers")["iban"]
    assert ibans.str.fullmatch(r"GB\d\d[A-Z]{4}\d{14}|DE\d{20}").all()
    assert all(_iban_ok(i) for i in ibans)
    assert ibans.is_unique


def test_national_ids_are_ssns_with_valid_areas(read: Callable) -> None:
    ssn = read("customers")["national_id"]
    parts = ssn.str.extract(r"^(\d{3})-(\d{2})-(\d{4})$").astype(int)
    area, group, serial = parts[0], parts[1], parts[2]
    assert area.between(1, 899).all()
    assert (area != 666).all()
    assert group.between(1, 99).all()
    assert serial.between(1, 9999).all()
    assert ssn.is_unique


def test_customers_are_adults_with_consistent_age_and_documented_vocabularies(
    read: Callable,
) -> None:
    c = read("customers")
    assert c["age"].between(18, 100).all()
    dob = pd.to_datetime(c["date_of_birth"])
    approx = (pd.Timestamp("2026-01-01") - dob).dt.days / 365.2425
    assert (approx - c["age"]).between(-0.01, 1.01).all()
    assert set(c["employment"]) <= {"employed", "self_employed", "unemployed", "retired", "student"}
    assert set(c["segment"]) == {"retail", "premier", "student", "small_business"}
    assert set(c["risk_rating"]) == {"low", "medium", "high"}
    assert set(c["sex"]) == {"F", "M"}
    assert c["home_country"].str.fullmatch(r"[A-Z]{2}").all()
    assert c[["x_location", "y_location"]].stack().between(0, 100).all()
    assert c["email"].str.fullmatch(r"[a-z.]+\.\d+@(example\.(com|org|net)|mail\.example)").all()


def test_terminals_scale_with_customers(read: Callable) -> None:
    t = read("terminals")
    assert len(t) == 400
    assert t["mcc"].str.fullmatch(r"\d{4}").all()
    assert t["terminal_id"].is_unique


# ---------------------------------------------------------------------------- transactions


def test_transactions_are_sorted_by_time_with_increasing_ids(read: Callable) -> None:
    tx = read("transactions")
    assert tx["ts"].is_monotonic_increasing
    assert (np.diff(tx["transaction_id"].to_numpy()) == 1).all()
    assert (tx["amount"] > 0).all()
    assert (tx["amount"].round(2) == tx["amount"]).all()
    assert set(tx["currency"]) == {"EUR", "GBP", "USD"}
    assert set(tx["channel"]) == {"pos", "ecom", "atm"}
    assert set(tx["entry_mode"]) == {"chip", "contactless", "swipe", "manual", "ecom"}
    assert tx["ts"].min() >= pd.Timestamp("2026-01-01", tz="UTC")
    assert tx["ts"].max() < pd.Timestamp("2026-03-02", tz="UTC")


def test_transactions_reference_existing_cards_customers_and_terminals(read: Callable) -> None:
    tx, cards = read("transactions"), read("cards")
    owner = cards.set_index("card_id")["customer_id"]
    assert (tx["customer_id"].to_numpy() == owner.loc[tx["card_id"]].to_numpy()).all()
    assert tx["terminal_id"].isin(read("terminals")["terminal_id"]).all()


def test_fraud_rate_is_near_target_and_every_scenario_occurs(
    bank: BankManifest, read: Callable
) -> None:
    tx = read("transactions")
    assert len(tx) > 100_000
    assert 0.006 * 0.7 <= tx["is_fraud"].mean() <= 0.006 * 1.3
    assert bank.fraud_rate == pytest.approx(tx["is_fraud"].mean(), abs=1e-6)
    assert set(tx["fraud_scenario"]) == {
        "none",
        "compromised_terminal",
        "account_takeover",
        "card_testing",
        "high_amount",
    }
    assert (tx["is_fraud"] == (tx["fraud_scenario"] != "none")).all()


def test_fraud_rate_follows_the_requested_target(tmp_path: Path) -> None:
    m = generate_bank(tmp_path / "b", customers=1_000, days=40, fraud_rate=0.02, seed=3)
    assert 0.02 * 0.7 <= m.fraud_rate <= 0.02 * 1.3


def test_labels_become_available_after_the_transaction(read: Callable) -> None:
    tx = read("transactions")
    delay = (tx["label_available_at"] - tx["ts"]).dt.total_seconds() / 86_400
    assert (delay > 0).all()
    assert (delay[~tx["is_fraud"]] == 7).all()
    fraud = delay[tx["is_fraud"]]
    assert fraud.between(1, 30).all()
    assert fraud.median() < 8  # skewed: most chargebacks arrive within about a week
    assert (fraud <= 12).mean() > 0.8


def test_card_testing_is_bursts_of_small_amounts_minutes_apart(read: Callable) -> None:
    tx = read("transactions")
    ct = tx[tx["fraud_scenario"] == "card_testing"].sort_values(["card_id", "ts"])
    small = ct[ct["amount"] < 5]
    assert len(small) >= 0.6 * len(ct)
    assert set(small["entry_mode"]) <= {"ecom", "manual"}
    assert (small["channel"] == "ecom").all()
    # Every small test has a sibling on the same card within 10 minutes, and a burst has 3+.
    gaps = small.groupby("card_id")["ts"].diff()
    burst_start = gaps.isna() | (gaps > pd.Timedelta(minutes=10))
    burst_id = burst_start.cumsum()
    sizes = small.groupby(burst_id).size()
    spans = small.groupby(burst_id)["ts"].agg(lambda s: s.max() - s.min())
    assert (sizes >= 3).all()
    assert (spans <= pd.Timedelta(minutes=16)).all()
    # Follow-up large purchases exist.
    assert (ct["amount"] >= 5).any()


def test_compromised_terminal_windows_are_all_fraud(read: Callable) -> None:
    tx = read("transactions")
    ct = tx[tx["fraud_scenario"] == "compromised_terminal"]
    assert ct["terminal_id"].nunique() >= 1
    for terminal, rows in ct.groupby("terminal_id"):
        lo, hi = rows["ts"].min(), rows["ts"].max()
        window = tx[(tx["terminal_id"] == terminal) & tx["ts"].between(lo, hi)]
        assert window["is_fraud"].all()
        assert (hi - lo) <= pd.Timedelta(days=28)
        assert rows["card_id"].nunique() > 1  # many victims per skimmer


def test_account_takeover_and_high_amount_fraud_exceed_the_customers_usual(
    read: Callable,
) -> None:
    tx = read("transactions")
    usual = tx[~tx["is_fraud"]].groupby("customer_id")["amount"].mean()
    for scenario, floor in (("account_takeover", 2.0), ("high_amount", 5.0)):
        rows = tx[tx["fraud_scenario"] == scenario]
        ratio = rows["amount"].to_numpy() / usual.loc[rows["customer_id"]].to_numpy()
        assert np.median(ratio) > floor
    ato = tx[tx["fraud_scenario"] == "account_takeover"]
    legit = tx[~tx["is_fraud"]]
    assert (ato["ts"].dt.hour < 6).mean() > 3 * (legit["ts"].dt.hour < 6).mean()
    home = read("customers").set_index("customer_id")["home_country"]
    abroad = ato["country"].to_numpy() != home.loc[ato["customer_id"]].to_numpy()
    legit_abroad = legit["country"].to_numpy() != home.loc[legit["customer_id"]].to_numpy()
    assert abroad.mean() > 3 * legit_abroad.mean()


def test_legit_spending_is_daytime_heavy_and_local(read: Callable) -> None:
    tx = read("transactions")
    legit = tx[~tx["is_fraud"]]
    assert (legit["ts"].dt.hour.between(8, 21)).mean() > 0.8
    home = read("customers").set_index("customer_id")["home_country"]
    assert (legit["country"].to_numpy() == home.loc[legit["customer_id"]].to_numpy()).mean() > 0.8
    per_day = legit.groupby(["customer_id", legit["ts"].dt.date]).size()
    assert 0.5 <= per_day.sum() / (2_000 * 60) <= 3.0


# ---------------------------------------------------------------------------- credit


def test_default_rate_is_in_range_and_monotone_in_risk_features(read: Callable) -> None:
    apps = read("credit_applications")
    assert len(apps) == 1_200  # 0.6 x customers by default
    assert 0.08 <= apps["defaulted_12m"].mean() <= 0.12

    def quintile_rates(column: str) -> pd.Series:
        q = pd.qcut(apps[column].rank(method="first"), 5, labels=False)
        return apps.groupby(q)["defaulted_12m"].mean()

    for riskier_when_higher in ("debt_to_income", "utilisation"):
        rates = quintile_rates(riskier_when_higher)
        assert rates.iloc[-1] > rates.iloc[0]
    for safer_when_higher in ("income", "credit_history_months"):
        rates = quintile_rates(safer_when_higher)
        assert rates.iloc[-1] < rates.iloc[0]
    with_delinquency = apps[apps["delinquencies_2y"] > 0]["defaulted_12m"].mean()
    assert with_delinquency > apps[apps["delinquencies_2y"] == 0]["defaulted_12m"].mean()


def test_credit_features_are_in_their_documented_ranges(read: Callable) -> None:
    apps = read("credit_applications")
    assert apps["utilisation"].between(0, 1).all()
    assert set(apps["term_months"]) <= {12, 24, 36, 48, 60}
    assert set(apps["housing"]) == {"own", "mortgage", "rent", "other"}
    assert set(apps["purpose"]) == {
        "car",
        "home_improvement",
        "debt_consolidation",
        "education",
        "other",
    }
    assert (apps["requested_amount"] > 0).all()
    assert (apps["applied_at"] < pd.Timestamp("2026-01-02", tz="UTC")).all()
    assert apps["application_id"].is_unique
    ints = ["delinquencies_2y", "inquiries_6m", "credit_history_months", "open_accounts"]
    assert (apps[ints] >= 0).all().all()


def test_protected_attributes_live_in_their_own_table(read: Callable) -> None:
    apps, protected = read("credit_applications"), read("credit_protected")
    assert not {"sex", "age", "age_band"} & set(apps.columns)
    assert (protected["application_id"] == apps["application_id"]).all()
    assert protected["age"].min() >= 18
    bands = pd.cut(
        protected["age"], [17, 25, 40, 60, 200], labels=["18-25", "26-40", "41-60", "61+"]
    )
    assert (bands.astype(str) == protected["age_band"]).all()
    # Mild, realistic dependence through the features: income differs by age band.
    income = apps.groupby(protected["age_band"])["income"].median()
    assert income["18-25"] < income["41-60"]


# ---------------------------------------------------------------------------- policies


def test_policies_have_valid_front_matter_and_restricted_documents(bank: BankManifest) -> None:
    paths = sorted((bank.out / "policies").glob("*.md"))
    assert len(paths) >= 40
    metas = [_front_matter(p.read_text(encoding="utf-8")) for p in paths]
    ids = [m["id"] for m in metas]
    assert len(set(ids)) == len(ids)
    restricted = 0
    for path, meta in zip(paths, metas, strict=True):
        assert set(meta) == {
            "id",
            "title",
            "owner",
            "classification",
            "allowed_groups",
            "effective_date",
        }
        assert path.stem == meta["id"]
        assert re.fullmatch(r"POL-[A-Z]+-\d{3}", str(meta["id"]))
        assert meta["classification"] in {"public", "internal", "confidential", "restricted"}
        groups = meta["allowed_groups"]
        assert isinstance(groups, list)
        assert groups
        assert isinstance(meta["effective_date"], date)
        if "everyone" not in groups:
            assert set(groups) <= SMALL_GROUPS
            assert meta["classification"] in {"confidential", "restricted"}
            restricted += 1
        else:
            assert groups == ["everyone"]
    assert restricted >= 8
    domains = {str(i).split("-")[1] for i in ids}
    assert {"LEND", "AML", "FRD", "CMP", "HR", "SEC", "TRY"} <= domains


def test_policy_cross_references_point_to_existing_sections(bank: BankManifest) -> None:
    texts = {p.stem: p.read_text(encoding="utf-8") for p in (bank.out / "policies").glob("*.md")}
    refs = 0
    for doc_id, text in texts.items():
        assert re.search(r"^## \d+\. ", text, re.M)
        # Every template placeholder and reference was filled in.
        assert "[[" not in text
        assert "{" not in text
        for target, section in re.findall(r"(POL-[A-Z]+-\d{3}) §(\d+)", text):
            refs += 1
            assert target in texts, f"{doc_id} cites missing {target}"
            assert re.search(rf"^## {section}\. ", texts[target], re.M)
        words = len(text.split())
        assert 250 <= words <= 800
    assert refs >= 2 * len(texts)


def test_policy_facts_differ_across_documents_and_vary_by_seed() -> None:
    docs = build_policy_corpus(SEED)
    generic = ("Roles and responsibilities", "Exceptions and breaches", "Review")
    specific = [r.text for d in docs for r in d.rules if r.section not in generic]
    assert len(specific) == len(set(specific))
    assert len(specific) >= 40 * 5
    first = docs[0].rules[0]
    assert first.citation == f"{docs[0].id} §{first.number}"
    assert f"**{first.number}** {first.text}" in docs[0].markdown
    other = build_policy_corpus(SEED + 1)
    assert [d.markdown for d in docs] != [d.markdown for d in other]
    assert [d.markdown for d in docs] == [d.markdown for d in build_policy_corpus(SEED)]


# ---------------------------------------------------------------------------- errors, files


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"customers": 0}, "customers must be between 1"),
        ({"days": 0}, "days must be between 1"),
        ({"fraud_rate": 0.0}, "fraud_rate must be strictly between 0 and 0.5"),
        ({"fraud_rate": 0.5}, "fraud_rate must be strictly between 0 and 0.5"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"applications": 0}, "applications must be at least 1"),
    ],
)
def test_bad_arguments_raise_one_line_input_errors(
    tmp_path: Path, kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(InputError, match=message) as info:
        generate_bank(tmp_path / "bank", **kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)
    assert not (tmp_path / "bank").exists()


def test_refuses_a_non_empty_directory_that_is_not_a_bank(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="not a bankml bank"):
        generate_bank(tmp_path, customers=10, days=2)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    file_out = tmp_path / "notes.txt"
    with pytest.raises(InputError, match="is a file"):
        generate_bank(file_out, customers=10, days=2)


def test_regenerates_over_a_previous_bank(tmp_path: Path) -> None:
    generate_bank(tmp_path / "bank", customers=50, days=3, seed=1)
    second = generate_bank(tmp_path / "bank", customers=60, days=3, seed=2)
    assert second.row_counts["customers"] == 60
    files = _tree(second.out)
    files.pop("manifest.json")
    assert files == second.files


def test_interrupted_run_leaves_no_half_written_file(tmp_path: Path) -> None:
    class Stop(Exception):
        pass

    def stop_midway(stage: str, done: int, total: int) -> None:
        if stage == "transactions" and done > 0:
            raise Stop

    out = tmp_path / "bank"
    with pytest.raises(Stop):
        generate_bank(out, customers=200, days=30, progress=stop_midway)
    names = {p.name for p in out.iterdir()}
    assert "transactions.parquet" not in names
    assert "manifest.json" not in names
    assert not [n for n in names if n.endswith(".partial")]
    # The interrupted directory is still recognised as ours and can be regenerated.
    assert generate_bank(out, customers=20, days=2).row_counts["customers"] == 20


def test_progress_reports_every_stage_up_to_its_total(tmp_path: Path) -> None:
    seen: dict[str, tuple[int, int]] = {}
    generate_bank(
        tmp_path / "bank",
        customers=30,
        days=5,
        progress=lambda stage, done, total: seen.__setitem__(stage, (done, total)),
    )
    assert set(seen) >= {"customers", "transactions", "credit", "policies", "checksums"}
    assert all(done == total for done, total in seen.values())
    assert seen["transactions"] == (5, 5)


def test_a_one_customer_one_day_bank_is_valid(tmp_path: Path) -> None:
    m = generate_bank(tmp_path / "tiny", customers=1, days=1, seed=5)
    assert m.row_counts["customers"] == 1
    assert m.row_counts["terminals"] == 50
    assert pq.read_schema(m.out / "transactions.parquet").names == (
        TABLE_SCHEMAS["transactions"].names
    )
