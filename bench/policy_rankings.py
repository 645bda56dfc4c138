"""Run the policy evaluation suite and record every question's ranked chunks, per mode.

    .venv/bin/python bench/policy_rankings.py evals/policy_suite.yaml --out new.json
    .venv/bin/python bench/policy_rankings.py evals/policy_suite.yaml --compare old.json

Why: a change meant to make retrieval faster (not different) must return the same chunks in
the same order. Recall and MRR can stay equal while rankings move; this compares the rankings
themselves. Run it on the code before the change (``PYTHONPATH`` pointing at the old tree, it
only uses public entry points) with ``--out``, then on the new code with ``--compare``: it
prints the suite's figures and every question whose top 10 differs in any mode (chunk ids in
order; scores to 1e-6), and exits 1 if any does.

The suite runs on a scratch home with hybrid retrieval (the MiniLM model must be installed):
the corpus is embedded for real, about a minute of CPU on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

from bankml.app import Services
from bankml.core.identity import Role, User
from bankml.core.settings import load_settings
from bankml.policy.evaluation import load_suite, run_suite
from bankml.policy.hybrid import RETRIEVAL_MODES

DEPTH = 10


def rankings(suite: Path) -> dict[str, Any]:
    """The suite's figures and, per mode, each case's top ``DEPTH`` as (chunk id, score)."""
    cases, meta = load_suite(suite)
    with tempfile.TemporaryDirectory(prefix="bankml-policy-rankings-") as tmp:
        svc = Services(
            load_settings(
                home=Path(tmp) / "home",
                env="test",
                secret_key=secrets.token_urlsafe(48),
                policy_retrieval="hybrid",
            )
        )
        users: dict[str, User] = {}

        def add_user(name: str, role: Role, groups: frozenset[str]) -> User:
            users[name] = svc.users.add(name, role, groups)
            return users[name]

        try:
            report = run_suite(cases, meta, svc.policy, add_user)
            ranked: dict[str, dict[str, list[tuple[str, float]]]] = {}
            for mode in RETRIEVAL_MODES:
                ranked[mode] = {}
                for i, case in enumerate(cases):
                    hits = svc.policy.retrieve(users[case.user], case.question, DEPTH, mode=mode)
                    key = f"{i}:{case.user}:{case.question}"
                    ranked[mode][key] = [(h.chunk.chunk_id, h.score) for h in hits]
        finally:
            svc.close()
    return {"figures": report.figures(), "rankings": ranked}


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """One line per (mode, question) whose ranked chunks or scores differ."""
    out = []
    for mode, by_case in new["rankings"].items():
        before = old["rankings"].get(mode, {})
        for key, hits in by_case.items():
            was = before.get(key)
            same = (
                was is not None
                and [c for c, _ in was] == [c for c, _ in hits]
                and all(abs(a - b) <= 1e-6 for (_, a), (_, b) in zip(was, hits, strict=True))
            )
            if not same:
                out.append(f"{mode} {key}: {was} -> {hits}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", type=Path)
    parser.add_argument("--out", type=Path, help="write the rankings here (JSON)")
    parser.add_argument("--compare", type=Path, help="rankings of the code before (JSON)")
    args = parser.parse_args()
    result = rankings(args.suite)
    for name, value in result["figures"].items():
        print(f"{name}: {value}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    if args.compare:
        old = json.loads(args.compare.read_text(encoding="utf-8"))
        diff = differences(old, result)
        n = sum(len(v) for v in result["rankings"].values())
        print(f"rankings identical for {n - len(diff)}/{n} (mode, question) pairs")
        for line in diff[:20]:
            print(f"  - {line}")
        if diff:
            sys.exit(1)


if __name__ == "__main__":
    main()
