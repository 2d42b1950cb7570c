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
import yaml

from bot.settings import load_settings
from bot.supervisor import Child, actions_token_environment, children_for, supervise
from tests.conftest import REPO
from tests.waiting import PATIENCE, wait_until

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
    marker, stopped = tmp_path / "sleeper.pid", tmp_path / "sleeper.stopped"
    sleeper = Child(
        "sleeper",
        [
            sys.executable,
            "-c",
            # it would sleep for an hour: only the supervisor stopping it ends it (and says so)
            "import os,signal,sys,time; "
            f"signal.signal(signal.SIGTERM, lambda *_: (open({str(stopped)!r},'w').write('TERM'), sys.exit(0))); "
            f"open({str(marker)!r},'w').write(str(os.getpid())); time.sleep(3600)",
        ],
    )
    crasher = Child("crasher", [sys.executable, "-c", "import time; time.sleep(1); raise SystemExit(3)"])
    assert supervise([sleeper, crasher]) == 3
    assert stopped.read_text() == "TERM", "the supervisor stopped the other child"
    assert not _alive(int(marker.read_text()))


def test_run_starts_rasa_then_the_bot_which_serves_the_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv, model = tmp_path / "venv-rasa", tmp_path / "model.tar.gz"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "rasa").touch()
    model.touch()
    (tmp_path / "endpoints.yml").write_text(
        (REPO / "endpoints.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings(rasa={"venv": str(venv), "model": str(model)}, server={"port": 8123})
    children = children_for(settings)
    assert [c.name for c in children] == ["rasa", "bot"], "no separate action server"
    rasa = children[0].argv
    endpoints = yaml.safe_load(Path(rasa[rasa.index("--endpoints") + 1]).read_text(encoding="utf-8"))
    assert endpoints["action_endpoint"] == {
        "url": "http://127.0.0.1:8123/actions/webhook",
        "headers": {"Authorization": "Bearer ${BOT1999_RASA__ACTIONS_TOKEN}"},  # from the environment
    }
    token = actions_token_environment(settings)["BOT1999_RASA__ACTIONS_TOKEN"]
    assert len(token) >= 32
    assert actions_token_environment(settings)["BOT1999_RASA__ACTIONS_TOKEN"] != token, "one per run"


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
        "BOT1999_KNOWLEDGE__MODEL_CACHE_DIR": str(tmp_path / "models"),
    }
    process = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + PATIENCE
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
        assert len(children) == 1, (
            "run starts the service alone, which serves the actions (no Rasa model here)"
        )
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=PATIENCE) == 0
        wait_until(lambda: not [pid for pid in children if _alive(pid)], what="run's children to be gone")
    finally:
        if process.poll() is None:
            process.kill()


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def test_with_restart_a_child_that_dies_is_started_again_and_the_others_keep_running(tmp_path: Path) -> None:
    sleeper_pids, crasher_pids = tmp_path / "sleeper.pids", tmp_path / "crasher.pids"
    record = "import os,sys,time; open(sys.argv[1],'a').write(f'{os.getpid()}\\n'); "
    sleeper = [sys.executable, "-c", record + "time.sleep(120)", str(sleeper_pids)]
    # the first run exits with an error at once; later runs stay up
    crasher = [
        sys.executable,
        "-c",
        record + "time.sleep(120) if len(open(sys.argv[1]).read().split()) > 1 else sys.exit(3)",
        str(crasher_pids),
    ]
    script = (
        "import sys, logging; from bot.supervisor import Child, supervise; "
        "logging.basicConfig(level=logging.INFO); "
        f"sys.exit(supervise([Child('sleeper', {sleeper!r}), Child('crasher', {crasher!r})], restart=True))"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: len(_pids(crasher_pids)) == 2, what="the crashed child started again")
        second = _pids(crasher_pids)[1]
        os.kill(second, signal.SIGKILL)  # kill -9 in the middle of its work: started again too
        wait_until(lambda: len(_pids(crasher_pids)) == 3, what="the killed child started again")
        assert process.poll() is None, "the supervisor keeps running"
        (sleeper_pid,) = _pids(sleeper_pids)
        assert _alive(sleeper_pid), "the other child was left alone"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=PATIENCE) == 0
        _, log = process.communicate()
    finally:
        if process.poll() is None:
            process.kill()
    assert not [pid for pid in [sleeper_pid, *_pids(crasher_pids)] if _alive(pid)]
    assert "crasher exited with code 3; restarting it in 1 s" in log
    assert "crasher was killed by SIGKILL; restarting it in 2 s" in log, "quick crashes back off"
