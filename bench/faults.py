"""Faults under load: kill -9 a bot and a Rasa, restart PostgreSQL, stop Redis.

Starts ``bot1999 run-cluster`` on a PostgreSQL and a Redis of its own (``bench.fault_cluster``:
nothing else on the machine is disturbed), offers ``--rate`` turns a second of realistic
conversations (``bench.fault_load``: the load test's citizens, who resend an unanswered
message with the same ``message_id`` as the web widget does), and injects each fault in turn:

- ``kill -9`` of bot replica 1 (which serves its Rasa's actions too) and of Rasa replica 1
  (the supervisor starts each again);
- ``pg_ctl restart -m fast`` of PostgreSQL (every connection of every process cut);
- Redis stopped for 10 s, then started empty (rate limits, Rasa's lock store, agents' presence).

After each it waits until the hurt part is back and every message has been answered
normally (at the first try, not degraded) for ``--settle`` seconds, then goes on. It reports
per fault what the citizens saw (retries and why, degraded answers, messages never answered,
answers with nothing in them), how long until service was normal again, and afterwards checks
the database: every answered message logged exactly once, every message the bot accepted
answered, every case the bot gave a number for stored exactly once (or announced by notice),
every rating it thanked for stored.

    .venv/bin/python -m bench.faults [--rate 12] [--settle 15] [--faults bot,rasa,postgres,redis]
                                     [--json FILE] [--markdown FILE] [--cluster-log FILE]

(``make faulttest``; needs the Rasa model, PostgreSQL 15's server programs and redis-server.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.fault_cluster import FAULTS, Fault, FaultCluster
from bench.fault_load import LoadThread, Message, effects, last_trouble
from bench.load_checks import check_ledger
from bench.loadtest import QUERIES, read_questions
from bot.api.chat import web_event_id
from bot.privacy import pseudonymise
from bot.settings import get_settings
from bot.store import Database
from bot.store.models import ChannelEventRow, TurnRow

__all__ = ["FaultResult", "LedgerCheck", "check_after", "inject", "main", "markdown"]

CHUNK = 500
CALM_MIN_MESSAGES = 5


@dataclass
class FaultResult:
    name: str
    what: str
    injected_at: float  # monotonic
    injected_utc: str
    offset_seconds: float  # after the load started
    back_seconds: float | None = None  # until the hurt part was there again
    recovery_seconds: float | None = None  # until the last message that was not clean ended
    recovered: bool = False
    messages: int = 0
    clean: int = 0
    seen: dict[str, int] = field(default_factory=dict)
    said: list[str] = field(default_factory=list)  # what refusals said (a few, distinct)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)


def _calm(messages: list[Message], since: float, now: float) -> bool:
    recent = [m for m in messages if m.ended is not None and since <= m.ended <= now]
    return len(recent) >= CALM_MIN_MESSAGES and all(m.clean for m in recent)


def inject(
    fault: Fault,
    cluster: FaultCluster,
    load: LoadThread,
    *,
    settle: float = 15.0,
    max_recovery: float = 300.0,
    say: Callable[[str], None] = print,
) -> FaultResult:
    """Do ``fault`` under ``load``; return once service is normal again (or ``max_recovery``
    seconds have passed) with what the citizens saw meanwhile."""
    now = time.monotonic()
    result = FaultResult(
        fault.name,
        fault.what,
        now,
        datetime.now(UTC).strftime("%H:%M:%S UTC"),
        now - load.stats.started,
    )
    say(f"{result.injected_utc}: {fault.name} ({fault.what})")
    fault.inject(cluster)
    while True:
        time.sleep(1.0)
        now = time.monotonic()
        if result.back_seconds is None and fault.back(cluster):
            result.back_seconds = now - result.injected_at
        messages = [m for m in load.snapshot() if m.ended is not None and m.ended >= result.injected_at]
        calm = (
            _calm(messages, max(result.injected_at, now - settle), now) and now - result.injected_at >= settle
        )
        if result.back_seconds is not None and calm and cluster.healthy():
            result.recovered = True
            break
        if now - result.injected_at > max_recovery or load.error is not None:
            break
    trouble = last_trouble(messages)
    if result.recovered:
        result.recovery_seconds = 0.0 if trouble is None else max(0.0, trouble - result.injected_at)
    result.messages, result.clean = len(messages), sum(m.clean for m in messages)
    result.seen = dict(effects(messages).most_common())
    result.said = list(dict.fromkeys(detail for m in messages for detail in m.details))[:3]
    say(f"  recovered after {result.recovery_seconds:.0f} s" if result.recovered else "  NOT RECOVERED")
    return result


# --- the database afterwards ------------------------------------------------------------
@dataclass
class LedgerCheck:
    messages: int = 0
    answered: int = 0
    turns_logged: int = 0
    cases: int = 0
    cases_ok: int = 0
    cases_by_notice: int = 0
    ratings: int = 0
    lost: list[str] = field(default_factory=list)  # "sender: what"
    duplicated: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated)


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def check_after(database: Database, load: LoadThread, pseudonym_key: str) -> LedgerCheck:
    """Nothing lost, nothing twice: turns, accepted messages, cases, ratings."""
    messages = load.snapshot()
    ledger = check_ledger(database, load.stats, pseudonym_key)
    check = LedgerCheck(
        messages=len(messages),
        answered=sum(m.answered for m in messages),
        turns_logged=ledger.turns_logged,
        cases=len(load.stats.cases),
        cases_ok=ledger.cases_ok,
        cases_by_notice=ledger.cases_by_notice,
        lost=[f"{line} (turn log)" for line in ledger.lost],
        duplicated=[f"{line} (turn log)" for line in ledger.duplicated],
    )
    for line in ledger.case_problems:
        (check.lost if "stored nothing" in line else check.duplicated).append(f"{line} (case)")
    events = {web_event_id(m.sender, m.message_id): m for m in messages}
    handled: dict[str, bool] = {}
    ids = {pseudonymise("web", m.sender, pseudonym_key): m.sender for m in messages}
    rated: dict[str, set[str]] = {}
    with database.session() as session:
        for chunk in _chunks(list(events)):
            rows = session.execute(
                select(ChannelEventRow.event_id, ChannelEventRow.handled_at).where(
                    ChannelEventRow.channel == "web", ChannelEventRow.event_id.in_(chunk)
                )
            )
            handled.update({event_id: at is not None for event_id, at in rows})
        for chunk in _chunks(list(ids)):
            for sender, value in session.execute(
                select(TurnRow.sender, TurnRow.feedback).where(
                    TurnRow.sender.in_(chunk), TurnRow.feedback.is_not(None)
                )
            ):
                rated.setdefault(ids[sender], set()).add(str(value))
    for event_id, message in events.items():
        if event_id in handled and not handled[event_id]:
            check.lost.append(f"{message.sender}: message {message.message_id} accepted, never answered")
        if message.answered and not handled.get(event_id, False):
            check.lost.append(f"{message.sender}: message {message.message_id} answered, not in the ledger")
    for message in messages:
        if message.feedback:
            check.ratings += 1
            if message.feedback not in rated.get(message.sender, set()):
                check.lost.append(f"{message.sender}: rating {message.feedback!r} thanked for, not stored")
    started = load.stats.started
    check.lost = [f"{line} [{_history(line, messages, started)}]" for line in check.lost]
    check.duplicated = [f"{line} [{_history(line, messages, started)}]" for line in check.duplicated]
    return check


def _history(line: str, messages: list[Message], started: float) -> str:
    """The messages of the citizen a line is about: when each was sent, and every attempt."""
    sender = line.split(":", 1)[0]
    return "; ".join(
        f"+{m.started - started:.1f}s {','.join(m.attempts) or 'not sent'}"
        + ("" if m.ended is not None else " (still waiting)")
        for m in messages
        if m.sender == sender
    )


def attribute(results: list[FaultResult], check: LedgerCheck, messages: list[Message]) -> list[str]:
    """Put each lost / duplicated line under the fault during which its citizen had trouble;
    the lines that belong to no fault are returned."""
    trouble: dict[str, float] = {}
    for message in messages:
        if message.ended is not None and not message.clean:
            trouble.setdefault(message.sender, message.ended)
    last: dict[str, float] = {m.sender: m.ended for m in messages if m.ended is not None}
    unplaced: list[str] = []
    for kind in ("lost", "duplicated"):
        for line in getattr(check, kind):
            sender = line.split(":", 1)[0]
            at = trouble.get(sender, last.get(sender))
            owner = next((r for r in reversed(results) if at is not None and at >= r.injected_at), None)
            if owner is None:
                unplaced.append(f"{kind}: {line}")
            else:
                getattr(owner, kind).append(line)
    return unplaced


# --- the report -------------------------------------------------------------------------
def _effect(result: FaultResult) -> str:
    if not result.seen:
        return "none: every message answered normally at the first try"
    return "; ".join(f"{count} × {what}" for what, count in result.seen.items())


def markdown(
    results: list[FaultResult],
    check: LedgerCheck,
    header: list[str],
    unplaced: list[str],
    supervisor: list[str],
) -> str:
    lines = [*header, "", "| fault | injected at | client-visible effect | recovery | lost | duplicated |"]
    lines.append("|---|---|---|---|---|---|")
    for r in results:
        recovery = "NOT within the time allowed" if not r.recovered else f"{r.recovery_seconds:.0f} s"
        if r.back_seconds is not None:
            recovery += f" (back after {r.back_seconds:.0f} s)"
        effect = f"{_effect(r)} ({r.messages} messages ended meanwhile, {r.clean} clean)"
        injected = f"+{r.offset_seconds:.0f} s ({r.injected_utc})"
        lines.append(
            f"| {r.name} | {injected} | {effect} | {recovery} | {len(r.lost)} | {len(r.duplicated)} |"
        )
    lines += [
        "",
        f"Afterwards in the database: {check.messages} messages sent, {check.answered} answered, "
        f"{check.turns_logged} turns logged; {check.cases} cases given a number, {check.cases_ok} stored exactly "
        f"once, {check.cases_by_notice} more filed after a lost reply and announced by notice; {check.ratings} "
        f"ratings thanked for; lost {len(check.lost)}, duplicated {len(check.duplicated)}.",
    ]
    said = list(dict.fromkeys(s for r in results for s in r.said))
    if said:
        lines += ["", "What the refusals said:", *(f"- `{text}`" for text in said[:6])]
    problems = [f"- {r.name}: {line}" for r in results for line in r.lost + r.duplicated] + [
        f"- {line}" for line in unplaced
    ]
    if problems:
        lines += ["", "Lost or duplicated:", *problems[:20]]
    if supervisor:
        lines += ["", "The supervisor's log:", "```", *supervisor, "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=12.0, help="turns offered per second")
    parser.add_argument(
        "--settle", type=float, default=15.0, help="seconds of clean answers that mean recovered"
    )
    parser.add_argument("--max-recovery", type=float, default=300.0, help="seconds allowed per fault")
    parser.add_argument("--before", type=float, default=20.0, help="seconds of load before the first fault")
    parser.add_argument(
        "--faults", default="bot,rasa,postgres,redis", help="which faults, in order (comma-separated)"
    )
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--cluster-log", type=Path, help="keep the cluster's log (every process) in this file"
    )
    args = parser.parse_args()
    by_key = {"bot": 0, "rasa": 1, "postgres": 2, "redis": 3}
    chosen = [FAULTS[by_key[key.strip()]] for key in args.faults.split(",") if key.strip()]
    questions = read_questions(args.queries)
    key = get_settings().privacy.pseudonym_key.get_secret_value()
    with tempfile.TemporaryDirectory(prefix="bot1999-faults-") as tmp:
        cluster = FaultCluster(Path(tmp))
        load_before = os.getloadavg()
        try:
            print(
                f"starting the cluster on a private PostgreSQL and Redis (log: {cluster.log}) ...", flush=True
            )
            startup = cluster.start()
            print(f"cluster up in {startup:.0f} s at {cluster.url}", flush=True)
            load = LoadThread(cluster.url, args.rate, questions)
            load.start()
            time.sleep(args.before)
            results = [
                inject(
                    fault,
                    cluster,
                    load,
                    settle=args.settle,
                    max_recovery=args.max_recovery,
                    say=lambda line: print(line, flush=True),
                )
                for fault in chosen
            ]
            load.stop()
            database = Database(cluster.database_url)
            try:
                check = check_after(database, load, key)
            finally:
                database.dispose()
            supervisor = cluster.supervisor_lines()
        finally:
            cluster.stop()
            if args.cluster_log and cluster.log.exists():
                shutil.copyfile(cluster.log, args.cluster_log)
    unplaced = attribute(results, check, load.snapshot())
    load_after = os.getloadavg()
    wall = time.monotonic() - load.stats.started
    header = [
        f"Faults under load, {datetime.now(UTC):%Y-%m-%d} (`make faulttest`): two replicas each of "
        f"Rasa and the bot behind the balancer, on a private PostgreSQL and Redis; {args.rate:g} turns/s offered "
        f"for {wall:.0f} s; recovered = the hurt part back and every message answered normally at the first try "
        f"for {args.settle:g} s. Load average before {load_before[0]:.1f}, after {load_after[0]:.1f} "
        f"on {os.cpu_count()} cores.",
    ]
    report = markdown(results, check, header, unplaced, supervisor)
    print(report)
    if args.markdown:
        args.markdown.write_text(report, encoding="utf-8")
    if args.json:
        figures: dict[str, Any] = {
            "rate": args.rate,
            "seconds": wall,
            "faults": [asdict(r) for r in results],
            "ledger": asdict(check),
            "unplaced": unplaced,
            "load_before": load_before,
            "load_after": load_after,
        }
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
    everything_fine = all(r.recovered for r in results) and check.clean and not unplaced
    sys.exit(0 if everything_fine else 1)


if __name__ == "__main__":
    main()
