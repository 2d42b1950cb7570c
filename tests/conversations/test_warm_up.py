"""Start-up: the bot is not declared up before Rasa is warm, so the first turn is not degraded.

(The readiness gate itself is ``bot.supervisor``'s; it is tested here beside the real Rasa
it exists for.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.supervisor import Child, supervise
from tests.conftest import REPO
from tests.conversations.conftest import MODEL, RASA, free_port

pytestmark = pytest.mark.integration


def test_children_after_a_gated_child_start_only_once_it_is_ready(tmp_path: Path) -> None:
    warm = tmp_path / "warm"
    started = tmp_path / "started"
    gated = Child(
        "gated",
        [
            sys.executable,
            "-c",
            f"import time,pathlib; time.sleep(1.5); pathlib.Path({str(warm)!r}).touch(); time.sleep(60)",
        ],
        ready=warm.exists,
    )
    after = Child(
        "after",
        [
            sys.executable,
            "-c",
            f"import time,pathlib; pathlib.Path({str(started)!r}).write_text(str(time.time())); raise SystemExit(3)",
        ],
    )
    assert supervise([gated, after]) == 3
    assert float(started.read_text()) >= warm.stat().st_mtime


def test_a_child_that_never_gets_ready_does_not_hold_the_rest_forever(tmp_path: Path) -> None:
    started = tmp_path / "started"
    stuck = Child(  # never ready, and up for an hour: were the rest held until it is, this would hang
        "stuck", [sys.executable, "-c", "import time; time.sleep(3600)"], ready=lambda: False, ready_within=1
    )
    after = Child(
        "after",
        [
            sys.executable,
            "-c",
            f"import pathlib; pathlib.Path({str(started)!r}).touch(); raise SystemExit(4)",
        ],
    )
    assert supervise([stuck, after]) == 4  # (the suite's per-test time-out bounds a hang)
    assert started.exists()


@pytest.mark.slow
def test_the_first_turn_after_bot1999_run_is_up_is_answered_by_rasa(tmp_path: Path) -> None:
    if not (RASA.is_file() and MODEL.is_file()):
        pytest.skip("needs the Rasa environment and a trained model (make train)")
    content = tmp_path / "content"
    content.mkdir()
    entry = {"id": "K-1", "question": "大型垃圾要怎麼預約清運？", "answer": "請先打電話給清潔隊預約。"}
    (content / "faq.jsonl").write_text(json.dumps(entry, ensure_ascii=False) + "\n", encoding="utf-8")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BOT1999_")},
        "BOT1999_SETTINGS_FILE": "",
        "BOT1999_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "BOT1999_SERVER__PORT": str(port),
        "BOT1999_KNOWLEDGE__CONTENT_DIR": str(content),
        "BOT1999_KNOWLEDGE__ENCODER": "hashing",
        "BOT1999_KNOWLEDGE__MODEL_CACHE_DIR": str(tmp_path / "models"),
        "BOT1999_RASA__URL": f"http://127.0.0.1:{free_port()}",
        "BOT1999_RASA__MODEL": str(MODEL),
    }
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "bot1999 run did not come up:\n" + log.read_text()[-3000:]
            time.sleep(0.3)
        first = httpx.post(
            f"http://127.0.0.1:{port}/api/chat",
            json={
                "sender": "first",
                "text": "大型垃圾要怎麼預約清運？",
            },  # the entry itself: the hashing encoder is sure
            timeout=30,
        ).json()
        assert first["mode"] == "normal", log.read_text()[-3000:]
        # the FAQ action answered (answer, clarify or an honest abstain: a one-entry base with the
        # hashing encoder may not be sure), through the actions the bot serves itself
        assert first["replies"], first
        assert first["replies"][0].get("kind") in {"answer", "clarify", "abstain"}, first
        assert "Rasa is warmed up" in log.read_text()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
