"""LiveIndex follows the store: FAQ publishes patch it, a synonym publish rebuilds its normalisation."""

from pathlib import Path

from bot.kb_index import LiveIndex
from bot.store import Database
from bot.store.faqs import FaqStore
from bot.store.kb_import import import_rows
from bot.store.synonyms import SynonymStore
from knowledge.encoder import load_encoder
from knowledge.importers import Parsed
from knowledge.retriever import Retriever
from tests.factories import faq
from tests.knowledge._fixtures import CountingEncoder

RECORDS = [
    faq("F-1"),
    faq("F-2", question="房屋稅什麼時候繳？", answer="每年五月繳納房屋稅。", alt_questions=["房屋稅期限"]),
]


def _lexical(index: LiveIndex, query: str, faq_id: str) -> float:
    _, candidates = index.inspect(query)
    return next((c.lexical for c in candidates if faq_id in c.ids), 0.0)


def test_a_published_synonym_rule_reaches_the_live_index(database: Database, tmp_path: Path) -> None:
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
    retriever = Retriever(load_encoder("hashing", tmp_path), cache_root=tmp_path / "vectors")
    index = LiveIndex(database, retriever)
    index.warm_up()
    assert (index.synonyms_version, _lexical(index, "qqzz", "F-2")) == (0, 0.0)
    with database.session() as session:
        SynonymStore(session).set_rule("qqzz", "房屋稅", actor="amy")
    assert not index.refresh()  # a draft rule changes nothing
    with database.session() as session:
        version = SynonymStore(session).publish(actor="amy")
    assert index.refresh()
    assert index.synonyms_version == version
    assert _lexical(index, "qqzz", "F-2") > 0
    assert _lexical(index, "當兵", "F-2") == 0.0  # the shipped rules still apply on both sides

    with database.session() as session:  # FAQ edits after the rebuild still patch the new index
        store = FaqStore(session)
        record = RECORDS[1].model_copy(update={"alt_questions": ["房屋稅期限", "厝稅"]})
        store.replace(record, actor="amy")
    assert index.refresh()
    assert _lexical(index, "厝稅", "F-2") > 0

    fresh = LiveIndex(database, Retriever(load_encoder("hashing", tmp_path), cache_root=tmp_path / "vectors"))
    fresh.warm_up()  # a new process starts with the published staff rules
    assert fresh.synonyms_version == version
    assert _lexical(fresh, "qqzz", "F-2") > 0


def test_warm_up_runs_the_encoder_once_on_each_side(database: Database, tmp_path: Path) -> None:
    """With every FAQ vector cached, building encodes nothing, so warm-up encodes one query and
    one passage itself: a model's first-use work (tracing) is not left to a citizen's turn or
    to the refresh after a publish."""
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
    LiveIndex(
        database, Retriever(CountingEncoder(), cache_root=tmp_path / "vectors")
    ).warm_up()  # fills the cache
    encoder = CountingEncoder()
    index = LiveIndex(database, Retriever(encoder, cache_root=tmp_path / "vectors"))
    index.warm_up()
    assert list(zip(encoder.sides, encoder.calls, strict=True)) == [("query", 1), ("passage", 1)]
    assert index.decide("房屋稅什麼時候繳？").best is not None
