"""Fraud features over millions of transactions: bankml's DuckDB engines vs plain pandas.

Three implementations, each in its own child process, so its seconds and peak memory
(``ru_maxrss`` of that child, and the part above the child's baseline after imports) are
its own:

* ``engine``: :func:`bankml.data.features.compute_features`, the in-memory engine (one
  pandas frame; its memory grows with the rows);
* ``stream``: :func:`bankml.data.features.compute_features_to_parquet`, one generated SQL
  query streamed to Parquet by DuckDB under ``--stream-memory-limit`` (bounded memory);
* ``partitioned``: :func:`bankml.data.feature_partitions.compute_features_partitioned`, the
  same query per entity family and hash part, assembled by time slice (bounded memory and
  scratch disk) under the same limit;
* ``pandas``: a plain pandas ``groupby().rolling()`` implementation of the same features
  (see ``pandas_features``), the peer.

Results are compared on a random sample of transactions; point-in-time features of a
transaction depend only on earlier ones, so a peer run on the first N rows (by time) must
match the engines' full-table runs on them. Every child has a time limit (``--timeout``),
so the bench ends by itself, and a watchdog stops a child when the disk's free space falls
below ``--min-free-gb`` (the streamed and partitioned engines' scratch folders are measured:
peak scratch disk is their high-water mark, polled every 2 s).

    python bench/features.py                                  # 10M generated transactions
    python bench/features.py --rows 1000000                   # quicker
    python bench/features.py --rows 100000000 --only partitioned   # 100M, generated in chunks
    python bench/features.py --rows 100000000 --generate-only t.parquet   # generate once, then
    python bench/features.py --transactions t.parquet --only partitioned   # reuse the file
    python bench/features.py --transactions t.parquet --peer-rows 2000000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

console = Console()
DAYS = 60
TX_PER_CUSTOMER_DAY = 1.54  # measured on generate_bank(customers=2000, days=60, seed=7)
DELAY_DAYS = 7
KINDS = ("engine", "stream", "partitioned", "pandas")
LABELS = {
    "engine": "bankml in-memory engine (pandas frame)",
    "stream": "bankml streamed to Parquet (one SQL query)",
    "partitioned": "bankml partitioned by entity and time",
    "pandas": "pandas groupby-rolling",
}
SCRATCH_KINDS = ("stream", "partitioned")  # their spill/scratch folder is measured


def _rss_mb() -> float:
    """Peak RSS of this process in MB.

    Linux keeps ``ru_maxrss`` across ``exec``, so a child would start at its parent's peak;
    ``VmHWM`` in /proc is the process's own high-water mark. ``ru_maxrss`` elsewhere.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process (all threads): steadier than wall time on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the peer: plain pandas --------------------------------------------------------------


