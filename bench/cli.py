"""How long the CLI makes people wait: `bankml --help`, `model list`, lifecycle steps.

Each command runs as a fresh process, as a person types it, several times; the table shows
the median and the best run. The peers in the same run are the interpreter's own floor
(`python -c pass`) and the cost of importing MLflow, so the figures read as ratios on a
noisy machine. With `--baseline SRC` every command also runs from another source tree (say
main's `src/`) on the same home, alternating run by run, so before and after share the
machine's load. Targets (issue 15): `--help` < 0.5 s, `model list` < 2 s, a lifecycle step
< 3 s.

    python bench/cli.py                          # 5 runs each
    python bench/cli.py --runs 9 --baseline ../main/src
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

console = Console()
PY = sys.executable
BANKML = [PY, "-m", "bankml.cli"]
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
MODEL = "toy"


def _time(
    cmd: Callable[[int], list[str]], env: dict[str, str], runs: int, i0: int = 0
) -> list[float]:
    """Wall seconds of ``runs`` fresh processes; run ``i`` runs ``cmd(i0 + i)``."""
    seconds = []
    for i in range(runs):
        t0 = time.perf_counter()
        args = cmd(i0 + i)
        proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        seconds.append(time.perf_counter() - t0)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(args[3:])} failed: {proc.stderr.strip()[:300]}")
    return seconds


def _prepare(home: Path, tmp: Path, versions: int) -> str:
    """A home with ``versions`` registered versions of ``toy`` for `submit` (odd numbers
    from 1) and as many approved ones for `promote` (even numbers); returns a developer's
    API key. Runs in this process (MLflow is imported here, not in the timed commands)."""
    from bankml.app import build_services
    from bankml.core.clock import utc_iso
    from bankml.core.identity import Role
    from bankml.governance.gates import GateResult, ValidationReport

    s = build_services()
    s.users.add("dev", Role.MODEL_DEVELOPER)
    s.users.add("val", Role.VALIDATOR)
    dev, val = s.users.get("dev"), s.users.get("val")
    for n in range(1, 2 * versions + 1):
        model_dir = tmp / f"model{n}"
        model_dir.mkdir()
        (model_dir / "model.txt").write_text(f"model {n}\n")
        s.registry.register(
            MODEL, model_dir, params={}, metrics={"roc_auc": 0.9}, tags={"trained_by": "a"}
        )
        s.governance.register(MODEL, n, "a")
        if n % 2 == 0:
            s.governance.submit(MODEL, n, dev)
            s.validations.save(
                ValidationReport(
                    MODEL,
                    n,
                    (GateResult("floor.roc_auc", True, 0.9, 0.8, "ok"),),
                    True,
                    {},
                    utc_iso(s.clock.now()),
                    "val",
                    "ab" * 32,
                )
            )
            s.governance.record_validation(MODEL, n, True, "val")
            s.governance.approve(MODEL, n, val, "bench")
    key = s.users.issue_key("dev")
    s.close()
    return key


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--baseline", type=Path, help="Another source tree (its src/) to time alongside."
    )
    args = parser.parse_args()
    trees = {"this": Path(__file__).resolve().parents[1] / "src"}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        home = Path(tmp) / "home"
        env = {
            **os.environ,
            "BANKML_HOME": str(home),
            "BANKML_ENV": "test",
            "BANKML_SECRET_KEY": SECRET,
            "MLFLOW_DISABLE_TELEMETRY": "true",
        }
        env.pop("MLFLOW_TRACKING_URI", None)
        os.environ.update({k: env[k] for k in ("BANKML_HOME", "BANKML_ENV", "BANKML_SECRET_KEY")})
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        steps = args.runs * len(trees)
        env["BANKML_API_KEY"] = _prepare(home, Path(tmp), steps)
        envs = {
            name: {**env, "PYTHONPATH": os.pathsep.join([str(src), env.get("PYTHONPATH", "")])}
            for name, src in trees.items()
        }
        rows: list[tuple[str, Callable[[int], list[str]], float | None]] = [
            ("python -c pass (floor)", lambda _i: [PY, "-c", "pass"], None),
            ("import mlflow (peer)", lambda _i: [PY, "-c", "import mlflow"], None),
            ("bankml --help", lambda _i: [*BANKML, "--help"], 0.5),
            ("bankml --version", lambda _i: [*BANKML, "--version"], 0.5),
            ("bankml model list", lambda _i: [*BANKML, "model", "list"], 2.0),
            (
                "bankml model submit (step)",
                lambda i: [*BANKML, "model", "submit", MODEL, str(2 * i + 1)],
                3.0,
            ),
            (
                "bankml model promote (step)",
                lambda i: [*BANKML, "model", "promote", MODEL, str(2 * i + 2)],
                3.0,
            ),
            ("bankml model show toy 1", lambda _i: [*BANKML, "model", "show", MODEL, "1"], None),
            ("bankml audit verify", lambda _i: [*BANKML, "audit", "verify"], None),
        ]
        load = os.getloadavg()
        table = Table(
            title=f"CLI wall time, {args.runs} runs each (load {load[0]:.1f} at start)"
            + (f"; baseline = {args.baseline}" if args.baseline else "")
        )
        table.add_column("command")
        for name in trees:
            table.add_column(f"{name} median s", justify="right")
            table.add_column(f"{name} best s", justify="right")
        if len(trees) > 1:
            table.add_column("this / baseline", justify="right")
        table.add_column("target s", justify="right")
        for label, cmd, target in rows:
            # Alternate the trees run by run so both see the same load.
            seconds: dict[str, list[float]] = {name: [] for name in trees}
            for r in range(args.runs):
                for t, name in enumerate(trees):
                    seconds[name] += _time(cmd, envs[name], 1, i0=r * len(trees) + t)
            cells = []
            for name in trees:
                cells += [f"{statistics.median(seconds[name]):.2f}", f"{min(seconds[name]):.2f}"]
            if len(trees) > 1:
                ratio = statistics.median(seconds["this"]) / statistics.median(seconds["baseline"])
                cells.append(f"{ratio:.2f}")
            table.add_row(label, *cells, "" if target is None else f"< {target}")
        console.print(table)
        console.print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
