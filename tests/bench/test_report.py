"""bench/report.py: a full make bench rewrites the sections its commands write and keeps the others."""

from __future__ import annotations

from pathlib import Path

from bench.report import SECTIONS, _hand_written


def test_sections_written_by_hand_are_kept(tmp_path: Path) -> None:
    generated = SECTIONS[0][0]
    report = tmp_path / "benchmarks.md"
    report.write_text(
        f"# Benchmarks\n\nhead\n\n## {generated}\n\nold figures\n\n## Load runs: the log\n\n| run | p95 |\n",
        encoding="utf-8",
    )
    kept = "\n".join(_hand_written(report))
    assert kept.startswith("## Load runs: the log\n\n| run | p95 |")
    assert "old figures" not in kept, "the generated section is written anew"
    assert _hand_written(tmp_path / "none.md") == []
