import pytest

from bot.store import Database
from bot.store.faqs import ConflictError, FaqExists, FaqNotFound, FaqStore
from knowledge.faq import FaqStatus
from tests.factories import faq


def test_create_get_and_history(database: Database) -> None:
    with database.session() as session:
        FaqStore(session).create(faq("T-1"), actor="alice")
    with database.session() as session:
        store = FaqStore(session)
        row = store.get("T-1")
        assert row.question == "大型垃圾要怎麼預約清運？"
        assert row.alt_questions == ["舊沙發要怎麼丟", "大型家具回收"]
        (entry,) = store.history("T-1")
        assert (entry.action, entry.actor, entry.before, entry.revision) == ("create", "alice", None, 1)
        assert entry.after is not None
        assert entry.after["question"] == row.question


def test_creating_an_existing_id_is_refused(database: Database) -> None:
    with database.session() as session:
        FaqStore(session).create(faq("T-1"), actor="a")
    with pytest.raises(FaqExists), database.session() as session:
        FaqStore(session).create(faq("T-1"), actor="b")


def test_every_change_is_recorded_with_before_and_after(database: Database) -> None:
    with database.session() as session:
        FaqStore(session).create(faq("T-1", status=FaqStatus.DRAFT), actor="a")
    with database.session() as session:
        FaqStore(session).replace(
            faq("T-1", answer="新的答案。", status=FaqStatus.DRAFT), actor="b", expected_revision=1
        )
    with database.session() as session:
        FaqStore(session).set_status("T-1", FaqStatus.PUBLISHED, actor="c")
    with database.session() as session:
        history = FaqStore(session).history("T-1")
    assert [(h.revision, h.action, h.actor) for h in history] == [
        (1, "create", "a"),
        (2, "update", "b"),
        (3, "publish", "c"),
    ]
    assert history[1].before is not None
    assert history[1].after is not None
    assert (history[1].before["answer"], history[1].after["answer"]) == (faq().answer, "新的答案。")


def test_an_edit_on_a_stale_revision_is_refused_not_lost(database: Database) -> None:
    with database.session() as session:
        FaqStore(session).create(faq("T-1"), actor="a")
    with database.session() as session:
        FaqStore(session).replace(faq("T-1", answer="第一個人的修改。"), actor="a", expected_revision=1)
    with pytest.raises(ConflictError), database.session() as session:
        FaqStore(session).replace(faq("T-1", answer="第二個人的修改。"), actor="b", expected_revision=1)
    with database.session() as session:
        assert FaqStore(session).get("T-1").answer == "第一個人的修改。"


def test_concurrent_sessions_cannot_overwrite_each_other(database: Database) -> None:
    with database.session() as session:
        FaqStore(session).create(faq("T-1"), actor="a")
    first, second = database.sessions(), database.sessions()
    try:
        # both agents have the entry open (held, so the sessions keep what they read)
        seen_by_first, seen_by_second = FaqStore(first).get("T-1"), FaqStore(second).get("T-1")
        assert seen_by_first.revision == seen_by_second.revision == 1
        FaqStore(first).replace(faq("T-1", answer="甲的版本。"), actor="a")
        first.commit()
        with pytest.raises(ConflictError):
            FaqStore(second).replace(faq("T-1", answer="乙的版本。"), actor="b")
    finally:
        first.close()
        second.rollback()
        second.close()
    with database.session() as session:
        assert FaqStore(session).get("T-1").answer == "甲的版本。"


def test_the_kb_version_moves_only_when_the_published_set_changes(database: Database) -> None:
    with database.session() as session:
        store = FaqStore(session)
        assert store.kb_version() == 0
        store.create(faq("D-1", status=FaqStatus.DRAFT), actor="a")
        assert store.kb_version() == 0
        store.replace(faq("D-1", answer="草稿改一下。", status=FaqStatus.DRAFT), actor="a")
        assert store.kb_version() == 0
        store.set_status("D-1", FaqStatus.PUBLISHED, actor="a")
        assert store.kb_version() == 1
        store.replace(faq("D-1", answer="上線後再改。"), actor="a")
        assert store.kb_version() == 2
        store.set_status("D-1", FaqStatus.ARCHIVED, actor="a")
        assert store.kb_version() == 3
        assert store.published() == []


def test_search_pages_and_filters(database: Database) -> None:
    with database.session() as session:
        store = FaqStore(session)
        for n in range(25):
            store.create(
                faq(f"T-{n:02d}", question=f"第{n}個問題", agency="交通局" if n % 2 else "環保局"), actor="a"
            )
        store.create(faq("T-pct", question="100%_的問題"), actor="a")
    with database.session() as session:
        store = FaqStore(session)
        page = store.search(per_page=10, page=3)
        assert (page.total, len(page.items)) == (26, 6)
        assert store.search(agency="交通局").total == 12
        assert store.search(text="舊沙發").total == 26  # alternative questions are searched
        assert [r.id for r in store.search(text="%_").items] == ["T-pct"]  # wildcards are literal
        assert store.search(text="' OR 1=1 --").total == 0


def test_unknown_ids(database: Database) -> None:
    with pytest.raises(FaqNotFound), database.session() as session:
        FaqStore(session).get("nope")
