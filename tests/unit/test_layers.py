"""DESIGN.md's layers hold in the code: every import points downward, and the shared layers
never name a model kind.

core <- data <- governance <- use cases (fraud, credit, policy, monitoring) <- faces (cli,
api, web) <- app.py (wiring). Read with ``ast`` from the source, so a lazy import inside a
function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "bankml"
USE_CASES = {"fraud", "credit", "policy", "monitoring"}
FACES = {"cli", "api", "web"}
WIRING = {"app", "migrations"}
# What each layer may import (besides itself and the standard/third-party libraries).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "data": {"core"},
    "governance": {"core", "data"},
    **{u: {"core", "data", "governance"} for u in USE_CASES},
    **{f: {"core", "data", "governance", *USE_CASES, *FACES, "app"} for f in FACES},
    "app": {"core", "data", "governance", *USE_CASES, "migrations"},
    "migrations": {"core"},
    "__main__": {"cli"},  # `python -m bankml`: the CLI and nothing else
}
# A kind's name as code would spell it (identifiers, tables, columns, events), not prose.
KIND_NAME = re.compile(r"fraud|credit", re.IGNORECASE)
# People's job titles are identities, not model kinds: core's ``Role`` lists the bank's roles
# (DESIGN.md "Users and what each one does"), stored as text in ``users.role``.
ROLE_NAMES = {"FRAUD_ANALYST", "fraud_analyst", "CREDIT_OFFICER", "credit_officer"}
# Imports still pointing up, each with who removes it; delete the line when it is gone.
# Empty: issue 8 item 6 is done (policy.evaluation receives its assistant). Add an entry here
# only with the issue that will remove it.
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "bankml" or len(parts) < 2:
        return None
    return parts[1]


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def _imports(path: Path, module: str) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((name, node.lineno))
    return found


def test_every_module_is_in_a_known_layer() -> None:
    layers = {_layer(m) for m, _ in _modules() if m != "bankml"}
    assert layers <= set(ALLOWED), layers - set(ALLOWED)


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_imports_point_down_the_layers(module: str, path: Path) -> None:
    mine = _layer(module)
    if mine is None:
        return
    bad = []
    for name, line in _imports(path, module):
        theirs = _layer(name)
        if theirs is None or theirs == mine:
            continue
        if theirs not in ALLOWED[mine] and (module, name) not in KNOWN_VIOLATIONS:
            bad.append(f"{path.relative_to(SRC)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def _code_names(path: Path) -> list[tuple[str, int]]:
    """Identifiers and string constants in code (docstrings and comments excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.append((node.id, node.lineno))
        elif isinstance(node, ast.Attribute):
            names.append((node.attr, node.lineno))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append((node.name, node.lineno))
        elif isinstance(node, ast.arg):
            names.append((node.arg, node.lineno))
        elif isinstance(node, ast.alias):
            names.append((node.asname or node.name, node.lineno))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and re.fullmatch(r"[\w.:/-]+", node.value)  # identifier-like: tables, events, keys
        ):
            names.append((node.value, node.lineno))
    return names


SHARED = sorted(
    p
    for p in SRC.rglob("*")
    if p.suffix in (".py", ".toml") and p.parts[-2] in ("core", "governance")
)


@pytest.mark.parametrize("path", SHARED, ids=[str(p.relative_to(SRC)) for p in SHARED])
def test_shared_layers_never_name_a_model_kind(path: Path) -> None:
    if path.suffix == ".toml":
        keys = re.findall(r"^\s*(\w+)\s*=", path.read_text(encoding="utf-8"), re.MULTILINE)
        bad = [k for k in keys if KIND_NAME.search(k)]
    else:
        bad = [
            f"{n} (line {line})"
            for n, line in _code_names(path)
            if KIND_NAME.search(n) and n not in ROLE_NAMES
        ]
    assert not bad, f"{path.relative_to(SRC)} names a model kind: {bad}"


def test_the_kind_name_check_catches_a_kind_named_in_code(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Docs may say fraud."""\nEVENTS = ("fraud.scored",)\n')
    assert [n for n, _ in _code_names(sample) if KIND_NAME.search(n)] == ["fraud.scored"]
    sample.write_text('"""Docs may say fraud and credit."""\nx = "a sentence about fraud"\n')
    assert [n for n, _ in _code_names(sample) if KIND_NAME.search(n)] == []


def test_the_import_check_catches_an_upward_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from bankml.fraud.service import MODEL_NAME\n")
    names = [n for n, _ in _imports(sample, "bankml.governance.x")]
    assert names == ["bankml.fraud.service"]
    assert "fraud" not in ALLOWED["governance"]


def test_known_violations_are_still_real() -> None:
    """A fixed violation must leave the list, so the list cannot hide a new one."""
    found = {(m, n) for m, p in _modules() for n, _ in _imports(p, m)}
    assert found >= KNOWN_VIOLATIONS, KNOWN_VIOLATIONS - found


def _private_imports(path: Path, module: str) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bankml"):
            if node.module == module:
                continue
            out += [
                f"{node.module}.{a.name} (line {node.lineno})"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
    return out


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_no_module_imports_a_private_name_of_another(module: str, path: Path) -> None:
    """Faces share service methods, not each other's helpers (the demo once reached into
    ``cli.fraud``'s private printers)."""
    assert _private_imports(path, module) == []


def test_the_private_import_check_catches_one(tmp_path: Path) -> None:
    sample = tmp_path / "demo.py"
    sample.write_text("from bankml.cli.fraud import _print_queue, print_plan\n")
    assert _private_imports(sample, "bankml.cli.demo") == ["bankml.cli.fraud._print_queue (line 1)"]
