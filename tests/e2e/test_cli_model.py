"""`bankml model` as people use it: the CLI in real processes, and the same actions over HTTP.

Two tiny versions of a model named ``toy`` are registered straight into the home's MLflow
store (the registry only needs a folder of files), so the lifecycle runs in seconds; the
CLI adopts them into bankml's inventory on first sight, trainer read from the MLflow tag.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bankml.api.app import create_app
from bankml.app import Services
from bankml.core.clock import utc_iso
from bankml.core.identity import Role
from bankml.core.settings import load_settings
from bankml.governance.gates import GateResult, ValidationReport, ValidationStore
from tests.conftest import TEST_SECRET
from tests.e2e.test_cli import assert_one_line_error, run
from tests.support import LiveServer

NAME = "toy"


class Home:
    """A BANKML_HOME with two registered versions and a user in each role."""

    def __init__(self, root: Path) -> None:
        self.path = root / "home"
        # The toy model's official gate policy; approvals count only validations against it.
        self.policy_dir = root / "policies"
        self.policy_dir.mkdir()
        policy = self.policy_dir / f"{NAME}.toml"
        policy.write_text('[model]\nname = "toy"\n[floors]\nroc_auc = 0.8\n')
        self.policy_sha256 = hashlib.sha256(policy.read_bytes()).hexdigest()
        self.svc = Services(
            load_settings(
                home=self.path, env="test", secret_key=TEST_SECRET, policy_dir=self.policy_dir
            )
        )
        for n, trainer in ((1, "tom"), (2, "maria")):
            model_dir = root / f"model{n}"
            model_dir.mkdir()
            (model_dir / "model.txt").write_text(f"tiny model {n}\n")
            self.svc.registry.register(
                NAME,
                model_dir,
                params={"learning_rate": 0.05 * n},
                metrics={"roc_auc": 0.90 + n / 100, "average_precision": 0.5},
                tags={
                    "trained_by": trainer,
                    "data_sha256": "d" * 64,
                    "feature_definitions_sha256": "f" * 64,
                    "code_version": "abc123",
                    "library_versions": json.dumps({"lightgbm": "4.6.0"}),
                },
            )
            # As training does: the version enters bankml's inventory when it is registered,
            # so every test sees both versions whichever ran first.
            self.svc.governance.register(NAME, n, trainer)
        people = [
            ("tom", Role.VALIDATOR),  # trained v1 himself, so may not approve it
            ("maria", Role.MODEL_DEVELOPER),
            ("vera", Role.VALIDATOR),
            ("fiona", Role.FRAUD_ANALYST),
            ("olga", Role.ADMIN),
        ]
        for name, role in people:
            self.svc.users.add(name, role)
        # An admin pins the official policy; approvals count only validations against it.
        self.svc.lifecycle.pins.install(NAME, policy, self.svc.users.get("olga"))
        self.keys = {n: self.svc.users.issue_key(n) for n, _ in people}

    def store_passing_validation(self, version: int) -> None:
        """Evidence as `bankml model validate` would store it (gates are tested elsewhere)."""
        ValidationStore(self.svc.db).save(
            ValidationReport(
                model_name=NAME,
                version=version,
                results=(GateResult("floor.roc_auc", True, 0.91, 0.8, "0.91 >= 0.8"),),
                passed=True,
                evidence={"metrics": {"roc_auc": 0.91}},
                ran_at=utc_iso(self.svc.clock.now()),
                ran_by="vera",
                policy_sha256=self.policy_sha256,
            )
        )

    def ensure_v1_is_champion(self) -> None:
        """Bring v1 to champion in-process when an earlier test has not (tests run alone)."""
        gov = self.svc.governance
        if gov.state(NAME, 1).value == "champion":
            return
        gov.submit(NAME, 1, self.svc.users.get("maria"))
        self.store_passing_validation(1)
        gov.record_validation(NAME, 1, True, "vera")
        gov.approve(NAME, 1, self.svc.users.get("vera"), "gates pass")
        gov.promote(NAME, 1, self.svc.users.get("maria"))

    def model(
        self,
        *args: str,
        check: int | None = 0,
        key: str | None = None,
        env: dict[str, str] | None = None,
    ) -> str:
        return run(self.path, "model", *args, check=check, key=key, env=env).stdout


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    # ModelRegistry sets MLFLOW_TRACKING_URI in os.environ on first use, and settings read
    # it: start without it (so this home's store is used) and restore it afterwards.
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        h = Home(tmp_path_factory.mktemp("model-cli"))
        mp.setenv("BANKML_POLICY_DIR", str(h.policy_dir))
        yield h
        h.svc.close()


@pytest.fixture(scope="module")
def without_mlflow(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment in which `import mlflow` ends the process (exit 3): a lifecycle step must
    not load it. Not an ImportError, which a caller could catch and carry on."""
    blocker = tmp_path_factory.mktemp("no-mlflow")
    (blocker / "mlflow").mkdir()
    (blocker / "mlflow" / "__init__.py").write_text(
        "import os, sys\nsys.stderr.write('mlflow imported on a lifecycle step\\n')\nos._exit(3)\n"
    )
    path = [str(blocker), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(path)}


