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
    "audit_path",
    "block_roots",
    "inclusion_proof",
    "inclusion_proof_stream",
    "leaf_hash",
    "leaf_hashes",
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


def leaf_hashes(entry_hashes_hex: Iterable[str]) -> list[bytes]:
    """``leaf_hash`` of each entry hash, in one pass (the receipt and checkpoint paths)."""
    sha256, fromhex = hashlib.sha256, bytes.fromhex
    return [sha256(b"\x00" + fromhex(h)).digest() for h in entry_hashes_hex]


def _pair_up(level: Sequence[bytes]) -> list[bytes]:
    """The next level up: each adjacent pair hashed into its parent, an unpaired last node
    carried up as it is. Repeated to one node this gives the RFC 6962 root: the tree's split at
    the largest power of two below ``n`` is exactly where bottom-up pairing puts it."""
    sha256 = hashlib.sha256
    it = iter(level)
    out = [sha256(b"\x01" + left + right).digest() for left, right in zip(it, it, strict=False)]
    if len(level) & 1:
        out.append(level[-1])
    return out


def _reduce(level: Sequence[bytes], index: int | None, path: list[bytes]) -> bytes:
    """Root of ``level`` (at least one node); appends the audit path of ``index`` to ``path``."""
    while len(level) > 1:
        if index is not None:
            sibling = index ^ 1
            if sibling < len(level):  # the last node of an odd level has none: carried up
                path.append(level[sibling])
            index >>= 1
        level = _pair_up(level)
    return level[0]


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 root of ``leaves`` (already leaf-hashed)."""
    return EMPTY_ROOT if not leaves else _reduce(leaves, None, [])


def audit_path(level: Sequence[bytes], index: int) -> tuple[list[bytes], bytes]:
    """The RFC 6962 audit path of ``level[index]`` (bottom to top) and the root of ``level``."""
    if not 0 <= index < len(level):
        raise ValueError(f"leaf {index} is not in a tree of {len(level)}")
    path: list[bytes] = []
    root = _reduce(level, index, path)
    return path, root


def block_roots(
    leaf_batches: Iterable[Sequence[bytes]], *, block_bits: int, index: int | None = None
) -> tuple[list[bytes], list[bytes], int]:
    """Roots of the consecutive aligned blocks of ``2**block_bits`` leaves streamed in order
    (the last block may be partial), the audit path of leaf ``index`` inside its block (empty
    when ``index`` is None or beyond the leaves), and the number of leaves.

    Holds one block at a time. Aligned blocks are subtrees of every larger RFC 6962 tree, so
    the tree's root and paths continue from these roots as if they were leaves.
    """
    block = 1 << block_bits
    path: list[bytes] = []
    roots: list[bytes] = []
    pending: list[bytes] = []
    done = 0  # leaves already reduced into roots

    def close(leaves: Sequence[bytes]) -> None:
        nonlocal done
        inside = None
        if index is not None and done <= index < done + len(leaves):
            inside = index - done
        roots.append(_reduce(leaves, inside, path))
        done += len(leaves)

    for batch in leaf_batches:
        pending.extend(batch)
        while len(pending) >= block:
            close(pending[:block])
            del pending[:block]
    if pending:
        close(pending)
    return roots, path, done


def inclusion_proof_stream(
    leaf_batches: Iterable[Sequence[bytes]], index: int, *, block_bits: int = 16
) -> tuple[list[bytes], bytes, int]:
    """RFC 6962 audit path for leaf ``index``, the root, and the number of leaves, from leaves
    streamed in order in batches of any size; memory holds one block of ``2**block_bits``
    leaves and one root per block, not the whole tree."""
    if index < 0:
        raise ValueError(f"leaf {index} is not in the tree")
    roots, lower, size = block_roots(leaf_batches, block_bits=block_bits, index=index)
    if index >= size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    upper, root = audit_path(roots, index >> block_bits)
    return lower + upper, root, size


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 audit path for ``leaves[index]`` in the tree of all ``leaves`` (leaf to root)."""
    return inclusion_proof_stream([leaves], index)[0]


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

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Add leaves in order: ``append`` for each, without a method call per leaf."""
        nodes, size, sha256 = self._nodes, self.size, hashlib.sha256
        for leaf in leaves:
            size += 1
            node, bits = leaf, size
            while not bits & 1:  # merge into each completed perfect subtree on the edge
                node = sha256(b"\x01" + nodes.pop() + node).digest()
                bits >>= 1
            nodes.append(node)
        self.size = size

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
