"""Run the bot's processes in the foreground and stop every one of them on Ctrl-C.

Each child gets its own process group, so a child's own children (workers) are stopped
too. If any child exits, the others are stopped and its exit code is returned.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.settings import Settings

__all__ = ["Child", "children_for", "run_all", "supervise"]

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Child:
    name: str
    argv: list[str]


def children_for(settings: Settings) -> list[Child]:
    """The processes of the embedded-default deployment: the action server, Rasa, the bot.

    Without a Rasa environment or model the bot runs alone, in degraded mode, and says so.
    """
    children = [
        Child(
            "actions",
            [
                sys.executable,
                "-m",
                "rasa_sdk",
                "--actions",
                "actions",
                "--port",
                str(settings.rasa.actions_port),
            ],
        )
    ]
    rasa = settings.rasa.venv / "bin" / "rasa"
    url = urlsplit(settings.rasa.url)
    if rasa.exists() and settings.rasa.model.exists():
        argv = [
            str(rasa),
            "run",
            "--enable-api",
            "--model",
            str(settings.rasa.model),
            "--endpoints",
            "endpoints.yml",
        ]
        argv += [
            "--credentials",
            "credentials.yml",
            "--interface",
            url.hostname or "127.0.0.1",
            "--port",
            str(url.port or 5005),
        ]
        token = settings.rasa.token.get_secret_value()
        children.append(Child("rasa", argv + (["--auth-token", token] if token else [])))
    else:
        log.warning(
            "no Rasa environment (%s) or model (%s): the bot answers in degraded mode",
            rasa,
            settings.rasa.model,
        )
    children.append(Child("bot", [sys.executable, "-m", "bot", "serve"]))
    return children


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, process in processes.items():
        if process.poll() is None:
            log.info("stopping %s (pid %d)", name, process.pid)
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def supervise(children: list[Child]) -> int:
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # one OpenMP thread per process: with several processes on few cores, spinning
        # OpenMP workers collide and a 30 ms query encoding turns into seconds
        env = {"OMP_NUM_THREADS": "1", **os.environ, "RASA_TELEMETRY_ENABLED": "false"}
        for child in children:
            processes[child.name] = subprocess.Popen(child.argv, start_new_session=True, env=env)
            log.info("started %s (pid %d)", child.name, processes[child.name].pid)
        while not stopping:
            for name, process in processes.items():
                code = process.poll()
                if code is not None:
                    log.error("%s exited with code %d; stopping the others", name, code)
                    return code or 1
            time.sleep(0.2)
        return 0
    finally:
        _stop(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_all(settings: Settings) -> int:
    return supervise(children_for(settings))
