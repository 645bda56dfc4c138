"""Credit decisions: latency of decision + reasons + recourse, in process and over HTTP.

In one run, on one model:
1. a synthetic bank is generated and a credit model trained, validated, approved by a second
   user and promoted (or reuse ``--home`` from an earlier run);
2. in process, per application (one at a time, as served), with p50/p99:
   * the peer floor: raw LightGBM ``Booster.predict`` on one numpy row;
   * exact contributions: ``Booster.predict(pred_contrib=True)`` (what reasons are built on);
   * the peer explainer: shap's ``TreeExplainer.shap_values`` on the same booster (if shap is
     installed: it is in the ``bench`` extra, never a test dependency);
   * bankml's PD; decision + reasons; decision + reasons + recourse (declines only, the
     search's cost); the full ``CreditService.decide`` (plus the ledger write);
3. over HTTP: ``bankml serve`` in its own process, POST /v1/credit/decisions sequentially
   from one client; p50/p99 of the round trip.

    python bench/credit.py
    python bench/credit.py --applications 2000 --home /tmp/credit-bench
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from scoring import SECRET, _env  # the same bench home environment as the fraud bench

console = Console()


def prepare(home: Path) -> None:
    """Generate a bank; train, validate, approve (second user) and promote a credit model."""
    from bankml.app import Services
    from bankml.core.identity import Role
    from bankml.core.settings import load_settings
    from bankml.credit.config import default_config
    from bankml.credit.service import train_and_register
    from bankml.credit.training import GENERATED_MAPPING, read_generated
    from bankml.data.generator import generate_bank

    if (home / "mlflow.db").exists():
        return
    console.print("preparing: generating a bank, training, validating, approving ...")
    generate_bank(home / "bank", customers=4000, days=1, seed=1, applications=10_000)
    svc = Services(
        load_settings(home=home, env="test", secret_key=SECRET, policy_dir=Path("policies"))
    )
    dev = svc.users.add("bench-dev", Role.MODEL_DEVELOPER)
    checker = svc.users.add("bench-validator", Role.VALIDATOR)
    admin = svc.users.add("bench-admin", Role.ADMIN)
    svc.users.add("bench-switch", Role.SERVICE)
    outcome = train_and_register(
        read_generated(home / "bank"),
        GENERATED_MAPPING,
        default_config(),
        registry=svc.registry,
        ledger=svc.ledger,
        actor=dev.name,
        out_dir=home / "run",
    )
    assert outcome.version is not None
    v = outcome.version.version
    svc.lifecycle.install_policy("credit", Path("policies") / "credit.toml", admin)
    svc.governance.submit("credit", v, dev)
    report, _ = svc.lifecycle.validate("credit", v, checker)
    if not report.passed:
        raise SystemExit(f"the bench model failed its gates: {report.failed}")
    svc.lifecycle.approve("credit", v, checker, "bench")
    svc.governance.promote("credit", v, admin, "bench")
    svc.close()


def _pct(samples: list[float]) -> tuple[float, float, float]:
    a = np.asarray(samples) * 1e3
    return float(np.percentile(a, 50)), float(np.percentile(a, 99)), float(a.mean())


def _time(fn: Callable[[Any], Any], items: list[Any]) -> list[float]:
    for it in items[:20]:  # warm up, unmeasured
        fn(it)
    out = []
    for it in items:
        t0 = time.perf_counter()
        fn(it)
        out.append(time.perf_counter() - t0)
    return out


def in_process(home: Path, n: int) -> list[tuple[str, list[float], str]]:
    """Per-application timings of each path, on the same model and the same applications."""
    from bankml.app import Services
    from bankml.core.settings import load_settings
    from bankml.credit.service import applications_from_frame
    from bankml.credit.training import read_generated

    svc = Services(load_settings(home=home, env="test", secret_key=SECRET))
    credit = svc.credit
    version = credit.served
    frame, _ = read_generated(home / "bank")
    apps = applications_from_frame(frame.tail(n), version.feature_names)
    values = [version.check_values(a.values) for a in apps]
    rows = [version.encode(v).reshape(1, -1) for v in values]
    booster = version.model.booster_
    outs = [version.evaluate(v, min_age_met=True, with_recourse=False) for v in values]
    declined = [v for v, o in zip(values, outs, strict=True) if o["decision"] == "decline"]
    user = svc.users.get("bench-switch")
    results: list[tuple[str, list[float], str]] = [
        (
            "peer: Booster.predict (raw margin)",
            _time(lambda r: booster.predict(r, raw_score=True, num_threads=1), rows),
            f"{n} applications",
        ),
        (
            "exact contributions (pred_contrib)",
            _time(lambda r: booster.predict(r, pred_contrib=True, num_threads=1), rows),
            f"{n} applications",
        ),
    ]
    try:
        import warnings

        import shap

        # shap warns that LightGBM binary output "changed to a list"; the values compared
        # below are the log-odds contributions either way.
        warnings.filterwarnings("ignore", message=".*TreeExplainer shap values output.*")
        explainer = shap.TreeExplainer(booster)
        shap_vals = explainer.shap_values(rows[0])
        if isinstance(shap_vals, list):
            shap_vals = shap_vals[-1]
        contrib = booster.predict(rows[0], pred_contrib=True, num_threads=1)
        agree = float(np.max(np.abs(np.ravel(shap_vals) - contrib[0, :-1])))
        results.append(
            (
                "peer: shap TreeExplainer.shap_values",
                _time(lambda r: explainer.shap_values(r), rows),
                f"max |shap - pred_contrib| {agree:.2e}",
            )
        )
    except ImportError:
        console.print("[yellow]shap is not installed: pip install -e '.[bench]'[/]")
    results += [
        ("bankml PD (calibrated)", _time(lambda r: version.model.pd_row(r[0]), rows), ""),
        (
            "decision + reasons",
            _time(lambda v: version.evaluate(v, min_age_met=True, with_recourse=False), values),
            f"{n} applications",
        ),
        (
            "decision + reasons + recourse",
            _time(lambda v: version.evaluate(v, min_age_met=True), declined),
            f"{len(declined)} declines",
        ),
        (
            "CreditService.decide (+ ledger write)",
            _time(lambda a: credit.decide(a, user), apps),
            f"{n} applications",
        ),
    ]
    svc.close()
    return results


def over_http(home: Path, n: int) -> list[float]:
    """Sequential POST /v1/credit/decisions round trips against `bankml serve`."""
    from bankml.app import Services
    from bankml.core.settings import load_settings
    from bankml.credit.service import applications_from_frame
    from bankml.credit.training import read_generated

    svc = Services(load_settings(home=home, env="test", secret_key=SECRET))
    key = svc.users.issue_key("bench-switch")
    names = svc.credit.served.feature_names
    svc.close()
    frame, _ = read_generated(home / "bank")
    bodies = [
        {
            "application_id": a.application_id,
            "customer_id": a.customer_id,
            "applicant_age": a.applicant_age,
            "features": dict(a.values),
        }
        for a in applications_from_frame(frame.tail(n), names)
    ]
    port = 8766
    server = subprocess.Popen(
        [sys.executable, "-m", "bankml.cli", "serve", "--port", str(port)],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        with httpx.Client(base_url=url, timeout=30, headers={"X-API-Key": key}) as c:

            def post(body: dict[str, Any]) -> None:
                r = c.post("/v1/credit/decisions", json=body)
                r.raise_for_status()

            return _time(post, bodies)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None, help="Reuse a prepared home.")
    parser.add_argument("--applications", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bankml-credit-bench-") as tmp:
        home = args.home or Path(tmp)
        prepare(home)
        rows = in_process(home, args.applications)
        http = over_http(home, args.applications)
    table = Table("path (one application)", "p50 ms", "p99 ms", "mean ms", "note",
                  title="credit decisions: in process and over HTTP")  # fmt: skip
    for label, samples, note in rows:
        p50, p99, mean = _pct(samples)
        table.add_row(label, f"{p50:.3f}", f"{p99:.3f}", f"{mean:.3f}", note)
    p50, p99, mean = _pct(http)
    table.add_row(
        "HTTP POST /v1/credit/decisions", f"{p50:.3f}", f"{p99:.3f}", f"{mean:.3f}",
        f"{len(http)} sequential requests, round trip",
    )  # fmt: skip
    console.print(table)
    console.print(f"median of the full decision: {statistics.median(rows[-1][1]) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
