"""The installed console command, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.store import Database
from bot.store.faqs import FaqStore, row_to_record
from bot.store.models import FaqReviewRow
from tests.bot.upstream_files import FIRST, OURS, SECOND, write

COMMANDS = [
    [],
    ["serve"],
    ["setup"],
    ["run"],
    ["db"],
    ["db", "upgrade"],
    ["kb"],
    ["kb", "import"],
    ["kb", "version"],
    ["metrics", "refresh"],
    ["agencies"],
    ["agencies", "report"],
]


def bot1999(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_the_installed_command_starts_and_has_help() -> None:
    result = bot1999("--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_every_command_has_help(command: list[str]) -> None:
    """In this process (Typer's runner): the same app, without an interpreter's start-up each."""
    result = CliRunner().invoke(app, [*command, "--help"], prog_name="bot1999")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_import_reports_counts_and_names_each_bad_row(tmp_path: Path) -> None:
    kb = tmp_path / "kb.jsonl"
    good = {"id": "G-1", "question": "路燈不亮怎麼辦？", "answer": "請撥1999報修。"}
    kb.write_text(
        "\n".join(
            [json.dumps(good, ensure_ascii=False), "{oops", json.dumps({"id": "G-2", "question": "無答案"})]
        )
        + "\n",
        encoding="utf-8",
    )
    env = {"BOT1999_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    first = bot1999("kb", "import", str(kb), env=env)
    assert first.returncode == 0, first.stderr
    assert "rejected line 2: bad JSON" in first.stdout
    assert "rejected line 3: answer: missing or empty" in first.stdout
    assert "3 rows: 1 imported, 0 updated, 0 unchanged, 0 merged, 2 rejected; 0 duplicates" in first.stdout
    second = bot1999("kb", "import", str(kb), env=env)
    assert "nothing changed" in second.stdout
    assert bot1999("kb", "import", str(kb), "--strict", env=env).returncode == 1


def test_a_changed_upstream_file_never_undoes_staff_work(tmp_path: Path) -> None:
    """``kb import`` goes the harvest's way: the override survives, the conflict is queued, the
    counts are exact; with ``harvest.upstream_changes = review`` every change is held."""
    env = {"BOT1999_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    first = bot1999("kb", "import", str(write(tmp_path, "first", "csv", FIRST)), env=env)
    assert first.returncode == 0, first.stderr
    database = Database(env["BOT1999_DATABASE_URL"])
    with database.session() as session:  # staff rewrite U-1's answer, as the console's editor does
        store = FaqStore(session)
        store.replace(row_to_record(store.get("U-1")).model_copy(update={"answer": OURS}), actor="curator")

    second = bot1999("kb", "import", str(write(tmp_path, "second", "csv", SECOND)), env=env)

    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[-2] == (
        "4 rows: 1 imported, 1 updated, 1 unchanged, 0 merged, 0 rejected; 0 duplicates; "
        "1 changed upstream where staff changed them (for review), 0 upstream changes held for review"
    )
    with database.session() as session:
        store = FaqStore(session)
        assert (store.get("U-1").answer, store.get("U-2").answer) == (OURS, SECOND[1]["answer"])
        open_items = session.scalars(select(FaqReviewRow).where(FaqReviewRow.status == "open")).all()
        assert [(r.faq_id, r.conflicts) for r in open_items] == [("U-1", ["answer"])]

    third = [{**entry, "answer": entry["answer"] + "（更新）"} for entry in SECOND]
    held = bot1999(
        "kb",
        "import",
        str(write(tmp_path, "third", "xlsx", third)),
        env={**env, "BOT1999_HARVEST__UPSTREAM_CHANGES": "review"},
    )
    assert held.returncode == 0, held.stderr
    assert held.stdout.splitlines()[-1] == (
        "4 rows: 0 imported, 0 updated, 0 unchanged, 0 merged, 0 rejected; 0 duplicates; "
        "0 changed upstream where staff changed them (for review), 4 upstream changes held for review"
    )
    with database.session() as session:
        assert FaqStore(session).get("U-2").answer == SECOND[1]["answer"]  # held: not live yet
        held_items = session.scalars(select(FaqReviewRow).where(FaqReviewRow.held.is_(True))).all()
        assert sorted(r.faq_id for r in held_items) == ["U-1", "U-2", "U-3", "U-4"]
    database.dispose()


def test_unreadable_input_and_bad_settings_are_clear(tmp_path: Path) -> None:
    env = {"BOT1999_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    missing = bot1999("kb", "import", str(tmp_path / "none.jsonl"), env=env)
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    wrong = bot1999("kb", "import", str(tmp_path), "--format", "pdf", env=env)
    assert wrong.returncode == 2
    assert "unknown --format" in wrong.stderr
    bad = bot1999("kb", "version", env={"BOT1999_DATABASE_URL": "oracle://x"})
    assert bad.returncode == 2
    assert "BOT1999_DATABASE_URL" in bad.stderr


@pytest.mark.shared_data
def test_real_files_are_all_accounted_for(tmp_path: Path, shared_data: Path) -> None:
    env = {"BOT1999_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    kaohsiung = bot1999("kb", "import", str(shared_data / "kaohsiung_faq.jsonl"), env=env)
    assert kaohsiung.stdout.splitlines()[-2].startswith(
        "1427 rows: 1427 imported, 0 updated, 0 unchanged, 0 merged, 0 rejected"
    )
    taipei = bot1999("kb", "import", str(shared_data / "taipei_faq_2017.xml"), env=env)
    summary = taipei.stdout.splitlines()[-2]
    assert summary.startswith("1877 rows:")
    again = bot1999("kb", "import", str(shared_data / "taipei_faq_2017.xml"), env=env)
    assert "nothing changed" in again.stdout


def test_user_create_reads_the_password_without_echo(tmp_path: Path) -> None:
    env = {"BOT1999_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    ok = subprocess.run(
        [sys.executable, "-m", "bot", "user", "create", "Chief", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "created admin chief"
    assert "a long enough password" not in ok.stdout + ok.stderr
    short = subprocess.run(
        [sys.executable, "-m", "bot", "user", "create", "x2", "--password-stdin"],
        input="short\n",
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert short.returncode == 2
    assert "password: at least 12 characters" in short.stderr


def test_scrape_imports_through_the_same_path_and_resumes(tmp_path: Path) -> None:
    from tests.fakes.soweb_api import FakeEntry, FakeSowebApi

    entries = [
        FakeEntry(
            "397000000A",
            n,
            f"第{n}個關於路燈的問題？",
            f"第{n}個答案：請撥1999。",
            "工務局",
            "工務",
            "20200102",
            "20210304",
            5,
        )
        for n in range(1, 6)
    ]
    env = {"BOT1999_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"}
    with FakeSowebApi(entries, [{"kind": "01", "kind_name": "工務"}]) as api:
        args = ["kb", "scrape", "kaohsiung", "--base-url", api.url, "--state-dir", str(tmp_path / "state")]
        first = bot1999(*args, env=env)
        assert first.returncode == 0, first.stderr
        assert "5 imported" in first.stdout
        second = bot1999(*args, env=env)
        assert "nothing changed" in second.stdout
        details = [hit for hit in api.hits if "seqNo" in hit.query]
        assert details, "the details were fetched"
        assert all(hit.query.get("updFlag") == ["R"] for hit in details)
    assert bot1999("kb", "scrape", "taipei", env=env).returncode == 2


def test_evaluate_scores_an_isolated_index(tmp_path: Path) -> None:
    kb = tmp_path / "kb.jsonl"
    entries = [
        {
            "id": "E-1",
            "question": "路燈不亮要找誰？",
            "answer": "請撥1999報修路燈。",
            "alt_questions": ["路燈壞了"],
        },
        {
            "id": "E-2",
            "question": "房屋稅什麼時候繳？",
            "answer": "每年五月繳納。",
            "alt_questions": ["房屋稅期限"],
        },
    ]
    kb.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in entries) + "\n", encoding="utf-8")
    queries = tmp_path / "q.jsonl"
    lines = [
        {"query": "路燈壞了", "gold": "E-1", "style": "short"},
        {"query": "今天天氣如何", "gold": None, "kind": "chitchat"},
    ]
    queries.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in lines) + "\n", encoding="utf-8")
    out = tmp_path / "report.json"
    env = {
        "BOT1999_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
        "BOT1999_KNOWLEDGE__MODEL_CACHE_DIR": str(tmp_path / "m"),
    }
    result = bot1999(
        "evaluate",
        "--kb",
        str(kb),
        "--queries",
        str(queries),
        "--json",
        str(out),
        "--encoder",
        "hashing",
        "--details",
        str(tmp_path / "details" / "per-query.jsonl"),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert (figures["n_in_scope"], figures["n_oos"]) == (1, 1)
    assert figures["top1"] == 1.0
    assert set(figures["by_style"]) == {"short"}
    detail_lines = (tmp_path / "details" / "per-query.jsonl").read_text(encoding="utf-8").splitlines()
    details = [json.loads(line) for line in detail_lines]
    assert [d["query"] for d in details] == ["路燈壞了", "今天天氣如何"]
    assert (details[0]["rank"], details[0]["top"][0]["faq_id"]) == (1, "E-1")
    assert details[0]["decision"] in {"answer", "clarify", "abstain"}
    assert "details of 2 queries written" in result.stdout
    assert not (tmp_path / "never.db").exists(), "evaluate never touches the store"
    bad = bot1999("evaluate", "--kb", str(tmp_path / "none.jsonl"), "--queries", str(queries), env=env)
    assert bad.returncode == 2


def test_metrics_refresh_derives_the_logged_turns(tmp_path: Path) -> None:
    from bot.store import Database
    from bot.store.turns import Turn, TurnStore

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    database = Database(url)
    database.migrate()
    with database.session() as session:
        store = TurnStore(session)
        for conversation in ("c1", "c2"):
            store.log(Turn(conversation_id=conversation, sender=conversation, channel="web", text="路燈壞了"))
    database.dispose()
    env = {"BOT1999_DATABASE_URL": url}
    first = bot1999("metrics", "refresh", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("2 conversations, 2 turns derived")
    again = bot1999("metrics", "refresh", env=env)
    assert again.stdout.startswith("0 conversations"), again.stdout


def test_agencies_report_lists_the_names_the_list_does_not_know(tmp_path: Path) -> None:
    from sqlalchemy import text

    from bot.store import Database
    from bot.store.cases import CaseStore, NewCase
    from bot.store.faqs import FaqStore
    from tests.factories import faq

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    database = Database(url)
    database.migrate()
    with database.session() as session:
        FaqStore(session).create(faq("F-1", agency="某某里辦公處"), actor="test", origin="file")
        FaqStore(session).create(
            faq("F-2", question="路燈壞了", agency="工務局"), actor="test", origin="file"
        )
        CaseStore(session).file(NewCase("street_light", "路燈不亮", "web", "s", location_text="中正路口"))
    with database.engine.begin() as connection:  # a case stored before the list knew this name
        connection.execute(text("UPDATE case_file SET agency = '養工處'"))
    database.dispose()
    result = bot1999("agencies", "report", env={"BOT1999_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("agency list: 34 agencies; 1 stored names not in it")
    assert "  某某里辦公處: faq 1, faq_source 1 rows" in lines
    assert "  養工處 -> 高雄市政府工務局: case_file 1 rows" in lines
    assert not any(line.startswith("  工務局") for line in lines), (
        "the FAQ's name was made canonical on import"
    )
