"""The CLI as a user runs it: real processes, real files, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import TEST_SECRET

BANKML = [sys.executable, "-m", "bankml.cli"]


def run(
    home: Path,
    *args: str,
    check: int | None = 0,
    key: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The CLI in a real process; ``key`` is the API key it acts with (BANKML_API_KEY)."""
    env = {
        **os.environ,
        **(env or {}),
        "BANKML_HOME": str(home),
        "BANKML_ENV": "test",
        "BANKML_SECRET_KEY": TEST_SECRET,
        # Never the developer's own stored credentials: each test says who acts.
        "BANKML_CREDENTIALS_FILE": str(home / "credentials.json"),
        "COLUMNS": "200",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    env.pop("BANKML_API_KEY", None)
    if key is not None:
        env["BANKML_API_KEY"] = key
    proc = subprocess.run([*BANKML, *args], capture_output=True, text=True, env=env, timeout=600)
    if check is not None:
        assert proc.returncode == check, proc.stdout + proc.stderr
    return proc


def admin_key(home: Path) -> str:
    """`bankml init` on a fresh home: the first admin's API key (printed once)."""
    return str(json.loads(run(home, "init", "--no-login", "--json").stdout)["api_key"])


def user_key(home: Path, name: str, role: str, admin: str | None = None) -> str:
    """A new user in ``role`` added by an admin (the home's first admin if none is given)."""
    admin = admin or admin_key(home)
    out = run(home, "users", "add", name, "--role", role, "--json", key=admin).stdout
    return str(json.loads(out)["api_key"])


def assert_one_line_error(proc: subprocess.CompletedProcess[str]) -> None:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error:")
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli-home")
    out = home / "bank"
    run(
        home,
        "data",
        "generate",
        "--customers",
        "400",
        "--days",
        "35",
        "--seed",
        "3",
        "--out",
        str(out),
    )
    return out


@pytest.mark.parametrize(
    "args",
    [["data", "generate", "--customers", "many"], ["fraud", "train"], ["nope"], ["demo", "--x"]],
)
def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    assert_one_line_error(run(tmp_path, *args, check=2))


def test_every_command_group_has_help(tmp_path: Path) -> None:
    for group in ([], ["data"], ["users"], ["audit"], ["fraud"], ["policy"], ["fraud", "train"]):
        proc = run(tmp_path, *group, "--help")
        assert "Usage" in proc.stdout


def test_generate_is_deterministic_per_seed(bank: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    run(
        tmp_path,
        "data",
        "generate",
        "--customers",
        "400",
        "--days",
        "35",
        "--seed",
        "3",
        "--out",
        str(again),
    )
    for f in ("transactions.parquet", "customers.parquet", "credit_applications.parquet"):
        assert (bank / f).read_bytes() == (again / f).read_bytes()


def test_check_clean_table_exits_0_and_writes_json_and_html(bank: Path, tmp_path: Path) -> None:
    proc = run(
        tmp_path,
        "data",
        "check",
        str(bank / "transactions.parquet"),
        "--schema",
        "transactions",
        "--json",
        "--html",
        str(tmp_path / "dq.html"),
    )
    assert json.loads(proc.stdout)["status"] == "clean"
    assert "transactions" in (tmp_path / "dq.html").read_text()


def test_check_finds_an_injected_defect_and_exits_2(bank: Path, tmp_path: Path) -> None:
    frame = pd.read_parquet(bank / "transactions.parquet")
    frame.loc[5, "amount"] = -10.0
    frame.to_parquet(tmp_path / "bad.parquet")
    proc = run(
        tmp_path,
        "data",
        "check",
        str(tmp_path / "bad.parquet"),
        "--schema",
        "transactions",
        check=2,
    )
    assert "out_of_range" in proc.stdout


@pytest.mark.parametrize("case", ["missing", "empty", "not-parquet", "unknown-schema"])
def test_bad_input_to_check_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    path = tmp_path / "t.parquet"
    schema = "transactions"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "not-parquet":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    elif case == "unknown-schema":
        pd.DataFrame({"a": [1]}).to_parquet(path)
        schema = "nope"
    assert_one_line_error(run(tmp_path, "data", "check", str(path), "--schema", schema, check=2))


def test_users_and_ledger_verify_detects_tampering(tmp_path: Path) -> None:
    admin = admin_key(tmp_path)
    add = ("users", "add", "alice", "--role", "validator", "--groups", "model-risk")
    proc = run(tmp_path, *add, key=admin)
    assert "API key" in proc.stdout
    dup = run(tmp_path, "users", "add", "alice", "--role", "validator", check=2, key=admin)
    assert_one_line_error(dup)
    bad = run(tmp_path, "users", "add", "bob", "--role", "wizard", check=2, key=admin)
    assert_one_line_error(bad)
    listed = json.loads(run(tmp_path, "users", "list", "--json").stdout)
    assert [(u["name"], u["groups"]) for u in listed] == [("admin", []), ("alice", ["model-risk"])]
    assert json.loads(run(tmp_path, "audit", "verify", "--json").stdout)["ok"] is True
    with sqlite3.connect(tmp_path / "bankml.db") as conn:
        conn.execute("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 1")
    proc = run(tmp_path, "audit", "verify", check=1)
    assert "entry #1 was altered" in proc.stdout
    proc = run(tmp_path, "audit", "verify", "--workers", "2", check=1)
    assert "entry #1 was altered" in proc.stdout
    assert "--workers" in run(tmp_path, "audit", "verify", "--workers", "0", check=2).stderr


def _bank_csv(bank: Path, tmp_path: Path, drop: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """The transactions under a bank's own column names, as CSV, with a mapping file."""
    frame = (
        pd.read_parquet(bank / "transactions.parquet")
        .rename(
            columns={
                "transaction_id": "txn_ref",
                "ts": "booked_at",
                "customer_id": "client",
                "terminal_id": "merchant_terminal",
                "amount": "amt_eur",
                "is_fraud": "confirmed_fraud",
                "label_available_at": "confirmed_at",
                "card_id": "card",
                "country": "ctry",
            }
        )
        .drop(columns=["fraud_scenario", *drop])
    )
    csv = tmp_path / "txns.csv"
    frame.to_csv(csv, index=False)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[columns]\ntransaction_id = "txn_ref"\ntimestamp = "booked_at"\n'
        'customer = "client"\nterminal = "merchant_terminal"\namount = "amt_eur"\n'
        'label = "confirmed_fraud"\nlabel_time = "confirmed_at"\ncard = "card"\n'
        'country = "ctry"\n'
    )
    return csv, mapping


TRAIN_ARGS = [
    "--train-start",
    "2026-01-01",
    "--train-days",
    "20",
    "--delay-days",
    "5",
    "--test-days",
    "8",
    "--capacity",
    "20",
    "--no-register",
]


@pytest.mark.slow
def test_fraud_train_on_a_banks_own_csv_prints_one_json_object(bank: Path, tmp_path: Path) -> None:
    csv, mapping = _bank_csv(bank, tmp_path, drop=("ctry",))
    proc = run(
        tmp_path,
        "fraud",
        "train",
        "--transactions",
        str(csv),
        "--mapping",
        str(mapping),
        *TRAIN_ARGS,
        "--json",
        key=user_key(tmp_path, "maria", "model_developer"),
    )
    out = json.loads(proc.stdout)
    for key in (
        "roc_auc",
        "average_precision",
        "card_precision_at_k",
        "precision_at_k",
        "alerts_per_day",
        "threshold",
    ):
        assert isinstance(out["test"][key], float), key
    # A sanity floor (chance is 0.5), not a quality claim: 400 customers trained inside the
    # 30-day feature warm-up. Measured 0.78 honest (known-compromised customers left out of
    # each day, the headline) and 0.79 on every test transaction.
    assert out["test"]["k"] == 20 and out["test"]["roc_auc"] > 0.7
    assert out["test_unfiltered"]["roc_auc"] > 0.75
    assert "card_new_country" not in out["features"]
    assert any("ctry" in w for w in out["warnings"])


@pytest.mark.parametrize("problem", ["missing-column", "empty-period", "bad-mapping"])
def test_fraud_train_bad_input_is_one_line_exit_2(bank: Path, tmp_path: Path, problem: str) -> None:
    csv, mapping = _bank_csv(
        bank, tmp_path, drop=("amt_eur",) if problem == "missing-column" else ()
    )
    args = list(TRAIN_ARGS)
    if problem == "empty-period":
        args[1] = "2030-01-01"
    if problem == "bad-mapping":
        mapping.write_text("[columns]\ntransaction_id = 'txn_ref'\nwhatever = 3\n")
    proc = run(
        tmp_path,
        "fraud",
        "train",
        "-t",
        str(csv),
        "--mapping",
        str(mapping),
        *args,
        "--json",
        check=2,
        key=user_key(tmp_path, "maria", "model_developer"),
    )
    assert_one_line_error(proc)
    assert proc.stdout == ""
    if problem == "missing-column":
        assert "amt_eur" in proc.stderr


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    proc = run(tmp_path, "demo", "--customers", "800", "--days", "60")
    assert "demo finished" in proc.stdout
    assert "ledger" in proc.stdout.lower()
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.slow
def test_fraud_train_select_prints_and_stores_the_selection_table(
    bank: Path, tmp_path: Path
) -> None:
    csv, mapping = _bank_csv(bank, tmp_path, drop=())
    args = ["fraud", "train", "-t", str(csv), "--mapping", str(mapping), *TRAIN_ARGS]
    out_dir = tmp_path / "run"
    key = user_key(tmp_path, "maria", "model_developer")
    proc = run(
        tmp_path, *args, "--select", "--folds", "1", "--out", str(out_dir), "--json", key=key
    )
    out = json.loads(proc.stdout)
    sel = out["selection"]
    assert sel["metric"] == "average_precision" and len(sel["folds"]) == 1
    # The fold ends where training ends (2026-01-21), never in the gap or the test period.
    assert sel["folds"][0]["val_end"] == "2026-01-21"
    families = {r["family"] for r in sel["candidates"]}
    assert families == {"gbdt", "rf", "extra_trees", "logistic"}
    (chosen,) = [r for r in sel["candidates"] if r["chosen"]]
    eligible = [r for r in sel["candidates"] if r["within_budget"]]
    assert chosen["average_precision"] == max(r["average_precision"] for r in eligible)
    # What is registered is what was chosen.
    assert out["config"]["family"] == chosen["family"]
    assert out["config"]["n_estimators"] == chosen["n_estimators"]
    assert out["config"]["calibration"] == sel["chosen"]["calibration"]
    assert {r["calibration"] for r in sel["calibration"]} == {"holdout", "refit", "none"}
    assert out["test_unfiltered"]["transactions"] >= out["test"]["transactions"]
    stored = json.loads((out_dir / "evaluation" / "selection.json").read_text())
    assert stored["chosen"] == sel["chosen"]
    assert "Candidates" in (out_dir / "evaluation" / "selection.html").read_text()
    bad = run(tmp_path, *args, "--select", "--select-metric", "accuracy", check=2, key=key)
    assert_one_line_error(bad)


def test_decisions_are_found_by_alert_and_page_and_ids_by_8_character_prefix(
    tmp_path: Path,
) -> None:
    from bankml.app import Services
    from bankml.core.settings import load_settings
    from bankml.governance.ledger import Event

    decision_ids = [f"abcdef12-{i:04d}-4000-8000-000000000000" for i in range(3)]
    fiona = user_key(tmp_path, "fiona", "fraud_analyst")
    svc = Services(load_settings(home=tmp_path, env="test", secret_key=TEST_SECRET))
    try:
        events = [
            Event(
                "fraud.scored",
                "fiona",
                f"decision:{d}",
                {
                    "model": {"name": "fraud", "version": 1},
                    "transaction_id": 500 + i,
                    "customer_token": "tok_cust_x",
                    "alert_id": f"fedcba98-{i:04d}-4000-8000-000000000000" if i == 1 else None,
                    "score": 0.25 * i,
                    "threshold": 0.3,
                    "decision": "alert" if i == 1 else "pass",
                    "explanation": {"reasons": ["amount is high"]},
                },
            )
            for i, d in enumerate(decision_ids)
        ]
        alert = {
            "alert_id": "fedcba98-0001-4000-8000-000000000000",
            "decision_id": decision_ids[1],
            "transaction_id": 501,
            "day": "2026-02-01",
            "rank": 1,
            "score": 0.25,
            "threshold": 0.3,
            "model_name": "fraud",
            "model_version": 1,
            "card_token": "tok_card_x",
            "amount": 10.0,
            "reasons": ["amount is high"],
        }
        svc.fraud_queue.add_alerts([alert], actor="fiona", decisions=events)
    finally:
        svc.close()
    (queued,) = json.loads(run(tmp_path, "fraud", "queue", "--json").stdout)
    assert queued["decision_id"] == decision_ids[1]
    assert "abcdef12" in run(tmp_path, "fraud", "queue").stdout  # the decision column
    found = json.loads(run(tmp_path, "audit", "decisions", "--alert", "fedcba98", "--json").stdout)
    assert [r["decision_id"] for r in found] == [decision_ids[1]]
    found = json.loads(run(tmp_path, "audit", "decisions", "--transaction", "502", "--json").stdout)
    assert [r["decision_id"] for r in found] == [decision_ids[2]]
    page = json.loads(run(tmp_path, "audit", "decisions", "--limit", "2", "--json").stdout)
    assert [r["decision_id"] for r in page] == [decision_ids[2], decision_ids[1]]
    rest = run(tmp_path, "audit", "decisions", "--limit", "2", "--offset", "2", "--json")
    assert [r["decision_id"] for r in json.loads(rest.stdout)] == [decision_ids[0]]
    one = run(tmp_path, "audit", "decisions", "--decision", "abcdef12-0000", "--json")
    assert [r["decision_id"] for r in json.loads(one.stdout)] == [decision_ids[0]]
    ambiguous = run(tmp_path, "audit", "replay", "abcdef12", check=2)
    assert_one_line_error(ambiguous)
    assert "ambiguous" in ambiguous.stderr and all(d in ambiguous.stderr for d in decision_ids)
    short = run(tmp_path, "audit", "replay", "abcdef1", check=2)
    assert_one_line_error(short)
    assert "at least 8" in short.stderr
    unknown = run(tmp_path, "fraud", "disposition", "00000000", "-o", "fraud", key=fiona, check=2)
    assert_one_line_error(unknown)
    assert "no alert '00000000'" in unknown.stderr
    done = run(tmp_path, "fraud", "disposition", "fedcba98", "-o", "fraud", key=fiona)
    assert "alert fedcba98 → fraud by fiona" in done.stdout
