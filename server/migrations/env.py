"""Alembic environment of the server schema: runs on the connection handed over by
server.db (config.attributes["connection"]) or on the URL in sqlalchemy.url."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from server.db import metadata

config = context.config


def run() -> None:
    """Run the migrations online (the server always has its database at hand)."""
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=metadata,
                          render_as_batch=conn.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as c:
            context.configure(connection=c, target_metadata=metadata,
                              render_as_batch=c.dialect.name == "sqlite")
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run()