def test_list_and_show_print_the_inventory_and_lineage(home: Home) -> None:
    rows = json.loads(home.model("list", NAME, "--json"))
    assert [(r["version"], r["state"], r["trained_by"]) for r in rows] == [
        (1, "registered", "tom"),
        (2, "registered", "maria"),
    ]
    assert rows[1]["metrics"]["roc_auc"] == pytest.approx(0.92)
    shown = json.loads(home.model("show", NAME, "1", "--json"))
    assert shown["lineage"]["data_sha256"] == "d" * 64
    assert shown["lineage"]["feature_definitions_sha256"] == "f" * 64
    assert shown["lineage"]["code_version"] == "abc123"
    assert shown["lineage"]["library_versions"] == {"lightgbm": "4.6.0"}
    assert len(shown["lineage"]["artifact_sha256"]) == 64
    assert shown["params"] == {"learning_rate": "0.05"}
    assert [t["to_state"] for t in shown["transitions"]] == ["registered"]


def test_list_enters_versions_an_older_release_registered_only_in_mlflow(
    home: Home, tmp_path: Path
) -> None:
    model_dir = tmp_path / "legacy"
    model_dir.mkdir()
    (model_dir / "model.txt").write_text("registered before bankml kept an inventory\n")
    home.svc.registry.register(
        "legacy", model_dir, params={}, metrics={"roc_auc": 0.88}, tags={"trained_by": "tom"}
    )
    assert home.svc.governance.inventory("legacy") == []
    rows = json.loads(home.model("list", "legacy", "--json"))
    assert [(r["version"], r["state"], r["trained_by"]) for r in rows] == [(1, "registered", "tom")]
    assert rows[0]["metrics"]["roc_auc"] == pytest.approx(0.88)
    assert [r.version for r in home.svc.governance.inventory("legacy")] == [1]


def test_cli_lifecycle_refuses_the_maker_and_promotes_after_a_checker(
    home: Home, without_mlflow: dict[str, str]
) -> None:
    # MLflow costs each command that touches it ~3 s to import, so steps that only set the
    # stage run in-process and the CLI runs the steps under test.
    home.svc.governance.submit(NAME, 1, home.svc.users.get("maria"))
    by_trainer = ("approve", NAME, "1", "--user", "tom", "--rationale", "mine")
    proc = run(home.path, "model", *by_trainer, check=2, key=home.keys["tom"])
    assert_one_line_error(proc)
    assert "tom trained toy v1; a different validator must approve it" in proc.stderr
    proc = run(
        home.path,
        "model",
        "approve",
        NAME,
        "1",
        "--user",
        "vera",
        "-r",
        "ok",
        check=2,
        key=home.keys["vera"],
    )
    assert_one_line_error(proc)
    assert "toy v1 is submitted; only a validated version can be approved" in proc.stderr
    home.store_passing_validation(1)
    home.svc.governance.record_validation(NAME, 1, True, "vera")
    proc = run(
        home.path, "model", "approve", NAME, "1", "--user", "vera", check=2, key=home.keys["vera"]
    )
    assert_one_line_error(proc)
    assert "a rationale is required to approve toy v1" in proc.stderr
    out = home.model(
        "approve",
        NAME,
        "1",
        "--user",
        "vera",
        "--rationale",
        "gates pass",
        key=home.keys["vera"],
        env=without_mlflow,
    )
    assert "validated → approved by vera" in out
    proc = run(
        home.path, "model", "promote", NAME, "1", "--user", "fiona", check=2, key=home.keys["fiona"]
    )
    assert_one_line_error(proc)
    assert "user fiona is fraud_analyst; needs admin or model_developer" in proc.stderr
    promoted = json.loads(
        home.model("promote", NAME, "1", "--json", key=home.keys["maria"], env=without_mlflow)
    )
    assert promoted["to_state"] == "champion"
    # The step did not wait for MLflow: its mirror lags until a sync (or a command that
    # loads MLflow anyway) brings it up to the database.
    assert home.svc.registry.get(NAME, 1).aliases == ()
    assert home.svc.registry.get(NAME, 1).tags["bankml.state"] == "validated"  # in-process
    synced = json.loads(home.model("sync", "--json", key=home.keys["fiona"]))
    assert synced == {"mirrored_versions": {NAME: 1}}
    v1 = home.svc.registry.get(NAME, 1)
    assert v1.aliases == ("champion",)
    assert v1.tags["bankml.state"] == home.svc.governance.state(NAME, 1).value == "champion"
    assert v1.tags["bankml.approved_by"] == "vera" and v1.tags["bankml.promoted_by"] == "maria"
    again = json.loads(home.model("sync", "--json", key=home.keys["fiona"]))
    assert again == {"mirrored_versions": {}}
    listing = home.model("list", NAME)
    assert "v1 ★" in listing and "champion" in listing and "maria" in listing
    shown = home.model("show", NAME, "1")
    assert "feature_definitions_sha256" in shown and "gates pass" in shown
    proc = run(
        home.path,
        "model",
        "rollback",
        NAME,
        "--user",
        "olga",
        "--rationale",
        "x",
        check=2,
        key=home.keys["olga"],
    )
    assert_one_line_error(proc)
    assert "toy has no previous champion" in proc.stderr


