"""Routing check: where does the Rasa NLU model send the dev queries?

Runs with the Rasa environment's Python (Rasa 3.6 needs Python 3.10):

    RASA_TELEMETRY_ENABLED=false .venv-rasa/bin/python bench/nlu_routing.py [--model models/x.tar.gz]

Reads the labelled dev queries at run time (never copy them into data/: held-out sets of
the same kind check the figures) and reports, against the targets:

- emergency messages classified ``emergency`` (target 100 %),
- report messages classified ``report_issue`` (target >= 90 %),
- in-scope FAQ questions (gold not null) that reach FAQ retrieval, i.e. ``faq`` or
  ``nlu_fallback`` (target >= 97 %),

plus a confusion summary (predicted intents per group and per question style). Only
aggregate figures are printed, never the queries themselves.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_QUERIES = REPO.parent / "shared" / "data" / "eval" / "kaohsiung_dev_queries.jsonl"
FAQ_ROUTES = frozenset({"faq", "nlu_fallback"})


@dataclass(frozen=True)
class Target:
    group: str
    accepted: frozenset[str]
    minimum: float


TARGETS = (
    Target("emergency", frozenset({"emergency"}), 1.00),
    Target("report", frozenset({"report_issue"}), 0.90),
    Target("faq", FAQ_ROUTES, 0.97),
)


@dataclass
class Routed:
    """Predicted intents per group (``faq``, or the ``kind`` of an out-of-scope message)."""

    by_group: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    faq_by_style: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    confidence: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, row: dict[str, Any], intent: str, confidence: float) -> None:
        group = "faq" if row.get("gold") else str(row.get("kind") or "unlabelled")
        self.by_group[group][intent] += 1
        self.confidence[group].append(confidence)
        if group == "faq":
            self.faq_by_style[str(row.get("style") or "-")][intent] += 1


def read_queries(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def newest_model(folder: Path) -> Path:
    models = sorted(folder.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        sys.exit(f"no trained model in {folder}: run `rasa train` or pass --model")
    return models[-1]


async def route(model: Path, rows: Iterable[dict[str, Any]]) -> Routed:
    # The Rasa venv only; imported late for a fast --help.
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs every parsed message (with its text) at debug level: keep the queries out of the output.
    configure_structlog(logging.ERROR)
    agent = Agent.load(str(model))
    routed = Routed()
    for row in rows:
        parsed = await agent.parse_message(row["query"])
        intent = parsed.get("intent") or {}
        routed.add(row, str(intent.get("name")), float(intent.get("confidence") or 0.0))
    return routed


def share(counts: Counter[str], accepted: frozenset[str]) -> float:
    total = sum(counts.values())
    return sum(n for intent, n in counts.items() if intent in accepted) / total if total else 0.0


def spread(counts: Counter[str]) -> str:
    return ", ".join(f"{intent} {n}" for intent, n in counts.most_common())


def report(routed: Routed) -> tuple[str, bool]:
    lines = ["target checks:"]
    passed = True
    for target in TARGETS:
        counts = routed.by_group.get(target.group, Counter())
        got = share(counts, target.accepted)
        ok = got >= target.minimum
        passed &= ok
        lines.append(
            f"  {target.group:<10} {got:7.1%} of {sum(counts.values()):>3} "
            f"-> {'/'.join(sorted(target.accepted))} (target >= {target.minimum:.0%}) "
            f"{'ok' if ok else 'MISSED'}"
        )
    lines.append("confusion (predicted intents per group):")
    for group, counts in sorted(routed.by_group.items()):
        conf = routed.confidence[group]
        lines.append(
            f"  {group:<13} n={sum(counts.values()):>3} mean conf {sum(conf) / len(conf):.2f}: {spread(counts)}"
        )
    lines.append("in-scope FAQ questions by style:")
    for style, counts in sorted(routed.faq_by_style.items()):
        lines.append(
            f"  {style:<13} {share(counts, FAQ_ROUTES):7.1%} of {sum(counts.values()):>3}: {spread(counts)}"
        )
    return "\n".join(lines), passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a trained model (default: the newest in models/)")
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--json", type=Path, help="also write the counts to this file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    logging.basicConfig(level=logging.ERROR)
    model = args.model or newest_model(REPO / "models")
    rows = read_queries(args.queries)
    routed = asyncio.run(route(model, rows))
    text, passed = report(routed)
    print(f"model {model}, {len(rows)} queries from {args.queries.name}")
    print(text)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "model": str(model),
                    "by_group": {g: dict(c) for g, c in routed.by_group.items()},
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
