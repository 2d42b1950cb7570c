"""Routing check: where does the conversation send the dev queries?

    .venv/bin/python -m bench.nlu_routing [--model models/bot1999.tar.gz] [--check]

Reads the labelled dev queries at run time (never copy them into data/: held-out sets of
the same kind check the figures). The Rasa model classifies each query (in the Rasa
environment: this same file runs there with ``--parse``, Rasa 3.6 needs Python 3.10); the
routing then follows data/rules.yml for a first message:

- ``emergency`` → the 119 / 110 reply; ``report_issue`` → the case form;
- ``faq``, ``nlu_fallback`` and ``correct`` (outside the case form a correction is a
  question, e.g. changing an address) → ``action_answer_faq``, i.e. FAQ retrieval. There
  a message with emergency keywords (``bot.chat.emergency``, the check degraded mode uses)
  gets the 119 / 110 reply first, before the retrieval's answer.

Targets: every emergency message gets the emergency reply first (100 %); report messages
start case filing (>= 90 %); in-scope FAQ questions (gold not null) reach FAQ retrieval
(>= 97 %). Also a confusion summary (predicted intents per group and per question style).
Only aggregate figures are printed, never the queries themselves.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RASA_PYTHON = REPO / ".venv-rasa" / "bin" / "python"
DEFAULT_QUERIES = REPO.parent / "shared" / "data" / "eval" / "kaohsiung_dev_queries.jsonl"
FAQ_ROUTES = frozenset({"faq", "nlu_fallback", "correct"})
GUARDED = "emergency (keywords)"  # routed to FAQ retrieval, where the keyword check answers 119 / 110 first


@dataclass(frozen=True)
class Target:
    group: str
    accepted: frozenset[str]
    minimum: float


TARGETS = (
    Target("emergency", frozenset({"emergency", GUARDED}), 1.00),
    Target("report", frozenset({"report_issue"}), 0.90),
    Target("faq", FAQ_ROUTES | {GUARDED}, 0.97),
)


@dataclass
class Routed:
    """Routes per group (``faq``, or the ``kind`` of an out-of-scope message)."""

    by_group: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    nlu_by_group: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    faq_by_style: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    confidence: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, row: dict[str, Any], intent: str, confidence: float, route: str) -> None:
        group = "faq" if row.get("gold") else str(row.get("kind") or "unlabelled")
        self.nlu_by_group[group][intent] += 1
        self.by_group[group][route] += 1
        self.confidence[group].append(confidence)
        if group == "faq":
            self.faq_by_style[str(row.get("style") or "-")][route] += 1


def read_queries(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def route_of(intent: str, text: str, emergency_words: Callable[[str], bool]) -> str:
    if intent in FAQ_ROUTES and emergency_words(text):
        return GUARDED
    return intent


def classify(model: Path, texts: list[str]) -> list[tuple[str, float]]:
    """Each text's intent and confidence, from the model, in the Rasa environment."""
    result = subprocess.run(
        [str(RASA_PYTHON), str(Path(__file__).resolve()), "--parse", str(model)],
        input="".join(json.dumps(t, ensure_ascii=False) + "\n" for t in texts),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    if result.returncode != 0:
        sys.exit(f"classifying in the Rasa environment failed:\n{result.stderr[-3000:]}")
    parsed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("[")]
    return [(str(intent), float(confidence)) for intent, confidence in parsed]


def _parse_stdin(model: str) -> None:
    """(Rasa environment) one JSON text per stdin line -> one ``[intent, confidence]`` per line."""
    import asyncio

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parsed message (with its text) at debug level: keep the queries out of the output.
    configure_structlog(logging.ERROR)
    logging.basicConfig(level=logging.ERROR)

    async def run() -> None:
        agent = Agent.load(model)
        for line in sys.stdin:
            parsed = await agent.parse_message(json.loads(line))
            intent = parsed.get("intent") or {}
            print(json.dumps([intent.get("name"), intent.get("confidence") or 0.0]), flush=True)

    asyncio.run(run())


def share(counts: Counter[str], accepted: frozenset[str]) -> float:
    total = sum(counts.values())
    return sum(n for intent, n in counts.items() if intent in accepted) / total if total else 0.0


def spread(counts: Counter[str]) -> str:
    return ", ".join(f"{intent} {n}" for intent, n in counts.most_common())


def report(routed: Routed) -> tuple[str, bool]:
    lines = ["target checks (the route a first message takes):"]
    passed = True
    for target in TARGETS:
        counts = routed.by_group.get(target.group, Counter())
        got = share(counts, target.accepted)
        ok = got >= target.minimum
        passed &= ok
        lines.append(
            f"  {target.group:<10} {got:7.1%} of {sum(counts.values()):>3} "
            f"-> {' / '.join(sorted(target.accepted))} (target >= {target.minimum:.0%}) "
            f"{'ok' if ok else 'MISSED'}"
        )
    lines.append(
        f"NLU alone (no keyword check): emergency {share(routed.nlu_by_group['emergency'], frozenset({'emergency'})):.1%}"
    )
    lines.append("routes per group:")
    for group, counts in sorted(routed.by_group.items()):
        conf = routed.confidence[group]
        lines.append(
            f"  {group:<13} n={sum(counts.values()):>3} mean conf {sum(conf) / len(conf):.2f}: {spread(counts)}"
        )
    lines.append("in-scope FAQ questions by style:")
    for style, counts in sorted(routed.faq_by_style.items()):
        accepted = FAQ_ROUTES | {GUARDED}
        lines.append(
            f"  {style:<13} {share(counts, accepted):7.1%} of {sum(counts.values()):>3}: {spread(counts)}"
        )
    return "\n".join(lines), passed


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--parse":
        _parse_stdin(sys.argv[2])
        return
    from bot.chat.emergency import looks_like_emergency

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "bot1999.tar.gz")
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--json", type=Path, help="also write the counts to this file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    if not args.model.is_file():
        sys.exit(f"no trained model at {args.model}: run `make train` or pass --model")

    rows = read_queries(args.queries)
    predictions = classify(args.model, [row["query"] for row in rows])
    routed = Routed()
    for row, (intent, confidence) in zip(rows, predictions, strict=True):
        routed.add(row, intent, confidence, route_of(intent, row["query"], looks_like_emergency))
    text, passed = report(routed)
    print(
        f"model {args.model.relative_to(REPO) if args.model.is_relative_to(REPO) else args.model}, "
        f"{len(rows)} queries from {args.queries.name}"
    )
    print(text)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "model": str(args.model),
                    "by_group": {g: dict(c) for g, c in routed.by_group.items()},
                    "nlu_by_group": {g: dict(c) for g, c in routed.nlu_by_group.items()},
                    "faq_by_style": {s: dict(c) for s, c in routed.faq_by_style.items()},
                    "passed": passed,
                },
                ensure_ascii=False,
                indent=2,
            ),
            encoding="utf-8",
        )
    if args.check and not passed:
        sys.exit(1)


if __name__ == "__main__":
    main()
