"""Every package's ``__all__`` is honest: each name it lists exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bankml

PACKAGES = sorted(
    m.name
    for m in pkgutil.walk_packages(bankml.__path__, "bankml.")
    if m.ispkg and ".migrations" not in m.name
)


@pytest.mark.parametrize("name", PACKAGES)
def test_package_all_names_resolve(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported, f"{name} has no __all__"
    for attr in exported:
        assert getattr(module, attr, None) is not None, f"{name}.{attr} does not exist"


MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(bankml.__path__, "bankml.")
    if not m.ispkg
    and ".migrations" not in m.name
    and not m.name.rsplit(".", 1)[1].startswith("_")
    and not m.name.startswith("bankml.cli.")
)


@pytest.mark.parametrize("name", MODULES)
def test_module_all_names_resolve(name: str) -> None:
    module = importlib.import_module(name)
    for attr in getattr(module, "__all__", []):
        assert hasattr(module, attr), f"{name}.{attr} is listed in __all__ but missing"
