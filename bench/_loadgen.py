"""Load generator for bench/scoring.py, run as its own process so it does not share the
server's or the benchmark's CPU time: open loop at a fixed rate, or closed loop with N clients.

It speaks HTTP/1.1 over persistent asyncio connections itself (request bytes prepared in
advance, responses read by Content-Length): a general-purpose client such as httpx spends
about a millisecond of Python per request, and on a 2-core machine that time and its jitter
would be measured as the server's.

usage: _loadgen.py URL KEY RATE SECONDS CLIENTS BODIES.json   (RATE 0 = closed loop; KEY - = none)
"""

import asyncio
import json
import sys
import time
from urllib.parse import urlsplit

url, key, path = sys.argv[1], sys.argv[2], sys.argv[6]
rate, seconds, conc = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
with open(path) as fh:
    txns = json.load(fh)
target = urlsplit(url)
HOST, PORT, PATH = target.hostname, target.port or 80, target.path

requests = []
for t in txns:
    body = json.dumps(t).encode()
    auth = f"X-API-Key: {key}\r\n" if key != "-" else ""
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n{auth}"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    requests.append(head.encode() + body)

lat: list[float] = []
errors = 0


class Connection:
    """One keep-alive connection: send a request, read one response."""

    async def open(self) -> "Connection":
        self.reader, self.writer = await asyncio.open_connection(HOST, PORT)
        return self

    async def call(self, request: bytes) -> int:
        self.writer.write(request)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])


async def one(pool: asyncio.Queue, request: bytes, intended: float | None = None) -> None:
    """One request; latency counts from its intended send time (open loop), so time spent
    waiting for a free connection or a slow server is measured (no coordinated omission)."""
    global errors
    t0 = time.perf_counter() if intended is None else intended
    conn = await pool.get()
    status = await conn.call(request)
    lat.append(time.perf_counter() - t0)
    pool.put_nowait(conn)
    if status != 200:
        errors += 1


async def make_pool(size: int) -> asyncio.Queue:
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(size):
        pool.put_nowait(await Connection().open())
    return pool


async def open_loop() -> float:
    pool = await make_pool(32)
    tasks, start, i = [], time.perf_counter(), 0
    while (now := time.perf_counter()) - start < seconds:
        due = start + i / rate
        if now < due:
            await asyncio.sleep(due - now)
        tasks.append(asyncio.create_task(one(pool, requests[i % len(requests)], due)))
        i += 1
    await asyncio.gather(*tasks)
    return i / (time.perf_counter() - start)


async def closed_loop() -> float:
    pool = await make_pool(conc)
    start, n = time.perf_counter(), 0

    async def worker(w: int) -> None:
        nonlocal n
        j = w
        while time.perf_counter() - start < seconds:
            await one(pool, requests[j % len(requests)])
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
