"""The app database's Alembic migrations (one linear chain for every slice's tables).

They live outside ``core`` because they create every slice's tables; ``bankml.app.SCHEMA``
points ``core.storage`` at this folder and lists the table modules.
"""

from pathlib import Path

__all__ = ["MIGRATIONS_DIR"]

MIGRATIONS_DIR = Path(__file__).parent
"""The folder holding ``env.py`` and ``versions/``."""
