"""Benchmark the web console against the API it sits beside, in the same run.

    .venv/bin/python bench/web.py [--alerts 500] [--requests 200] [--sign-ins 20]

Figures printed (one uvicorn server, one client, sequential requests):
- the fraud queue as an HTML page (session cookie, Jinja2, one page of 25 rows) vs the same
  queue as JSON from ``GET /v1/fraud/queue`` (API key, every row): p50/p99 latency;
- sign-in cost: a password (argon2id verify, RFC 9106 low-memory profile) vs an API key
  (SHA-256 lookup): p50 per sign-in, which is what makes password guessing slow.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from bankml.api.app import create_app
from bankml.app import Services
from bankml.cli.serve import BackgroundServer as LiveServer
from bankml.core.identity import Role
from bankml.core.settings import load_settings

PASSWORD = "bench-password-123"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _alerts(n: int) -> list[dict[str, object]]:
    return [
        {
            "transaction_id": 1_000_000 + i,
            "day": "2026-03-07",
            "rank": i + 1,
            "score": 1.0 - i / (n + 1),
            "threshold": 0.3,
            "model_name": "fraud",
            "model_version": 1,
            "card_token": f"tok_card_{i:032x}",
            "amount": 10.0 + i,
            "reasons": ["amount is 5.6x the customer's 30-day average", "new terminal"],
        }
        for i in range(n)
    ]


def _ms(samples: list[float]) -> str:
    a = np.array(samples) * 1e3
    return f"p50 {np.percentile(a, 50):6.2f} ms   p99 {np.percentile(a, 99):6.2f} ms"


def _timed(client: httpx.Client, path: str, n: int, **kw: object) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path, **kw)  # type: ignore[arg-type]
        out.append(time.perf_counter() - t0)
        assert r.status_code == 200, r.status_code
    return out


def _sign_in(url: str, data: dict[str, str]) -> float:
    with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as c:
        token = _CSRF.search(c.get("/ui/login").text)
        assert token
        t0 = time.perf_counter()
        r = c.post("/ui/login", data={**data, "csrf": token.group(1)})
        took = time.perf_counter() - t0
        assert r.status_code == 303, r.text
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--alerts", type=int, default=500)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--sign-ins", type=int, default=20)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bankml-bench-web-") as tmp:
        svc = Services(load_settings(home=Path(tmp) / "home", env="test", secret_key="b" * 40))
        svc.users.add("fiona", Role.FRAUD_ANALYST)
        svc.users.set_password("fiona", PASSWORD)
        key = svc.users.issue_key("fiona")
        svc.fraud_queue.add_alerts(_alerts(args.alerts), actor="bench")
        with LiveServer(create_app(svc, poll_seconds=0)) as live:
            with httpx.Client(base_url=live.url, timeout=30) as api:
                _timed(api, "/v1/fraud/queue", 10, headers={"X-API-Key": key})
                json_times = _timed(
                    api, "/v1/fraud/queue", args.requests, headers={"X-API-Key": key}
                )
            with httpx.Client(base_url=live.url, timeout=30) as web:
                page = web.get("/ui/login")
                token = _CSRF.search(page.text)
                assert token
                web.post(
                    "/ui/login",
                    data={"csrf": token.group(1), "username": "fiona", "password": PASSWORD},
                )
                _timed(web, "/ui/fraud", 10)
                html_times = _timed(web, "/ui/fraud", args.requests)
            pw = [
                _sign_in(live.url, {"username": "fiona", "password": PASSWORD})
                for _ in range(args.sign_ins)
            ]
            keys = [_sign_in(live.url, {"api_key": key}) for _ in range(args.sign_ins)]
        svc.close()

    print(f"fraud queue with {args.alerts} open alerts, {args.requests} sequential requests")
    print(f"  HTML page  /ui/fraud (25 rows)      {_ms(html_times)}")
    print(f"  JSON API   /v1/fraud/queue (all)    {_ms(json_times)}")
    print(f"sign-in, {args.sign_ins} each")
    print(f"  password (argon2id verify)          {_ms(pw)}")
    print(f"  API key (SHA-256 lookup)            {_ms(keys)}")


if __name__ == "__main__":
    main()
