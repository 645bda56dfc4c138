"""Anchoring the ledger outside itself: signed checkpoints and offline-verifiable receipts.

The hash chain alone proves only that the ledger is consistent with itself: whoever can write
the database can rewrite an entry and recompute every hash after it. A **checkpoint** fixes the
head from outside: ``(seq, head hash, Merkle root over all entry hashes, time)``, chained to the
previous checkpoint and signed with an Ed25519 key that lives in a file (``anchor_key_file``,
mode 0600), never in the database. Checkpoints are appended as JSON lines to
``<anchor_dir>/checkpoints.jsonl``, which belongs on storage the database writer cannot rewrite
(another host, a WORM bucket mount, a file with the append-only attribute).

What it protects against: anyone who can change the database but not the anchor directory and
the key. A rewrite, truncation, wipe or forged insertion *before* the newest checkpoint fails
``audit verify``; entries after it are reported as "not yet anchored" (checkpoint often).
What it does not: a holder of the signing key and write access to the anchor directory can
re-sign a rewritten history; keep the public key (or its fingerprint) with the auditors.

A **receipt** proves one entry offline: the entry, its hash, an RFC 6962 inclusion proof from
its Merkle leaf to the root of a signed checkpoint, that checkpoint, and the signer's public key
fingerprint. ``verify_receipt`` needs only the receipt and the public key.

``cryptography`` is imported only here, and this module only by the commands that anchor.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import stat
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bankml.core.canonical import canonical_json
from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.errors import ConfigError, InputError, IntegrityError, NotFoundError
from bankml.governance.ledger import GENESIS_HASH, DecisionLedger, LedgerEntry, entry_hash
from bankml.governance.merkle import (
    MerkleFrontier,
    audit_path,
    block_roots,
    leaf_hash,
    leaf_hashes,
    verify_inclusion,
)

__all__ = [
    "CHECKPOINT_FILE",
    "MERKLE_CACHE_FILE",
    "AnchorLog",
    "Checkpoint",
    "CheckpointScheduler",
    "LedgerAnchor",
    "ReceiptCheck",
    "create_anchor_key",
    "key_fingerprint",
    "load_private_key",
    "load_public_key",
    "verify_checkpoints",
    "verify_receipt",
]

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "checkpoints.jsonl"
# Roots of complete blocks of 2**10 entries, 32 bytes each, in order: a cache for receipts,
# checked against the signed Merkle root on every use (safe to delete).
MERKLE_CACHE_FILE = "merkle-blocks-1024.bin"
_CACHE_BLOCK_BITS = 10
RECEIPT_FORMAT = "bankml-ledger-receipt/1"
_FORMAT = 1

ERR_KEY_EXISTS = "the anchor key file {path} already exists; refusing to overwrite it"
ERR_KEY_MISSING = "no anchor key file at {path}; create one with: bankml audit anchor-key"
ERR_KEY_PERMS = (
    "the anchor key file {path} is readable by other users (mode {mode:o}); chmod 600 it"
)
ERR_NOT_CONFIGURED = (
    "ledger anchoring is not configured: set BANKML_ANCHOR_DIR and BANKML_ANCHOR_KEY_FILE"
)


# --- keys --------------------------------------------------------------------------------------
def key_fingerprint(public_key: Ed25519PublicKey) -> str:
    """``sha256:<hex>`` of the raw 32-byte public key: what auditors compare."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def create_anchor_key(path: Path) -> tuple[Path, str]:
    """Create an Ed25519 signing key at ``path`` (mode 0600, never overwritten) and its public
    key beside it (``<path>.pub``); return the public key path and fingerprint."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(ERR_KEY_EXISTS.format(path=path)) from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    pub_path = path.with_name(path.name + ".pub")
    pub_path.write_bytes(_public_pem(key.public_key()))
    return pub_path, key_fingerprint(key.public_key())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The signing key; refused when missing, not Ed25519, or readable by group/others."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise ConfigError(ERR_KEY_MISSING.format(path=path)) from None
    if mode & 0o077:
        raise ConfigError(ERR_KEY_PERMS.format(path=path, mode=mode))
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"{path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file (a ``.pub`` file, or the private key file itself)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the public key {path}: {exc.strerror}") from None
    try:
        if b"PRIVATE KEY" in data:
            private = load_private_key(path)
            return private.public_key()
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise InputError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(f"{path} is not an Ed25519 public key")
    return key


# --- checkpoints -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: "the ledger's first ``seq`` entries end in ``head_hash``"."""

    seq: int
    head_hash: str
    merkle_root: str
    frontier: list[str]
    time: str
    prev: str  # digest of the previous checkpoint line, or the genesis hash
    key: str  # signer's public key fingerprint
    signature: str = ""
    v: int = _FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """Everything the signature covers."""
        out = asdict(self)
        out.pop("signature")
        return out

    def signed_bytes(self) -> bytes:
        """The canonical bytes that are signed."""
        return canonical_json(self.body()).encode()

    def to_dict(self) -> dict[str, Any]:
        """The stored / receipt form."""
        return asdict(self)

    def digest(self) -> str:
        """What the next checkpoint's ``prev`` names."""
        return hashlib.sha256(canonical_json(self.to_dict()).encode()).hexdigest()

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Checkpoint:
        """Parse a stored checkpoint; ``InputError`` when fields are missing or mistyped."""
        try:
            cp = cls(
                seq=int(d["seq"]),
                head_hash=str(d["head_hash"]),
                merkle_root=str(d["merkle_root"]),
                frontier=[str(x) for x in d["frontier"]],
                time=str(d["time"]),
                prev=str(d["prev"]),
                key=str(d["key"]),
                signature=str(d["signature"]),
                v=int(d.get("v", _FORMAT)),
                extra=dict(d.get("extra", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"malformed checkpoint: {exc}") from None
        return cp

    def signature_ok(self, public_key: Ed25519PublicKey) -> bool:
        """Whether the signature is valid for ``public_key``."""
        try:
            public_key.verify(base64.b64decode(self.signature), self.signed_bytes())
        except (InvalidSignature, ValueError):
            return False
        return True


def verify_checkpoints(checkpoints: list[Checkpoint], public_key: Ed25519PublicKey) -> str | None:
    """The first problem with a checkpoint chain (signatures, links, order), or None."""
    fingerprint = key_fingerprint(public_key)
    prev, prev_seq = GENESIS_HASH, 0
    for i, cp in enumerate(checkpoints, start=1):
        if cp.key != fingerprint:
            return f"checkpoint {i} (#{cp.seq}) was signed by another key ({cp.key})"
        if not cp.signature_ok(public_key):
            return f"checkpoint {i} (#{cp.seq}) has an invalid signature"
        if cp.prev != prev:
            return f"checkpoint {i} (#{cp.seq}) does not chain to the checkpoint before it"
        if cp.seq < prev_seq:
            return f"checkpoint {i} anchors #{cp.seq}, behind the previous one at #{prev_seq}"
        frontier = MerkleFrontier.from_hex(cp.seq, cp.frontier)
        if frontier.root().hex() != cp.merkle_root:
            return f"checkpoint {i} (#{cp.seq}) has a Merkle root that does not match its frontier"
        prev, prev_seq = cp.digest(), cp.seq
    return None


class AnchorLog:
    """The append-only JSON-lines file of checkpoints in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / CHECKPOINT_FILE

    def read(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first (an empty list when none was written)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        out = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                out.append(Checkpoint.from_dict(json.loads(line)))
            except (json.JSONDecodeError, InputError):
                raise IntegrityError(f"{self.path} line {n} is not a checkpoint") from None
        return out

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock, so two processes never interleave or fork the checkpoint chain."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "a") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def append(self, checkpoint: Checkpoint) -> None:
        """Append one line and fsync it (call while ``locked``)."""
        line = canonical_json(checkpoint.to_dict()) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)


class LedgerAnchor:
    """Writes signed checkpoints of a ledger and the receipts that point into them."""

    def __init__(
        self,
        ledger: DecisionLedger,
        log_: AnchorLog,
        key_file: Path | None,
        clock: Clock | None = None,
    ) -> None:
        self.ledger = ledger
        self.log = log_
        self.key_file = key_file
        self._clock = clock or SystemClock()

    def public_key(self) -> Ed25519PublicKey:
        """The signer's public key (from the key file)."""
        if self.key_file is None:
            raise ConfigError(ERR_NOT_CONFIGURED)
        return load_private_key(self.key_file).public_key()

    def checkpoint(self) -> tuple[Checkpoint, bool]:
        """Sign the current head; return it and whether a new line was written.

        The entries since the previous checkpoint are verified first (hashes and links, and
        that they continue the previous checkpoint's head), so a checkpoint never blesses a
        chain that was already tampered with.
        """
        if self.key_file is None:
            raise ConfigError(ERR_NOT_CONFIGURED)
        key = load_private_key(self.key_file)
        with self.log.locked():
            previous = self.log.read()
            problem = verify_checkpoints(previous, key.public_key())
            if problem:
                raise IntegrityError(f"the anchor log is not trustworthy: {problem}")
            last = previous[-1] if previous else None
            head_seq, head_hash = self.ledger.head()
            if last is not None and head_seq < last.seq:
                raise IntegrityError(
                    f"the ledger head is #{head_seq} but checkpoint #{last.seq} was signed "
                    "(truncated or wiped); run bankml audit verify"
                )
            if last is not None and head_seq == last.seq:
                if head_hash != last.head_hash:
                    raise IntegrityError(
                        f"the ledger head #{head_seq} differs from the signed checkpoint; "
                        "run bankml audit verify"
                    )
                return last, False
            frontier = (
                MerkleFrontier.from_hex(last.seq, last.frontier) if last else MerkleFrontier()
            )
            prev_hash = last.head_hash if last else GENESIS_HASH
            for batch in self.ledger.chain_hash_batches(frontier.size, head_seq, prev_hash):
                frontier.extend(leaf_hashes(batch))
                prev_hash = batch[-1]
            if frontier.size != head_seq or prev_hash != head_hash:
                raise IntegrityError(
                    f"the ledger head #{head_seq} does not match its entries; run bankml audit "
                    "verify"
                )
            unsigned = Checkpoint(
                seq=head_seq,
                head_hash=head_hash,
                merkle_root=frontier.root().hex(),
                frontier=frontier.nodes_hex(),
                time=utc_iso(self._clock.now()),
                prev=last.digest() if last else GENESIS_HASH,
                key=key_fingerprint(key.public_key()),
            )
            signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode()
            cp = Checkpoint(**{**unsigned.to_dict(), "signature": signature})
            self.log.append(cp)
        log.info("ledger checkpoint #%s signed", cp.seq)
        return cp, True

    def anchors(self, public_key: Ed25519PublicKey | None = None) -> dict[int, str]:
        """``{seq: head hash}`` of every checkpoint, after checking their signatures and chain."""
        checkpoints = self.log.read()
        if not checkpoints:
            return {}
        if public_key is None and self.key_file is None:
            raise ConfigError(
                f"to check the checkpoints in {self.log.path}, pass --public-key or set "
                "BANKML_ANCHOR_KEY_FILE"
            )
        problem = verify_checkpoints(checkpoints, public_key or self.public_key())
        if problem:
            raise IntegrityError(f"the anchor log is not trustworthy: {problem}")
        return {cp.seq: cp.head_hash for cp in checkpoints}

    # --- inclusion proofs, with a cache of block roots ----------------------------------------
    @property
    def _block_cache(self) -> Path:
        return self.log.directory / MERKLE_CACHE_FILE

    def _cached_blocks(self) -> list[bytes]:
        try:
            data = self._block_cache.read_bytes()
        except OSError:
            return []
        return [data[i : i + 32] for i in range(0, len(data) - len(data) % 32, 32)]

    def _leaf_batches(self, after: int, upto: int) -> Generator[list[bytes], None, None]:
        with contextlib.closing(self.ledger.hash_batches(after, upto)) as batches:
            for batch in batches:
                yield leaf_hashes(batch)

    def _proof_from(
        self, cached: list[bytes], index: int, size: int
    ) -> tuple[list[bytes], bytes, list[bytes]] | None:
        """Audit path of leaf ``index`` in the tree of the first ``size`` entries, its root,
        and the roots of its blocks; the cached block roots stand in for their leaves, except
        the block holding ``index``, whose stored hashes are read to go down to the leaf.
        None when the stored hashes cannot make that tree (too few, or not hex)."""
        bits = _CACHE_BLOCK_BITS
        usable = min(len(cached), size >> bits)
        block, done = index >> bits, usable << bits
        roots = cached[:usable]
        # Each scan is closed on the way out, so a bad row never leaves a read transaction open.
        try:
            if block < usable:  # the leaf's block is cached: read its leaves for the path
                with contextlib.closing(
                    self._leaf_batches(block << bits, (block + 1) << bits)
                ) as batches:
                    leaves = [leaf for batch in batches for leaf in batch]
                if len(leaves) != 1 << bits:
                    return None
                lower, roots[block] = audit_path(leaves, index - (block << bits))
                with contextlib.closing(self._leaf_batches(done, size)) as batches:
                    rest, _, n = block_roots(batches, block_bits=bits)
            else:
                with contextlib.closing(self._leaf_batches(done, size)) as batches:
                    rest, lower, n = block_roots(batches, block_bits=bits, index=index - done)
            if done + n != size:
                return None
            roots += rest
            upper, root = audit_path(roots, block)
        except ValueError:  # a stored hash that is not hex
            return None
        return lower + upper, root, roots

    def _proof(self, index: int, cp: Checkpoint) -> list[bytes] | None:
        """The audit path of leaf ``index`` to ``cp``'s signed root, or None if the ledger no
        longer makes that root.

        The roots of complete blocks of 1,024 entries are cached beside the checkpoints
        (``MERKLE_CACHE_FILE``, appended as blocks complete), so a proof reads one block of
        entry hashes and those since the cache, not the whole ledger. The cache is trusted for
        nothing: a proof is returned only if it reaches the signed root; if a cached root is
        wrong the proof is rebuilt from every stored hash and the cache rewritten.
        """
        cached = self._cached_blocks()
        made, rewrite = self._proof_from(cached, index, cp.seq), False
        if cached and (made is None or made[1].hex() != cp.merkle_root):
            # A wrong cache, or a tampered ledger: tell them apart by the stored hashes alone.
            made, rewrite = self._proof_from([], index, cp.seq), True
        if made is None or made[1].hex() != cp.merkle_root:
            return None
        if rewrite:
            log.warning("the Merkle block cache %s was wrong; rebuilt it", self._block_cache)
        path, _, roots = made
        complete = roots[: cp.seq >> _CACHE_BLOCK_BITS]
        if rewrite or len(complete) > len(cached):
            self._save_blocks(cached, complete, rewrite=rewrite)
        return path

    def _save_blocks(self, on_disk: list[bytes], complete: list[bytes], *, rewrite: bool) -> None:
        """Append the newly complete block roots to the cache (or rewrite it when it was wrong).
        A cache that cannot be written (a read-only anchor directory) only costs speed."""
        path = self._block_cache
        try:
            with self.log.locked():  # two receipts at once must not append the same blocks
                if self._cached_blocks() != on_disk:
                    return  # another receipt updated it meanwhile
                if on_disk and not rewrite and path.stat().st_size == 32 * len(on_disk):
                    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
                    try:
                        os.write(fd, b"".join(complete[len(on_disk) :]))
                    finally:
                        os.close(fd)
                else:
                    tmp = path.with_suffix(".tmp")
                    tmp.write_bytes(b"".join(complete))
                    os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot write the Merkle block cache %s: %s", path, exc)

    def receipt(self, seq: int) -> dict[str, Any]:
        """A self-contained proof that entry ``seq`` is in the ledger a checkpoint signed."""
        checkpoints = self.log.read()
        covering = [cp for cp in checkpoints if cp.seq >= seq]
        if not covering:
            raise NotFoundError(
                f"entry #{seq} is not anchored yet; sign a checkpoint first: bankml audit "
                "checkpoint"
            )
        problem = verify_checkpoints(checkpoints, self.public_key())
        if problem:
            raise IntegrityError(f"the anchor log is not trustworthy: {problem}")
        cp = covering[-1]
        entry = self.ledger.get(seq)
        proof = self._proof(seq - 1, cp)
        if proof is None or not verify_inclusion(
            leaf_hash(entry.hash), seq - 1, cp.seq, proof, bytes.fromhex(cp.merkle_root)
        ):
            raise IntegrityError(
                f"the ledger no longer matches checkpoint #{cp.seq}; run bankml audit verify"
            )
        return {
            "format": RECEIPT_FORMAT,
            "entry": {
                "seq": entry.seq,
                "ts": entry.ts,
                "kind": entry.kind,
                "actor": entry.actor,
                "subject": entry.subject,
                "payload_json": entry.payload_json,
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
            },
            "leaf_index": seq - 1,
            "tree_size": cp.seq,
            "inclusion_proof": [p.hex() for p in proof],
            "checkpoint": cp.to_dict(),
            "public_key_fingerprint": cp.key,
        }


@dataclass(frozen=True)
class ReceiptCheck:
    """Outcome of checking a receipt offline."""

    ok: bool
    seq: int | None
    checkpoint_seq: int | None
    problem: str | None = None


def verify_receipt(receipt: dict[str, Any], public_key: Ed25519PublicKey) -> ReceiptCheck:
    """Check a receipt with nothing but the signer's public key (no database)."""

    def fail(problem: str, seq: int | None = None, cp_seq: int | None = None) -> ReceiptCheck:
        return ReceiptCheck(False, seq, cp_seq, problem)

    try:
        if receipt.get("format") != RECEIPT_FORMAT:
            return fail(f"not a {RECEIPT_FORMAT} receipt")
        e = receipt["entry"]
        entry = LedgerEntry(
            int(e["seq"]),
            str(e["ts"]),
            str(e["kind"]),
            str(e["actor"]),
            str(e["subject"]),
            str(e["payload_json"]),
            str(e["prev_hash"]),
            str(e["hash"]),
        )
        cp = Checkpoint.from_dict(receipt["checkpoint"])
        index, size = int(receipt["leaf_index"]), int(receipt["tree_size"])
        proof = [bytes.fromhex(p) for p in receipt["inclusion_proof"]]
    except (KeyError, TypeError, ValueError, AttributeError, InputError) as exc:
        return fail(f"malformed receipt ({exc})")
    seq = entry.seq
    recomputed = entry_hash(
        entry.seq, entry.ts, entry.kind, entry.actor, entry.subject, entry.payload_json,
        entry.prev_hash,
    )  # fmt: skip
    if recomputed != entry.hash:
        return fail("the entry does not match its hash (altered)", seq, cp.seq)
    if cp.key != key_fingerprint(public_key):
        return fail(f"the checkpoint was signed by another key ({cp.key})", seq, cp.seq)
    if not cp.signature_ok(public_key):
        return fail("the checkpoint's signature is invalid", seq, cp.seq)
    if index != seq - 1 or size != cp.seq:
        return fail("the proof's position does not match the entry and checkpoint", seq, cp.seq)
    if seq == cp.seq and entry.hash != cp.head_hash:
        return fail("the entry is not the checkpoint's head", seq, cp.seq)
    root = bytes.fromhex(cp.merkle_root)
    if not verify_inclusion(leaf_hash(entry.hash), index, size, proof, root):
        return fail("the inclusion proof does not lead to the checkpoint's root", seq, cp.seq)
    return ReceiptCheck(True, seq, cp.seq)


class CheckpointScheduler:
    """Signs a checkpoint every ``every_appends`` appends or ``every_seconds`` (the service).

    Registered as a ledger listener; the checkpoint itself runs on a background thread (one at
    a time), so a decision never waits for it. Failures are logged, never raised into requests.
    """

    def __init__(self, anchor: LedgerAnchor, every_appends: int, every_seconds: float) -> None:
        self._anchor = anchor
        self._every_appends = every_appends
        self._every_seconds = every_seconds
        self._lock = threading.Lock()
        self._pending = 0
        self._last = time.monotonic()
        self._running: threading.Thread | None = None

    def __call__(self, appended: int) -> None:
        """Count ``appended`` entries; start a checkpoint when one is due."""
        with self._lock:
            self._pending += appended
            due = (self._every_appends and self._pending >= self._every_appends) or (
                self._every_seconds and time.monotonic() - self._last >= self._every_seconds
            )
            if not due or (self._running is not None and self._running.is_alive()):
                return
            self._pending = 0
            self._last = time.monotonic()
            self._running = threading.Thread(target=self.run_once, name="ledger-checkpoint")
            self._running.daemon = True
            self._running.start()

    def run_once(self) -> None:
        """Sign one checkpoint now, logging (not raising) any failure."""
        try:
            self._anchor.checkpoint()
        except Exception:  # scheduled work must not crash the service; audit verify reports it
            log.exception("scheduled ledger checkpoint failed")

    def join(self, timeout: float | None = None) -> None:
        """Wait for a running checkpoint (tests, shutdown)."""
        thread = self._running
        if thread is not None:
            thread.join(timeout)
