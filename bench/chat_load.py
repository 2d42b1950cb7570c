"""Chat latency end to end: ``POST /api/chat`` through the bot (which serves the actions too) and Rasa.

Starts the production stack the way operators do (``bot1999 run``: set-up with the default
knowledge base, Rasa with its warm-up, the bot serving the actions) on free ports over a
scratch SQLite store, then:

1. the first turn after start-up (``bot1999 run`` says the bot is up only once Rasa is
   warmed up, so this turn must be answered by Rasa, not in degraded mode);
2. ``--conversations`` citizens chatting at once, each going through scripted
   conversations (questions with feedback, a whole case form, a status check, small talk,
   an emergency) for ``--rounds`` rounds, pausing ``--think`` seconds (uniformly drawn)
   before each message, as a person reading the reply and typing;
3. the same citizens once more without any pause (a stress figure: how the stack behaves
   saturated, and its throughput).

Reports per-turn latency (p50 / p95 / max), errors (HTTP failures), degraded turns and the
CPU time the stack's processes used per turn (from /proc, by process); the target (p95 <=
150 ms with 10 concurrent conversations, no errors, no degraded turn) is checked on phase 2.

``--checkout DIR`` starts the stack from another checkout of this project instead (a baseline:
a clone at an older commit, its ``.venv`` may be a link to this one's; its code comes first on
``PYTHONPATH``), so that both are measured by the same script on the same machine.

    .venv/bin/python -m bench.chat_load [--conversations 10] [--rounds 3] [--think 1-3] [--checkout DIR] [--check]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from bench.load_checks import ProcessCpu
from bot.cases import format_case_number

REPO = Path(__file__).resolve().parents[1]
TARGET_P95_MS = 150.0

# Our own conversations (never the evaluation queries). A turn is ("text" | "payload", value).
Turn = tuple[str, str]
SCRIPTS: dict[str, list[Turn]] = {
    "question": [
        ("text", "你好"),
        ("text", "大型垃圾要怎麼丟"),
        ("payload", "/feedback_good"),
        ("text", "垃圾車晚上幾點會來"),
        ("text", "謝謝"),
    ],
    "case": [
        ("text", "我要報修路燈"),
        ("text", "三民區建國二路 100 號前"),
        ("text", "整排路燈晚上都不亮"),
        ("text", "沒有"),
        ("text", "0912345678"),
        ("payload", "/affirm"),
        ("payload", "/affirm"),
    ],
    "status": [
        ("text", "我想查案件進度"),
        ("text", format_case_number(date(2026, 1, 5), 9)),
        ("text", "678"),
        ("text", "你是機器人嗎"),
    ],
    "other": [
        ("text", "房屋稅可以用信用卡繳嗎"),
        ("payload", "/feedback_bad"),
        ("text", "我家隔壁失火了"),
        ("text", "幫我推薦一支手機"),
        ("text", "掰掰"),
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Results:
    latencies_ms: list[float] = field(default_factory=list)
    modes: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)  # what the citizen sent, for each degraded turn

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


async def _turn(client: httpx.AsyncClient, sender: str, turn: Turn, results: Results) -> None:
    kind, value = turn
    started = time.perf_counter()
    try:
        response = await client.post("/api/chat", json={"sender": sender, kind: value})
    except httpx.HTTPError as error:
        results.errors.append(f"{type(error).__name__}: {error}")
        return
    results.latencies_ms.append((time.perf_counter() - started) * 1000)
    if response.status_code != 200:
        results.errors.append(f"HTTP {response.status_code}")
        return
    mode = response.json()["mode"]
    results.modes[mode] += 1
    if mode == "degraded":
        results.degraded.append(value)


async def _citizen(
    client: httpx.AsyncClient, number: int, rounds: int, think: tuple[float, float], results: Results
) -> None:
    names = list(SCRIPTS)
    pause = random.Random(number)  # the same pauses on every run
    for round_ in range(rounds):
        for offset in range(len(names)):  # each citizen starts with a different script
            sender = f"bench-{number}-{round_}-{offset}-{uuid.uuid4().hex[:6]}"
            for turn in SCRIPTS[names[(number + offset) % len(names)]]:
                if think[1] > 0:
                    await asyncio.sleep(pause.uniform(*think))
                await _turn(client, sender, turn, results)


async def load(
    url: str, conversations: int, rounds: int, think: tuple[float, float]
) -> tuple[Results, float]:
    results = Results()
    limits = httpx.Limits(max_connections=conversations + 2)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(_citizen(client, n, rounds, think, results) for n in range(conversations)))
        return results, time.perf_counter() - started


def _summary(results: Results) -> str:
    if not results.latencies_ms:
        return "no turns"
    return (
        f"p50 {results.percentile(0.5):.0f} ms, p95 {results.percentile(0.95):.0f} ms, "
        f"max {max(results.latencies_ms):.0f} ms, mean {statistics.fmean(results.latencies_ms):.0f} ms; "
        f"errors {len(results.errors)}, degraded turns {results.modes.get('degraded', 0)}"
    )


def _start(folder: Path, checkout: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(checkout), os.environ.get("PYTHONPATH")])),
        "BOT1999_SETTINGS_FILE": str(checkout / "settings.yml"),
        "BOT1999_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
        "BOT1999_SERVER__PORT": str(port),
        "BOT1999_SERVER__LOG_LEVEL": "warning",
        "BOT1999_RASA__URL": f"http://127.0.0.1:{free_port()}",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    log = folder / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(checkout / ".venv" / "bin" / "bot1999"), "run"],
            cwd=checkout,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, f"http://127.0.0.1:{port}", log


def _wait_up(process: subprocess.Popen[bytes], url: str, log: Path, seconds: float) -> float:
    started = time.monotonic()
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() - started > seconds:
            sys.exit(f"bot1999 run did not come up:\n{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.5)


def _stack_only(used: Counter[str]) -> Counter[str]:
    """The stack's own processes: ``bot1999 run`` here is on SQLite, so PostgreSQL's and Redis's
    CPU (which :class:`ProcessCpu` counts for the cluster) is other work on the machine."""
    return Counter({name: s for name, s in used.items() if not name.startswith(("PostgreSQL", "Redis"))})


def _cpu_per_turn(used: Counter[str], turns: int) -> str:
    """``used`` CPU seconds by process, as milliseconds per turn: the total first, then each process."""
    used = _stack_only(used)
    if not turns:
        return "no turns"
    parts = [f"{name} {1000 * seconds / turns:.1f}" for name, seconds in used.most_common() if seconds > 0]
    return f"{1000 * sum(used.values()) / turns:.1f} ms in all ({', '.join(parts)})"


def _commit(checkout: Path) -> str:
    found = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() or "not a git checkout"


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Ctrl-C to a supervisor started in its own session (it stops its children); SIGKILL to
    the whole group if it has not exited within ``timeout`` seconds."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--think", default="1-3", help="seconds before each message, MIN-MAX (0-0: none)")
    parser.add_argument("--url", help="an already running bot (skips starting the stack)")
    parser.add_argument("--checkout", type=Path, default=REPO, help="start the stack from this checkout")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    if not (checkout / "models" / "bot1999.tar.gz").is_file() and not args.url:
        sys.exit(f"no Rasa model at {checkout}/models/bot1999.tar.gz: run `make train` there")
    low, _, high = args.think.partition("-")
    think = (float(low), float(high or low))

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bot1999-bench-") as tmp:
        process = None
        if args.url:
            url, startup = args.url.rstrip("/"), float("nan")
        else:
            process, url, log = _start(Path(tmp), checkout)
            startup = _wait_up(process, url, log, 600)
        cpu = ProcessCpu(process.pid) if process is not None else None
        try:
            started = time.perf_counter()
            first = httpx.post(
                f"{url}/api/chat", json={"sender": "bench-first", "text": "大型垃圾要怎麼丟"}, timeout=60
            )
            first_ms = (time.perf_counter() - started) * 1000
            first_mode = first.json()["mode"] if first.status_code == 200 else f"HTTP {first.status_code}"
            before = cpu.sample() if cpu else Counter[str]()
            results, wall = asyncio.run(load(url, args.conversations, args.rounds, think))
            between = cpu.sample() if cpu else Counter[str]()
            stress, stress_wall = asyncio.run(load(url, args.conversations, 1, (0.0, 0.0)))
            after = cpu.sample() if cpu else Counter[str]()
        finally:
            if process is not None:
                stop_process_group(process)
                kept = REPO / "var" / "bench" / "chat_load-stack.log"  # the last run's, for a look
                kept.parent.mkdir(parents=True, exist_ok=True)
                kept.write_bytes(log.read_bytes())
    load_after = os.getloadavg()

    turns = len(results.latencies_ms)
    p95 = results.percentile(0.95)
    degraded = results.modes.get("degraded", 0)
    passed = first_mode == "normal" and p95 <= TARGET_P95_MS and not results.errors and not degraded
    where = "" if checkout == REPO else f" from {checkout} ({_commit(checkout)})"
    print(f"stack: bot1999 run{where}, default knowledge base; up in {startup:.0f} s")
    print(f"first turn after start-up: {first_mode}, {first_ms:.0f} ms (target: normal, not degraded)")
    print(
        f"{args.conversations} concurrent conversations, {think[0]:g}-{think[1]:g} s before each message, "
        f"{args.rounds} rounds of {len(SCRIPTS)} scripts: {turns} turns in {wall:.1f} s ({turns / wall:.1f} turns/s)"
    )
    print(f"  per-turn latency: {_summary(results)} (target p95 <= {TARGET_P95_MS:.0f} ms, no errors)")
    if cpu:
        print(f"  CPU per turn: {_cpu_per_turn(between - before, turns)}")
    print(
        f"stress, the same {args.conversations} without pauses, 1 round: {len(stress.latencies_ms)} turns in "
        f"{stress_wall:.1f} s ({len(stress.latencies_ms) / stress_wall:.1f} turns/s)"
    )
    print(f"  per-turn latency: {_summary(stress)}")
    if cpu:
        print(f"  CPU per turn: {_cpu_per_turn(after - between, len(stress.latencies_ms))}")
    for error in Counter(results.errors + stress.errors).most_common(5):
        print(f"  {error[1]} x {error[0]}")
    for text, count in Counter(results.degraded + stress.degraded).most_common(5):
        print(f"  degraded {count} x after the citizen sent {text!r}")
    if not args.url:
        print(f"the stack's log: {REPO / 'var' / 'bench' / 'chat_load-stack.log'}")
    print(
        f"load average before {load_before[0]:.1f} / {load_before[1]:.1f} / {load_before[2]:.1f}, "
        f"after {load_after[0]:.1f} / {load_after[1]:.1f} / {load_after[2]:.1f} on {os.cpu_count()} cores"
    )
    print("target met" if passed else "TARGET MISSED")
    if args.json:
        figures: dict[str, Any] = {
            "first_turn": {"mode": first_mode, "ms": first_ms},
            "think_seconds": think,
            "turns": turns,
            "p50_ms": results.percentile(0.5),
            "p95_ms": p95,
            "stress_p95_ms": stress.percentile(0.95),
            "cpu_ms_per_turn": {
                name: 1000 * used / max(turns, 1) for name, used in _stack_only(between - before).items()
            },
            "stress_turns_per_second": len(stress.latencies_ms) / stress_wall,
            "errors": len(results.errors),
            "degraded": degraded,
            "load_before": load_before,
            "load_after": load_after,
            "passed": passed,
        }
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if args.check and not passed:
        sys.exit(1)


if __name__ == "__main__":
    main()
