"""Real-time fraud scoring: latency and throughput through HTTP, and in-process overhead.

In one run:
1. a small synthetic bank is generated and a fraud model trained and registered (or reuse
   ``--home`` from an earlier run);
2. in process, the scoring path (online features + calibrated score) and the full decision
   (plus exact contributions, reasons, ledger write) are timed against the raw LightGBM
   ``Booster.predict`` on one numpy row of the same model;
3. ``bankml serve`` starts as its own process on 127.0.0.1, and beside it the peer:
   ``mlflow models serve`` (from the MLflow virtualenv, ``make mlflow-venv``) on the same
   LightGBM booster saved as an MLflow model, sent each transaction's feature row;
4. an open-loop load generator (its own process; latency from each request's intended send
   time, so queueing behind a slow server is counted) drives each server at a fixed rate
   (default 100 requests/s), then a closed-loop run with concurrent clients finds its
   throughput; with ``--neighbour`` all of it again beside a process burning one core.

    python bench/scoring.py                              # defaults
    python bench/scoring.py --neighbour --seconds 10     # + a busy neighbour
    python bench/scoring.py --compare-inline             # + scoring on the event loop
    python bench/scoring.py --compare-threads 4          # + scoring in 4 worker threads
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

# Wide enough for the tables when the output goes to a log file.
console = Console(width=200 if not sys.stdout.isatty() else None)
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


def as_transaction(body: dict[str, object]) -> Any:
    """The typed transaction of one request body, built by the API's own face."""
    from bankml.api.fraud import TransactionIn

    return TransactionIn.model_validate(body).to_transaction()


def in_process(home: Path, n: int) -> list[list[str]]:
    """Median microseconds of raw predict, scoring path and full decision, and ratios."""
    from bankml.app import Services
    from bankml.core.settings import load_settings

    svc = Services(load_settings(home=home, env="test", secret_key=SECRET))

    scorer = svc.fraud.scorer()
    booster = scorer.serving.model.booster_
    txns = [as_transaction(t) for t in transactions(home, n)]
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
MLFLOW_PEER = Path(__file__).with_name("_mlflow_peer.py")
REPO = Path(__file__).resolve().parents[1]
MLFLOW_PYTHON = Path(
    os.environ.get("BANKML_BENCH_MLFLOW_PYTHON", REPO / ".venv-mlflow" / "bin" / "python")
)
# A busy neighbour: one process burning a core at 100% beside the server.
BURNER = "while True: pass"


