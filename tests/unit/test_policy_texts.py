"""The policy templates live as data files and still render the same corpus, byte for byte."""

from __future__ import annotations

import hashlib
from importlib import resources

from bankml.data.policy_corpus import build_policy_corpus

# Taken from the corpus rendered by the Python-module templates (before they became YAML).
CORPUS_SHA256 = {
    7: "6556d583849638e2882eb1d19e28acbebcc9deb6aebde9cb866d7ac270589b9c",
    42: "b078954db1bdff1f3cd1acd7de6d8a0dbfe7c58cce5fb202d686f5dc413753c7",
}


def _digest(seed: int) -> str:
    h = hashlib.sha256()
    for doc in build_policy_corpus(seed):
        h.update(doc.id.encode())
        h.update(doc.markdown.encode())
        h.update(repr(doc.rules).encode())
    return h.hexdigest()


def test_corpus_is_byte_identical_to_the_one_rendered_from_python_templates() -> None:
    for seed, expected in CORPUS_SHA256.items():
        assert _digest(seed) == expected


def test_every_policy_template_is_one_yaml_file_in_the_package() -> None:
    folder = resources.files("bankml.data").joinpath("policy_texts")
    files = sorted(e.name for e in folder.iterdir() if e.name.endswith(".yaml"))
    docs = build_policy_corpus(7)
    assert len(docs) == 49
    assert sorted(files) == sorted(["_params.yaml", *(f"{d.id}.yaml" for d in docs)])
