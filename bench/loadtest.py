"""Load test of the scaled-out deployment: realistic conversations against the balancer.

Starts ``bot1999 run-cluster`` (two replicas each of Rasa and the bot, which serves
the actions, behind the balancer, on PostgreSQL and Redis; ``--url`` uses one already running), then for
``--seconds`` offers ``--rate`` turns a second: simulated citizens (``bench.load_citizens``)
ask FAQ questions from the Kaohsiung development set (read at run time from
``../shared/data/eval/kaohsiung_dev_queries.jsonl``, never copied), pick did-you-mean
suggestions by clicking the returned buttons, rate answers, file cases through the case
form and check the status of the cases filed. Halfway through, an FAQ edit is published and
each replica is asked until it answers with it.

Reports throughput (over the run and per minute), per-turn latency p50 / p95 / p99 (overall
and per kind of turn), errors and retries, then checks in the database that every answered
message was taken exactly once and every case the bot gave a number for exists exactly
once. Target: >= 40 turns/s sustained with p95 <= 300 ms, no errors, no degraded turn,
nothing lost or duplicated.

Beside the figures it reads how fast the machine was (``bench.machine``: a fixed Python loop
with the cluster idle before and after the run; all cores' busy and steal time during it),
since the same code needs more of a slower machine.

Before measuring, ``--warm-up`` seconds (default 30) of the same load warm the caches, pools
and Rasa's first turns; they are checked in the database too, but not measured.

    .venv/bin/python -m bench.loadtest [--seconds 300] [--rate 42] [--warm-up 30] [--think 1-3]
                                       [--url URL [--supervisor-pid PID]] [--json FILE] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.chat_load import stop_process_group
from bench.load_checks import Ledger, ProcessCpu, check_ledger, publish_reaches_replicas
from bench.load_citizens import NETWORK_ERRORS, Citizen, Pacer, Stats, percentile, session
from bench.machine import LOOP_ITERATIONS, CpuTimes, loop_seconds
from bot.cluster.plan import replicas
from bot.settings import Settings, get_settings
from bot.store import Database

REPO = Path(__file__).resolve().parents[1]
QUERIES = REPO.parent / "shared" / "data" / "eval" / "kaohsiung_dev_queries.jsonl"
TARGET_TURNS_PER_SECOND = 40.0
TARGET_P95_MS = 300.0
MAX_CITIZENS = 2000
WINDOW = 30.0  # seconds: the p95 of each such stretch of the run shows when a run went slow


def read_questions(path: Path) -> list[str]:
    """The in-scope FAQ questions of the development set (those with a gold answer)."""
    if not path.is_file():
        sys.exit(f"no development queries at {path} (the shared data folder)")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row["query"] for row in rows if row.get("gold") and row.get("style")]


# --- the cluster ------------------------------------------------------------------------
def start_cluster(log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "bot1999"), "run-cluster"],
            cwd=REPO,
            env={**os.environ, "BOT1999_SERVER__LOG_LEVEL": "warning", "RASA_TELEMETRY_ENABLED": "false"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_for_cluster(
    process: subprocess.Popen[bytes] | None, url: str, log: Path | None, seconds: float
) -> float:
    """Seconds until the balancer answers with every backend healthy."""
    started = time.monotonic()
    while True:
        try:
            status = httpx.get(f"{url}/_balancer", timeout=2)
            if status.status_code == 200 and all(b["healthy"] for b in status.json()["backends"]):
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        if (process is not None and process.poll() is not None) or time.monotonic() - started > seconds:
            tail = log.read_text(errors="replace")[-4000:] if log else ""
            sys.exit(f"the cluster did not come up at {url}:\n{tail}")
        time.sleep(1.0)


def stop_cluster(process: subprocess.Popen[bytes]) -> None:
    stop_process_group(process, timeout=90)


# --- the load ---------------------------------------------------------------------------
async def drive(
    url: str, seconds: float, rate: float, think: tuple[float, float], questions: list[str], publish: Any
) -> tuple[Stats, dict[str, Any]]:
    stats = Stats()
    pacer = Pacer(rate)
    rng = random.Random(1999)
    tasks: set[asyncio.Task[None]] = set()
    extra: dict[str, Any] = {"peak_citizens": 0, "load_samples": []}
    async with session(url, MAX_CITIZENS) as client:
        publish_task = None
        deadline = stats.started + seconds
        number = 0
        while time.monotonic() < deadline:
            # enough citizens that a few always wait for the next slot: the offered rate holds
            while pacer.waiting < max(3, rate * 0.2) and len(tasks) < MAX_CITIZENS:
                citizen = Citizen(number, client, pacer, stats, questions, think, random.Random(rng.random()))
                number += 1
                task = asyncio.create_task(citizen.run())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                await asyncio.sleep(0)
            extra["peak_citizens"] = max(extra["peak_citizens"], len(tasks))
            elapsed = time.monotonic() - stats.started
            if publish is not None and publish_task is None and elapsed >= seconds / 2:
                publish_task = asyncio.create_task(publish())
            if not extra["load_samples"] or elapsed - extra["load_samples"][-1][0] >= 10:
                extra["load_samples"].append((elapsed, os.getloadavg()[0]))
            await asyncio.sleep(0.02)
        pacer.stop()
        drain_started = time.monotonic()
        if tasks:
            await asyncio.wait(set(tasks), timeout=90)
        extra["drain_seconds"] = time.monotonic() - drain_started
        extra["wall"] = time.monotonic() - stats.started
        extra["citizens"] = number
        extra["publish"] = await publish_task if publish_task is not None else []
        try:
            async with client.get("_balancer") as response:
                extra["balancer"] = json.loads(await response.read())["backends"]
        except (*NETWORK_ERRORS, ValueError, KeyError):
            extra["balancer"] = []
    return stats, extra


@dataclass(frozen=True, slots=True)
class Machine:
    loop_before: float  # bench.machine.loop_seconds with the cluster up and idle, before the load
    loop_after: float  # the same after the load
    during: CpuTimes  # the whole machine's CPU time during the measured run


def _figures(values: list[float]) -> str:
    if not values:
        return "no turns"
    return (
        f"p50 {percentile(values, 0.5):.0f} ms, p95 {percentile(values, 0.95):.0f} ms, "
        f"p99 {percentile(values, 0.99):.0f} ms, max {max(values):.0f} ms"
    )


def report(
    args: argparse.Namespace,
    stats: Stats,
    extra: dict[str, Any],
    ledger: Ledger | None,
    cpu: Counter[str],
    loads: tuple[tuple[float, ...], tuple[float, ...]],
    startup: float,
    machine: Machine,
    warm: tuple[Stats, Ledger] | None = None,
) -> bool:
    seconds = args.seconds
    in_window = [t for t in stats.done_at if t <= seconds]
    throughput = len(in_window) / seconds
    minutes = [
        sum(1 for t in in_window if m * 60 <= t < (m + 1) * 60) / 60 for m in range(int(seconds // 60))
    ]
    latencies = stats.all_latencies()
    p95 = percentile(latencies, 0.95)
    errors = sum(stats.errors.values())
    degraded = stats.modes.get("degraded", 0)
    sustained = throughput >= TARGET_TURNS_PER_SECOND and all(m >= TARGET_TURNS_PER_SECOND for m in minutes)
    clean = ledger is not None and ledger.clean and (warm is None or warm[1].clean)
    passed = sustained and p95 <= TARGET_P95_MS and not errors and not degraded and not stats.empty and clean
    where = args.url or f"bot1999 run-cluster (up in {startup:.0f} s)"
    print(f"cluster: {where}; {len(extra['balancer'])} bot replicas behind the balancer")
    if warm is not None:
        warm_stats, warm_ledger = warm
        warm_latencies = warm_stats.all_latencies()
        print(
            f"warm-up (not measured): {len(warm_latencies)} turns in {args.warm_up:g} s, "
            f"{_figures(warm_latencies)}; errors {sum(warm_stats.errors.values())}, degraded "
            f"{warm_stats.modes.get('degraded', 0)}; database: lost {len(warm_ledger.lost)}, duplicated "
            f"{len(warm_ledger.duplicated)}, case problems {len(warm_ledger.case_problems)}"
        )
    print(
        f"offered {args.rate:g} turns/s for {seconds:g} s, {args.think[0]:g}-{args.think[1]:g} s before each "
        f"message; {extra['citizens']} conversations ({', '.join(f'{k} {v}' for k, v in stats.conversations.items())}), "
        f"at most {extra['peak_citizens']} at once"
    )
    print(
        f"throughput: {len(in_window)} turns answered in {seconds:g} s = {throughput:.1f} turns/s "
        f"(target >= {TARGET_TURNS_PER_SECOND:g}); per minute: {', '.join(f'{m:.1f}' for m in minutes) or '-'}; "
        f"{len(stats.done_at) - len(in_window)} more while the last conversations were cut short "
        f"({extra['drain_seconds']:.1f} s)"
    )
    print(
        f"per-turn latency, all {len(latencies)} turns: {_figures(latencies)} (target p95 <= {TARGET_P95_MS:g} ms)"
    )
    for kind, values in sorted(stats.latencies_ms.items(), key=lambda item: -len(item[1])):
        print(f"  {kind}: {len(values)} turns, {_figures(values)}")
    windows = [
        [ms for t, ms in stats.timeline if w * WINDOW <= t < (w + 1) * WINDOW]
        for w in range(int(seconds // WINDOW))
    ]
    print(f"p95 per {WINDOW:g} s (ms): " + ", ".join(f"{percentile(ms, 0.95):.0f}" for ms in windows))
    print(
        f"errors (no answer after retries): {errors}; retried messages: {sum(stats.retries.values())}; "
        f"degraded turns: {degraded}; answers without any reply: {stats.empty}"
    )
    for reason, count in (stats.errors + stats.retries).most_common(5):
        print(f"  {count} x {reason}")
    print("events: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.events.items())))
    if stats.deviations:
        print("conversations that went another way than scripted (not errors):")
        for what, count in stats.deviations.most_common(5):
            print(f"  {count} x {what}")
    if ledger is not None:
        print(
            f"database: {ledger.turns_logged} turns logged for {ledger.conversations} conversations; "
            f"lost {len(ledger.lost)}, duplicated {len(ledger.duplicated)}; "
            f"cases: {ledger.cases_ok} of {len(stats.cases)} filed exactly once, "
            f"{ledger.cases_by_notice} more filed after the reply timed out (number sent as a notice), "
            f"problems {len(ledger.case_problems)}"
        )
        for line in (ledger.lost + ledger.duplicated + ledger.case_problems)[:5]:
            print(f"  {line}")
    for line in extra["publish"]:
        print(f"knowledge-base publish: {line}")
    for backend in extra["balancer"]:
        print(f"balancer: {backend['url']} served {backend['served']}, failed {backend['failed']}")
    if cpu:
        total, wall = sum(cpu.values()), extra["wall"]
        print(
            "CPU during the run: "
            + ", ".join(f"{name} {used / wall * 100:.0f} %" for name, used in cpu.most_common())
            + f" of one core (total {total / wall * 100:.0f} % of {(os.cpu_count() or 1) * 100} %)"
        )
    before, after = loads
    peak = max((load for _, load in extra["load_samples"]), default=float("nan"))
    print(
        f"load average before {before[0]:.1f} / {before[1]:.1f} / {before[2]:.1f}, "
        f"after {after[0]:.1f} / {after[1]:.1f} / {after[2]:.1f} (1-min peak during the run {peak:.1f}) "
        f"on {os.cpu_count()} cores"
    )
    run = machine.during
    print(
        f"machine: a fixed Python loop ({LOOP_ITERATIONS / 1e6:g} M additions, fastest of 3) took "
        f"{machine.loop_before:.2f} s of CPU before the run and {machine.loop_after:.2f} s after (more is a "
        f"slower machine); during the run all cores were {run.share(run.busy) * 100:.0f} % busy, "
        f"{run.share(run.steal) * 100:.1f} % taken by the hypervisor (steal)"
    )
    print("target met" if passed else "TARGET MISSED")
    if args.json:
        figures = {
            "seconds": seconds,
            "rate": args.rate,
            "turns": len(in_window),
            "turns_per_second": throughput,
            "per_minute": minutes,
            "p50_ms": percentile(latencies, 0.5),
            "p95_ms": p95,
            "p99_ms": percentile(latencies, 0.99),
            "errors": errors,
            "degraded": degraded,
            "lost": len(ledger.lost) if ledger else None,
            "duplicated": len(ledger.duplicated) if ledger else None,
            "case_problems": len(ledger.case_problems) if ledger else None,
            "cases": len(stats.cases),
            "load_before": before,
            "load_after": after,
            "loop_seconds_before": machine.loop_before,
            "loop_seconds_after": machine.loop_after,
            "busy_share": run.share(run.busy),
            "steal_share": run.share(run.steal),
            "passed": passed,
        }
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="how long to offer load")
    parser.add_argument(
        "--rate", type=float, default=42.0, help="turns offered per second (a little over the 40 targeted)"
    )
    parser.add_argument("--think", default="1-3", help="seconds before each message, MIN-MAX")
    parser.add_argument(
        "--warm-up", type=float, default=30.0, help="seconds of the same load before measuring (0: none)"
    )
    parser.add_argument("--url", help="a running cluster's balancer (skips starting one)")
    parser.add_argument(
        "--supervisor-pid", type=int, help="with --url: the run-cluster process, for CPU figures"
    )
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--no-publish-check", action="store_true", help="do not edit an FAQ halfway")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    low, _, high = args.think.partition("-")
    args.think = (float(low), float(high or low))
    questions = read_questions(args.queries)
    settings: Settings = get_settings()
    database = Database(settings.cluster.database_url.get_secret_value())
    replica_urls = [r.bot_url for r in replicas(settings)]
    key = settings.privacy.pseudonym_key.get_secret_value()

    async def publish() -> list[str]:
        return await publish_reaches_replicas(database, replica_urls)

    with tempfile.TemporaryDirectory(prefix="bot1999-loadtest-") as tmp:
        process, log, startup = None, None, float("nan")
        url = args.url or f"http://{settings.cluster.balancer_host}:{settings.cluster.balancer_port}"
        if not args.url:
            log = Path(tmp) / "cluster.log"
            process = start_cluster(log)
        try:
            startup = wait_for_cluster(process, url.rstrip("/"), log, 900)
            loop_before = loop_seconds()  # the cluster idle
            warm = None
            if args.warm_up > 0:  # caches, pools and Rasa's first turns; checked, not measured
                warm_stats, _ = asyncio.run(drive(url, args.warm_up, args.rate, args.think, questions, None))
                warm = (warm_stats, check_ledger(database, warm_stats, key))
            parent = process.pid if process is not None else args.supervisor_pid
            cpu = ProcessCpu(parent) if parent else None
            cpu_before = cpu.sample() if cpu else Counter()
            load_before = os.getloadavg()
            own_cpu = time.process_time()
            machine_before = CpuTimes.read()
            stats, extra = asyncio.run(
                drive(
                    url,
                    args.seconds,
                    args.rate,
                    args.think,
                    questions,
                    None if args.no_publish_check else publish,
                )
            )
            load_after = os.getloadavg()
            machine_during = CpuTimes.read() - machine_before
            cpu_used = cpu.sample() - cpu_before if cpu else Counter()
            cpu_used["load generator (this process)"] = time.process_time() - own_cpu
            ledger = check_ledger(database, stats, key)
            machine = Machine(loop_before, loop_seconds(), machine_during)  # the cluster idle again
        finally:
            if process is not None:
                stop_cluster(process)
            database.dispose()
    passed = report(args, stats, extra, ledger, cpu_used, (load_before, load_after), startup, machine, warm)
    if args.check and not passed:
        sys.exit(1)


if __name__ == "__main__":
    main()
