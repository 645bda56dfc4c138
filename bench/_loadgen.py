"""Load generator for bench/scoring.py, run as its own process so it does not share the
server's or the benchmark's CPU time: open loop at a fixed rate, or closed loop with N clients.

usage: _loadgen.py URL KEY RATE SECONDS CLIENTS TXNS.json   (RATE 0 = closed loop)
"""

import asyncio
import json
import sys
import time

import httpx

url, key, path = sys.argv[1], sys.argv[2], sys.argv[6]
rate, seconds, conc = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
with open(path) as fh:
    txns = json.load(fh)
lat, errors = [], 0


async def one(client, t):
    global errors
    t0 = time.perf_counter()
    r = await client.post(url, json=t, headers={"X-API-Key": key})
    lat.append(time.perf_counter() - t0)
    if r.status_code != 200:
        errors += 1


async def open_loop():
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=64)) as c:
        tasks, start, i = [], time.perf_counter(), 0
        while (now := time.perf_counter()) - start < seconds:
            due = start + i / rate
            if now < due:
                await asyncio.sleep(due - now)
            tasks.append(asyncio.create_task(one(c, txns[i % len(txns)])))
            i += 1
        await asyncio.gather(*tasks)
        return i / (time.perf_counter() - start)


async def closed_loop():
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=conc)) as c:
        start, n = time.perf_counter(), 0

        async def worker(w):
            nonlocal n
            j = w
            while time.perf_counter() - start < seconds:
                await one(c, txns[j % len(txns)])
                j += conc
                n += 1

        await asyncio.gather(*(worker(w) for w in range(conc)))
        return n / (time.perf_counter() - start)


achieved = asyncio.run(open_loop() if rate > 0 else closed_loop())
lat.sort()


def q(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3


print(
    json.dumps(
        {
            "n": len(lat),
            "rps": achieved,
            "p50": q(0.5),
            "p95": q(0.95),
            "p99": q(0.99),
            "errors": errors,
        }
    )
)
