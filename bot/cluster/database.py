"""The cluster's PostgreSQL database: created when missing (the schema and the default
knowledge base then come from ``bot1999 setup``'s own code, ``bot.services.setup_store``)."""

from __future__ import annotations

import psycopg
from psycopg import errors, sql
from sqlalchemy.engine import make_url

__all__ = ["ensure_database"]


def ensure_database(url: str, *, maintenance_db: str = "postgres") -> bool:
    """Create the database ``url`` names unless it exists; True when it was created.

    Connects to ``maintenance_db`` on the same server with the same credentials, so the
    role needs CREATEDB (or the database must exist already, which is then all it checks).
    """
    parsed = make_url(url)
    name = parsed.database
    if not name:
        raise ValueError("the database URL names no database")
    admin = parsed.set(drivername="postgresql", database=maintenance_db)
    with psycopg.connect(
        admin.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
    ) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except errors.DuplicateDatabase:  # created meanwhile by another start-up
            return False
        return True
