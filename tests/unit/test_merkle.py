"""RFC 6962 Merkle trees: roots, frontier and inclusion proofs against an independent oracle."""

from __future__ import annotations

import hashlib

import pytest

from bankml.governance.merkle import (
    EMPTY_ROOT,
    MerkleFrontier,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    verify_inclusion,
)


def _oracle_root(data: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written straight from the text (no code shared with bankml)."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    left, right = _oracle_root(data[:k]), _oracle_root(data[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def _entry_hashes(n: int) -> list[str]:
    return [hashlib.sha256(f"entry {i}".encode()).hexdigest() for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33])
def test_root_and_frontier_match_the_rfc_definition(n: int) -> None:
    hashes = _entry_hashes(n)
    expected = _oracle_root([bytes.fromhex(h) for h in hashes])
    leaves = [leaf_hash(h) for h in hashes]
    assert merkle_root(leaves) == expected
    frontier = MerkleFrontier()
    for leaf in leaves:
        frontier.append(leaf)
    assert frontier.root() == expected
    restored = MerkleFrontier.from_hex(n, frontier.nodes_hex())
    assert restored.root() == expected
    assert len(frontier.nodes_hex()) == bin(n).count("1")


def test_known_root_of_two_leaves() -> None:
    # Literal value: SHA-256(0x01 || SHA-256(0x00 || 32 x 0x00) || SHA-256(0x00 || 32 x 0x11)).
    leaves = [leaf_hash("00" * 32), leaf_hash("11" * 32)]
    assert merkle_root(leaves).hex() == (
        hashlib.sha256(
            b"\x01"
            + hashlib.sha256(b"\x00" + bytes(32)).digest()
            + hashlib.sha256(b"\x00" + bytes([0x11]) * 32).digest()
        ).hexdigest()
    )
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6, 7, 8, 11, 16, 21])
def test_every_leaf_has_a_proof_that_verifies_and_only_there(n: int) -> None:
    leaves = [leaf_hash(h) for h in _entry_hashes(n)]
    root = merkle_root(leaves)
    for i in range(n):
        proof = inclusion_proof(leaves, i)
        assert len(proof) <= max(1, (n - 1).bit_length())
        assert verify_inclusion(leaves[i], i, n, proof, root)
        if n > 1:
            assert not verify_inclusion(leaves[i], (i + 1) % n, n, proof, root)
            assert not verify_inclusion(leaf_hash("ff" * 32), i, n, proof, root)
            bent = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
            assert not verify_inclusion(leaves[i], i, n, bent, root)
        assert not verify_inclusion(leaves[i], i, n, [*proof, root], root)  # too long
