"""Seeded turns: the dashboard's figures equal figures computed here from the raw rows.

``make test`` seeds 5,000 turns; ``make bench`` runs this module again on 100,000
(``BOT1999_SEEDED_TURNS=100000``), beside the dashboard's timings on as many.

The reference below reads the turn, FAQ, case and handoff tables as they are and applies the
definitions of docs/metrics.md in plain Python, written apart from ``bot.metrics`` (one pass
per conversation, sets for unique users, ``statistics.median``), so a mistake in the derived
table, the daily sums, the SQL or the incremental refresh shows up as a difference.
"""

from __future__ import annotations

import json
import os
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bench.seed_turns import seed
from bot.agencies import canonical_agency
from bot.cases import CATEGORIES
from bot.metrics.queries import Figures, Filters, breakdown, summary, trend, unanswered
from bot.metrics.refresh import refresh
from bot.store import Database
from bot.store.models import CaseRow, FaqRow, HandoffRow, TurnRow
from bot.store.turns import Turn, TurnStore
from knowledge.normalize import question_key

pytestmark = pytest.mark.slow

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 5, 1, tzinfo=UTC)
TURNS = int(os.environ.get("BOT1999_SEEDED_TURNS", "5000"))  # the first 95 %, then the rest incrementally
CASE_NAMES = {c.code: c.name for c in CATEGORIES}


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def local(value: datetime) -> str:
    return utc(value).astimezone(TAIPEI).date().isoformat()


@dataclass
class Derived:
    """What the reference decides about one turn."""

    turn: dict[str, Any]
    day: str
    category: str = ""
    agency: str = ""
    question: bool = False
    decision: str = ""
    answered: bool = False
    successful: bool = False
    feedback: str = ""
    key: str = ""


@dataclass
class Reference:
    rows: list[Derived] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    handoffs: list[tuple[str, str, str, str]] = field(default_factory=list)  # day, channel, category, agency


def intent_of(turn: dict[str, Any]) -> str:
    payload = turn["payload"]
    if payload.startswith("/"):
        name = payload[1:].split("{", 1)[0]
        if name and all(ch.isalnum() or ch == "_" for ch in name):
            return name
    return str(turn["intent"])


def is_question(turn: dict[str, Any]) -> bool:
    return turn["decision"] in ("answer", "clarify", "abstain") and intent_of(turn) != "pick_suggestion"


def derive(conversation: list[dict[str, Any]], faqs: dict[str, tuple[str, str]]) -> list[Derived]:
    def faq_topic(turn: dict[str, Any], faq_id: str) -> tuple[str, str]:
        # one agency is one name on the dashboard: the city's agency list is the specification
        if turn["category"] or turn["agency"]:
            return turn["category"], canonical_agency(turn["agency"])
        category, agency = faqs.get(faq_id, ("", ""))
        return category, canonical_agency(agency)

    out = [Derived(turn=t, day=local(t["at"])) for t in conversation]
    topic = ("", "")
    for i, row in enumerate(out):
        turn = row.turn
        if is_question(turn):
            row.question, row.decision = True, turn["decision"]
            answer_at = None
            if turn["decision"] == "answer":
                answer_at = i
            elif turn["decision"] == "clarify" and i + 1 < len(out):
                nxt = out[i + 1].turn
                if intent_of(nxt) == "pick_suggestion" and nxt["decision"] == "answer":
                    answer_at = i + 1
            if answer_at is None:
                topic = faq_topic(turn, turn["candidates"][0] if turn["candidates"] else "")
                row.key = question_key(turn["text_redacted"])[:200]
            else:
                answer = out[answer_at].turn
                topic = faq_topic(answer, answer["faq_id"])
                row.answered = True
                complaint = False
                for offset, later in enumerate(out[answer_at + 1 : answer_at + 3]):
                    what = intent_of(later.turn)
                    if what in ("feedback_bad", "ask_human") or (what == "deny" and offset == 0):
                        complaint = True
                    elif is_question(later.turn):
                        mine = question_key(turn["text_redacted"])
                        if (mine and question_key(later.turn["text_redacted"]) == mine) or (
                            answer["faq_id"]
                            and (
                                answer["faq_id"] in later.turn["candidates"]
                                or later.turn["faq_id"] == answer["faq_id"]
                            )
                        ):
                            complaint = True
                row.successful = not complaint
                if answer["feedback"] in ("good", "bad"):
                    row.feedback = answer["feedback"]
                elif answer_at + 1 < len(out):
                    row.feedback = {"affirm": "good", "deny": "bad"}.get(
                        intent_of(out[answer_at + 1].turn), ""
                    )
        row.category, row.agency = topic
    return out


