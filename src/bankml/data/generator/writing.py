"""Writing a bank to disk: atomic files, the manifest, and refusing foreign directories."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bankml.core.errors import InputError
from bankml.data.generator._common import MSG_NO_MANIFEST
from bankml.data.generator.tables import TABLE_SCHEMAS

MANIFEST = "manifest.json"
POLICY_DIR = "policies"
_PARTIAL = re.compile(r"^\..+\.partial$")
_MANIFEST_KEYS = {"customers", "days", "files", "fraud_rate", "out", "row_counts", "seed", "start"}
# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BankManifest:
    """What a generated bank contains: its arguments, row counts and file checksums.

    ``files`` maps each path relative to ``out`` (POSIX separators) to its SHA-256, so a bank
    can be verified or compared byte for byte. ``fraud_rate`` is the *realised* share of
    fraudulent transactions, not the requested target. In ``manifest.json`` ``out`` is
    written as ``"."`` (the manifest's own directory), so a bank can be moved or copied and
    two banks with the same seed are identical file for file, manifest included.
    """

    out: Path
    seed: int
    customers: int
    days: int
    start: date
    row_counts: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    fraud_rate: float = 0.0

    def to_json(self) -> str:
        """The manifest as JSON text with sorted keys (the content of ``manifest.json``)."""
        doc = {
            "customers": self.customers,
            "days": self.days,
            "files": dict(sorted(self.files.items())),
            "fraud_rate": self.fraud_rate,
            "out": ".",
            "row_counts": dict(sorted(self.row_counts.items())),
            "seed": self.seed,
            "start": self.start.isoformat(),
        }
        return json.dumps(doc, sort_keys=True, indent=2) + "\n"


def load_manifest(out: Path) -> BankManifest:
    """Read ``out/manifest.json`` back into a :class:`BankManifest` (``out`` set to ``out``).

    Raises :class:`InputError` if there is no readable manifest, i.e. ``out`` is not a
    complete bank.
    """
    out = Path(out)
    path = out / MANIFEST
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return BankManifest(
            out=out,
            seed=int(doc["seed"]),
            customers=int(doc["customers"]),
            days=int(doc["days"]),
            start=date.fromisoformat(doc["start"]),
            row_counts={str(k): int(v) for k, v in doc["row_counts"].items()},
            files={str(k): str(v) for k, v in doc["files"].items()},
            fraud_rate=float(doc["fraud_rate"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(MSG_NO_MANIFEST.format(out=out, manifest=MANIFEST)) from exc


# --------------------------------------------------------------------------------------------
# Validation and file handling
# --------------------------------------------------------------------------------------------
def _known_names() -> set[str]:
    return {f"{name}.parquet" for name in TABLE_SCHEMAS} | {MANIFEST, POLICY_DIR}


def foreign_entry(out: Path) -> str | None:
    """The first entry in ``out`` that a bankml bank would not contain, or None."""
    known = _known_names()
    for entry in sorted(out.iterdir()):
        if entry.name in known or _PARTIAL.match(entry.name):
            if entry.name == POLICY_DIR:
                if not entry.is_dir():
                    return entry.name
                for sub in sorted(entry.iterdir()):
                    if not (sub.suffix == ".md" or _PARTIAL.match(sub.name)) or sub.is_dir():
                        return f"{POLICY_DIR}/{sub.name}"
            continue
        return entry.name
    return None


def prepare_dir(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # The manifest goes first: until the new one is written, the directory is not a bank.
    (out / MANIFEST).unlink(missing_ok=True)
    for directory in (out, out / POLICY_DIR):
        if directory.is_dir():
            for entry in directory.iterdir():
                if _PARTIAL.match(entry.name):
                    entry.unlink()


def remove_stale(out: Path, written: set[str]) -> None:
    """Delete policy files a previous run wrote that this run did not (ours by construction)."""
    for path in (out / POLICY_DIR).glob("*.md"):
        if f"{POLICY_DIR}/{path.name}" not in written:
            path.unlink()


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling path; rename it to ``path`` only if the block succeeds."""
    tmp = path.with_name(f".{path.name}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


PARQUET_OPTS: dict[str, Any] = {"compression": "zstd", "compression_level": 3}


def write_table_atomic(path: Path, table: pa.Table) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, **PARQUET_OPTS)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
