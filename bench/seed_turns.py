"""A realistic turn log for the dashboard's tests and benchmark: 100,000 turns in a few seconds.

    python -m bench.seed_turns DATABASE_URL [--turns 100000] [--seed 1999]

Deterministic for a seed. Citizens on the web, LINE and Telegram come back on several days
(their conversation id is their pseudonym, as in the chat service) and ask questions that
are answered, clarified (then picked, or not) or abstained on; they rate answers with the
buttons (stored on the answer the way ``TurnStore.set_feedback`` does) or type yes / no,
rephrase, ask for a person (some become handoffs) and file cases (some closed late, some
still open). Some answers carry the chat's own category/agency, some an FAQ id the table no
longer has; there are turns an agent handled, emergencies, greetings, and questions asked
around local midnight. Unanswerable questions repeat (with punctuation, width and personal
data varying) so that the top unanswered list has real groups.

Rows go in with one bulk statement per table (PostgreSQL: COPY), ids in time order.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.cases import CATEGORIES as CASE_CATEGORIES
from bot.privacy import redact
from bot.store import Database
from bot.store.models import CaseRow, FaqRow, HandoffRow, TurnRow

__all__ = ["SeedSummary", "seed"]

TOPICS = (
    ("環保與垃圾", "環境保護局"),
    ("稅務", "稅捐稽徵處"),
    ("交通與停車", "交通局"),
    ("社會福利", "社會局"),
    ("戶政", "民政局"),
    ("衛生醫療", "衛生局"),
    ("教育", "教育局"),
    ("路燈與道路", "工務局"),
)
FAQS_PER_TOPIC = 8
CHANNELS = (("web", 0.5), ("line", 0.35), ("telegram", 0.15))
_UNANSWERABLE = (
    "我家的狗走失了怎麼辦",
    "隔壁鄰居半夜唱歌可以檢舉嗎",
    "市長信箱在哪裡",
    "颱風假明天會放嗎",
    "公園的鴿子太多了",
    "可以幫我叫計程車嗎",
    "捷運延伸到我家附近什麼時候蓋好",
    "我要投訴某某公務員",
    "哪裡可以領口罩",
    "路邊的廢棄機車誰會拖走",
    "里長電話幾號",
    "演唱會的票還有嗎",
)
_DECORATIONS = ("", "？", "?", "！", " ", "。請問", "，謝謝")


@dataclass
class SeedSummary:
    turns: int = 0
    conversations: int = 0
    faqs: int = 0
    cases: int = 0
    handoffs: int = 0
    first_day: date | None = None
    last_day: date | None = None
    seconds: float = 0.0


@dataclass
class _Builder:
    rng: random.Random
    seed: int
    faq_ids: list[str]
    turns: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    handoffs: list[dict[str, Any]] = field(default_factory=list)

    def turn(self, who: str, channel: str, at: datetime, **fields: Any) -> dict[str, Any]:
        text = str(fields.pop("text", ""))
        latency = None if self.rng.random() < 0.02 else round(self.rng.lognormvariate(4.5, 0.6), 1)
        row: dict[str, Any] = {
            "conversation_id": who,
            "sender": who,
            "channel": channel,
            "at": at,
            "text": text,
            "text_redacted": redact(text),
            "payload": "",
            "intent": "",
            "intent_confidence": None,
            "decision": "",
            "candidates": [],
            "faq_id": "",
            "category": "",
            "agency": "",
            "reply": ["…"],
            "latency_ms": latency,
            "degraded": self.rng.random() < 0.05,
            "feedback": "",
        }
        row.update(fields)
        self.turns.append(row)
        return row

    def others(self, faq_id: str, n: int) -> list[str]:
        return [faq_id, *self.rng.sample([f for f in self.faq_ids if f != faq_id], n)]

    def question_text(self, faq_id: str) -> str:
        return f"{faq_id} 的問題要怎麼辦{self.rng.choice(_DECORATIONS)}"

    def unanswerable(self) -> str:
        index = min(int(self.rng.paretovariate(1.2)) - 1, len(_UNANSWERABLE) - 1)
        text = _UNANSWERABLE[index] + self.rng.choice(_DECORATIONS)
        if self.rng.random() < 0.1:
            text += self.rng.choice((" 我的電話0912345678", " 身分證A123456789", " mail a.b@example.com"))
        if self.rng.random() < 0.05:
            text = text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
        return text


def _session(b: _Builder, who: str, channel: str, at: datetime, case_no: list[int]) -> datetime:
    """One visit: a few exchanges, a few seconds to a minute apart; returns the last instant."""
    rng = b.rng

    def step() -> datetime:
        nonlocal at
        at += timedelta(seconds=rng.randint(3, 60))
        return at

    if rng.random() < 0.2:
        b.turn(who, channel, step(), text="你好", intent="greet")
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        roll = rng.random()
        if roll < 0.02:
            b.turn(who, channel, step(), text="有人受傷了快來", intent="emergency", decision="emergency")
            continue
        if roll < 0.04:
            b.turn(who, channel, step(), text="謝謝你的說明", decision="agent")
            continue
        faq_id = rng.choice(b.faq_ids)
        kind = rng.random()
        if kind < 0.55:
            answer = b.turn(who, channel, step(), text=b.question_text(faq_id), intent="faq", decision="answer",
                            faq_id=faq_id, candidates=b.others(faq_id, 2))  # fmt: skip
        elif kind < 0.85:
            b.turn(who, channel, step(), text=b.question_text(faq_id), intent="faq", decision="clarify",
                   candidates=b.others(faq_id, 2))  # fmt: skip
            then = rng.random()
            if then < 0.6:
                withdrawn = rng.random() < 0.03
                payload = "/pick_suggestion" + json.dumps({"faq_id": faq_id})
                answer = b.turn(who, channel, step(), payload=payload, intent="pick_suggestion",
                                decision="abstain" if withdrawn else "answer", candidates=[faq_id],
                                faq_id="" if withdrawn else faq_id)  # fmt: skip
                if withdrawn:
                    continue
            else:
                if then < 0.7:
                    _ask_human(b, who, channel, step())
                continue
        else:
            text = b.unanswerable()
            candidates = b.others(faq_id, 1) if rng.random() < 0.6 else []
            b.turn(
                who,
                channel,
                step(),
                text=text,
                intent="nlu_fallback",
                decision="abstain",
                candidates=candidates,
            )
            after = rng.random()
            if after < 0.15:
                _ask_human(b, who, channel, step())
            elif after < 0.25:
                _file_case(b, who, channel, step(), case_no)
            continue
        if rng.random() < 0.3:
            answer["category"], answer["agency"] = rng.choice((TOPICS[0], ("舊類別", "舊機關")))
        if rng.random() < 0.03:
            answer["faq_id"] = f"GONE-{rng.randint(1, 5)}"
        then = rng.random()
        if then < 0.25:
            answer["feedback"] = "good"
            b.turn(who, channel, step(), payload="/feedback_good", intent="feedback_good")
        elif then < 0.35:
            answer["feedback"] = "bad"
            b.turn(who, channel, step(), payload="/feedback_bad", intent="feedback_bad")
        elif then < 0.38:
            b.turn(who, channel, step(), text=rng.choice(("對", "是的")), intent="affirm")
        elif then < 0.41:
            b.turn(who, channel, step(), text="不是", intent="deny")
        elif then < 0.46:
            same = rng.random() < 0.5
            text = answer["text"] if same and answer["text"] else f"那{faq_id}到底要怎麼做"
            b.turn(who, channel, step(), text=text, intent="faq", decision="clarify",
                   candidates=b.others(answer["faq_id"] or faq_id, 2))  # fmt: skip
        elif then < 0.49:
            b.turn(who, channel, step(), text="好", intent="thank")
            _ask_human(b, who, channel, step())
        elif then < 0.52:
            _file_case(b, who, channel, step(), case_no)
    return at


def _ask_human(b: _Builder, who: str, channel: str, at: datetime) -> None:
    b.turn(who, channel, at, payload="/ask_human", intent="ask_human")
    if b.rng.random() < 0.7:
        b.handoffs.append(
            {
                "conversation_id": who,
                "open_key": None,
                "channel": channel if b.rng.random() < 0.9 else "",
                "state": "released",
                "agent": "agent1",
                "reason": "",
                "case_number": "",
                "ended_by": "agent",
                "requested_at": at - timedelta(milliseconds=b.rng.randint(0, 900)),
                "taken_at": at + timedelta(minutes=1),
                "released_at": at + timedelta(minutes=5),
            }
        )


def _file_case(b: _Builder, who: str, channel: str, at: datetime, case_no: list[int]) -> None:
    b.turn(who, channel, at, payload="/report_issue", intent="report_issue")
    category = b.rng.choice(CASE_CATEGORIES)
    created = at + timedelta(minutes=2)
    due = created + category.target
    roll = b.rng.random()
    if roll < 0.5:
        status, closed = "closed", created + category.target * b.rng.uniform(0.1, 0.95)
    elif roll < 0.65:
        status, closed = "closed", created + category.target * b.rng.uniform(1.05, 3.0)
    elif roll < 0.75:
        status, closed = "rejected", created + timedelta(hours=b.rng.randint(1, 200))
    else:
        status, closed = b.rng.choice(("received", "assigned", "in_progress")), None
    case_no[0] += 1
    b.cases.append(
        {
            "number": f"S{b.seed % 1000:03d}{case_no[0]:07d}",
            "category": category.code,
            "agency": category.agency,
            "status": status,
            "description": "測試案件",
            "location_text": "某路某號",
            "latitude": None,
            "longitude": None,
            "photo_ref": "",
            "phone": "",
            "contact_consent": False,
            "channel": channel,
            "sender_id": who,
            "conversation_id": who,
            "created_at": created,
            "updated_at": closed or created,
            "due_at": due,
            "closed_at": closed,
            "revision": 1,
        }
    )


def build(*, turns: int, seed: int, first_day: date, days: int) -> _Builder:
    rng = random.Random(seed)
    faq_ids = [f"S-{t:02d}{n:02d}" for t in range(len(TOPICS)) for n in range(FAQS_PER_TOPIC)]
    builder = _Builder(rng, seed, faq_ids)
    users = max(1, turns // 9)
    channels, weights = zip(*CHANNELS, strict=True)
    start = datetime.combine(first_day, datetime.min.time(), UTC) - timedelta(hours=8)  # local midnight
    case_no = [0]
    user = 0
    while len(builder.turns) < turns:
        user += 1
        who = f"p_seed{seed}_{user:07d}"
        channel = rng.choices(channels, weights)[0]
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 5))):
            day = rng.randrange(days)
            second = rng.randrange(86400) if rng.random() > 0.05 else 86400 - rng.randint(30, 300)
            at = start + timedelta(days=day, seconds=second)
            _session(builder, who, channel, at, case_no)
        if user > users * 3:
            break
    # a conversation's sessions are on random days: put each conversation's turns in time order
    del builder.turns[turns:]
    builder.turns.sort(key=lambda t: (t["at"], t["conversation_id"]))
    known = {t["conversation_id"] for t in builder.turns}
    builder.handoffs = [h for h in builder.handoffs if h["conversation_id"] in known]
    builder.cases = [c for c in builder.cases if c["conversation_id"] in known]
    return builder


def _faq_rows(faq_ids: list[str]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows = []
    for faq_id in faq_ids:
        category, agency = TOPICS[int(faq_id[2:4])]
        rows.append(
            {
                "id": faq_id,
                "question": f"{faq_id} 的問題",
                "answer": "答案",
                "alt_questions": [],
                "agency": agency,
                "category": category,
                "keywords": [],
                "source_url": "",
                "sources": [],
                "status": "published",
                "question_key": faq_id.lower(),
                "content_hash": faq_id,
                "revision": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def _copy(database: Database, table: str, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL COPY: the fastest bulk insert there is."""
    columns = list(rows[0])
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        names = ", ".join(columns)
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(
                    [json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v for v in row.values()]
                )
        raw.commit()
    finally:
        raw.close()


