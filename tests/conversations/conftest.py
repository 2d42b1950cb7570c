"""The real conversation stack, started once per test session and shared by every test that needs it.

- ``rasa_stack``: a SQLite store with a small knowledge base, the REAL app served by uvicorn
  (which serves Rasa's actions at ``/actions/webhook`` with its own index, as in production)
  and the REAL Rasa server (``rasa run --enable-api`` with the trained model, through
  rasa_run.py as ``bot1999 run`` starts it, calling that app's actions with the token), both
  on free loopback ports and warmed up. Channel tests (LINE, Telegram) can build their app on
  it: ``app_settings(stack.database_url, folder, rasa={"url": stack.rasa_url})`` (Rasa still
  calls the stack's app for the actions: another replica on the same store).
- ``chat_url``: that app's base URL.

Without the Rasa environment or a trained model these tests skip (CI fails instead):
``make train`` builds the model.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import create_app
from bot.chat.rasa_engine import ACTIONS_PATH, RasaWarmUp
from bot.store import Database
from bot.store.kb_import import import_rows
from bot.supervisor import ACTIONS_TOKEN_ENV, rasa_endpoints
from knowledge.importers import Parsed
from tests.conftest import REPO, _unavailable, app_settings
from tests.e2e.live_server import serve
from tests.factories import faq

__all__ = ["RECORDS", "RasaStack", "free_port"]

RASA = REPO / ".venv-rasa" / "bin" / "rasa"
MODEL = Path(os.environ.get("BOT1999_TEST_RASA_MODEL", REPO / "models" / "bot1999.tar.gz"))
ACTIONS_TOKEN = "conversation-tests-actions-token"  # noqa: S105 (a test's)
START_SECONDS = 600.0  # Rasa loads TensorFlow and the model: a minute, several on a busy 2-core machine

TAX_WAYS = "房屋稅可以臨櫃、網路或信用卡繳納，每年五月開徵。"
RECORDS = [
    faq(
        "F-1",
        question="大型垃圾要怎麼預約清運？",
        alt_questions=["舊沙發要怎麼丟", "大型家具回收"],
        source_url="https://www.example.gov.tw/faq/bulky-waste",
    ),
    faq(
        "F-2",
        question="房屋稅什麼時候繳？",
        answer=TAX_WAYS,
        alt_questions=["房屋稅期限", "房屋稅怎麼繳"],
        agency="稅捐稽徵處",
        category="稅務",
        keywords=["房屋稅"],
    ),
    faq(
        "F-3",
        question="房屋稅可以刷卡嗎？",
        answer="房屋稅可以用信用卡或網路繳納，也可以臨櫃繳納。",
        alt_questions=["房屋稅怎麼繳"],
        agency="稅捐稽徵處",
        category="稅務",
        keywords=["房屋稅"],
    ),
    faq(
        "F-4",
        question="垃圾車晚上幾點來？",
        answer="垃圾車每天晚上七點到，週三、週日停收。",
        alt_questions=["垃圾車時間", "垃圾車幾點到"],
        agency="環境保護局",
        keywords=["垃圾車"],
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(
    what: str, ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"{what} exited with code {process.returncode}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not ready after {seconds:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class RasaProcess:
    """The Rasa server; ``stop()`` and ``start()`` let a test take it away and bring it back."""

    argv: list[str]
    env: dict[str, str]
    url: str
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait("Rasa", RasaWarmUp(self.url, turn_seconds=5.0), self.process, self.log, START_SECONDS)

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)


@dataclass
class RasaStack:
    """What a test needs to talk to the real Rasa: its URL, the app's (which serves the
    actions), and the store."""

    rasa_url: str
    app_url: str
    database_url: str
    folder: Path
    rasa: RasaProcess


def _environment(database_url: str, folder: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BOT1999_") or key == "BOT1999_TEST_POSTGRES_URL"
    }
    env.update(
        {
            "BOT1999_SETTINGS_FILE": "",
            "BOT1999_DATABASE_URL": database_url,
            "BOT1999_KNOWLEDGE__ENCODER": "hashing",
            "BOT1999_KNOWLEDGE__MODEL_CACHE_DIR": str(folder / "models"),
            "BOT1999_KNOWLEDGE__REFRESH_SECONDS": "0.2",
            "RASA_TELEMETRY_ENABLED": "false",
            "OMP_NUM_THREADS": "1",
            ACTIONS_TOKEN_ENV: ACTIONS_TOKEN,
        }
    )
    return env


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    if not RASA.is_file():
        _unavailable(f"no Rasa environment at {RASA.parent.parent} (make setup creates it)")
    if not MODEL.is_file():
        _unavailable(f"no trained Rasa model at {MODEL} (make train builds it)")
    folder = tmp_path_factory.mktemp("conversations")
    database_url = f"sqlite:///{folder / 'store.db'}"
    database = Database(database_url)
    database.migrate()
    with database.session() as session:
        import_rows(session, [Parsed(f"line {n}", r) for n, r in enumerate(RECORDS, 1)], actor="test")
    database.dispose()
    env = _environment(database_url, folder)
    rasa_port = free_port()
    # a real Rasa turn may take long on a loaded machine: the setting's maximum, not a speed test
    rasa = {
        "url": f"http://127.0.0.1:{rasa_port}",
        "timeout_seconds": 60,
        "cool_off_seconds": 1,
        "actions_token": ACTIONS_TOKEN,
    }
    app = create_app(app_settings(database_url, folder / "app", rasa=rasa))
    with serve(app) as app_url:
        yield from _with_rasa(app_url, rasa_port, database_url, folder, env)


def _with_rasa(
    app_url: str, rasa_port: int, database_url: str, folder: Path, env: dict[str, str]
) -> Iterator[RasaStack]:
    actions_url = app_url.rstrip("/") + ACTIONS_PATH
    endpoints = rasa_endpoints(REPO / "endpoints.yml", actions_url, folder / "endpoints.yml")
    rasa = RasaProcess(
        argv=[
            str(RASA.parent / "python"),
            str(REPO / "rasa_run.py"),
            "run",
            "--enable-api",
            "--model",
            str(MODEL),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(REPO / "credentials.yml"),
            "--interface",
            "127.0.0.1",
            "--port",
            str(rasa_port),
        ],
        env=env,
        url=f"http://127.0.0.1:{rasa_port}",
        log=folder / "rasa.log",
    )
    try:
        rasa.start()
        yield RasaStack(rasa.url, app_url, database_url, folder, rasa)
    finally:
        rasa.stop()


@pytest.fixture(scope="session")
def chat_url(rasa_stack: RasaStack) -> str:
    """The real app on the stack (``…/api/chat``); a stopped Rasa is retried after 1 s."""
    return rasa_stack.app_url
