"""What ``bench.loadtest`` checks in the shared database after (and during) a run.

- every answered message is in the turn log exactly once (none lost, none taken twice);
- every case the bot gave a number for exists exactly once, in the conversation that filed
  it, and a case filed in a conversation that was not told its number (Rasa answered after
  the bot's timeout) has its case-filed notice waiting for the citizen (the web widget
  fetches it), so no case goes unannounced;
- a knowledge-base publish reaches every replica: an FAQ's answer is edited in the store as
  the console does, and each bot replica is asked the question directly (through its own
  Rasa, whose actions it serves) until the answer carries the edit.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.load_citizens import Stats
from bot.privacy import pseudonymise
from bot.store import Database
from bot.store.faqs import FaqStore
from bot.store.models import CaseRow, NotificationRow, TurnRow
from knowledge.faq import FaqRecord

__all__ = ["Ledger", "ProcessCpu", "check_ledger", "publish_reaches_replicas"]

CHUNK = 500


@dataclass
class Ledger:
    conversations: int = 0
    turns_logged: int = 0
    lost: list[str] = field(default_factory=list)  # senders with answered turns missing from the log
    duplicated: list[str] = field(default_factory=list)  # senders with more turns logged than sent
    cases_ok: int = 0
    cases_by_notice: int = 0  # filed, the reply lost to a timeout, the number sent as a notice
    case_problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.case_problems)


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def check_ledger(database: Database, stats: Stats, pseudonym_key: str) -> Ledger:
    senders = sorted(set(stats.answered) | set(stats.failed))
    ids = {pseudonymise("web", sender, pseudonym_key): sender for sender in senders}
    logged: Counter[str] = Counter()
    cases: dict[str, list[str]] = {}
    notices: dict[str, set[str]] = {}
    with database.session() as session:
        for chunk in _chunks(list(ids)):
            rows = session.execute(
                select(TurnRow.sender, func.count()).where(TurnRow.sender.in_(chunk)).group_by(TurnRow.sender)
            )
            logged.update({ids[conversation]: int(count) for conversation, count in rows})
            for number, conversation in session.execute(
                select(CaseRow.number, CaseRow.conversation_id).where(CaseRow.conversation_id.in_(chunk))
            ):
                cases.setdefault(ids[conversation], []).append(number)
            for number, conversation in session.execute(
                select(NotificationRow.case_number, NotificationRow.conversation_id).where(
                    NotificationRow.conversation_id.in_(chunk), NotificationRow.kind == "case_filed"
                )
            ):
                notices.setdefault(ids[conversation], set()).add(number)
    ledger = Ledger(conversations=len(senders), turns_logged=sum(logged.values()))
    for sender in senders:
        answered, failed = stats.answered[sender], stats.failed[sender]
        if logged[sender] < answered:
            ledger.lost.append(f"{sender}: {answered} answered, {logged[sender]} logged")
        elif logged[sender] > answered + failed:
            ledger.duplicated.append(
                f"{sender}: {answered} answered (+{failed} unanswered), {logged[sender]} logged"
            )
    told = {case.sender: case.number for case in stats.cases}
    for sender in senders:
        filed = cases.get(sender, [])
        if sender in told and filed == [told[sender]]:
            ledger.cases_ok += 1
        elif sender not in told and len(filed) == 1 and filed[0] in notices.get(sender, set()):
            ledger.cases_by_notice += 1  # filed after the reply timed out: the case notice tells them
        elif sender in told or filed:
            ledger.case_problems.append(
                f"{sender}: told {told.get(sender, 'nothing')}, stored {filed or 'nothing'}"
            )
    return ledger


# --- a knowledge-base publish reaching every replica ------------------------------------
MARK = "【負載測試更新】"


async def _answer_text(client: httpx.AsyncClient, url: str, question: str) -> str:
    body = {"sender": f"load-publish-{uuid.uuid4().hex[:10]}", "text": question}
    response = await client.post(f"{url}/api/chat", json=body, timeout=30)
    response.raise_for_status()
    return "\n".join(r.get("text", "") for r in response.json()["replies"] if r.get("kind") == "answer")


def _published(database: Database) -> list[FaqRecord]:
    with database.session() as session:
        return FaqStore(session).published()


def _replace(database: Database, record: FaqRecord, note: str) -> None:
    """Change an entry as the console does (a new knowledge-base version when it is live)."""
    with database.session() as session:
        FaqStore(session).replace(record, actor="loadtest", note=note)


async def _pick_entry(database: Database, client: httpx.AsyncClient, url: str) -> FaqRecord | None:
    """A published entry the bot answers with when asked its own question."""
    records = await asyncio.to_thread(_published, database)
    for record in records[:30]:
        if record.answer[:20] and record.answer[:20] in await _answer_text(client, url, record.question):
            return record
    return None


async def publish_reaches_replicas(
    database: Database, replica_urls: list[str], *, within: float = 30.0
) -> list[str]:
    """Edit an FAQ's answer (a new knowledge-base version), time until each replica answers
    with it, then put the answer back. One line per replica, or why it could not be checked."""
    async with httpx.AsyncClient() as client:
        record = await _pick_entry(database, client, replica_urls[0])
        if record is None:
            return ["no published entry is answered by its own question: publish check skipped"]
        edited = record.model_copy(update={"answer": f"{MARK}{record.answer}"})
        await asyncio.to_thread(_replace, database, edited, "load test: publish check")
        published = time.monotonic()
        lines = []
        try:
            for number, url in enumerate(replica_urls, 1):
                while MARK not in await _answer_text(client, url, record.question):
                    if time.monotonic() - published > within:
                        lines.append(f"replica {number} ({url}): NOT within {within:.0f} s")
                        break
                    await asyncio.sleep(0.2)
                else:
                    lines.append(
                        f"replica {number} ({url}): answers with the edit {time.monotonic() - published:.1f} s "
                        "after the publish"
                    )
        finally:
            await asyncio.to_thread(_replace, database, record, "load test: publish check undone")
        return [f"FAQ {record.id}: {line}" for line in lines]


# --- CPU per process of a cluster we started --------------------------------------------
class ProcessCpu:
    """CPU seconds used by the children of ``parent`` and their own children (workers), named
    from the child's command line, and by PostgreSQL and Redis (whoever else uses them too)."""

    NAMES = (
        ("bot.cluster.balancer", "balancer"),
        ("rasa_run.py", "rasa"),
        ("bot serve", "bot"),
        ("rasa_sdk", "action server"),  # a checkout from before the bot served the actions
    )

    def __init__(self, parent: int) -> None:
        self.parent = parent
        self.tick = os.sysconf("SC_CLK_TCK")

    def sample(self) -> Counter[str]:
        table: dict[int, tuple[int, str, float]] = {}  # pid: (parent pid, command line, CPU seconds)
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            # after the name: state, ppid, ..., utime (14th field of the line), stime (15th)
            table[int(proc.name)] = (int(fields[1]), command, (int(fields[11]) + int(fields[12])) / self.tick)
        used: Counter[str] = Counter()
        for pid, (_parent, command, seconds) in table.items():
            if command.startswith(("postgres", "/usr/lib/postgresql")):
                used["PostgreSQL (every session on it)"] += seconds
            elif command.startswith(("redis-server", "/usr/bin/redis-server")):
                used["Redis"] += seconds
            else:
                child = self._child_of_parent(pid, table)
                if child is not None:
                    name = next((label for key, label in self.NAMES if key in table[child][1]), "other")
                    used[name] += seconds
        return used

    def _child_of_parent(self, pid: int, table: dict[int, tuple[int, str, float]]) -> int | None:
        """The ancestor of ``pid`` (or itself) whose parent is ``parent``, if any."""
        for _ in range(10):
            if pid not in table:
                return None
            ppid = table[pid][0]
            if ppid == self.parent:
                return pid
            pid = ppid
        return None
