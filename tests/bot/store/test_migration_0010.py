"""Migration 0010 (private cases): cases filed from a request for a person become conversation
excerpts, the others stay the citizen's own words; it goes down and up again cleanly."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from bot.handoff.takeover import file_from_transcript
from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from bot.store.db import _alembic_config, current_revision
from bot.store.turns import Turn, TurnStore


def test_0010_marks_the_excerpts_of_earlier_handoffs_and_goes_down_and_up(database: Database) -> None:
    head = current_revision(database.engine)
    with database.session() as session:
        TurnStore(session).log(Turn("p_c", "p_c", "web", text="我要找真人", reply=["…"]))
        excerpt = file_from_transcript(session, "p_c", channel="web", reason="非服務時間").number
        own = (
            CaseStore(session)
            .file(NewCase("street_light", "路燈不亮", "web", "s", location_text="中正路口"))
            .number
        )
    command.downgrade(_alembic_config(database.engine), "0009")
    assert "status_check" not in inspect(database.engine).get_table_names()
    assert "origin" not in {c["name"] for c in inspect(database.engine).get_columns("case_file")}
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM case_event")).scalar() == 2, "history kept"
    database.migrate()
    assert current_revision(database.engine) == head
    with database.engine.connect() as connection:
        origins = dict(connection.execute(text("SELECT number, origin FROM case_file")).all())
    assert origins == {excerpt: "conversation", own: "citizen"}
