"""What learning from citizens buys: replay one query of each pair as citizens' traffic, approve,
then score the other query of each pair (held back) and the whole set, before and after.

    python -m bench.learning_curve [--data ../shared/data] [--sets kaohsiung,default] [--citizens 3]
                                   [--policies default,auto] [--json FILE]

Sets: ``kaohsiung`` (the city's 1,427 FAQs and its development queries, read from ../shared/data)
and ``default`` (knowledge/content with tests/data). In each, the entries with at least two
in-scope queries give a pair: the first query is replayed as traffic, the second is held back.

Replay goes through the real chat path against a temporary SQLite store holding the base: the
chat service (``bot.chat.service``, the dialogue engine away, so every turn is the knowledge
base's — the same recording as with Rasa), the live index over the store, and the recording and
suggestion code of ``bot.learning``. Each replayed query is sent by ``--citizens`` distinct
simulated citizens, who pick the right entry when a "did you mean" list offers it, rate
"helpful" when answered right and "did not help" when answered wrongly. Then the policy:

- ``default``: suggestions at 2 citizens; simulated staff approve every suggestion that is not
  flagged (it would change the top answer of another entry's phrasing) and not a conflict;
- ``auto``: auto-approval on (3 citizens, no "did not help", no conflict); nobody approves.

Before and after are scored as ``bot1999 evaluate`` scores them: a fresh index built from the
published entries (``knowledge.evaluate``). ``whole set`` includes the replayed queries, which
are in-sample after learning.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from bot.chat.breaker import Breaker
from bot.chat.degraded import DegradedResponder
from bot.chat.engine import EngineTurn, EngineUnavailable
from bot.chat.service import ChatService
from bot.kb_index import LiveIndex
from bot.learning.suggestions import approve, conflicts, decisions, suggestions
from bot.learning.takeover import takeovers
from bot.messages import Incoming, pick_payload
from bot.retrieval import make_encoder, make_retriever
from bot.settings import CitizenLearningSettings, Settings, load_settings
from bot.store import Database
from bot.store.faqs import FaqStore
from bot.store.kb_import import import_rows
from bot.store.models import LearnedPairingRow, TurnRow
from knowledge.encoder import Encoder
from knowledge.evaluate import EvalCase, Metrics, evaluate, gold_ids, read_cases
from knowledge.faq import FaqRecord, FaqStatus
from knowledge.importers import Parsed, read_records

REPO = Path(__file__).resolve().parents[1]
STAFF = "simulated-staff"


class _Away:
    """The dialogue engine away: every turn is answered from the knowledge base."""

    async def handle(self, conversation_id: str, message: Incoming) -> EngineTurn:
        raise EngineUnavailable("the benchmark replays the knowledge-base path")


@dataclass(frozen=True)
class LabelledSet:
    name: str
    records: list[FaqRecord]
    cases: list[EvalCase]


def _kaohsiung(data: Path) -> LabelledSet:
    records = [row.record for row in read_records(data / "kaohsiung_faq.jsonl", "jsonl")]
    return LabelledSet("kaohsiung", records, read_cases(data / "eval" / "kaohsiung_dev_queries.jsonl"))


def _default() -> LabelledSet:
    records = [row.record for row in read_records(REPO / "knowledge" / "content", "jsonl")]
    cases = [case for path in sorted((REPO / "tests" / "data").glob("*.jsonl")) for case in read_cases(path)]
    return LabelledSet("default", records, cases)


def split(cases: list[EvalCase]) -> tuple[list[EvalCase], list[EvalCase]]:
    """(replayed, held back): the first and second query of every entry that has two or more."""
    by_gold: dict[tuple[str, ...], list[EvalCase]] = {}
    for case in cases:
        gold = tuple(sorted(gold_ids(case)))  # an entry and its duplicates, when both are right
        if gold:
            by_gold.setdefault(gold, []).append(case)
    pairs = [queries[:2] for queries in by_gold.values() if len(queries) >= 2]
    return [pair[0] for pair in pairs], [pair[1] for pair in pairs]


def _score(
    settings: Settings, encoder: Encoder, records: list[FaqRecord], *sets: list[EvalCase]
) -> list[Metrics]:
    """Each set of cases scored on one fresh index of ``records``."""
    retriever = make_retriever(settings.knowledge, encoder)
    retriever.build(records)
    return [evaluate(retriever, cases) for cases in sets]


class Replay:
    """A temporary store with the base, the live index over it and the chat service in front."""

    def __init__(self, folder: Path, settings: Settings, encoder: Encoder, labelled: LabelledSet) -> None:
        self.database = Database(f"sqlite:///{folder / 'store.db'}")
        self.database.migrate()
        live = [r.model_copy(update={"status": FaqStatus.PUBLISHED}) for r in labelled.records]
        with self.database.session() as session:
            import_rows(session, [Parsed(f"row {n}", r) for n, r in enumerate(live, 1)], actor="bench")
        self.index = LiveIndex(self.database, make_retriever(settings.knowledge, encoder))
        self.index.warm_up()
        self.policy = settings.citizen_learning
        self.chat = ChatService(
            _Away(),
            DegradedResponder(self.index),
            self.database,
            pseudonym_key="learning-curve",
            breaker=Breaker(0),
            citizen_learning=self.policy,
        )

    def _say(self, who: str, **fields: str) -> TurnRow:
        message = Incoming(channel="web", user_id=who, **fields)
        asyncio.run(self.chat.handle(message))
        with self.database.session() as session:
            row = session.scalars(
                select(TurnRow)
                .where(TurnRow.conversation_id == self.chat.conversation_id(message))
                .order_by(TurnRow.id.desc())
                .limit(1)
            ).one()
            session.expunge(row)
            return row

    def citizen(self, who: str, case: EvalCase) -> str:
        """One simulated citizen asks ``case``: what happened (answered right / wrong, picked, …)."""
        gold = gold_ids(case)
        turn = self._say(who, text=case["query"])
        if turn.decision == "clarify":
            offered = [faq_id for faq_id in turn.candidates if faq_id in gold]
            if not offered:
                return "not offered"
            turn = self._say(who, payload=pick_payload(offered[0]))
            self._say(who, payload="/feedback_good")
            return "picked"
        if turn.decision == "answer":
            right = turn.faq_id in gold
            self._say(who, payload="/feedback_good" if right else "/feedback_bad")
            return "answered right" if right else "answered wrong"
        return "abstained"

    def staff_approve(self) -> tuple[int, int, int, int]:
        """Simulated staff approve every unflagged suggestion: (suggested, flagged, conflicts, approved)."""
        with self.database.session() as session:
            found = suggestions(session, min_citizens=self.policy.min_citizens)
            disputed = conflicts(session, min_citizens=self.policy.min_citizens)
        self.index.refresh()
        flagged = {
            (s.key, s.faq_id)
            for s in found
            if self.index.reading(lambda retriever, s=s: takeovers(retriever, s.phrasing, s.faq_id))  # type: ignore[misc]
        }
        chosen = [(s.key, s.faq_id) for s in found if (s.key, s.faq_id) not in flagged]
        done = []
        if chosen:
            with self.database.session() as session:
                done = approve(session, chosen, actor=STAFF, min_citizens=self.policy.min_citizens)
        return len(found), len(flagged), len({c.key for c in disputed}), len(done)

    def counts(self) -> tuple[int, int]:
        """(pairings recorded, phrasings approved or auto-approved)."""
        with self.database.session() as session:
            pairings = int(session.scalar(select(func.count()).select_from(LearnedPairingRow)) or 0)
            return pairings, len(decisions(session))

    def published(self) -> list[FaqRecord]:
        with self.database.session() as session:
            return FaqStore(session).published()

    def close(self) -> None:
        self.database.dispose()


def _pct(value: float) -> str:
    return f"{value * 100:5.1f}"


def _row(name: str, before: Metrics, after: Metrics) -> str:
    cells = [
        f"{_pct(getattr(before, field))} → {_pct(getattr(after, field))}"
        for field in ("top1", "answered_correct", "answered_wrong")
    ]
    return f"  {name:<22}{before.n_in_scope:>5}   " + "   ".join(f"{cell:<15}" for cell in cells)


def run_set(
    labelled: LabelledSet, settings: Settings, encoder: Encoder, citizens: int, chosen: list[str]
) -> dict[str, object]:
    replayed, held = split(labelled.cases)
    print(
        f"{labelled.name}: {len(labelled.records):,} entries, {len(labelled.cases)} queries;"
        f" {len(replayed)} entries with two queries: one replayed by {citizens} citizens each, one held back"
    )
    started = time.perf_counter()
    before_held, before_all = _score(settings, encoder, labelled.records, held, labelled.cases)
    out: dict[str, object] = {"entries": len(labelled.records), "pairs": len(replayed)}
    policies = {
        "default": CitizenLearningSettings(),
        "auto": CitizenLearningSettings(auto_approve=True),
    }
    for name, policy in policies.items():
        if name not in chosen:
            continue
        policy_settings = settings.model_copy(update={"citizen_learning": policy})
        with tempfile.TemporaryDirectory(prefix="learning-curve-") as folder:
            replay = Replay(Path(folder), policy_settings, encoder, labelled)
            outcomes: dict[str, int] = {}
            for n, case in enumerate(replayed):
                for c in range(citizens):
                    what = replay.citizen(f"{labelled.name}-{n}-{c}", case)
                    outcomes[what] = outcomes.get(what, 0) + 1
            if name == "default":
                suggested, flagged, disputed, _ = replay.staff_approve()
                how = (
                    f"suggested at {policy.min_citizens} citizens: {suggested}, flagged (would change another"
                    f" entry's answer, left to a person) {flagged}, conflicts {disputed}; simulated staff approve the rest"
                )
            else:
                how = (
                    f"auto-approval at {policy.auto_min_citizens} citizens, no 'did not help', no conflict;"
                    " nobody approves"
                )
            pairings, learned = replay.counts()
            records = replay.published()
            replay.close()
        after_held, after_all = _score(settings, encoder, records, held, labelled.cases)
        turns = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
        print(f" policy {name}: {how}")
        print(f"  replayed asks: {turns}; {pairings} pairings recorded, {learned} phrasings published")
        print(
            f"  {'(percent)':<22}{'n':>5}   {'top-1':<15}   {'answered right':<15}   {'answered wrong':<15}"
        )
        print(_row("held-back queries", before_held, after_held))
        print(_row("whole set (in-sample)", before_all, after_all))
        out[name] = {
            "learned": learned,
            "pairings": pairings,
            "asks": outcomes,
            "held": {"before": before_held.__dict__, "after": after_held.__dict__},
            "all": {"before": before_all.__dict__, "after": after_all.__dict__},
        }
    print(f"  ({time.perf_counter() - started:.0f} s)")
    print()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--sets", default="kaohsiung,default")
    parser.add_argument("--citizens", type=int, default=3, help="distinct citizens replaying each query")
    parser.add_argument("--policies", default="default,auto", help="default, auto or both")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    logging.getLogger("bot.chat.service").setLevel(logging.ERROR)  # "answering in degraded mode", every turn
    settings = load_settings()
    encoder = make_encoder(settings.knowledge)
    results: dict[str, object] = {}
    for name in args.sets.split(","):
        if name == "kaohsiung":
            if not (args.data / "kaohsiung_faq.jsonl").is_file():
                print(f"kaohsiung: skipped, no {args.data / 'kaohsiung_faq.jsonl'}", file=sys.stderr)
                continue
            labelled = _kaohsiung(args.data)
        elif name == "default":
            labelled = _default()
        else:
            raise SystemExit(f"unknown set {name!r}: kaohsiung or default")
        results[name] = run_set(labelled, settings, encoder, args.citizens, args.policies.split(","))
    if args.json is not None:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
