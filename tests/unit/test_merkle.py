"""RFC 6962 Merkle trees: roots, frontier and inclusion proofs against an independent oracle."""

from __future__ import annotations

import hashlib

import pytest

from bankml.governance.merkle import (
    EMPTY_ROOT,
    MerkleFrontier,
    inclusion_proof,
    inclusion_proof_stream,
    leaf_hash,
    leaf_hashes,
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


def _oracle_path(m: int, data: list[bytes]) -> list[bytes]:
    """RFC 6962 section 2.1.1 PATH(m, D[n]), written from the text: leaf to root."""
    n = len(data)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*_oracle_path(m, data[:k]), _oracle_root(data[k:])]
    return [*_oracle_path(m - k, data[k:]), _oracle_root(data[:k])]


@pytest.mark.parametrize("block_bits", [0, 1, 2, 3, 16])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 33, 64, 65, 100])
def test_streamed_proofs_and_roots_are_the_rfc_audit_paths(n: int, block_bits: int) -> None:
    hashes = _entry_hashes(n)
    data = [bytes.fromhex(h) for h in hashes]
    leaves = leaf_hashes(hashes)
    assert leaves == [leaf_hash(h) for h in hashes]
    root = _oracle_root(data)
    for i in range(n):
        # Batches of an awkward size, so blocks and batches never line up.
        batches = [leaves[j : j + 3] for j in range(0, n, 3)]
        proof, got_root, size = inclusion_proof_stream(batches, i, block_bits=block_bits)
        assert (proof, got_root, size) == (_oracle_path(i, data), root, n)
        assert inclusion_proof(leaves, i) == proof


def test_a_leaf_beyond_the_streamed_tree_is_refused() -> None:
    leaves = leaf_hashes(_entry_hashes(5))
    with pytest.raises(ValueError, match="leaf 5 is not in a tree of 5"):
        inclusion_proof_stream([leaves], 5)
    with pytest.raises(ValueError, match="leaf 3 is not in a tree of 0"):
        inclusion_proof_stream([], 3)
    with pytest.raises(ValueError, match="leaf -1 is not in the tree"):
        inclusion_proof(leaves, -1)


@pytest.mark.parametrize("start", [0, 1, 3, 8, 13])
def test_frontier_extend_equals_appending_one_by_one(start: int) -> None:
    leaves = leaf_hashes(_entry_hashes(start + 40))
    one, many = MerkleFrontier(), MerkleFrontier()
    for leaf in leaves[:start]:
        one.append(leaf)
        many.append(leaf)
    for leaf in leaves[start:]:
        one.append(leaf)
    many.extend(leaves[start:])
    assert many.size == one.size == start + 40
    assert many.nodes_hex() == one.nodes_hex()
    assert many.root() == _oracle_root([bytes.fromhex(h) for h in _entry_hashes(start + 40)])
