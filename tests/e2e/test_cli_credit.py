"""`bankml credit train` on the bank's own file: a CSV whose columns a mapping names.

Real processes, real files: the JSON a machine reads, and one-line errors with exit 2 for a
bad mapping, a missing column and a one-class target.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bankml.data.generator import generate_bank
from tests.e2e.test_cli import assert_one_line_error, run, user_key

MAPPING = """
[target]
column = "status"
bad = "default"
[features]
numeric = ["duration_months", "amount", "dti", "revolving_use", "late_payments",
           "bureau_checks", "yearly_income", "history_months"]
categorical = ["purpose", "housing"]
[monotone]
duration_months = 1
amount = 1
dti = 1
revolving_use = 1
late_payments = 1
yearly_income = -1
[protected]
columns = ["sex", "age"]
"""

RENAME = {
    "term_months": "duration_months",
    "requested_amount": "amount",
    "debt_to_income": "dti",
    "utilisation": "revolving_use",
    "delinquencies_2y": "late_payments",
    "inquiries_6m": "bureau_checks",
    "income": "yearly_income",
    "credit_history_months": "history_months",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("credit-cli")
    generate_bank(root / "bank", customers=1500, days=1, seed=5, applications=3000)
    apps = pd.read_parquet(root / "bank" / "credit_applications.parquet")
    prot = pd.read_parquet(root / "bank" / "credit_protected.parquet")
    frame = apps.merge(prot, on="application_id").rename(columns=RENAME)
    frame["status"] = frame.pop("defaulted_12m").map({True: "default", False: "paid"})
    frame.to_csv(root / "loans.csv", index=False)
    (root / "mapping.toml").write_text(MAPPING)
    # Training acts as an authenticated model developer (the CLI's API key).
    (root / "maker.key").write_text(user_key(root / "home", "maria", "model_developer"))
    return root


def test_train_on_a_mapped_csv_prints_cv_test_and_fairness(files: Path) -> None:
    proc = run(
        files / "home",
        "credit", "train",
        "--applications", str(files / "loans.csv"),
        "--mapping", str(files / "mapping.toml"),
        "--cv", "3",
        "--json",
        key=(files / "maker.key").read_text(),
    )  # fmt: skip
    out = json.loads(proc.stdout)
    assert out["cv"]["folds"] == 3 and len(out["cv"]["roc_auc"]) == 3
    assert 0.7 < out["cv"]["roc_auc_mean"] < 1.0
    assert 0 <= out["cv"]["roc_auc_std"] < 0.1
    assert out["test"]["roc_auc"] > 0.7
    assert out["test"]["rows"] == 600  # 20% held out, stratified
    assert out["test"]["monotonicity_violations"] == 0
    # Age is banded for fairness; sex is compared directly. Neither is a model input.
    assert set(out["fairness"]["reported"]) == {"sex", "age"}
    assert {g["group"] for g in out["fairness"]["reported"]["age"]["groups"]} >= {"26-40", "61+"}
    assert out["version"] == 1


def test_a_bad_mapping_is_one_error_line(files: Path) -> None:
    bad = files / "bad.toml"
    bad.write_text("[features]\nnumeric = ['amount']\n")
    proc = run(
        files / "home",
        "credit", "train",
        "--applications", str(files / "loans.csv"),
        "--mapping", str(bad),
        "--no-register",
        check=2,
        key=(files / "maker.key").read_text(),
    )  # fmt: skip
    assert_one_line_error(proc)
    assert "[target] column is required" in proc.stderr


def test_a_missing_column_is_one_error_line(files: Path) -> None:
    mapping = files / "missing.toml"
    mapping.write_text(MAPPING.replace('"history_months"', '"months_on_book"'))
    proc = run(
        files / "home",
        "credit", "train",
        "--applications", str(files / "loans.csv"),
        "--mapping", str(mapping),
        "--no-register",
        check=2,
        key=(files / "maker.key").read_text(),
    )  # fmt: skip
    assert_one_line_error(proc)
    assert "has no column 'months_on_book'" in proc.stderr


def test_a_one_class_target_is_one_error_line(files: Path) -> None:
    mapping = files / "oneclass.toml"
    mapping.write_text(MAPPING.replace('bad = "default"', 'bad = "charged_off"'))
    proc = run(
        files / "home",
        "credit", "train",
        "--applications", str(files / "loans.csv"),
        "--mapping", str(mapping),
        "--no-register",
        check=2,
        key=(files / "maker.key").read_text(),
    )  # fmt: skip
    assert_one_line_error(proc)
    assert "has one class only" in proc.stderr


def test_applications_without_a_mapping_is_one_error_line(files: Path) -> None:
    proc = run(
        files / "home",
        "credit", "train", "--applications", str(files / "loans.csv"),
        check=2,
    )  # fmt: skip
    assert_one_line_error(proc)
