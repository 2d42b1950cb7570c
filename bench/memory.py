"""Resident memory of ``bot1999 run`` after a number of chat turns, per process and in total.

Starts the stack the way ``make run`` does (``bot1999 run``: set-up with the default
knowledge base, Rasa with its warm-up, the bot; bench/chat_load.py's start-up) on free
ports over a scratch SQLite store, sends ``--turns`` chat turns one after the other (the
scripted conversations of bench/chat_load.py, in turn), then reads every process of the
supervisor's tree from /proc and prints each one's resident set (RSS) and proportional set
(PSS: pages shared between processes counted once, split among them), and the totals.

    .venv/bin/python -m bench.memory [--turns 100] [--rasa-timeout 60] [--check]

The turns are meant to go through Rasa and the actions (that is what loads the FAQ engine
where the actions run), so the bot waits up to ``--rasa-timeout`` seconds for Rasa (the
setting's maximum by default): on a loaded machine a turn may be slow, and this measures
memory, not latency. The normal and degraded turns are counted.

The target (issue 24): the whole tree's RSS at most 3.0 GB after 100 turns.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.chat_load import SCRIPTS, _start, _wait_up, stop_process_group

__all__ = ["Process", "label", "process_tree"]

REPO = Path(__file__).resolve().parents[1]
TARGET_GB = 3.0
GB = 1024**3


@dataclass(frozen=True, slots=True)
class Process:
    pid: int
    ppid: int
    cmdline: str
    rss: int  # bytes
    pss: int  # bytes; 0 where /proc does not say


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _read(pid: int) -> Process | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        return Process(pid, ppid, cmdline.strip(), _status_kb(pid, "VmRSS") * 1024, _pss_kb(pid) * 1024)
    except (OSError, ValueError, IndexError):
        return None  # gone meanwhile


def process_tree(root: int) -> list[Process]:
    """``root`` and every process below it, parents before children."""
    every = [p for p in (_read(int(d)) for d in os.listdir("/proc") if d.isdigit()) if p is not None]
    children: dict[int, list[Process]] = {}
    for p in every:
        children.setdefault(p.ppid, []).append(p)
    top = next((p for p in every if p.pid == root), None)
    if top is None:
        return []
    tree, todo = [], [top]
    while todo:
        p = todo.pop(0)
        tree.append(p)
        todo.extend(sorted(children.get(p.pid, []), key=lambda c: c.pid))
    return tree


def label(process: Process, parent: str | None) -> str:
    """What the process is, from its command line (a worker is named after its parent)."""
    cmd = f" {process.cmdline} "
    for marker, name in (
        ("bot1999 run", "supervisor (bot1999 run)"),
        (" -m bot serve", "bot (bot serve)"),
        ("rasa_run.py", "Rasa"),
        (" -m rasa_sdk", "action server"),
        (" telegram-poll", "Telegram poller"),
    ):
        if marker in cmd:
            return name
    return f"{parent} worker" if parent else process.cmdline[:60]


def _chat(url: str, turns: int) -> tuple[int, int]:
    """``turns`` turns through the scripted conversations, one after the other; (normal, degraded)."""
    modes = {"normal": 0, "degraded": 0}
    scripts = list(SCRIPTS.values())
    sent = 0
    with httpx.Client(base_url=url, timeout=60) as client:
        conversation = 0
        while sent < turns:
            sender = f"memory-{conversation}"
            for kind, value in scripts[conversation % len(scripts)]:
                if sent == turns:
                    break
                response = client.post("/api/chat", json={"sender": sender, kind: value})
                response.raise_for_status()
                modes[response.json()["mode"]] += 1
                sent += 1
            conversation += 1
    return modes["normal"], modes["degraded"]


def _until_rasa_answers(url: str, seconds: float) -> float:
    """Seconds until a turn is answered by Rasa (not in degraded mode): on a loaded machine the
    bot may start (after ``bot1999 run``'s 300 s wait) before Rasa is up."""
    started = time.monotonic()
    with httpx.Client(base_url=url, timeout=90) as client:
        while time.monotonic() - started < seconds:
            turn = client.post("/api/chat", json={"sender": "memory-probe", "text": "大型垃圾要怎麼丟"})
            if turn.status_code == 200 and turn.json()["mode"] == "normal":
                return time.monotonic() - started
            time.sleep(5)
    sys.exit(f"Rasa did not answer within {seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--rasa-timeout", type=float, default=60.0, help="rasa.timeout_seconds of the stack")
    parser.add_argument("--check", action="store_true", help=f"exit 1 above {TARGET_GB} GB in total")
    args = parser.parse_args()
    if not (REPO / "models" / "bot1999.tar.gz").is_file():
        sys.exit("no Rasa model at models/bot1999.tar.gz: run `make train`")
    os.environ["BOT1999_RASA__TIMEOUT_SECONDS"] = str(args.rasa_timeout)  # the stack inherits it
    with tempfile.TemporaryDirectory(prefix="bot1999-memory-") as tmp:
        process, url, log = _start(Path(tmp))
        try:
            startup = _wait_up(process, url, log, 900)
            startup += _until_rasa_answers(url, 900)
            started = time.perf_counter()
            normal, degraded = _chat(url, args.turns)
            took = time.perf_counter() - started
            tree = process_tree(process.pid)
        finally:
            stop_process_group(process)
    names: dict[int, str] = {}
    print(f"stack: bot1999 run, default knowledge base; Rasa answering {startup:.0f} s after start")
    print(f"{args.turns} turns one after the other in {took:.0f} s: {normal} normal, {degraded} degraded")
    print(f"{'process':<28} {'pid':>7} {'RSS GB':>7} {'PSS GB':>7}")
    for p in tree:
        names[p.pid] = label(p, names.get(p.ppid))
        print(f"{names[p.pid]:<28} {p.pid:>7} {p.rss / GB:>7.2f} {p.pss / GB:>7.2f}")
    rss, pss = sum(p.rss for p in tree), sum(p.pss for p in tree)
    print(f"{'total (' + str(len(tree)) + ' processes)':<28} {'':>7} {rss / GB:>7.2f} {pss / GB:>7.2f}")
    passed = rss <= TARGET_GB * GB
    print(f"target (RSS <= {TARGET_GB} GB): {'met' if passed else 'MISSED'}")
    if args.check and not passed:
        sys.exit(1)


if __name__ == "__main__":
    main()
