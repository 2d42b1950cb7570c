"""Dashboard benchmark: every dashboard view over 100,000 logged turns, on SQLite and PostgreSQL.

    python -m bench.dashboard [--turns 100000] [--repeat 5] [--backend sqlite|postgresql|both]
                              [--postgres postgresql://postgres@127.0.0.1:5432/test]

Seeds a fresh database (``bench.seed_turns``: citizens on three channels over 16 months, with
cases and handoffs), derives the figures once (``bot.metrics.refresh``, as the first page
would), logs 100 more turns and derives again (what a page pays after new traffic), then asks
the real app for every dashboard view as a logged-in supervisor: the first request and the
median of ``--repeat`` more, with the CPU time this process spent on it (the app and, for
SQLite, the database: on a loaded machine the wall time is several times that). PostgreSQL gets
a temporary database of its own, dropped after.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from psycopg import sql

from bench.seed_turns import seed
from bot.app import create_app
from bot.metrics.refresh import refresh
from bot.settings import load_settings
from bot.store import Database
from bot.store.turns import Turn, TurnStore
from bot.store.users import Role, UserStore

PASSWORD = "a long benchmark password"  # noqa: S105 - a throwaway account in a throwaway database
FIRST_DAY = date(2025, 1, 1)
DAYS = 480
LAST_DAY = FIRST_DAY + timedelta(days=DAYS - 1)
VIEWS = [
    (
        "dashboard, last 30 days (by day)",
        f"/console/dashboard?start={LAST_DAY - timedelta(days=29)}&end={LAST_DAY}",
    ),
    ("dashboard, all 16 months (by month)", f"/console/dashboard?start={FIRST_DAY}&end={LAST_DAY}"),
    ("dashboard, all 16 months by day", f"/console/dashboard?start={FIRST_DAY}&end={LAST_DAY}&grain=day"),
    ("dashboard, a year, channel LINE", "/console/dashboard?start=2025-01-01&end=2025-12-31&channel=line"),
    ("dashboard, a year, category 稅務", "/console/dashboard?start=2025-01-01&end=2025-12-31&category=稅務"),
    ("dashboard, a year, agency 社會局", "/console/dashboard?start=2025-01-01&end=2025-12-31&agency=社會局"),
    (
        "dashboard, a month, 3 filters",
        "/console/dashboard?start=2025-06-01&end=2025-06-30&channel=web&category=戶政&agency=民政局",
    ),
    ("export.csv, trend, 16 months", f"/console/dashboard/export.csv?start={FIRST_DAY}&end={LAST_DAY}"),
    ("export.xlsx, 16 months", f"/console/dashboard/export.xlsx?start={FIRST_DAY}&end={LAST_DAY}"),
    ("monthly report 2025-06", "/console/reports/2025/6"),
    ("yearly report 2025", "/console/reports/2025"),
]
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def _postgres(admin_url: str) -> Iterator[str]:
    name = f"bot1999_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"{admin_url.rpartition('/')[0]}/{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _log_in(client: TestClient) -> None:
    token = _TOKEN.search(client.get("/console/login").text)
    assert token, "no log-in form"
    response = client.post(
        "/console/login",
        data={"username": "bench-supervisor", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def _more_turns(database: Database, n: int) -> None:
    at = datetime.combine(LAST_DAY, datetime.min.time(), UTC)
    with database.session() as session:
        store = TurnStore(session)
        for i in range(n):
            who = f"p_bench_{i % 40}"
            store.log(Turn(who, who, "web", text=f"新問題 {i}", intent="faq", decision="abstain",
                           latency_ms=80.0, at=at + timedelta(seconds=i)))  # fmt: skip


def run(backend: str, url: str, turns: int, repeat: int, cache: Path) -> list[str]:
    database = Database(url)
    database.migrate()
    seeded = seed(database, turns=turns, first_day=FIRST_DAY, days=DAYS)
    with database.session() as session:
        UserStore(session).create("bench-supervisor", PASSWORD, Role.SUPERVISOR, actor="bench")
    full = refresh(database)
    _more_turns(database, 100)
    incremental = refresh(database)
    lines = [
        f"{backend}: {seeded.turns:,} turns, {seeded.conversations:,} conversations, {seeded.cases:,} cases, "
        f"{seeded.handoffs:,} handoffs seeded in {seeded.seconds:.1f} s",
        f"  derive all ({full.turns:,} turns): {full.seconds:.1f} s; after 100 new turns: "
        f"{incremental.seconds * 1000:.0f} ms ({incremental.conversations} conversations, {incremental.turns} turns)",
        f"  {'view':<40}{'first ms':>10}{'median ms':>11}{'max ms':>9}{'cpu ms':>9}  status",
    ]
    settings = load_settings(
        database_url=url,
        knowledge={"encoder": "hashing", "model_cache_dir": str(cache / "models")},
        rasa={"url": "http://127.0.0.1:9", "timeout_seconds": 1},
    )
    worst = 0.0
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        _log_in(client)
        for name, path in VIEWS:
            started = time.perf_counter()
            first = client.get(path)
            first_ms = (time.perf_counter() - started) * 1000
            times, cpu = [], []
            for _ in range(repeat):
                started, used = time.perf_counter(), time.process_time()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - used) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            worst = max(worst, first_ms, *times)
            lines.append(
                f"  {name:<40}{first_ms:>10.0f}{statistics.median(times):>11.0f}{max(times):>9.0f}"
                f"{statistics.median(cpu):>9.0f}  {first.status_code}"
            )
    lines.append(f"  slowest single request: {worst:.0f} ms ({'within' if worst <= 1000 else 'OVER'} 1 s)")
    database.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BOT1999_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bot1999-bench-") as folder:
        cache = Path(folder)
        if args.backend in ("sqlite", "both"):
            for line in run("SQLite", f"sqlite:///{cache / 'bench.db'}", args.turns, args.repeat, cache):
                print(line, flush=True)
        if args.backend in ("postgresql", "both"):
            try:
                with _postgres(args.postgres) as url:
                    for line in run("PostgreSQL", url, args.turns, args.repeat, cache):
                        print(line, flush=True)
            except psycopg.OperationalError as error:
                print(f"PostgreSQL: not measured ({error})")


if __name__ == "__main__":
    main()
