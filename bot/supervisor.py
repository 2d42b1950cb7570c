"""Run the bot's processes in the foreground and stop every one of them on Ctrl-C.

Each child gets its own process group, so a child's own children (workers) are stopped
too. If any child exits, the others are stopped and its exit code is returned — unless
``restart`` is on (``bot1999 run-cluster``): then a child that exits is started again, after
a pause that doubles with each quick crash (``RESTART_FIRST_SECONDS`` up to
``RESTART_MAX_SECONDS``; back to the first once it has run ``RESTART_STABLE_SECONDS``), and
everything else keeps running. Each exit and restart is logged, and a restarted child's
readiness check (Rasa's warm-up) runs again in the background.

A child may have a readiness check: the children after it start only once it passes (or
after ``ready_within`` seconds, with a warning). Rasa's check warms it up (RasaWarmUp), so
when the bot starts listening its first conversation is answered by Rasa, not in degraded
mode. The bot serves Rasa's actions itself (``bot.api.actions``), with a token made for the
run (``actions_token_environment``) that both inherit.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from bot.chat.rasa_engine import ACTIONS_PATH, RasaWarmUp
from bot.settings import Settings

__all__ = [
    "ACTIONS_TOKEN_ENV",
    "Child",
    "action_endpoint",
    "actions_token_environment",
    "actions_url",
    "children_for",
    "rasa_argv",
    "rasa_endpoints",
    "run_all",
    "supervise",
]

log = logging.getLogger(__name__)
STOP_GRACE_SECONDS = 10.0
RESTART_FIRST_SECONDS = 1.0
RESTART_MAX_SECONDS = 60.0
ACTIONS_TOKEN_ENV = "BOT1999_RASA__ACTIONS_TOKEN"  # noqa: S105 (a variable name)
RESTART_STABLE_SECONDS = 60.0  # a child that ran this long before exiting is restarted after the first pause


@dataclass(frozen=True, slots=True)
class Child:
    name: str
    argv: list[str]
    ready: Callable[[], bool] | None = None  # one attempt; retried until True
    ready_within: float = 300.0


def actions_url(settings: Settings) -> str:
    """Where Rasa calls the actions: the bot's own action endpoint, over loopback."""
    host = settings.server.host
    local = host in {"", "0.0.0.0", "::", "localhost"} or host.startswith("127.")  # noqa: S104 (a comparison)
    return f"http://{'127.0.0.1' if local else host}:{settings.server.port}{ACTIONS_PATH}"


def action_endpoint(endpoints: dict[str, Any], actions_url: str) -> dict[str, Any]:
    """Rasa's ``action_endpoint`` at ``actions_url`` (the bot's action endpoint), called with
    the token of ``BOT1999_RASA__ACTIONS_TOKEN``: Rasa reads it from its environment, the
    file holds only the variable's name."""
    return {
        **(endpoints.get("action_endpoint") or {}),
        "url": actions_url,
        "headers": {"Authorization": "Bearer ${" + ACTIONS_TOKEN_ENV + "}"},
    }


def rasa_endpoints(source: Path, actions_url: str, target: Path) -> Path:
    """Rasa's endpoints file with the actions at ``actions_url`` (see :func:`action_endpoint`)."""
    endpoints = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    endpoints["action_endpoint"] = action_endpoint(endpoints, actions_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(endpoints, allow_unicode=True), encoding="utf-8")
    return target


def actions_token_environment(settings: Settings) -> dict[str, str]:
    """The token Rasa and the bot share for the action endpoint: the setting's, or a new one
    for this run (every child inherits it)."""
    token = settings.rasa.actions_token.get_secret_value() or secrets.token_urlsafe(32)
    return {ACTIONS_TOKEN_ENV: token}


