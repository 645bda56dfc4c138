"""How long the CLI makes people wait: `bankml --help`, `model list`, a lifecycle step.

Each command runs as a fresh process, as a person types it, several times; the table shows
the median and the best run. The peers in the same run are the interpreter's own floor
(`python -c pass`) and the cost of importing MLflow, so the figures read as ratios on a
noisy machine. Targets (issue 15): `--help` < 0.5 s, `model list` < 2 s, a lifecycle step
< 3 s.

    python bench/cli.py            # 5 runs each
    python bench/cli.py --runs 9
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

console = Console()
PY = sys.executable
BANKML = [PY, "-m", "bankml.cli"]
SECRET = "bench-secret-key-that-is-long-enough-0123456789"


def _time(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        seconds.append(time.perf_counter() - t0)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd[3:])} failed: {proc.stderr.strip()[:300]}")
    return statistics.median(seconds), min(seconds)


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
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
        # A home with a database and one registered version, so `model list` has work to do.
        subprocess.run(
            [
                PY,
                "-c",
                "from pathlib import Path; from bankml.app import build_services;"
                "import sys; s = build_services(); d = Path(sys.argv[1]); d.mkdir();"
                "(d / 'model.txt').write_text('m');"
                "s.registry.register('toy', d, params={}, metrics={}, tags={'trained_by': 'a'});"
                "s.governance.register('toy', 1, 'a')",
                str(Path(tmp) / "model"),
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        rows = [
            ("python -c pass (floor)", [PY, "-c", "pass"], None),
            ("import mlflow (peer)", [PY, "-c", "import mlflow"], None),
            ("bankml --help", [*BANKML, "--help"], 0.5),
            ("bankml --version", [*BANKML, "--version"], 0.5),
            ("bankml model list", [*BANKML, "model", "list"], 2.0),
            ("bankml model show toy 1", [*BANKML, "model", "show", "toy", "1"], 3.0),
            ("bankml audit verify", [*BANKML, "audit", "verify"], 3.0),
        ]
        table = Table(title=f"CLI wall time, {args.runs} runs each (load {os.getloadavg()[0]:.1f})")
        for col in ("command", "median s", "best s", "x floor", "target s"):
            table.add_column(col, justify="right" if col != "command" else "left")
        floor = None
        for label, cmd, target in rows:
            med, best = _time(cmd, env, args.runs)
            floor = floor or med
            table.add_row(
                label,
                f"{med:.2f}",
                f"{best:.2f}",
                f"{med / floor:.1f}",
                "" if target is None else f"< {target}",
            )
        console.print(table)


if __name__ == "__main__":
    main()
