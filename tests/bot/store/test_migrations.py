from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store import Database
from bot.store.db import current_revision
from bot.store.models import Base


def test_migrations_build_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_migrating_again_is_a_no_op(database: Database) -> None:
    before = current_revision(database.engine)
    database.migrate()
    assert current_revision(database.engine) == before is not None
