"""`bot1999 run` keeps its processes in the foreground and stops every one of them."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.supervisor import Child, supervise

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_child_that_dies_stops_the_others(tmp_path: Path) -> None:
    marker = tmp_path / "sleeper.pid"
    sleeper = Child(
        "sleeper",
        [
            sys.executable,
            "-c",
            f"import os,time; open({str(marker)!r},'w').write(str(os.getpid())); time.sleep(60)",
        ],
    )
    crasher = Child("crasher", [sys.executable, "-c", "import time; time.sleep(1); raise SystemExit(3)"])
    started = time.monotonic()
    assert supervise([sleeper, crasher]) == 3
    assert time.monotonic() - started < 30
    assert not _alive(int(marker.read_text()))


def test_run_serves_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    entry = {"id": "K-1", "question": "路燈不亮怎麼辦？", "answer": "請撥1999報修。"}
    (content / "faq.jsonl").write_text(json.dumps(entry, ensure_ascii=False) + "\n", encoding="utf-8")
    port = _free_port()
    env = {
        **os.environ,
        "BOT1999_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "BOT1999_SERVER__PORT": str(port),
        "BOT1999_KNOWLEDGE__CONTENT_DIR": str(content),
        "BOT1999_KNOWLEDGE__ENCODER": "hashing",
        "BOT1999_RASA__ACTIONS_PORT": str(_free_port()),
        "BOT1999_KNOWLEDGE__MODEL_CACHE_DIR": str(tmp_path / "models"),
    }
    process = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "bot1999 run exited early"
                assert time.monotonic() < deadline, "the service did not come up"
                time.sleep(0.3)
        assert health.json()["status"] == "ok"
        password = "a long test password"
        subprocess.run(
            [sys.executable, "-m", "bot", "user", "create", "ops", "--role", "staff", "--password-stdin"],
            input=password + "\n",
            env=env,
            cwd=tmp_path,
            check=True,
            text=True,
            capture_output=True,
        )
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as web:  # the KB API needs a staff log-in
            form = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/console/login").text)
            assert form is not None
            credentials = {"username": "ops", "password": password, "csrf_token": form.group(1)}
            assert web.post("/console/login", data=credentials).status_code == 303
            faqs = web.get("/api/kb/faqs").json()
        assert [item["id"] for item in faqs["items"]] == ["K-1"]
        children = [
            int(pid)
            for pid in subprocess.run(
                ["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False
            ).stdout.split()
        ]
        assert len(children) == 2, "run starts the action server and the service (no Rasa model here)"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        time.sleep(0.2)
        assert not [pid for pid in children if _alive(pid)]
    finally:
        if process.poll() is None:
            process.kill()