def rasa_argv(settings: Settings, endpoints: Path, host: str, port: int) -> list[str]:
    """Rasa's server, through ``rasa_run.py`` (Rasa's command line with faster checks of
    action-server answers and the intent in each answer), with the HTTP API for the bot."""
    argv = [str(settings.rasa.venv / "bin" / "python"), "rasa_run.py", "run", "--enable-api"]
    argv += [
        "--model",
        str(settings.rasa.model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        "credentials.yml",
    ]
    argv += ["--interface", host, "--port", str(port)]
    token = settings.rasa.token.get_secret_value()
    return argv + (["--auth-token", token] if token else [])


def children_for(settings: Settings) -> list[Child]:
    """The processes of the embedded-default deployment: Rasa, then the bot (which serves
    Rasa's actions itself, ``bot.api.actions``).

    Rasa is warmed up on a turn it answers without the actions (the bot, which serves them,
    starts after it and warms its FAQ index before it listens). Without a Rasa environment or
    model the bot runs alone, in degraded mode, and says so.
    """
    children = []
    rasa = settings.rasa.venv / "bin" / "rasa"
    url = urlsplit(settings.rasa.url)
    if rasa.exists() and settings.rasa.model.exists():
        endpoints = rasa_endpoints(
            Path("endpoints.yml"),
            actions_url(settings),
            Path("var") / "rasa" / f"endpoints-{url.port or 5005}.yml",
        )
        argv = rasa_argv(settings, endpoints, url.hostname or "127.0.0.1", url.port or 5005)
        token = settings.rasa.token.get_secret_value()
        warm_up = RasaWarmUp(
            settings.rasa.url,
            token=token,
            turn_seconds=settings.rasa.timeout_seconds,
            message=RasaWarmUp.WITHOUT_ACTIONS,
        )
        children.append(Child("rasa", argv, ready=warm_up))
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


def _await_ready(child: Child, stop: threading.Event, again: bool = False) -> None:
    assert child.ready is not None
    started = time.monotonic()
    while not stop.is_set():
        if child.ready():
            after = "restart" if again else "start"
            log.info("%s is ready (%.0f s after %s)", child.name, time.monotonic() - started, after)
            return
        if time.monotonic() - started > child.ready_within:
            rest = "" if again else "; starting the rest anyway"
            log.warning("%s is not ready after %.0f s%s", child.name, child.ready_within, rest)
            return
        stop.wait(1.0)


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


@dataclass(slots=True)
class _Restarts:
    """When a crashed child is due to start again, and how long the next pause will be."""

    pause: float = RESTART_FIRST_SECONDS
    due: float | None = None
    count: int = 0

    def schedule(self, now: float, ran_for: float) -> float:
        if ran_for >= RESTART_STABLE_SECONDS:
            self.pause = RESTART_FIRST_SECONDS
        wait, self.pause = self.pause, min(self.pause * 2, RESTART_MAX_SECONDS)
        self.due = now + wait
        self.count += 1
        return wait


def _kill_group(pid: int) -> None:
    """What a crashed child left behind in its process group (workers) goes too."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def supervise(children: list[Child], *, restart: bool = False) -> int:
    """Run ``children`` in order (each after the readiness of the one before, if it has a
    check) until Ctrl-C / SIGTERM; 0 then. Without ``restart``, the first child to exit
    stops the rest and its exit code is returned; with it, that child is started again."""
    processes: dict[str, subprocess.Popen[bytes]] = {}
    started_at: dict[str, float] = {}
    restarts: dict[str, _Restarts] = {}
    by_name = {child.name: child for child in children}
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

        def start(child: Child) -> None:
            processes[child.name] = subprocess.Popen(child.argv, start_new_session=True, env=env)
            started_at[child.name] = time.monotonic()

        while not stopping:
            while pending and (waiting is None or not waiting.is_alive()):
                child = pending.pop(0)
                start(child)
                log.info("started %s (pid %d)", child.name, processes[child.name].pid)
                if child.ready is not None and pending:
                    waiting = threading.Thread(target=_await_ready, args=(child, stop), daemon=True)
                    waiting.start()
            now = time.monotonic()
            for name, process in list(processes.items()):
                state = restarts.setdefault(name, _Restarts())
                if state.due is not None:
                    if now >= state.due:
                        state.due = None
                        child = by_name[name]
                        start(child)
                        log.warning(
                            "restarted %s (pid %d; restart %d)", name, processes[name].pid, state.count
                        )
                        if child.ready is not None:
                            check = threading.Thread(
                                target=_await_ready, args=(child, stop, True), daemon=True
                            )
                            check.start()
                    continue
                code = process.poll()
                if code is None:
                    continue
                if not restart:
                    log.error("%s %s; stopping the others", name, _exit_reason(code))
                    return code or 1
                _kill_group(process.pid)
                wait = state.schedule(now, now - started_at[name])
                log.error("%s %s; restarting it in %.0f s", name, _exit_reason(code), wait)
            time.sleep(0.2)
        return 0
    finally:
        stop.set()
        _stop(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_all(settings: Settings) -> int:
    os.environ.update(actions_token_environment(settings))  # Rasa and the bot (secrets stay out of argv)
    return supervise(children_for(settings))
