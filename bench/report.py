"""``make bench``: run every benchmark and write docs/benchmarks.md with the command behind each figure.

Each section is the verbatim output of one command, run here, in this order, in one go, so
the figures of a section are comparable with each other (same machine, same load).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "RASA_TELEMETRY_ENABLED": "false"}

EVALUATE_CONTENT = [
    ".venv/bin/bot1999",
    "evaluate",
    "--kb",
    "knowledge/content",
    "--format",
    "jsonl",
    "--queries",
    "tests/data",
]

SECTIONS: list[tuple[str, list[str], bool]] = [
    (
        "Retrieval on the default knowledge base (261 entries) with its own 273 + 22 test queries"
        " (shipped settings: int8 encoder)",
        EVALUATE_CONTENT,
        False,
    ),
    (
        "The same with the float encoder (`knowledge.quantize: none`)",
        ["env", "BOT1999_KNOWLEDGE__QUANTIZE=none", *EVALUATE_CONTENT],
        False,
    ),
    (
        "Retrieval on the Kaohsiung FAQ (1,427 entries) and its development set: the engine against the baselines",
        [".venv/bin/python", "-m", "bench.retrieval", "--ablations"],
        True,
    ),
    (
        "The same engine with the float encoder (`--quantize none`), without ablations",
        [".venv/bin/python", "-m", "bench.retrieval", "--quantize", "none"],
        True,
    ),
    (
        "Dense index at scale: 100,000 synthetic vectors (HNSW), build, memory, search latency, recall",
        [".venv/bin/python", "-m", "bench.scale"],
        False,
    ),
    # Conversation (Rasa): where the dialogue sends the development queries, and chat latency
    # end to end through the bot, Rasa and the action server (bench/chat_load.py).
    (
        "Conversation routing: the Rasa model on the Kaohsiung development queries (emergency, report, FAQ)",
        [".venv/bin/python", "-m", "bench.nlu_routing", "--model", "models/bot1999.tar.gz"],
        True,
    ),
    (
        "Conversation latency: /api/chat through bot1999 run (bot, Rasa, action server), 10 concurrent conversations",
        [".venv/bin/python", "-m", "bench.chat_load", "--conversations", "10", "--rounds", "3"],
        False,
    ),
    # The supervisors' dashboard: every view over 100,000 seeded turns (bench/dashboard.py).
    (
        "Dashboard views on 100,000 logged turns, SQLite and PostgreSQL",
        [".venv/bin/python", "-m", "bench.dashboard"],
        False,
    ),
]


def _run(argv: list[str]) -> str:
    started = time.monotonic()
    result = subprocess.run(argv, cwd=REPO, env=ENV, capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    body = result.stdout.strip() or result.stderr.strip()[-3000:]
    return f"{body}\n\n(exit {result.returncode}, {took:.0f} s wall)"


def main() -> None:
    load = os.getloadavg()
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/report.py`); every section gives the command that produced it.",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} cores,"
        f" load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, OMP_NUM_THREADS=1.",
        "Latency figures are only comparable within one run; a loaded machine inflates them.",
        "",
    ]
    for title, argv, needs_shared in SECTIONS:
        lines += [f"## {title}", "", f"`{' '.join(argv)}`", ""]
        if needs_shared and not SHARED.is_dir():
            lines += [f"(skipped: no {SHARED})", ""]
            continue
        print(f"running: {' '.join(argv)}", file=sys.stderr)
        lines += ["```", _run(argv), "```", ""]
    (REPO / "docs" / "benchmarks.md").write_text("\n".join(lines), encoding="utf-8")
    print("wrote docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
