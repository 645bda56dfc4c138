"""Stateless replicas: `bankml serve --workers 4` against `--workers 1`, same run.

Both serve from one PostgreSQL database (a fresh schema) and the shared Redis online
feature store (BANKML_ONLINE_STORE=redis), so every worker sees one feature state and one
ledger. In one run:
1. a bank is generated and a fraud model trained, validated, approved and promoted on the
   PostgreSQL schema (as bench/scoring.py does, on PostgreSQL);
2. for 1 and then 4 workers: `bankml serve --workers N` starts, the load generator
   (bench/_loadgen.py, its own process) drives it open loop at ``--rate`` (latency from each
   request's intended send time) and closed loop with ``--clients`` connections.

    python bench/replicas.py                       # defaults: 100 req/s, 8 clients, 10 s
    python bench/replicas.py --workers 1 4 --seconds 20
    python bench/replicas.py --home H --schema S   # reuse a prepared home and schema (kept)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from scoring import LOADGEN, _env, prepare, service_key, transactions

console = Console(width=200 if not sys.stdout.isatty() else None)
PG_URL = os.environ.get("BANKML_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BANKML_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.3)


def run_workers(home: Path, workers: int, rate: float, seconds: float, clients: int, key: str):  # type: ignore[no-untyped-def]
    """Serve with ``workers`` processes; the open- and closed-loop figures."""
    port = 8790 + workers
    url = f"http://127.0.0.1:{port}"
    log = (home / f"serve-{workers}.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bankml.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-text",
        ],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        _wait_up(url, server)
        txn_file = home / "bench_txns.json"
        warm = json.loads(txn_file.read_text())[-50 * workers :]
        with httpx.Client(timeout=60) as client:
            for t in warm:  # every worker loads and warms its model: unmeasured
                client.post(f"{url}/v1/fraud/score", json=t, headers={"X-API-Key": key})
        out = []
        for r, conc in ((rate, 1), (0.0, clients)):
            res = subprocess.run(
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
            m = json.loads(res.stdout)
            m["loadavg"] = os.getloadavg()[0]
            out.append(m)
            time.sleep(0.5)
        return out
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--home", type=Path, help="Reuse (or prepare and keep) this home.")
    ap.add_argument(
        "--schema", help="Reuse (or create and keep) this PostgreSQL schema; with --home."
    )
    args = ap.parse_args()
    if (args.home is None) != (args.schema is None):
        raise SystemExit("--home and --schema go together (the home's model is in the schema)")
    import redis
    from sqlalchemy import create_engine, text

    keep = args.schema is not None
    schema = args.schema or f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    r = redis.Redis.from_url(REDIS_URL)
    before = set(r.scan_iter(match="bankml:online:*:ready"))
    os.environ.update(
        {
            "BANKML_DATABASE_URL": f"{PG_URL}?options=-csearch_path%3D{schema}",
            "BANKML_ONLINE_STORE": "redis",
            "BANKML_REDIS_URL": REDIS_URL,
        }
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = args.home or Path(tmp)
            prepare(home)
            key = service_key(home)
            (home / "bench_txns.json").write_text(json.dumps(transactions(home, 20_000)))
            console.print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores, shared)")
            t = Table(
                "workers",
                "load",
                "requests",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "errors",
                "load avg",
                title="POST /v1/fraud/score, PostgreSQL + Redis online store (same run)",
            )
            closed_rps: dict[int, float] = {}
            for n in args.workers:
                open_loop, closed = run_workers(home, n, args.rate, args.seconds, args.clients, key)
                closed_rps[n] = float(closed["rps"])
                for label, m in (
                    (f"open loop {args.rate:.0f} req/s", open_loop),
                    (f"closed loop, {args.clients} clients", closed),
                ):
                    t.add_row(
                        str(n),
                        label,
                        f"{m['n']:,}",
                        f"{m['rps']:,.0f}",
                        f"{m['p50']:.1f}",
                        f"{m['p95']:.1f}",
                        f"{m['p99']:.1f}",
                        str(m["errors"]),
                        f"{m['loadavg']:.1f}",
                    )
            console.print(t)
            base = args.workers[0]
            for n in args.workers[1:]:
                console.print(
                    f"closed-loop throughput, {n} workers vs {base}: "
                    f"{closed_rps[n] / closed_rps[base]:.1f}x"
                )
    finally:
        for ready in set(r.scan_iter(match="bankml:online:*:ready")) - before:
            prefix = ready.decode().removesuffix(":ready")
            keys = list(r.scan_iter(match=f"{prefix}:*", count=1000))
            for i in range(0, len(keys), 1000):
                r.delete(*keys[i : i + 1000])
        if not keep:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