def pandas_features(path: Path, rows: int | None) -> pd.DataFrame:
    """The fraud features with pandas groupby-rolling, on the first ``rows`` rows by time.

    Same definitions as bankml.fraud.features: rows sorted by (ts, transaction_id),
    windows (t - w, t] ending at the current row (pandas' own tie rule), terminal fraud
    rate over (t - d - w, t - d] counting frauds known by t.
    """
    cols = [
        "transaction_id",
        "ts",
        "customer_id",
        "terminal_id",
        "card_id",
        "amount",
        "country",
        "is_fraud",
        "label_available_at",
    ]
    df = pd.read_parquet(path, columns=cols)
    df = df.sort_values(["ts", "transaction_id"], kind="stable", ignore_index=True)
    if rows is not None:
        df = df.iloc[:rows].reset_index(drop=True)
    df["small"] = (df["amount"] < 5.0).astype("float64")
    out = pd.DataFrame({"transaction_id": df["transaction_id"], "amount": df["amount"]})

    order: dict[str, np.ndarray] = {}

    def roll(entity: str, column: str, window: str, how: str) -> pd.Series:
        # With on="ts" the result is indexed by (key, ts), in sorted-key order and row
        # order within a key: a stable argsort of the key puts it back in row order.
        if entity not in order:
            order[entity] = np.argsort(df[entity].to_numpy(), kind="stable")
        rolled = df.groupby(entity, sort=True).rolling(window, on="ts")[column]
        values = np.empty(len(df))
        values[order[entity]] = getattr(rolled, how)().to_numpy()
        return pd.Series(values, index=df.index)

    for w, pw in (("1d", "1D"), ("7d", "7D"), ("30d", "30D")):
        n = roll("customer_id", "amount", pw, "count")
        s = roll("customer_id", "amount", pw, "sum")
        out[f"customer_txn_count_{w}"] = n
        out[f"customer_mean_amount_{w}"] = s / n
        if w == "30d":
            prior_n = n - 1
            prior_mean = (s - df["amount"]) / prior_n
            ok = (prior_n > 0) & (prior_mean > 0)
            out["amount_to_customer_mean_30d"] = np.where(ok, df["amount"] / prior_mean, 1.0)
    d = pd.Timedelta(days=DELAY_DAYS)
    known = df[df["is_fraud"] & df["label_available_at"].notna()]
    for w, pw in (("1d", "1D"), ("7d", "7D"), ("30d", "30D")):
        out[f"terminal_txn_count_{w}"] = roll("terminal_id", "amount", pw, "count")
        # (t - d - w, t] minus (t - d, t]: both end at the current row, so ties cancel.
        total = roll("terminal_id", "amount", f"{DELAY_DAYS + int(w[:-1])}D", "count")
        recent = roll("terminal_id", "amount", f"{DELAY_DAYS}D", "count")
        events = total - recent
        # Known frauds: +1 when a fraud starts to count, -1 when it leaves the window.
        start = np.maximum(known["ts"] + d, known["label_available_at"])
        end = known["ts"] + d + pd.Timedelta(w.replace("d", "D"))
        keep = start < end
        steps = pd.concat(
            [
                pd.DataFrame({"terminal_id": known["terminal_id"], "at": start, "delta": 1})[keep],
                pd.DataFrame({"terminal_id": known["terminal_id"], "at": end, "delta": -1})[keep],
            ]
        )
        steps = steps.groupby(["terminal_id", "at"], as_index=False)["delta"].sum()
        steps = steps.sort_values(["terminal_id", "at"])
        steps["running"] = steps.groupby("terminal_id")["delta"].cumsum()
        probe = pd.DataFrame({"terminal_id": df["terminal_id"], "at": df["ts"], "i": df.index})
        merged = pd.merge_asof(
            probe.sort_values("at"),
            steps.sort_values("at")[["terminal_id", "at", "running"]],
            on="at",
            by="terminal_id",
            direction="backward",
        ).set_index("i")["running"]
        n_known = merged.reindex(df.index).fillna(0.0)
        out[f"terminal_fraud_rate_{w}"] = np.where(events > 0, n_known / events, 0.0)
    for w, pw in (("10m", "10min"), ("1h", "1h")):
        out[f"card_small_txn_count_{w}"] = roll("card_id", "small", pw, "sum")
    out["card_new_terminal"] = (~df.duplicated(["card_id", "terminal_id"])).astype("float64")
    out["card_new_country"] = (~df.duplicated(["card_id", "country"])).astype("float64")
    out["is_night"] = (df["ts"].dt.hour < 6).astype("float64")
    out["is_weekend"] = (df["ts"].dt.dayofweek >= 5).astype("float64")
    return out


