import pytest

from bot.store import Database
from bot.store.faqs import FaqStore
from bot.store.synonyms import SynonymInputError, SynonymStore, merge_synonyms
from knowledge.synonyms import default_synonyms


def test_rules_are_folded_drafted_then_published_with_a_kb_version(database: Database) -> None:
    with database.session() as session:
        store = SynonymStore(session)
        row = store.set_rule(" 垃圾車 ", "清運車", actor="amy", note="口語")
        assert (row.variant, row.canonical) == ("垃圾車", "清運車")
        store.set_rule("ＡＢＣ卡", "悠遊卡", actor="amy")  # full width and upper case fold
        assert store.draft() == {"垃圾車": "清運車", "abc卡": "悠遊卡"}
        assert store.live().version == 0
        assert store.unpublished()
    with database.session() as session:
        version = SynonymStore(session).publish(actor="amy", note="first")
        assert FaqStore(session).kb_version() == 1
    with database.session() as session:
        store = SynonymStore(session)
        assert store.live().version == version
        assert store.live().rules == {"垃圾車": "清運車", "abc卡": "悠遊卡"}
        assert not store.unpublished()
        store.set_rule("垃圾車", "垃圾清運", actor="bob")
        assert store.delete_rule("abc卡")
        assert not store.delete_rule("abc卡")
        second = store.publish(actor="bob")
        assert store.live().rules == {"垃圾車": "垃圾清運"}
        third = store.rollback(version, actor="bob")
        assert third > second
        assert store.live().rules == {"垃圾車": "清運車", "abc卡": "悠遊卡"}
        assert [v.id for v in store.versions()] == [third, second, version]
        assert FaqStore(session).kb_version() == 3


@pytest.mark.parametrize(
    ("variant", "canonical", "message"),
    [
        ("", "兵役", "請填寫"),
        ("兵役", "兵役", "相同"),
        ("兵", "兵役", "至少要 2 個字"),
        ("a\tb", "c", "Tab"),
        ("長" * 51, "短", "最多"),
    ],
)
def test_bad_rules_are_refused(database: Database, variant: str, canonical: str, message: str) -> None:
    with pytest.raises(SynonymInputError, match=message), database.session() as session:
        SynonymStore(session).set_rule(variant, canonical, actor="amy")


def test_rolling_back_to_a_missing_version_is_refused(database: Database) -> None:
    with pytest.raises(SynonymInputError), database.session() as session:
        SynonymStore(session).rollback(99, actor="amy")


def test_staff_rules_merge_over_the_shipped_list() -> None:
    shipped = default_synonyms()
    assert shipped.apply("當兵") == "兵役"
    merged = merge_synonyms({"當兵": "", "qq卡": "悠遊卡"})
    assert merged.apply("當兵") == "當兵"  # the shipped rule is switched off
    assert merged.apply("qq卡") == "悠遊卡"
    assert merged.apply("兵單") == shipped.apply("兵單")  # the rest stays
    assert len(merged) == len(shipped)
