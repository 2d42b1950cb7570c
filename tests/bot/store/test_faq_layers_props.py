"""The harvest's promise, on generated histories (hypothesis).

Any sequence of upstream changes, imports (applied or held for review), staff edits,
publishes, archives, rollbacks and review decisions never loses a staff edit, and never
changes what citizens see without either a staff action or an upstream change to a field
staff did not override. After every step the entry is the merge of its two layers, and a
change to what citizens see moves the knowledge-base version (the indexes refresh).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.store import Database
from bot.store.faq_layers import Resolution, load_layers, merge
from bot.store.faqs import FaqStore, row_to_record
from bot.store.kb_import import import_rows
from bot.store.models import FaqReviewRow, FaqRevisionRow
from knowledge.faq import FaqRecord, FaqStatus
from knowledge.importers import Parsed
from tests.factories import faq

FIELDS = {
    "question": st.sampled_from(["大型垃圾要怎麼預約清運？", "大型垃圾怎麼丟？", "沙發怎麼丟？"]),
    "answer": st.sampled_from(["請打電話給清潔隊。", "請上網預約。", "請洽環保局。"]),
    "alt_questions": st.sampled_from([[], ["沙發要怎麼丟"], ["舊床墊", "沙發要怎麼丟"]]),
    "keywords": st.sampled_from([[], ["沙發"], ["大型垃圾", "清運"]]),
    "category": st.sampled_from(["環保與垃圾", "清潔", ""]),
}
FIELD = st.sampled_from(sorted(FIELDS))

STEP = st.one_of(
    st.tuples(st.just("upstream"), FIELD).flatmap(
        lambda t: st.tuples(st.just(t[0]), st.just(t[1]), FIELDS[t[1]])
    ),
    st.tuples(st.just("harvest"), st.booleans()),
    st.tuples(st.just("edit"), FIELD).flatmap(
        lambda t: st.tuples(st.just(t[0]), st.just(t[1]), FIELDS[t[1]])
    ),
    st.tuples(st.sampled_from(["publish", "archive", "draft"])),
    st.tuples(st.just("rollback"), st.integers(min_value=0, max_value=20)),
    st.tuples(st.just("resolve"), st.sampled_from(list(Resolution)[:3])),
)

BUDGET = settings(
    max_examples=int(os.environ.get("BOT1999_PROPS_EXAMPLES", "60")),
    deadline=None,
    derandomize=not os.environ.get("BOT1999_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class World:
    """The store under test and what the test knows: upstream, the last applied source, staff's values."""

    def __init__(self, database: Database) -> None:
        self.db = database
        self.upstream: dict[str, Any] = faq("A").content()
        self.source: dict[str, Any] = {}
        self.staff: dict[str, Any] = {}  # fields staff set, with what they set

    def live(self) -> tuple[dict[str, Any], int]:
        with self.db.session() as session:
            store = FaqStore(session)
            return row_to_record(store.get("A")).content(), store.kb_version()

    def harvest(self, hold: bool) -> None:
        record = FaqRecord.model_validate({**self.upstream, "id": "A"})
        with self.db.session() as session:
            import_rows(session, [Parsed("line 1", record)], actor="harvest", hold=hold)

    def staff_sets(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        for field in FIELDS:
            if before[field] != after[field]:
                if after[field] == self.source[field]:
                    self.staff.pop(field, None)
                else:
                    self.staff[field] = after[field]


def _step(world: World, step: tuple[Any, ...]) -> set[str]:
    """Run one step; return the fields it may change in what citizens see."""
    kind = step[0]
    before, _ = world.live()
    if kind == "upstream":
        world.upstream[step[1]] = step[2]
        return set()
    if kind == "harvest":
        hold = step[1]
        upstream_changed = {f for f in FIELDS if world.upstream[f] != world.source[f]}
        world.harvest(hold)
        if hold:
            return set()
        world.source = {f: world.upstream[f] for f in world.source}
        return {f for f in upstream_changed if f not in world.staff}
    with world.db.session() as session:
        store = FaqStore(session)
        row = store.get("A")
        if kind == "edit":
            record = row_to_record(row).model_copy(update={step[1]: step[2]})
            store.replace(record, actor="curator")
        elif kind in {"publish", "archive", "draft"}:
            status = {
                "publish": FaqStatus.PUBLISHED,
                "archive": FaqStatus.ARCHIVED,
                "draft": FaqStatus.DRAFT,
            }[kind]
            store.set_status("A", status, actor="curator")
            return {"status"}
        elif kind == "rollback":
            revisions = [r for r in store.history("A") if r.after is not None]
            target = revisions[step[1] % len(revisions)].after
            assert target is not None
            record = FaqRecord.model_validate({**target, "id": "A", "status": row.status})
            store.replace(record, actor="curator", action="rollback")
        else:
            item = session.query(FaqReviewRow).filter_by(faq_id="A", status="open").one_or_none()
            if item is None:
                return set()
            if item.held:
                world.source = {**world.source, **{f: item.new_source[f] for f in FIELDS}}
            fields = set(item.fields)
            choice = step[1]
            store.resolve(item.id, choice, actor="curator", edited={f: before[f] for f in fields})
            for field in fields & set(FIELDS):
                if choice is Resolution.TAKE_THEIRS or before[field] == world.source[field]:
                    world.staff.pop(field, None)
                else:
                    world.staff[field] = before[field]
            return fields if choice is Resolution.TAKE_THEIRS else set()
    after, _ = world.live()
    world.staff_sets(before, after)
    return set(FIELDS)


def _check(world: World, step: tuple[Any, ...], before: dict[str, Any], version: int, may: set[str]) -> None:
    after, new_version = world.live()
    changed = {f for f in after if after[f] != before[f]}
    assert changed <= may | ({"status"} if step[0] in {"publish", "archive", "draft"} else set()), (
        step,
        changed,
    )
    if step[0] == "harvest":
        assert all(after[f] == world.upstream[f] for f in changed), step
    for field, value in world.staff.items():
        assert after[field] == value, f"staff's {field} lost after {step}"
    if changed and "published" in {before["status"], after["status"]}:
        assert new_version > version, f"citizens' answers changed without a new version after {step}"
    with world.db.session() as session:
        layers = load_layers(session, "A")
        merged = merge(layers.source_content, layers.override_values)
        assert {f: after[f] for f in merged} == merged


@given(steps=st.lists(STEP, min_size=1, max_size=14))
@BUDGET
def test_no_staff_edit_is_lost_and_nothing_changes_unasked(
    sqlite_template: Path, steps: list[tuple[Any, ...]]
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="layers-"))
    try:
        shutil.copyfile(sqlite_template, folder / "store.db")
        world = World(Database(f"sqlite:///{folder / 'store.db'}"))
        world.harvest(hold=False)
        world.source = {f: world.upstream[f] for f in FIELDS}
        for step in steps:
            before, version = world.live()
            may = _step(world, step)
            _check(world, step, before, version, may)
        with world.db.session() as session:
            assert session.query(FaqRevisionRow).count() >= 1
        world.db.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