# -- children --------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    """Run one implementation and report seconds, memory and the sample's features."""
    base_mb = _rss_mb()
    sample = pd.read_parquet(args.sample_ids)["transaction_id"]
    cpu0 = _cpu_s()
    started = time.perf_counter()
    if args.child == "engine":
        from bankml.data.features import EngineOptions
        from bankml.fraud.features import build_fraud_features

        # Import cost is not the engine's: measure the baseline after imports.
        base_mb = _rss_mb()
        cpu0 = _cpu_s()
        started = time.perf_counter()
        options = EngineOptions(memory_limit=args.memory_limit, threads=args.threads)
        frame = build_fraud_features(Path(args.path), options=options).frame
        rows = len(frame)
    elif args.child in ("stream", "partitioned"):
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        from bankml.data.features import EngineOptions, compute_features_to_parquet
        from bankml.fraud.features import DEFAULT_MAPPING, enabled_features, resolve_event_table

        base_mb = _rss_mb()
        cpu0 = _cpu_s()
        started = time.perf_counter()
        options = EngineOptions(
            memory_limit=args.stream_memory_limit,
            threads=args.threads,
            temp_dir=Path(args.scratch),
        )
        source = Path(args.path)
        resolved, _warnings, events = resolve_event_table(source, DEFAULT_MAPPING, DELAY_DAYS)
        target = Path(args.out).with_name(f"{args.child}-features.parquet")
        common: dict[str, Any] = {
            "passthrough": ["customer", "terminal", "card"],
            "options": options,
        }
        if args.child == "partitioned":
            from bankml.data.feature_partitions import compute_features_partitioned

            def progress(stage: str, done: int, total: int) -> None:
                print(
                    f"  [{time.perf_counter() - started:7.0f} s] {stage} {done}/{total}"
                    f" (CPU {_cpu_s() - cpu0:.0f} s, peak RSS {_rss_mb() / 1024:.2f} GB)",
                    file=sys.stderr,
                    flush=True,
                )

            rows = compute_features_partitioned(
                source,
                enabled_features(resolved),
                events,
                target,
                **common,
                partition_rows=args.partition_rows,
                slice_rows=args.slice_rows,
                progress=progress,
            )
        else:
            rows = compute_features_to_parquet(
                source, enabled_features(resolved), events, target, **common
            )
        seconds = time.perf_counter() - started
        out_gb = target.stat().st_size / 1e9
        cpu = _cpu_s() - cpu0
        peak_mb = _rss_mb()
        # The compared rows, one record batch at a time: a dataset scan of a 10 GB result
        # with its default read-ahead took this process to 11.7 GB at 100M rows.
        wanted = pa.array(sample.to_numpy())
        picked = pa.Table.from_batches(
            [
                batch.filter(pc.is_in(batch.column("transaction_id"), value_set=wanted))
                for batch in pq.ParquetFile(target).iter_batches(batch_size=1 << 18)
            ]
        )
        picked.to_pandas().to_parquet(args.out)
        target.unlink()
        result = {
            "seconds": seconds,
            "cpu_s": cpu,
            "rows": rows,
            "peak_mb": peak_mb,
            "out_gb": out_gb,
        }
        print(json.dumps({**result, "base_mb": base_mb}))
        return
    else:
        frame = pandas_features(Path(args.path), args.peer_rows)
        rows = len(frame)
    seconds = time.perf_counter() - started
    cpu = _cpu_s() - cpu0
    peak_mb = _rss_mb()
    frame[frame["transaction_id"].isin(sample)].to_parquet(args.out)
    result = {"seconds": seconds, "cpu_s": cpu, "rows": rows, "peak_mb": peak_mb}
    print(json.dumps({**result, "base_mb": base_mb}))


def run_child(
    kind: str, path: Path, work: Path, args: argparse.Namespace
) -> dict[str, float] | None:
    """Run one implementation in a child process, watched: time limit, free disk, scratch."""
    out = work / f"{kind}.parquet"
    scratch = work / f"scratch-{kind}"
    scratch.mkdir(exist_ok=True)
    cmd = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--path",
        str(path),
        "--sample-ids",
        str(work / "sample.parquet"),
        "--out",
        str(out),
        "--memory-limit",
        args.memory_limit,
        "--threads",
        str(args.threads),
        "--stream-memory-limit",
        args.stream_memory_limit,
        "--partition-rows",
        str(args.partition_rows),
        "--slice-rows",
        str(args.slice_rows),
        "--scratch",
        str(scratch),
    ]
    if kind == "pandas" and args.peer_rows is not None:
        cmd += ["--peer-rows", str(args.peer_rows)]
    console.print(f"running {kind} (load average {os.getloadavg()[0]:.1f}) ...")
    err = work / f"{kind}.stderr"
    # stderr goes to a file and is echoed as it grows, so a nohup log shows progress.
    with err.open("w") as err_file:
        child_proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=err_file, text=True, start_new_session=True
        )
        verdict = _watch(child_proc, kind, scratch, err, args)
    stdout = child_proc.stdout.read() if child_proc.stdout else ""
    shutil.rmtree(scratch, ignore_errors=True)
    if verdict["stopped"]:
        return None
    if child_proc.returncode != 0:
        console.print(f"[red]{kind} failed[/red]\n{err.read_text()[-3000:]}")
        return None
    result: dict[str, float] = json.loads(stdout.strip().splitlines()[-1])
    result["scratch_gb"] = verdict["scratch_gb"]
    result["min_free_gb"] = verdict["min_free_gb"]
    return result


