"""Merkle trees over ledger entry hashes, as certificate-transparency logs build them (RFC 6962).

A leaf is ``SHA-256(0x00 || entry hash bytes)``, an inner node ``SHA-256(0x01 || left || right)``
(the prefixes keep a leaf from passing as a node), and a tree of ``n`` leaves splits at the
largest power of two below ``n``. So a checkpoint's root commits to every entry up to its head,
and one entry's membership is shown by ``log2(n)`` sibling hashes (an inclusion proof) that an
auditor checks without the database.

``MerkleFrontier`` keeps only the roots of the perfect subtrees on the right edge (at most 64),
so the root of a growing log is extended in O(new entries) and stored inside each checkpoint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "MerkleFrontier",
    "inclusion_proof",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry_hash_hex: str) -> bytes:
    """The Merkle leaf for one ledger entry, from its hex SHA-256 chain hash."""
    return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash_hex)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An inner node over two child hashes."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    n = hi - lo
    if n == 1:
        return leaves[lo]
    k = _split(n)
    return node_hash(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 root of ``leaves`` (already leaf-hashed)."""
    return EMPTY_ROOT if not leaves else _mth(leaves, 0, len(leaves))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 audit path for ``leaves[index]`` in the tree of all ``leaves``."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    lo, hi = 0, len(leaves)
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(_mth(leaves, lo + k, hi))
            hi = lo + k
        else:
            path.append(_mth(leaves, lo, lo + k))
            lo = lo + k
    path.reverse()  # leaf to root
    return path


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows ``leaf`` at ``index`` in the tree of ``size`` with ``root``.

    The algorithm of RFC 9162 section 2.1.3.2, independent of how the proof was built.
    """
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


class MerkleFrontier:
    """The right edge of a growing Merkle tree: enough to extend it and compute its root."""

    def __init__(self, size: int = 0, nodes: Iterable[bytes] = ()) -> None:
        self.size = size
        self._nodes = list(nodes)  # roots of perfect subtrees, largest first
        if len(self._nodes) != bin(size).count("1"):
            raise ValueError("a Merkle frontier needs one node per set bit of its size")

    def append(self, leaf: bytes) -> None:
        """Add the next leaf."""
        self._nodes.append(leaf)
        self.size += 1
        # Merge equal-sized subtrees: one merge per trailing one-bit of the old size.
        size = self.size
        while size & 1 == 0:
            right = self._nodes.pop()
            self._nodes[-1] = node_hash(self._nodes[-1], right)
            size >>= 1

    def root(self) -> bytes:
        """The RFC 6962 root of all leaves appended so far."""
        if not self._nodes:
            return EMPTY_ROOT
        acc = self._nodes[-1]
        for node in reversed(self._nodes[:-1]):
            acc = node_hash(node, acc)
        return acc

    def nodes_hex(self) -> list[str]:
        """The frontier's nodes as hex, for storing in a checkpoint."""
        return [n.hex() for n in self._nodes]

    @classmethod
    def from_hex(cls, size: int, nodes: Sequence[str]) -> MerkleFrontier:
        """Rebuild a frontier stored with ``nodes_hex``."""
        return cls(size, [bytes.fromhex(n) for n in nodes])
