"""Real-time fraud scoring: latency and throughput through HTTP, and in-process overhead.

In one run:
1. a small synthetic bank is generated and a fraud model trained and registered (or reuse
   ``--home`` from an earlier run);
2. ``bankml serve`` starts as its own process on 127.0.0.1;
3. an open-loop load generator (its own process) sends POST /v1/fraud/score at a fixed rate
   (default 100 requests/s) and reports p50/p95/p99 latency; then a closed-loop run with
   concurrent clients finds the maximum throughput;
4. in process, the scoring path (online features + calibrated score) and the full decision
   (plus exact contributions, reasons, ledger write) are timed against the raw LightGBM
   ``Booster.predict`` on one numpy row of the same model: the peer.

    python bench/scoring.py                 # defaults
    python bench/scoring.py --rate 200 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

console = Console()
SECRET = "bench-secret-key-bench-secret-key-0123456789"


def _env(home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "BANKML_HOME": str(home),
        "BANKML_ENV": "test",
        "BANKML_SECRET_KEY": SECRET,
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def prepare(home: Path) -> None:
    """Generate a bank and train + register a fraud model in ``home`` (skipped if present)."""
    from bankml.app import Services
    from bankml.core.identity import Role
    from bankml.core.settings import load_settings
    from bankml.data.generator import generate_bank
    from bankml.fraud.mapping import DEFAULT_MAPPING
    from bankml.fraud.service import train_and_register
    from bankml.fraud.training import TrainConfig

    if (home / "mlflow.db").exists():
        return
    console.print("preparing: generating a bank, training, validating, approving ...")
    generate_bank(home / "bank", customers=3000, days=80, seed=1)
    svc = Services(load_settings(home=home, env="test", secret_key=SECRET))
    dev = svc.users.add("bench-dev", Role.MODEL_DEVELOPER)
    checker = svc.users.add("bench-validator", Role.VALIDATOR)
    outcome = train_and_register(
        home / "bank" / "transactions.parquet",
        DEFAULT_MAPPING,
        TrainConfig(
            train_start=date(2026, 1, 31), train_days=30, delay_days=5, test_days=10, capacity=50
        ),
        registry=svc.registry,
        ledger=svc.ledger,
        actor="bench-dev",
        out_dir=home / "run",
    )
    assert outcome.version is not None
    version = outcome.version.version
    admin = svc.users.add("bench-admin", Role.ADMIN)
    svc.lifecycle.install_policy(
        "fraud", Path(__file__).parents[1] / "policies" / "fraud.toml", admin
    )
    svc.governance.submit("fraud", version, dev)
    report, _ = svc.lifecycle.validate("fraud", version, checker)
    if not report.passed:
        raise SystemExit(f"the bench model failed its gates: {report.failed}")
    svc.lifecycle.approve("fraud", version, checker, "bench")
    svc.governance.promote("fraud", version, dev, "bench")
    svc.close()


def transactions(home: Path, n: int) -> list[dict[str, object]]:
    """``n`` plausible new transactions after the end of the history."""
    hist = pd.read_parquet(home / "bank" / "transactions.parquet").tail(5000)
    rng = np.random.default_rng(0)
    start = hist["ts"].max()
    rows = hist.sample(n=n, replace=True, random_state=1)
    return [
        {
            "transaction_id": 10_000_000_000 + i,
            "timestamp": (start + pd.Timedelta(milliseconds=10 * (i + 1))).isoformat(),
            "customer_id": int(r.customer_id),
            "terminal_id": int(r.terminal_id),
            "card_id": int(r.card_id),
            "amount": float(round(rng.lognormal(3.5, 1.0), 2)),
            "country": str(r.country),
        }
        for i, r in enumerate(rows.itertuples())
    ]


def in_process(home: Path, n: int) -> list[list[str]]:
    """Median microseconds of raw predict, scoring path and full decision, and ratios."""
    from bankml.app import Services
    from bankml.core.settings import load_settings

    svc = Services(load_settings(home=home, env="test", secret_key=SECRET))
    from bankml.fraud.transaction import Transaction

    scorer = svc.fraud.scorer()
    booster = scorer.serving.model.booster_
    txns = [
        Transaction.create(
            transaction_id=t["transaction_id"],
            timestamp=t["timestamp"],
            customer=t["customer_id"],
            terminal=t["terminal_id"],
            amount=t["amount"],
            card=t["card_id"],
            country=t["country"],
        )
        for t in transactions(home, n)
    ]
    rows = [scorer.decide(t)["values"] for t in txns[:200]]

    def timed(fn, items) -> float:  # type: ignore[no-untyped-def]
        samples = []
        for it in items:
            t0 = time.perf_counter_ns()
            fn(it)
            samples.append(time.perf_counter_ns() - t0)
        return statistics.median(samples) / 1e3

    raw = timed(lambda r: booster.predict(r.reshape(1, -1), num_threads=1), rows * (n // 200))
    path = timed(scorer.decide, txns)
    features = timed(scorer._store.features, txns)
    full = timed(lambda t: scorer.score(t, actor="bench"), txns[: min(n, 500)])
    svc.close()
    return [
        ["raw LightGBM Booster.predict, 1 row (peer)", f"{raw:,.0f} µs", "1.0x"],
        ["online features only", f"{features:,.0f} µs", f"{features / raw:.1f}x"],
        ["scoring path: features + calibrated score", f"{path:,.0f} µs", f"{path / raw:.1f}x"],
        [
            "full decision: + contributions, reasons, ledger write",
            f"{full:,.0f} µs",
            f"{full / raw:.1f}x",
        ],
    ]


LOADGEN = Path(__file__).with_name("_loadgen.py")


def over_http(home: Path, rate: float, seconds: float, clients: int) -> list[list[str]]:
    """Start `bankml serve` and drive it with the load generator in another process."""
    from bankml.app import Services
    from bankml.core.errors import ConflictError
    from bankml.core.identity import Role
    from bankml.core.settings import load_settings

    svc = Services(load_settings(home=home, env="test", secret_key=SECRET))
    with contextlib.suppress(ConflictError):  # the user exists from an earlier run
        svc.users.add("bench-switch", Role.SERVICE)
    key = svc.users.issue_key("bench-switch")
    svc.close()
    txn_file = home / "bench_txns.json"
    txn_file.write_text(json.dumps(transactions(home, 20_000)))
    port = 8765
    # The service's own access log (JSON, written off the request path) gives the time spent
    # inside the app, to tell it apart from loopback and load-generator overhead.
    access_log = home / "bench_access.log"
    log_file = access_log.open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "bankml.cli", "serve", "--port", str(port), "--log-json"],
        env={**_env(home), "BANKML_LOG_LEVEL": "INFO"},
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        # Warm up (first calls into pydantic, LightGBM and SQLite are slower), unmeasured.
        warm = json.loads(txn_file.read_text())[-200:]
        with httpx.Client(timeout=30) as client:
            for t in warm:
                client.post(f"{url}/v1/fraud/score", json=t, headers={"X-API-Key": key})
        rows = []
        time.sleep(0.5)
        seen = _score_lines(access_log)
        for label, r, conc in (
            (f"open loop, {rate:.0f} req/s", rate, 1),
            (f"closed loop, {clients} clients", 0.0, clients),
        ):
            out = subprocess.run(
                [
                    sys.executable,
                    str(LOADGEN),
                    f"{url}/v1/fraud/score",
                    key,
                    str(r),
                    str(seconds),
                    str(conc),
                    str(txn_file),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            m = json.loads(out.stdout)
            rows.append(
                [
                    label,
                    f"{m['n']:,}",
                    f"{m['rps']:,.0f}",
                    f"{m['p50']:.1f}",
                    f"{m['p95']:.1f}",
                    f"{m['p99']:.1f}",
                    str(m["errors"]),
                ]
            )
            time.sleep(0.5)
            inside = _score_lines(access_log)[len(seen) :]
            seen += inside
            q = sorted(inside)
            if q:
                rows.append(
                    [
                        "  of which inside the app (access log)",
                        f"{len(q):,}",
                        "",
                        f"{q[len(q) // 2]:.1f}",
                        f"{q[int(len(q) * 0.95)]:.1f}",
                        f"{q[int(len(q) * 0.99)]:.1f}",
                        "",
                    ]
                )
        return rows
    finally:
        server.terminate()
        server.wait(timeout=30)
        log_file.close()


def _score_lines(access_log: Path) -> list[float]:
    """Milliseconds of every POST /v1/fraud/score the service logged so far."""
    out = []
    for line in access_log.read_text(errors="ignore").splitlines():
        if '"POST /v1/fraud/score 200' in line:
            out.append(float(json.loads(line)["msg"].rsplit(" ", 1)[1].removesuffix("ms")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--home", type=Path, help="Reuse a prepared home (default: a temp dir).")
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--n", type=int, default=5000, help="In-process samples.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        prepare(home)
        t = Table("in-process path", "median", "vs raw predict", title="fraud scoring in process")
        for row in in_process(home, args.n):
            t.add_row(*row)
        console.print(t)
        t = Table(
            "load",
            "requests",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "errors",
            title="POST /v1/fraud/score through HTTP (uvicorn, 1 process)",
        )
        for row in over_http(home, args.rate, args.seconds, args.clients):
            t.add_row(*row)
        console.print(t)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