def reference(database: Database) -> Reference:
    with database.session() as session:
        columns = [
            c for c in TurnRow.__table__.columns if c.name not in ("text", "reply", "intent_confidence")
        ]
        turns = [dict(r._mapping) for r in session.execute(select(*columns))]
        faqs = {
            f.id: (f.category, f.agency)
            for f in session.execute(select(FaqRow.id, FaqRow.category, FaqRow.agency))
        }
        cases = [dict(r._mapping) for r in session.execute(select(*CaseRow.__table__.columns))]
        handoffs = [
            dict(r._mapping)
            for r in session.execute(
                select(HandoffRow.conversation_id, HandoffRow.channel, HandoffRow.requested_at)
            )
        ]
    by_conversation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for turn in turns:
        turn["at"] = utc(turn["at"])
        if isinstance(turn["candidates"], str):
            turn["candidates"] = json.loads(turn["candidates"])
        by_conversation[turn["conversation_id"]].append(turn)
    ref = Reference()
    for conversation in by_conversation.values():
        conversation.sort(key=lambda t: (t["at"], t["id"]))
        ref.rows += derive(conversation, faqs)
    ref.cases = cases
    timeline: dict[str, list[Derived]] = defaultdict(list)
    for row in ref.rows:
        timeline[row.turn["conversation_id"]].append(row)
    for handoff in handoffs:
        asked = utc(handoff["requested_at"])
        before = [r for r in timeline.get(handoff["conversation_id"], []) if r.turn["at"] <= asked]
        last = max(before, key=lambda r: (r.turn["at"], r.turn["id"])) if before else None
        channel = handoff["channel"] or (last.turn["channel"] if last else "")
        ref.handoffs.append(
            (local(asked), channel, last.category if last else "", last.agency if last else "")
        )
    return ref


