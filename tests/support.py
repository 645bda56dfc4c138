"""Test helpers shared across suites."""

from __future__ import annotations

from bankml.cli.serve import BackgroundServer as LiveServer

__all__ = ["LiveServer"]