def test_validate_checks_role_and_state_before_running_any_gate(home: Home) -> None:
    proc = run(
        home.path,
        "model",
        "validate",
        NAME,
        "2",
        "--user",
        "fiona",
        check=2,
        key=home.keys["fiona"],
    )
    assert_one_line_error(proc)
    assert "user fiona is fraud_analyst; needs validator" in proc.stderr
    # Independent validation: the model's developers do not run the gates that count.
    proc = run(
        home.path,
        "model",
        "validate",
        NAME,
        "2",
        "--user",
        "maria",
        check=2,
        key=home.keys["maria"],
    )
    assert "user maria is model_developer; needs validator" in proc.stderr
    home.svc.governance.state(NAME, 2)  # known to bankml, still registered
    proc = run(
        home.path, "model", "validate", NAME, "2", "--user", "vera", check=2, key=home.keys["vera"]
    )
    assert_one_line_error(proc)
    assert "only a submitted or validated version can be validated" in proc.stderr


def test_api_lets_a_validator_approve_and_refuses_other_roles(home: Home) -> None:
    home.ensure_v1_is_champion()
    home.svc.governance.submit(NAME, 2, home.svc.users.get("maria"))
    home.store_passing_validation(2)
    home.svc.governance.record_validation(NAME, 2, True, "vera")
    with LiveServer(create_app(home.svc)) as live:
        url = f"{live.url}/v1/models/{NAME}"

        def post(path: str, who: str, body: dict[str, str] | None = None) -> httpx.Response:
            return httpx.post(f"{url}{path}", json=body, headers={"X-API-Key": home.keys[who]})

        denied = post("/versions/2/approve", "fiona", {"rationale": "looks fine"})
        assert denied.status_code == 403
        assert denied.headers["content-type"] == "application/problem+json"
        assert "needs validator" in denied.json()["detail"]
        missing = post("/versions/2/approve", "vera", {"rationale": " "})
        assert missing.status_code == 422
        assert "rationale is required" in missing.json()["detail"]
        ok = post("/versions/2/approve", "vera", {"rationale": "evidence is sufficient"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["to_state"] == "approved" and ok.json()["actor"] == "vera"
        again = post("/versions/2/approve", "vera", {"rationale": "twice"})
        assert again.status_code == 409
        promoted = post("/versions/2/promote", "maria")
        assert promoted.status_code == 200, promoted.text
        rolled = post("/rollback", "maria", {"rationale": "v2 misbehaves in production"})
        assert rolled.status_code == 200 and rolled.json()["version"] == 1
        versions = httpx.get(f"{url}/versions", headers={"X-API-Key": home.keys["vera"]})
        assert [(v["version"], v["state"], v["champion"]) for v in versions.json()] == [
            (1, "champion", True),
            (2, "retired", False),
        ]
        detail = httpx.get(f"{url}/versions/2", headers={"X-API-Key": home.keys["vera"]})
        assert detail.status_code == 200
        assert detail.json()["latest_validation"]["passed"] is True
        assert [t["to_state"] for t in detail.json()["transitions"]][-1] == "retired"
        nope = httpx.get(f"{url}/versions/7", headers={"X-API-Key": home.keys["vera"]})
        assert nope.status_code == 404 and "bankml model list" in nope.json()["detail"]
        assert httpx.get(f"{url}/versions", headers={"X-API-Key": home.keys["fiona"]}).is_error
    assert home.svc.ledger.verify().ok
