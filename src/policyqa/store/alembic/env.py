"""Alembic's entry point. policyqa runs the steps on a connection it already holds,
inside one transaction under its migration lock (see ``policyqa.store.migrations``);
batch mode lets SQLite alter tables (it has no ALTER CONSTRAINT) by copying them."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