def _insert(database: Database, model: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if database.engine.dialect.name == "postgresql":
        _copy(database, model.__tablename__, rows)
        return
    with database.session() as session:
        for start in range(0, len(rows), 20_000):
            session.execute(insert(model), rows[start : start + 20_000])


def seed(
    database: Database,
    *,
    turns: int = 100_000,
    seed: int = 1999,
    first_day: date = date(2025, 1, 1),
    days: int = 480,
    faqs: bool = True,
) -> SeedSummary:
    """Add ``turns`` turns (and their cases and handoffs; the FAQ entries with ``faqs``)."""
    started = time.perf_counter()
    builder = build(turns=turns, seed=seed, first_day=first_day, days=days)
    if faqs:
        _insert(database, FaqRow, _faq_rows(builder.faq_ids))
    _insert(database, TurnRow, builder.turns)
    _insert(database, CaseRow, builder.cases)
    _insert(database, HandoffRow, builder.handoffs)
    return SeedSummary(
        turns=len(builder.turns),
        conversations=len({t["conversation_id"] for t in builder.turns}),
        faqs=len(builder.faq_ids) if faqs else 0,
        cases=len(builder.cases),
        handoffs=len(builder.handoffs),
        first_day=first_day,
        last_day=first_day + timedelta(days=days),
        seconds=time.perf_counter() - started,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1999)
    args = parser.parse_args()
    database = Database(args.database_url)
    database.migrate()
    print(seed(database, turns=args.turns, seed=args.seed))
    database.dispose()


if __name__ == "__main__":
    main()
