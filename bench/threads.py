"""One thread per query: ``bot1999 evaluate`` latency with the default (one thread) against two threads per pool.

    python -m bench.threads [--rounds 3] [--kb knowledge/content --format jsonl --queries tests/data]

Runs the README's evaluate command in fresh processes, alternating: without any thread
setting (the processes limit torch, faiss and numpy's BLAS to one thread themselves,
knowledge/threads.py) and with ``OMP_NUM_THREADS=2`` (every pool at two threads, one per core
of this machine: what a process got before the limit, when nothing was set). Prints each
run's p50 / p95 per query and their medians per setting. The vector cache is warm after the
first run, so only queries are timed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETTINGS = {"one thread (nothing set)": None, "OMP_NUM_THREADS=2": "2"}


def _run(args: argparse.Namespace, threads: str | None) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    if threads is not None:
        env["OMP_NUM_THREADS"] = threads
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "figures.json"
        argv = [
            str(REPO / ".venv" / "bin" / "bot1999"),
            "evaluate",
            "--kb",
            str(args.kb),
            "--queries",
            str(args.queries),
        ]
        if args.format:
            argv += ["--format", args.format]
        subprocess.run([*argv, "--json", str(out)], cwd=REPO, env=env, capture_output=True, check=True)
        figures = json.loads(out.read_text(encoding="utf-8"))
    return float(figures["latency_ms_p50"]), float(figures["latency_ms_p95"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kb", type=Path, default=Path("knowledge/content"))
    parser.add_argument("--format", default="jsonl")
    parser.add_argument("--queries", type=Path, default=Path("tests/data"))
    args = parser.parse_args()
    print(
        f"bot1999 evaluate --kb {args.kb} --queries {args.queries}: latency per query (search + decide), ms"
    )
    _run(args, None)  # warm the vector cache and the model folder (not counted)
    seen: dict[str, list[tuple[float, float]]] = {name: [] for name in SETTINGS}
    for round_ in range(1, args.rounds + 1):
        for name, threads in SETTINGS.items():
            p50, p95 = _run(args, threads)
            seen[name].append((p50, p95))
            print(f"  round {round_}, {name:<26} p50 {p50:5.1f}  p95 {p95:5.1f}")
    for name, runs in seen.items():
        p50 = statistics.median(r[0] for r in runs)
        p95 = statistics.median(r[1] for r in runs)
        print(f"median of {len(runs)} runs, {name:<26} p50 {p50:5.1f}  p95 {p95:5.1f}")
    load = os.getloadavg()
    print(f"load average after {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
