"""The live FAQ index: the retriever kept in step with the store's knowledge-base version.

Each process (bot replica, action server) keeps its own index. A background thread reads
the live version every ``interval`` seconds; when it moved, only the entries whose content
changed are re-indexed (their unchanged texts come from the vector cache), and withdrawn
ones are removed — seconds, no retraining, no downtime.

Staff synonym rules (``bot.store.synonyms``) are published with a knowledge-base version
too; when the published synonym version moved, a new retriever with the merged list is
built beside the serving one and swapped in (answers keep flowing meanwhile).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from bot.chat.faq import FaqCandidate, FaqOutcome
from bot.store import Database
from bot.store.faqs import FaqStore
from bot.store.synonyms import Published, SynonymStore, merge_synonyms
from knowledge.faq import FaqRecord
from knowledge.retriever import DECISION_DEPTH, Candidate, Decision, Retriever

T = TypeVar("T")

__all__ = ["LiveIndex"]

log = logging.getLogger(__name__)

WARM_UP_QUERY = "請問大型垃圾要怎麼預約清運？"
WARM_UP_PASSAGE = "大型垃圾可以打電話或上網預約，清潔隊會依約定的時間到府清運。"


class LiveIndex:
    """A ``FaqAnswerer`` over the published knowledge base; cheap to construct, ``warm_up()`` builds."""

    def __init__(self, database: Database, retriever: Retriever) -> None:
        self.database = database
        self.retriever = retriever
        self.version = -1
        self.synonyms_version = 0
        self._template = retriever
        self._hashes: dict[str, str] = {}
        self._lock = threading.RLock()
        self._refreshing = threading.Lock()  # one catch-up at a time: an older snapshot never lands last
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def warm_up(self) -> None:
        """Build the index from the store, then encode one query and one passage: the encoder's
        first-use work (loading the model, tracing its one-text path: seconds of CPU, much of it
        holding the GIL) is done here, not in the first degraded-mode answer or in the refresh
        after a publish, where it stalled every request of the process."""
        with self._lock:
            version, records, lexicon = self._published()
            if lexicon.version:
                self.retriever = self._template.with_synonyms(merge_synonyms(lexicon.rules))
            stats = self.retriever.build(records)
            self._hashes = {r.id: r.content_hash() for r in records}
            self.version, self.synonyms_version = version, lexicon.version
        log.info("FAQ index at knowledge-base version %d: %s", version, stats)
        encoder = self._template.encoder
        encoder.encode_queries([WARM_UP_QUERY])
        encoder.encode_passages([WARM_UP_PASSAGE])

    def _published(self) -> tuple[int, list[FaqRecord], Published]:
        with self.database.session() as session:
            store = FaqStore(session)
            return store.kb_version(), store.published(), SynonymStore(session).live()

    def _rebuild(self, version: int, records: list[FaqRecord], lexicon: Published) -> None:
        """A new retriever for a new synonym list, built while the old one keeps answering."""
        fresh = self._template.with_synonyms(merge_synonyms(lexicon.rules))
        stats = fresh.build(records)
        with self._lock:
            self.retriever = fresh
            self._hashes = {r.id: r.content_hash() for r in records}
            self.version, self.synonyms_version = version, lexicon.version
        log.info("FAQ index rebuilt for synonyms v%d at version %d: %s", lexicon.version, version, stats)

    def refresh(self) -> bool:
        """Catch up with the store; True when the index changed.

        Called every ``interval`` by the background thread, and right after a publish from the
        console so that the replica that took the edit answers with it at once.
        """
        with self._refreshing:
            return self._catch_up()

    def _catch_up(self) -> bool:
        with self.database.session() as session:
            if FaqStore(session).kb_version() == self.version:
                return False
        version, records, lexicon = self._published()
        if lexicon.version != self.synonyms_version:
            self._rebuild(version, records, lexicon)
            return True
        fresh = {r.id: r for r in records}
        with self._lock:
            changed = [r for r in records if self._hashes.get(r.id) != r.content_hash()]
            gone = [faq_id for faq_id in self._hashes if faq_id not in fresh]
            for record in changed:
                self.retriever.update(record)
            for faq_id in gone:
                self.retriever.remove(faq_id)
            self._hashes = {r.id: r.content_hash() for r in records}
            self.version = version
        log.info("FAQ index now at version %d (%d changed, %d removed)", version, len(changed), len(gone))
        return True

    def start(self, interval: float = 1.0) -> None:
        """Refresh in a background thread until ``stop()``."""

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.refresh()
                except Exception:  # keep serving the index we have; say why it is stale
                    log.exception("could not refresh the FAQ index")

        self._stop.clear()
        self._thread = threading.Thread(target=loop, name="faq-index-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- FaqAnswerer ---------------------------------------------------------------
    def decide(self, text: str) -> Decision:
        with self._lock:
            return self.retriever.decide(text)

    def answer(self, text: str) -> FaqOutcome:
        decision = self.decide(text)
        candidates = []
        for candidate in decision.candidates:
            record = self.get(candidate.faq_id)
            if record is not None:
                candidates.append(FaqCandidate(candidate.faq_id, record.question, candidate.score))
        best = self.get(decision.best.faq_id) if decision.kind == "answer" and decision.best else None
        return FaqOutcome(decision.kind, candidates, best)

    def inspect(self, text: str) -> tuple[Decision, list[Candidate]]:
        """The decision on ``text`` and every candidate weighed, also when it abstains (the console)."""
        with self._lock:
            candidates = self.retriever.search(text, k=DECISION_DEPTH)
            return self.retriever.decide(text, candidates), candidates

    def get(self, faq_id: str) -> FaqRecord | None:
        with self._lock:
            return self.retriever.record(faq_id)

    def reading(self, use: Callable[[Retriever], T]) -> T:
        """``use(retriever)`` while no refresh changes the index (several searches, one snapshot)."""
        with self._lock:
            return use(self.retriever)