def _watch(
    proc: subprocess.Popen[str], kind: str, scratch: Path, err: Path, args: argparse.Namespace
) -> dict[str, float]:
    """Poll a child every 2 s: echo its progress, track its scratch folder's high-water mark
    and the disk's free space; stop it (its whole process group) past the time limit or
    when free space falls below ``--min-free-gb``."""
    started = time.perf_counter()
    peak = 0.0
    least_free = math.inf
    echoed = 0
    last_status = started
    stopped = 0.0
    while proc.poll() is None:
        time.sleep(2)
        used = _folder_gb(scratch)
        peak = max(peak, used)
        free = shutil.disk_usage(scratch).free / 1e9
        least_free = min(least_free, free)
        text = err.read_text()
        if len(text) > echoed:
            sys.stdout.write(text[echoed:])
            sys.stdout.flush()
            echoed = len(text)
        elapsed = time.perf_counter() - started
        if time.perf_counter() - last_status >= 60:
            last_status = time.perf_counter()
            console.print(
                f"  [{elapsed:7.0f} s] {kind}: scratch {used:.1f} GB"
                f" (peak {peak:.1f}), disk free {free:.0f} GB,"
                f" load average {os.getloadavg()[0]:.1f}"
            )
        reason = None
        if free < args.min_free_gb:
            reason = f"free disk {free:.1f} GB < {args.min_free_gb} GB"
        elif elapsed > args.timeout:
            reason = f"time limit {args.timeout:.0f} s"
        if reason is not None:
            console.print(f"[red]{kind} stopped after {elapsed:.0f} s: {reason}[/red]")
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            stopped = 1.0
            break
    return {"scratch_gb": peak, "min_free_gb": least_free, "stopped": stopped}