def expected(
    ref: Reference, f: Filters, key: Callable[[str, str, str, str], str] | None = None
) -> dict[str, Figures]:
    """Figures per group (``key(day, channel, category, agency)``), or for the whole ("")."""
    group = key or (lambda *_: "")
    start, end = f.start.isoformat(), f.end.isoformat()

    def chosen(day: str, channel: str, category: str, agency: str) -> bool:
        return (
            start <= day <= end
            and (not f.channel or channel == f.channel)
            and (not f.category or category == f.category)
            and (not f.agency or agency == f.agency)
        )

    tallies: dict[str, Counter[str]] = defaultdict(Counter)
    users: dict[str, set[str]] = defaultdict(set)
    latencies: dict[str, list[float]] = defaultdict(list)
    for row in ref.rows:
        channel = row.turn["channel"]
        if not chosen(row.day, channel, row.category, row.agency):
            continue
        g = group(row.day, channel, row.category, row.agency)
        users[g].add(row.turn["sender"])
        tally = tallies[g]
        tally["turns"] += 1
        tally["questions"] += row.question
        tally["answered"] += row.answered
        tally["successful"] += row.successful
        tally["clarified"] += row.decision == "clarify"
        tally["abstained"] += row.decision == "abstain"
        tally["feedback_good"] += row.feedback == "good"
        tally["feedback_bad"] += row.feedback == "bad"
        if row.turn["latency_ms"] is not None and row.turn["decision"] != "agent":
            latencies[g].append(row.turn["latency_ms"])
    codes = [code for code, name in CASE_NAMES.items() if f.category in (code, name)] or [f.category]
    period_start = datetime.combine(f.start, time(), TAIPEI)
    period_end = datetime.combine(f.end + timedelta(days=1), time(), TAIPEI)
    for case in ref.cases:
        created = utc(case["created_at"])
        if not period_start <= created < period_end:
            continue
        if (f.channel and case["channel"] != f.channel) or (f.agency and case["agency"] != f.agency):
            continue
        if f.category and case["category"] not in codes:
            continue
        g = group(
            local(created),
            case["channel"],
            CASE_NAMES.get(case["category"], case["category"]),
            case["agency"],
        )
        tallies[g]["cases_filed"] += 1
        finished = utc(case["closed_at"]) if case["closed_at"] else NOW
        tallies[g]["cases_overdue"] += finished > utc(case["due_at"])
    for day, channel, category, agency in ref.handoffs:
        if chosen(day, channel, category, agency):
            tallies[group(day, channel, category, agency)]["handoffs"] += 1
    result = {}
    for g, tally in tallies.items():
        median = statistics.median(latencies[g]) if key is None and latencies[g] else None
        result[g] = Figures(g, len(users[g]), median_latency_ms=median, **tally)
    return result


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, Reference]]:
    """TURNS turns seeded, derived in two steps (most, then the rest incrementally)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url)
    database.migrate()
    first = TURNS * 95 // 100
    summary_ = seed(database, turns=first, seed=7)
    refresh(database)
    seed(database, turns=TURNS - first, seed=8, faqs=False)  # new citizens, then one returns and complains
    with database.session() as session:
        TurnStore(session).log(Turn("p_seed7_0000001", "p_seed7_0000001", "web", payload="/ask_human",
                                    intent="ask_human", at=datetime(2026, 4, 25, tzinfo=UTC)))  # fmt: skip
    refresh(database)
    assert summary_.turns == first
    try:
        yield database, reference(database)
    finally:
        if request.param == "postgresql":
            from bot.store.models import Base

            Base.metadata.drop_all(database.engine)
            with database.engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        database.dispose()


WHOLE = Filters(date(2024, 12, 31), date(2026, 5, 1))
FILTERS = [
    WHOLE,
    Filters(WHOLE.start, WHOLE.end, channel="line"),
    Filters(WHOLE.start, WHOLE.end, category="稅務"),
    Filters(WHOLE.start, WHOLE.end, category="舊類別"),  # recorded by the chat, not in the FAQ table
    Filters(WHOLE.start, WHOLE.end, agency="環境保護局"),
    Filters(WHOLE.start, WHOLE.end, category="道路坑洞"),
    Filters(date(2025, 6, 1), date(2025, 6, 30), channel="telegram", agency="社會局"),
    Filters(date(2025, 3, 9), date(2025, 3, 9)),
]


@pytest.mark.parametrize(
    "f", FILTERS, ids=lambda f: f"{f.start}..{f.end}/{f.channel}/{f.category}/{f.agency}"
)
def test_summaries_equal_the_reference(seeded: tuple[Database, Reference], f: Filters) -> None:
    database, ref = seeded
    with database.session() as session:
        got = summary(session, f, now=NOW)
    want = expected(ref, f).get("", Figures())
    assert got == want
    assert want.turns or f.category == "道路坑洞"  # the filters select something


def test_the_whole_period_is_the_seed(seeded: tuple[Database, Reference]) -> None:
    database, ref = seeded
    with database.session() as session:
        whole = summary(session, WHOLE, now=NOW)
    assert whole.turns == len(ref.rows) == TURNS + 1
    assert whole.questions > TURNS // 2
    assert whole.handoffs > TURNS // 100
    assert whole.cases_filed > TURNS // 100
    assert 0 < whole.successful < whole.answered < whole.questions
    assert whole.cases_overdue
    assert whole.feedback_bad
    assert whole.clarified
    assert whole.abstained


@pytest.mark.parametrize(
    ("grain", "f"), [("month", WHOLE), ("day", Filters(date(2025, 8, 1), date(2025, 8, 31)))]
)
def test_trends_equal_the_reference(seeded: tuple[Database, Reference], grain: str, f: Filters) -> None:
    database, ref = seeded
    with database.session() as session:
        got = trend(session, f, grain, now=NOW)  # type: ignore[arg-type]
    width = 7 if grain == "month" else 10
    want = expected(ref, f, lambda day, *_: day[:width])
    assert {g.key: g for g in got if g != Figures(g.key)} == want


@pytest.mark.parametrize("by", ["channel", "category", "agency"])
def test_breakdowns_equal_the_reference(seeded: tuple[Database, Reference], by: str) -> None:
    database, ref = seeded
    index = {"channel": 1, "category": 2, "agency": 3}[by]
    with database.session() as session:
        got = breakdown(session, WHOLE, by, now=NOW)  # type: ignore[arg-type]
    want = expected(ref, WHOLE, lambda *parts: parts[index])
    assert {g.key: g for g in got} == want
    assert len(want) > 2


def test_top_unanswered_equal_the_reference(seeded: tuple[Database, Reference]) -> None:
    database, ref = seeded
    groups: dict[str, list[Derived]] = defaultdict(list)
    for row in ref.rows:
        if row.question and not row.answered and row.key:
            groups[row.key].append(row)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:20]
    with database.session() as session:
        got = unanswered(session, WHOLE, limit=20)
    assert [(q.key, q.count, q.abstained, q.senders, q.last_day, q.text) for q in got] == [
        (
            key,
            len(rows),
            sum(r.decision == "abstain" for r in rows),
            len({r.turn["sender"] for r in rows}),
            max(r.day for r in rows),
            min(r.turn["text_redacted"][:500] for r in rows),
        )
        for key, rows in ranked
    ]
    assert all("0912345678" not in q.text and "A123456789" not in q.text for q in got)
