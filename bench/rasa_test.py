"""``rasa test`` reports for docs/rasa-test/: the conversation stories and NLU cross-validation.

    python -m bench.rasa_test [--folds 3] [--out docs/rasa-test]

NLU cross-validation is a benchmark, not a test: it trains the pipeline once per fold
(minutes on two cores) and its figures move by a point or two from run to run, so it runs in
``make bench``. ``make test`` keeps the story test (``make rasa-test``, failing on any wrong
prediction, its reports under var/). This writes both reports to ``--out`` and prints the
story outcome and the intent figures per intent; the full reports (errors included) stay there.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RASA = REPO / ".venv-rasa" / "bin" / "rasa"
MODEL = REPO / "models" / "bot1999.tar.gz"
STORIES = REPO / "tests" / "conversations" / "test_stories.yml"
AVERAGES = ("macro avg", "weighted avg")
NOT_INTENTS = ("accuracy", "micro avg", *AVERAGES)


def format_intent_report(report: dict[str, Any]) -> str:
    """The intent report of ``rasa test nlu`` as a table: one row per intent, then the averages."""
    lines = [f"{'intent':<20}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    intents = sorted(name for name in report if name not in NOT_INTENTS)
    for name in [*intents, *AVERAGES]:
        row = report[name]
        lines.append(
            f"{name:<20}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1-score']:>8.3f}"
            f"{int(row['support']):>9}"
        )
    lines.append(f"intent accuracy {float(report['accuracy']):.3f}")
    return "\n".join(lines)


def format_story_report(report: dict[str, Any]) -> str:
    """Stories right of all, and actions right of all (``rasa test core``'s story report)."""
    stories = report["conversation_accuracy"]
    actions = report["micro avg"] if "micro avg" in report else report["weighted avg"]
    return (
        f"stories: {stories['correct']} / {stories['total']} right"
        f" (accuracy {float(stories['accuracy']):.3f});"
        f" actions: accuracy {float(report['accuracy']):.3f}, support {int(actions['support'])}"
    )


def _rasa(*args: str) -> None:
    argv = [str(RASA), *args, "--quiet"]
    print(" ".join(argv[1:]), file=sys.stderr)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"rasa {args[0]} {args[1]} failed ({result.returncode}):\n{result.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "rasa-test")
    args = parser.parse_args()
    if not RASA.exists() or not MODEL.exists():
        sys.exit(f"no Rasa at {RASA} or no model at {MODEL}: make train sets them up")
    core, nlu = args.out / "core", args.out / "nlu"
    _rasa("test", "core", "--model", str(MODEL), "--stories", str(STORIES), "--out", str(core), "--no-plot")
    _rasa(
        "test", "nlu", "--nlu", "data/nlu", "--config", "config.yml", "--cross-validation",
        "--folds", str(args.folds), "--out", str(nlu), "--no-plot",
    )  # fmt: skip
    print(format_story_report(json.loads((core / "story_report.json").read_text(encoding="utf-8"))))
    print()
    print(f"NLU, {args.folds}-fold cross-validation over data/nlu (reports in {nlu}):")
    print(format_intent_report(json.loads((nlu / "intent_report.json").read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