def _folder_gb(folder: Path) -> float:
    """Bytes of the files under ``folder`` (files vanish while we walk: skip them)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, name)).st_size
    return total / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="transactions to generate")
    parser.add_argument("--transactions", type=Path, help="use this file instead of generating")
    parser.add_argument(
        "--peer-rows", type=int, default=None, help="run pandas on the first N rows only"
    )
    parser.add_argument("--sample", type=int, default=5000, help="rows compared between the two")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit (engine)")
    parser.add_argument("--stream-memory-limit", default="1GB", help="DuckDB memory_limit (stream)")
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    parser.add_argument(
        "--only",
        default="engine,stream,partitioned,pandas",
        help="comma-separated implementations to run (engine, stream, partitioned, pandas)",
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds allowed to each implementation"
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=20_000_000,
        help="generate more rows than this as several banks, appended into one file",
    )
    parser.add_argument(
        "--partition-rows", type=int, default=4_000_000, help="partitioned: rows per hash part"
    )
    parser.add_argument(
        "--slice-rows", type=int, default=2_000_000, help="partitioned: rows per time slice"
    )
    parser.add_argument(
        "--min-free-gb",
        type=float,
        default=15.0,
        help="stop an implementation when the disk has less free space than this",
    )
    parser.add_argument(
        "--generate-only",
        type=Path,
        metavar="PATH",
        help="generate --rows transactions into PATH (Parquet), print time and memory, stop",
    )
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--sample-ids", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.generate_only is not None:
        generate_only(args.generate_only, args.rows, args.chunk_rows)
        return

    with tempfile.TemporaryDirectory(prefix="bench-features-") as tmp:
        work = Path(tmp)
        if args.transactions is not None:
            path = args.transactions
        else:
            started = time.perf_counter()
            path = generate(work, args.rows, args.chunk_rows)
            console.print(f"generated in {time.perf_counter() - started:.0f} s")
        _pick_sample(path, work / "sample.parquet", args)
        n_rows = _count_rows(path)

        results: dict[str, dict[str, float]] = {}
        for kind in [k for k in KINDS if k in args.only.split(",")]:
            result = run_child(kind, path, work, args)
            if result is not None:
                results[kind] = result
                console.print(f"{kind}: {result['seconds']:.1f} s")
        frames = {
            k: pd.read_parquet(work / f"{k}.parquet").set_index("transaction_id") for k in results
        }
        agreement = _agreement(frames)

    table = Table(title=f"fraud features: {n_rows:,} transactions, 2-core machine")
    columns = (
        "implementation",
        "rows",
        "seconds",
        "CPU s",
        "rows/s",
        "peak RSS",
        "above baseline",
        "peak scratch",
        "output",
    )
    for col in columns:
        table.add_column(col, justify="right" if col != "implementation" else "left")
    for kind, r in results.items():
        table.add_row(
            LABELS[kind],
            f"{int(r['rows']):,}",
            f"{r['seconds']:.1f}",
            f"{r['cpu_s']:.1f}" if "cpu_s" in r else "",
            f"{r['rows'] / r['seconds']:,.0f}",
            f"{r['peak_mb'] / 1024:.2f} GB",
            f"{(r['peak_mb'] - r['base_mb']) / 1024:.2f} GB",
            f"{r['scratch_gb']:.1f} GB" if kind in SCRATCH_KINDS else "",
            f"{r['out_gb']:.1f} GB" if "out_gb" in r else "",
        )
    peer = results.get("pandas")
    if peer is not None and peer["rows"] < n_rows:
        scale = n_rows / peer["rows"]
        table.add_row(
            "pandas, extrapolated (linear)",
            f"{n_rows:,}",
            f"~{peer['seconds'] * scale:.0f}",
            f"~{peer['cpu_s'] * scale:.0f}" if "cpu_s" in peer else "",
            "",
            f"~{peer['peak_mb'] * scale / 1024:.1f} GB",
            "",
            "",
            "",
        )
    console.print(table)
    for (x, y), (rows, worst) in agreement.items():
        agree = Table(title=f"agreement on {rows:,} sampled transactions (max |{x} - {y}|)")
        agree.add_column("feature")
        agree.add_column("max abs diff", justify="right")
        for name, value in worst.items():
            agree.add_row(name, f"{value:.2e}")
        console.print(agree)
        bad = {k: v for k, v in worst.items() if not v <= 1e-9}
        console.print(
            f"[green]{x} and {y}: all features agree to 1e-9[/green]"
            if not bad
            else f"[red]{x} and {y} differ: {bad}[/red]"
        )
    console.print(f"load average: {os.getloadavg()[0]:.1f} (2 cores; others share the machine)")


def _count_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def _pick_sample(path: Path, out: Path, args: argparse.Namespace) -> None:
    """The transaction ids compared between implementations, in bounded memory.

    A peer run on the first N rows (by time) can only be compared on those rows, so then the
    ids are sorted by time; otherwise any rows do, and only the id column is read (at 100M
    rows the time sort of ids and timestamps alone peaked near 10 GB in this process).
    """
    import pyarrow.parquet as pq

    n_rows = pq.ParquetFile(path).metadata.num_rows
    peer = "pandas" in args.only.split(",")
    peer_rows = min(args.peer_rows if peer and args.peer_rows is not None else n_rows, n_rows)
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(peer_rows, size=min(args.sample, peer_rows), replace=False))
    if peer_rows < n_rows:
        ids = pd.read_parquet(path, columns=["transaction_id", "ts"])
        ids = ids.sort_values(["ts", "transaction_id"], kind="stable", ignore_index=True)
        ids.iloc[pick][["transaction_id"]].to_parquet(out)
        return
    column = pq.read_table(path, columns=["transaction_id"]).column(0)
    pd.DataFrame({"transaction_id": column.take(pick).to_numpy()}).to_parquet(out)


def _agreement(
    frames: dict[str, pd.DataFrame],
) -> dict[tuple[str, str], tuple[int, dict[str, float]]]:
    """Max |difference| per feature for each pair of implementations, on shared rows."""
    out: dict[tuple[str, str], tuple[int, dict[str, float]]] = {}
    kinds = list(frames)
    for i, x in enumerate(kinds):
        for y in kinds[i + 1 :]:
            a, b = frames[x], frames[y]
            shared = a.index.intersection(b.index)
            names = [
                c for c in b.columns if c in a.columns and c not in ("timestamp", "label_time")
            ]
            worst: dict[str, float] = {}
            for name in names:
                with contextlib.suppress(TypeError, ValueError):
                    diff = np.abs(
                        a.loc[shared, name].to_numpy(dtype=float)
                        - b.loc[shared, name].to_numpy(dtype=float)
                    )
                    worst[name] = float(np.nanmax(diff)) if len(diff) else float("nan")
            out[(x, y)] = (len(shared), worst)
    return out


def generate_only(target: Path, rows: int, chunk_rows: int) -> None:
    """Generate once into ``target`` so long runs (100M) can reuse the file (``--transactions``).

    Written under a temporary name in ``target``'s folder and renamed when complete.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    cpu0, started = _cpu_s(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=".bench-generate-", dir=target.parent) as tmp:
        path = generate(Path(tmp), rows, chunk_rows)
        path.replace(target)
    console.print(
        f"generated {_count_rows(target):,} transactions into {target} in "
        f"{time.perf_counter() - started:.0f} s ({_cpu_s() - cpu0:.0f} CPU s), "
        f"peak RSS {_rss_mb() / 1024:.2f} GB, {target.stat().st_size / 1e9:.2f} GB on disk, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


def generate(work: Path, rows: int, chunk_rows: int) -> Path:
    """~``rows`` synthetic transactions in one Parquet file, generated in bounded memory.

    Up to ``chunk_rows`` it is one bank. Beyond, several banks with different seeds (their
    customers, cards and terminals get distinct ids by offset) are appended into one file
    row group by row group, so 100M transactions never sit in memory at once.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from bankml.data.generator import generate_bank

    chunks = max(1, math.ceil(rows / chunk_rows))
    per_chunk = math.ceil(rows / chunks)
    customers = math.ceil(per_chunk / (TX_PER_CUSTOMER_DAY * DAYS))
    if chunks == 1:
        with console.status(f"generating ~{rows:,} transactions ({customers:,} customers)"):
            generate_bank(work / "bank", customers=customers, days=DAYS, seed=7)
        return work / "bank" / "transactions.parquet"
    target = work / "transactions.parquet"
    writer: pq.ParquetWriter | None = None
    offset = 0
    try:
        for chunk in range(chunks):
            bank = work / f"bank{chunk}"
            chunk_started = time.perf_counter()
            with console.status(f"generating chunk {chunk + 1}/{chunks} (~{per_chunk:,} rows)"):
                generate_bank(bank, customers=customers, days=DAYS, seed=7 + chunk)
            source = pq.ParquetFile(bank / "transactions.parquet")
            shift = chunk * 10_000_000  # below every id family's range width
            for i in range(source.num_row_groups):
                t = source.read_row_group(i)
                for name in ("customer_id", "card_id", "terminal_id"):
                    t = t.set_column(t.schema.get_field_index(name), name, pc.add(t[name], shift))
                t = t.set_column(0, "transaction_id", pc.add(t["transaction_id"], offset))
                if writer is None:
                    writer = pq.ParquetWriter(target, t.schema, compression="zstd")
                writer.write_table(t)
            offset += source.metadata.num_rows
            del source
            # Printed, not only a spinner: a long run under nohup shows how far it got.
            console.print(
                f"chunk {chunk + 1}/{chunks}: {offset:,} rows in "
                f"{time.perf_counter() - chunk_started:.0f} s, peak RSS {_rss_mb() / 1024:.2f} GB"
            )
            for f in bank.rglob("*"):
                if f.is_file():
                    f.unlink()
    finally:
        if writer is not None:
            writer.close()
    return target


if __name__ == "__main__":
    main()
