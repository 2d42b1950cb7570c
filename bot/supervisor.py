"""Run the bot's processes in the foreground and stop every one of them on Ctrl-C.

Each child gets its own process group, so a child's own children (workers) are stopped
too. If any child exits, the others are stopped and its exit code is returned.

A child may have a readiness check: the children after it start only once it passes (or
after ``ready_within`` seconds, with a warning). Rasa's check warms it up (RasaWarmUp), so
when the bot starts listening its first conversation is answered by Rasa, not in degraded
mode.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.chat.rasa_engine import RasaWarmUp
from bot.settings import Settings

__all__ = ["Child", "children_for", "rasa_endpoints", "run_all", "supervise"]

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Child:
    name: str
    argv: list[str]
    ready: Callable[[], bool] | None = None  # one attempt; retried until True
    ready_within: float = 300.0


def rasa_endpoints(source: Path, actions_url: str, target: Path) -> Path:
    """Rasa's endpoints file with the action server at ``actions_url`` (its port is a setting)."""
    endpoints = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    endpoints["action_endpoint"] = {**(endpoints.get("action_endpoint") or {}), "url": actions_url}
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(endpoints, allow_unicode=True), encoding="utf-8")
    return target


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
        endpoints = rasa_endpoints(
            Path("endpoints.yml"),
            f"http://127.0.0.1:{settings.rasa.actions_port}/webhook",
            Path("var") / "rasa" / f"endpoints-{settings.rasa.actions_port}.yml",
        )
        argv = [
            str(settings.rasa.venv / "bin" / "python"),
            "rasa_run.py",  # Rasa's command line, with faster checks of action-server answers
            "run",
            "--enable-api",
            "--model",
            str(settings.rasa.model),
            "--endpoints",
            str(endpoints),
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
        warm_up = RasaWarmUp(settings.rasa.url, token=token, turn_seconds=settings.rasa.timeout_seconds)
        children.append(Child("rasa", argv + (["--auth-token", token] if token else []), ready=warm_up))
    else:
        log.warning(
            "no Rasa environment (%s) or model (%s): the bot answers in degraded mode",
            rasa,
            settings.rasa.model,
        )
    children.append(Child("bot", [sys.executable, "-m", "bot", "serve"]))
    telegram = settings.channels.telegram
    if telegram.enabled and telegram.mode == "polling":  # fetches updates, hands them to the bot
        children.append(Child("telegram", [sys.executable, "-m", "bot", "telegram-poll"]))
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


def _await_ready(child: Child, stop: threading.Event) -> None:
    assert child.ready is not None
    started = time.monotonic()
    while not stop.is_set():
        if child.ready():
            log.info("%s is ready (%.0f s after start)", child.name, time.monotonic() - started)
            return
        if time.monotonic() - started > child.ready_within:
            log.warning(
                "%s is not ready after %.0f s; starting the rest anyway", child.name, child.ready_within
            )
            return
        stop.wait(1.0)


def supervise(children: list[Child]) -> int:
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False
    stop = threading.Event()
    pending = list(children)
    waiting: threading.Thread | None = None

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        # one OpenMP thread per process: with several processes on few cores, spinning
        # OpenMP workers collide and a 30 ms query encoding turns into seconds
        env = {"OMP_NUM_THREADS": "1", **os.environ, "RASA_TELEMETRY_ENABLED": "false"}
        while not stopping:
            while pending and (waiting is None or not waiting.is_alive()):
                child = pending.pop(0)
                processes[child.name] = subprocess.Popen(child.argv, start_new_session=True, env=env)
                log.info("started %s (pid %d)", child.name, processes[child.name].pid)
                if child.ready is not None and pending:
                    waiting = threading.Thread(target=_await_ready, args=(child, stop), daemon=True)
                    waiting.start()
            for name, process in processes.items():
                code = process.poll()
                if code is not None:
                    log.error("%s exited with code %d; stopping the others", name, code)
                    return code or 1
            time.sleep(0.2)
        return 0
    finally:
        stop.set()
        _stop(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_all(settings: Settings) -> int:
    return supervise(children_for(settings))
