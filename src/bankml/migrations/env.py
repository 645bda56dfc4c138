"""Alembic environment: bankml always hands over an open connection and the target metadata.

The metadata comes from ``core.storage.Schema.load()``, which imports the table modules the
wiring lists (``bankml.app.SCHEMA``); this file names no slice.
"""

from alembic import context

connection = context.config.attributes["connection"]
target_metadata = context.config.attributes["target_metadata"]
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