def free_port() -> int:
    """A free loopback TCP port (other benches may run on this machine at the same time)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Target:
    """A running server under test: where to send what, and how to stop it."""

    name: str
    url: str  # the scoring endpoint
    key: str
    bodies: Path  # JSON list of request bodies
    proc: subprocess.Popen[bytes]
    log: Path
    access_log: bool = False  # bankml's JSON access log tells the time inside the app
    seen: int = 0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _wait_up(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)


def _warm(target: Target, n: int = 200) -> None:
    """First calls into pydantic, LightGBM, pandas and SQLite are slower: unmeasured."""
    bodies = json.loads(target.bodies.read_text())[-n:]
    with httpx.Client(timeout=60) as client:
        for b in bodies:
            r = client.post(target.url, json=b, headers={"X-API-Key": target.key})
            if r.status_code != 200:
                raise RuntimeError(f"{target.name} answered {r.status_code}: {r.text[:300]}")


def service_key(home: Path) -> str:
    """An API key of a service user (created on the first run)."""
    from bankml.app import Services
    from bankml.core.errors import ConflictError
    from bankml.core.identity import Role
    from bankml.core.settings import load_settings

    svc = Services(load_settings(home=home, env="test", secret_key=SECRET))
    with contextlib.suppress(ConflictError):  # the user exists from an earlier run
        svc.users.add("bench-switch", Role.SERVICE)
    key = svc.users.issue_key("bench-switch")
    svc.close()
    return key


def start_bankml(home: Path, key: str, threads: int | None) -> Target:
    """`bankml serve` (one process) with ``threads`` scoring threads (None: the default)."""
    port = free_port()
    name = "bankml" if threads is None else f"bankml, score_threads={threads}"
    log = home / f"bench_access_{port}.log"
    env = {**_env(home), "BANKML_LOG_LEVEL": "INFO"}
    if threads is not None:
        env["BANKML_SCORE_THREADS"] = str(threads)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bankml.cli", "serve", "--port", str(port), "--log-json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    target = Target(
        name, f"{url}/v1/fraud/score", key, home / "bench_txns.json", proc, log, access_log=True
    )
    try:
        _wait_up(f"{url}/v1/health", proc, log)
        _warm(target)
    except BaseException:
        target.stop()
        raise
    target.seen = len(_score_lines(log))
    return target


def mlflow_python() -> Path | None:
    """The MLflow virtualenv's python if it has mlflow and lightgbm, else None (said why)."""
    if not MLFLOW_PYTHON.exists():
        console.print(
            f"[yellow]peer skipped: {MLFLOW_PYTHON} is missing. `make mlflow-venv` creates "
            "the MLflow virtualenv (full mlflow + lightgbm), or point "
            "BANKML_BENCH_MLFLOW_PYTHON at a python that has both.[/yellow]"
        )
        return None
    probe = subprocess.run(
        [str(MLFLOW_PYTHON), "-c", "import mlflow, lightgbm"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
    )
    if probe.returncode != 0:
        console.print(
            f"[yellow]peer skipped: {MLFLOW_PYTHON} cannot import mlflow and lightgbm "
            f"({probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else '?'}); "
            "`make mlflow-venv` installs both.[/yellow]"
        )
        return None
    return MLFLOW_PYTHON


def peer_bodies(home: Path, txns: list[dict[str, object]]) -> tuple[Path, list[str]]:
    """The champion's booster as a file, and one /invocations body per transaction.

    MLflow has no online feature store, so the peer is sent each transaction's feature row,
    computed here by bankml's store (not stored): it does strictly less work per request than
    bankml (no features, no contributions, no reasons, no ledger write).
    """
    from bankml.app import Services
    from bankml.core.settings import load_settings

    svc = Services(load_settings(home=home, env="test", secret_key=SECRET))
    scorer = svc.fraud.scorer()
    booster = scorer.serving.model.booster_
    booster_file = home / "peer_booster.txt"
    booster.save_model(str(booster_file))
    names = list(scorer.serving.feature_names)
    bodies = []
    for t in txns:
        row = scorer.decide(as_transaction(t))["values"]
        data = [None if v != v else float(v) for v in row]  # NaN is not JSON
        bodies.append({"dataframe_split": {"columns": names, "data": [data]}})
    svc.close()
    path = home / "bench_peer_bodies.json"
    path.write_text(json.dumps(bodies))
    return booster_file, names


def start_mlflow(home: Path, python: Path, booster_file: Path, one_thread: bool) -> Target:
    """`mlflow models serve` (one uvicorn worker, local env) on the same booster.

    ``one_thread``: LightGBM on one OpenMP thread, as bankml runs it (its default threads
    give a one-row predict a long tail, FIELD_NOTES): the peer at its best on this machine.
    Otherwise as shipped.
    """
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("OMP_NUM_THREADS", None)
    if one_thread:
        env["OMP_NUM_THREADS"] = "1"
    env.pop("MLFLOW_TRACKING_URI", None)
    # It starts `uvicorn` by name: the virtualenv's own, not whatever else is on PATH.
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    model_dir = home / "peer_mlflow_model"
    if not model_dir.exists():
        subprocess.run(
            [str(python), str(MLFLOW_PEER), str(booster_file), str(model_dir)],
            check=True,
            env=env,
            capture_output=True,
        )
    port = free_port()
    log = home / f"bench_mlflow_{port}.log"
    proc = subprocess.Popen(
        [
            str(python),
            "-m",
            "mlflow",
            "models",
            "serve",
            "-m",
            str(model_dir),
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            "1",
        ],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    target = Target(
        "mlflow models serve, 1 thread" if one_thread else "mlflow models serve, as shipped",
        f"{url}/invocations",
        "",
        home / "bench_peer_bodies.json",
        proc,
        log,
    )
    try:
        _wait_up(f"{url}/ping", proc, log)
        _warm(target)
    except BaseException:
        target.stop()
        raise
    return target


@contextlib.contextmanager
def neighbour(enabled: bool, cpu: int | None) -> Iterator[None]:
    """A process burning one core at 100% while the block runs (pinned to ``cpu`` if given)."""
    if not enabled:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", BURNER])
    if cpu is not None:
        os.sched_setaffinity(proc.pid, {cpu})
    time.sleep(1.0)  # let the scheduler see it as a CPU hog before measuring
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) so far of process ``pid`` and its live descendants (every
    thread's children: `mlflow models serve` runs its server as a child), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:  # it ended meanwhile
            continue
    return total


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def drive(target: Target, rate: float, seconds: float, clients: int) -> dict[str, float]:
    """Run the load generator (its own process) against ``target``: its figures, with the CPU
    the server spent per request and the share of a core the load generator used (on two
    cores a client near 100% caps what any server can show in a closed loop)."""
    server0, client0, wall0 = tree_cpu_s(target.proc.pid), _children_cpu_s(), time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            str(LOADGEN),
            target.url,
            target.key or "-",
            str(rate),
            str(seconds),
            str(clients),
            str(target.bodies),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    m: dict[str, float] = json.loads(out.stdout)
    m["loadavg"] = os.getloadavg()[0]
    # Both include the load generator's start (imports, connections) and the last responses.
    m["server_cpu_ms_per_req"] = (tree_cpu_s(target.proc.pid) - server0) * 1000 / max(m["n"], 1)
    m["client_core_share"] = (_children_cpu_s() - client0) / (time.perf_counter() - wall0)
    return m


def inside_app(target: Target) -> list[float]:
    """Milliseconds inside the app of the scoring requests since the last call."""
    if not target.access_log:
        return []
    time.sleep(0.5)  # the access log is written by a background thread
    lines = _score_lines(target.log)
    new, target.seen = lines[target.seen :], len(lines)
    return sorted(new)


def over_http(
    home: Path, args: argparse.Namespace
) -> tuple[list[list[str]], list[dict[str, object]]]:
    """Start the servers, drive each open and closed loop, with and without a neighbour.

    Servers are measured back to back in each condition (bankml, then the peer), so their
    figures share the machine's load; the load average is recorded with each.
    """
    key = service_key(home)
    txns = transactions(home, 20_000)
    (home / "bench_txns.json").write_text(json.dumps(txns))
    targets: list[Target] = []
    try:
        targets.append(start_bankml(home, key, args.score_threads))
        if args.compare_inline:
            targets.append(start_bankml(home, key, 0))
        if args.compare_threads is not None:
            targets.append(start_bankml(home, key, args.compare_threads))
        python = None if args.no_peer else mlflow_python()
        if python is not None:
            booster_file, _ = peer_bodies(home, txns)
            targets.append(start_mlflow(home, python, booster_file, one_thread=True))
            if args.peer_as_shipped:
                targets.append(start_mlflow(home, python, booster_file, one_thread=False))
        rows: list[list[str]] = []
        results: list[dict[str, object]] = []
        conditions = [False, True] if args.neighbour else [False]
        for busy in conditions:
            with neighbour(busy, args.neighbour_cpu):
                for target in targets:
                    for load, rate, conc in (
                        (f"open loop {args.rate:.0f} req/s", args.rate, 1),
                        (f"closed loop, {args.clients} clients", 0.0, args.clients),
                    ):
                        m = drive(target, rate, args.seconds, conc)
                        q = inside_app(target)
                        results.append(
                            {"server": target.name, "neighbour": busy, "load": load, **m}
                        )
                        rows.append(
                            [
                                target.name,
                                "yes" if busy else "no",
                                load,
                                f"{int(m['n']):,}",
                                f"{m['rps']:,.0f}",
                                f"{m['p50']:.1f}",
                                f"{m['p95']:.1f}",
                                f"{m['p99']:.1f}",
                                str(int(m["errors"])),
                                f"{m['server_cpu_ms_per_req']:.2f}",
                                f"{m['client_core_share']:.0%}",
                                f"{m['loadavg']:.1f}",
                            ]
                        )
                        if q:
                            rows.append(
                                [
                                    "  of which inside the app",
                                    "",
                                    "",
                                    f"{len(q):,}",
                                    "",
                                    f"{q[len(q) // 2]:.1f}",
                                    f"{q[int(len(q) * 0.95)]:.1f}",
                                    f"{q[int(len(q) * 0.99)]:.1f}",
                                    "",
                                    "",
                                    "",
                                    "",
                                ]
                            )
        return rows, results
    finally:
        for target in targets:
            target.stop()


def _score_lines(access_log: Path) -> list[float]:
    """Milliseconds of every POST /v1/fraud/score the service logged so far."""
    out = []
    for line in access_log.read_text(errors="ignore").splitlines():
        if '"POST /v1/fraud/score 200' in line:
            out.append(float(json.loads(line)["msg"].rsplit(" ", 1)[1].removesuffix("ms")))
    return out


def verdict(results: list[dict[str, object]], rate: float) -> list[str]:
    """The targets of issue 15 item 4, checked against each peer measured in the same run."""

    def pick(server: str, busy: bool, closed: bool) -> dict[str, object] | None:
        for r in results:
            if (
                r["server"] == server
                and r["neighbour"] is busy
                and str(r["load"]).startswith("closed" if closed else "open")
            ):
                return r
        return None

    def f(r: dict[str, object], key: str) -> float:
        return float(r[key])  # type: ignore[arg-type]

    servers = list(dict.fromkeys(str(r["server"]) for r in results))
    ours = [s for s in servers if s.startswith("bankml")]
    peers = [s for s in servers if s.startswith("mlflow")]
    lines = []
    for busy in sorted({bool(r["neighbour"]) for r in results}):
        cond = "with a busy neighbour" if busy else "quiet (no neighbour)"
        for me in ours:
            mine, mine_c = pick(me, busy, False), pick(me, busy, True)
            if mine is not None:
                ok = "holds" if f(mine, "p99") < 10 else "does NOT hold"
                lines.append(
                    f"{cond}: {me}: p99 at {rate:.0f} req/s {f(mine, 'p99'):.1f} ms "
                    f"(load avg {f(mine, 'loadavg'):.1f}): < 10 ms {ok}"
                )
            for peer in peers:
                theirs, theirs_c = pick(peer, busy, False), pick(peer, busy, True)
                if mine is not None and theirs is not None:
                    lines.append(
                        f"{cond}: {me} vs {peer}, open loop: p50 "
                        f"{f(theirs, 'p50') / f(mine, 'p50'):.1f}x better, p99 "
                        f"{f(theirs, 'p99') / f(mine, 'p99'):.1f}x better"
                    )
                if mine_c is not None and theirs_c is not None:
                    ratio = f(mine_c, "rps") / f(theirs_c, "rps")
                    ok = "holds" if ratio >= 5 else "does NOT hold"
                    lines.append(
                        f"{cond}: {me} vs {peer}, closed loop: {f(mine_c, 'rps'):.0f} vs "
                        f"{f(theirs_c, 'rps'):.0f} req/s = {ratio:.1f}x: >= 5x {ok}"
                    )
                    cpu_ratio = f(theirs_c, "server_cpu_ms_per_req") / f(
                        mine_c, "server_cpu_ms_per_req"
                    )
                    lines.append(
                        f"{cond}: {me} vs {peer}, server CPU per request in the closed loop: "
                        f"{f(mine_c, 'server_cpu_ms_per_req'):.2f} vs "
                        f"{f(theirs_c, 'server_cpu_ms_per_req'):.2f} ms = {cpu_ratio:.1f}x "
                        f"(load generator at {f(mine_c, 'client_core_share'):.0%} / "
                        f"{f(theirs_c, 'client_core_share'):.0%} of a core)"
                    )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--home", type=Path, help="Reuse a prepared home (default: a temp dir).")
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--n", type=int, default=5000, help="In-process samples (0 skips).")
    ap.add_argument(
        "--neighbour",
        action="store_true",
        help="Measure again beside a process burning one core at 100%%.",
    )
    ap.add_argument("--neighbour-cpu", type=int, help="Pin the neighbour to this CPU.")
    ap.add_argument(
        "--score-threads", type=int, help="bankml's BANKML_SCORE_THREADS (default: its own)."
    )
    ap.add_argument(
        "--compare-inline",
        action="store_true",
        help="Also serve with score_threads=0 (scoring inline on the event loop).",
    )
    ap.add_argument(
        "--compare-threads",
        type=int,
        metavar="N",
        help="Also serve with score_threads=N (e.g. 4: scoring in worker threads).",
    )
    ap.add_argument("--no-peer", action="store_true", help="Skip `mlflow models serve`.")
    ap.add_argument(
        "--peer-as-shipped",
        action="store_true",
        help="Also serve the peer with LightGBM's default threads (it runs on one otherwise).",
    )
    ap.add_argument("--json-out", type=Path, help="Write the HTTP figures here as JSON.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        prepare(home)
        console.print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores, shared)")
        if args.n:
            t = Table(
                "in-process path", "median", "vs raw predict", title="fraud scoring in process"
            )
            for row in in_process(home, args.n):
                t.add_row(*row)
            console.print(t)
        t = Table(
            "server",
            "neighbour",
            "load",
            "requests",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "errors",
            "server CPU ms/req",
            "client CPU",
            "load avg",
            title="POST through HTTP, one server process each, same run (latency from each "
            "request's intended send time)",
        )
        rows, results = over_http(home, args)
        for row in rows:
            t.add_row(*row)
        console.print(t)
        for line in verdict(results, args.rate):
            console.print(line)
        if args.json_out:
            args.json_out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
