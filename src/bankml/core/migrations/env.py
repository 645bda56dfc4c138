"""Alembic environment: bankml always hands over an open connection (see core.storage)."""

from alembic import context

from bankml.core.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
